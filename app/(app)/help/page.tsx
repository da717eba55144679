import { TROUBLESHOOTING } from "@/lib/text/troubleshooting";
import { pageActor } from "@/app/lib/session";

export default async function HelpPage() {
  await pageActor("rollouts:read");
  return (
    <>
      <h1>Troubleshooting</h1>
      {Object.entries(TROUBLESHOOTING).map(([id, entry]) => (
        <section key={id} id={id} className="card">
          <h2>{entry.title}</h2>
          <p>{entry.body}</p>
        </section>
      ))}
    </>
  );
}

import { LocalTime } from "@/components/local-time";
import Link from "next/link";
import * as z from "zod";
import { Forbidden } from "@/components/forbidden";
import { listSignoffs } from "@/lib/rollout/signoff";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .transform((s) => new Date(`${s}T00:00:00Z`));
const Filter = z.object({
  target: z.string().max(63).optional(),
  person: z.string().max(254).optional(),
  from: day.optional(),
  to: day.optional(),
  decision: z.enum(["signed_off", "signed_off_with_follow_ups", "not_signed_off"]).optional(),
});

export default async function SignoffsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { allowed } = await pageActor("signoffs:read");
  if (!allowed) return <Forbidden what="read the sign-off history" />;
  const raw = Object.fromEntries(Object.entries(await searchParams).filter(([, v]) => typeof v === "string" && v !== "")) as Record<
    string,
    string
  >;
  const parsed = Filter.safeParse(raw);
  const f = parsed.success ? parsed.data : {};
  const rows = await listSignoffs(storePool(), {
    targetId: f.target,
    person: f.person,
    from: f.from,
    to: f.to ? new Date(f.to.getTime() + 86_400_000) : undefined,
    decision: f.decision,
  });
  return (
    <>
      <h1>Sign-offs</h1>
      <form className="card phase-form" method="get">
        <label>
          Target
          <br />
          <input name="target" defaultValue={raw.target} />
        </label>
        <label>
          Person
          <br />
          <input name="person" defaultValue={raw.person} />
        </label>
        <label>
          From
          <br />
          <input name="from" type="date" defaultValue={raw.from} />
        </label>
        <label>
          To
          <br />
          <input name="to" type="date" defaultValue={raw.to} />
        </label>
        <label>
          Outcome
          <br />
          <select name="decision" defaultValue={raw.decision ?? ""}>
            <option value="">any</option>
            <option value="signed_off">signed off</option>
            <option value="signed_off_with_follow_ups">with follow-ups</option>
            <option value="not_signed_off">not signed off</option>
          </select>
        </label>
        <button type="submit">Filter</button>
        {!parsed.success && (
          <span className="error" role="alert">
            {parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}
          </span>
        )}
      </form>
      <table data-testid="signoffs">
        <thead>
          <tr>
            <th>#</th>
            <th>Rollout</th>
            <th>Target</th>
            <th>Outcome</th>
            <th>By</th>
            <th>When</th>
            <th>Audit hash</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.id}>
              <td>
                <Link href={`/signoffs/${s.id}`}>#{s.id}</Link>
              </td>
              <td>
                <Link href={`/rollouts/${s.rolloutId}`}>#{s.rolloutId}</Link>
              </td>
              <td>{s.targetId}</td>
              <td>{s.decision.replace(/_/g, " ")}</td>
              <td>
                {s.signedBy} ({s.signedByRole})
              </td>
              <td>
                <LocalTime at={s.createdAt} />
              </td>
              <td>
                <code>{s.auditHash.slice(0, 16)}…</code>
              </td>
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={7}>No sign-offs match.</td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}

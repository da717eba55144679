import { Placeholder } from "@/components/placeholder";
import { pageActor } from "@/app/lib/session";

export default async function IndexesPage() {
  await pageActor("indexes:read");
  return <Placeholder title="Indexes" issue={7}>Index usage over time, measured p95 and unused/duplicate/invalid reports.</Placeholder>;
}

import { Placeholder } from "@/components/placeholder";
import { pageActor } from "@/app/lib/session";

export default async function RolloutsPage() {
  await pageActor("rollouts:read");
  return <Placeholder title="Rollouts" issue={5}>Pre-check, apply with live progress, verify and rollback.</Placeholder>;
}

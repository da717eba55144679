import type { PartitionPlan } from "@/lib/rollout/partitions";

/** The statements pre-check expanded a partitioned build into, in the order apply runs them. */
export function PartitionPlans({ plans }: { plans: PartitionPlan[] }) {
  if (!plans.length) return null;
  return (
    <div className="card" data-testid="partition-plan">
      <h2>Partitioned builds: the expanded plan (from pre-check)</h2>
      <p>
        PostgreSQL can&apos;t build an index CONCURRENTLY on a partitioned table. indexdeck runs each of these statements instead, derived
        from the approved statement and the target&apos;s partitions at pre-check; apply refuses to start if the partitions differ then.
      </p>
      {plans.map((p) => (
        <div key={p.seq}>
          <h3 style={{ fontSize: 14 }}>
            Statement {p.seq + 1}: {p.index} on {p.schema}.{p.table}
          </h3>
          <ol>
            {p.steps.map((s, i) => (
              <li key={i} data-step={s.kind}>
                <code>{s.statement}</code>
              </li>
            ))}
          </ol>
        </div>
      ))}
    </div>
  );
}

import Link from "next/link";
import { Forbidden } from "@/components/forbidden";
import { UsageChart } from "@/components/usage-chart";
import { findTarget } from "@/lib/targets/config";
import { pageActor } from "@/app/lib/session";
import { fileTargets } from "@/lib/targets/source";

export default async function IndexDetailPage({ params }: { params: Promise<{ target: string; index: string }> }) {
  const { allowed } = await pageActor("indexes:read");
  if (!allowed) return <Forbidden what="read index usage" />;
  const { target, index } = await params;
  const t = findTarget(await fileTargets()(), decodeURIComponent(target));
  const name = decodeURIComponent(index);
  if (!t)
    return (
      <div className="card">
        Unknown target. <Link href="/indexes">All indexes</Link>
      </div>
    );
  return (
    <>
      <h1>
        <code>{name}</code> on {t.label}
      </h1>
      <p>
        <Link href={`/indexes?target=${t.id}`}>← all indexes of {t.label}</Link>
      </p>
      <UsageChart target={t.id} index={name} />
    </>
  );
}

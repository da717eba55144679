import Link from "next/link";
import { ChangeSetPage, listChangeSetPage } from "@/lib/changeset/store";
import { lintCache } from "@/lib/changeset/lint-cache";
import { can } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { Forbidden } from "@/components/forbidden";
import { SqlBlock } from "@/components/sql-with-findings";
import { UploadChangeSetForm } from "@/components/upload-changeset-form";
import { pageActor } from "@/app/lib/session";

export default async function ChangeSetsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { actor, allowed } = await pageActor("changesets:read");
  if (!allowed) return <Forbidden what="read change sets" />;
  const raw = (await searchParams).page;
  const page = ChangeSetPage.safeParse(typeof raw === "string" ? raw : undefined);
  if (!page.success)
    return (
      <>
        <h1>Change sets</h1>
        <p className="error" role="alert">
          {page.error.issues[0].message}. <Link href="/changesets">First page</Link>
        </p>
      </>
    );
  // One page read and linted per view; findings come from the per-server cache keyed by sha256.
  const list = await listChangeSetPage(storePool(), page.data);
  const reports = await Promise.all(list.changeSets.map((c) => lintCache.lint({ file: c.name, text: c.sql })));
  const pager = (
    <nav className="who" aria-label="Change set pages" data-testid="changeset-pages">
      Page {list.page} of {list.pages} ({list.total} change sets, {list.pageSize} a page, newest uploads first)
      {list.page > 1 && (
        <>
          {" "}
          · <Link href={`/changesets?page=${list.page - 1}`}>Newer</Link>
        </>
      )}
      {list.page < list.pages && (
        <>
          {" "}
          · <Link href={`/changesets?page=${list.page + 1}`}>Older</Link>
        </>
      )}
    </nav>
  );
  return (
    <>
      <h1>Change sets</h1>
      {can(actor.role, "changeset:create") && <UploadChangeSetForm />}
      {pager}
      {list.changeSets.map((c, i) => {
        const r = reports[i];
        const errors = r.findings.filter((f) => f.severity === "error").length;
        return (
          <section key={c.id} className="card" data-changeset={c.name}>
            <h2 style={{ fontSize: 16, margin: 0 }}>
              {c.name} <span className="badge">{c.source}</span>
            </h2>
            <p className="who">
              sha256 <code>{c.sha256}</code> · {r.statements} statements · {r.indexes.length} indexes ({r.indexes.join(", ") || "none"}) ·{" "}
              <span className={errors ? "bad" : "ok"}>{errors} errors</span>, {r.findings.length - errors} warnings
              {c.createdBy && <> · uploaded by {c.createdBy}</>}
            </p>
            <SqlBlock sql={c.sql} findings={r.findings} />
            {c.workloads && (
              <details data-testid="changeset-workloads">
                <summary>Query patterns (hashed with the SQL)</summary>
                <pre>{c.workloads}</pre>
              </details>
            )}
          </section>
        );
      })}
      {list.pages > 1 && pager}
    </>
  );
}

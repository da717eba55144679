import { listChangeSets } from "@/lib/changeset/catalog";
import { lintText } from "@/lib/changeset/lint";
import { can } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { Forbidden } from "@/components/forbidden";
import { SqlWithFindings } from "@/components/sql-with-findings";
import { UploadChangeSetForm } from "@/components/upload-changeset-form";
import { pageActor } from "@/app/lib/session";

export default async function ChangeSetsPage() {
  const { actor, allowed } = await pageActor("changesets:read");
  if (!allowed) return <Forbidden what="read change sets" />;
  const changeSets = await listChangeSets(storePool());
  const reports = await Promise.all(changeSets.map((c) => lintText({ file: c.name, text: c.sql })));
  return (
    <>
      <h1>Change sets</h1>
      {can(actor.role, "changeset:create") && <UploadChangeSetForm />}
      {changeSets.map((c, i) => {
        const r = reports[i];
        const errors = r.findings.filter((f) => f.severity === "error").length;
        return (
          <section key={c.id} className="card" data-changeset={c.name}>
            <h2 style={{ fontSize: 16, margin: 0 }}>{c.name} <span className="badge">{c.source}</span></h2>
            <p className="who">
              sha256 <code>{c.sha256}</code> · {r.statements} statements · {r.indexes.length} indexes ({r.indexes.join(", ") || "none"}) ·{" "}
              <span className={errors ? "bad" : "ok"}>{errors} errors</span>, {r.findings.length - errors} warnings
              {c.createdBy && <> · uploaded by {c.createdBy}</>}
            </p>
            <SqlWithFindings sql={c.sql} findings={r.findings} />
          </section>
        );
      })}
    </>
  );
}

import { LocalTime } from "@/components/local-time";
import { Forbidden } from "@/components/forbidden";
import { can } from "@/lib/auth/policy";
import Link from "next/link";
import { AUDIT_PAGE_SIZE, AuditFilter, AuditPosition, searchAudit } from "@/lib/audit/query";
import { recentVerdict } from "@/lib/audit/recent-verdict";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { actor, allowed } = await pageActor("audit:read");
  if (!allowed) return <Forbidden what="read the audit log" />;
  const { before: rawBefore, ...raw } = Object.fromEntries(
    Object.entries(await searchParams).filter(([, v]) => typeof v === "string" && v !== ""),
  ) as Record<string, string>;
  const parsed = AuditFilter.safeParse(raw);
  const filter = parsed.success ? parsed.data : {};
  const position = AuditPosition.safeParse({ before: rawBefore });
  const before = position.success ? position.data.before : undefined;
  const pool = storePool();
  // One page of at most AUDIT_PAGE_SIZE rows per view, newest first; older pages by keyset (?before=ID).
  const [verdict, rows] = await Promise.all([recentVerdict(pool), searchAudit(pool, filter, { before })]);
  const query = new URLSearchParams(parsed.success ? raw : {}).toString();
  const older =
    rows.length === AUDIT_PAGE_SIZE
      ? `/audit?${new URLSearchParams({ ...(parsed.success ? raw : {}), before: String(rows[rows.length - 1].id) })}`
      : null;
  return (
    <>
      <h1>Audit log</h1>
      <div className="card" data-testid="audit-verdict">
        {verdict.ok ? (
          <p className="ok">
            Chain intact: {verdict.rows} rows verified. Head hash <code>{verdict.headHash ?? "(empty)"}</code>
          </p>
        ) : (
          <p className="bad">
            Chain BROKEN at row {verdict.firstBadId}: {verdict.reason}. Rows checked: {verdict.rows}.
          </p>
        )}
        <p className="who">
          The whole chain was recomputed at <LocalTime at={verdict.wholeChainAt} part="time" /> (at most once a minute); rows written since
          then are checked on every view. <code>npx indexdeck audit verify</code> recomputes all of it.
        </p>
        <p className="who">
          {verdict.signaturesChecked
            ? "Signed rows were checked with the audit key."
            : "Signatures were not checked: this server has no audit key."}{" "}
          <code>npx indexdeck audit verify --anchor FILE</code> also holds the chain to the checkpoints kept outside the store.
        </p>
      </div>
      <form className="card phase-form" method="get">
        <label>
          Target
          <br />
          <input name="target" defaultValue={raw.target} />
        </label>
        <label>
          Person
          <br />
          <input name="actor" defaultValue={raw.actor} />
        </label>
        <label>
          Action
          <br />
          <input name="action" defaultValue={raw.action} placeholder="rollout.approve" />
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
        <button type="submit">Filter</button>
        {can(actor.role, "audit:export") && (
          <>
            <a href={`/api/audit/export?format=csv&${query}`} download>
              Download CSV
            </a>
            <a href={`/api/audit/export?format=json&${query}`} download>
              Download JSON
            </a>
          </>
        )}
        {!parsed.success && (
          <span className="error" role="alert">
            {parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")} — showing everything instead
          </span>
        )}
        {!position.success && (
          <span className="error" role="alert">
            before: {position.error.issues[0].message} — showing the newest rows instead
          </span>
        )}
      </form>
      <table data-testid="audit-rows">
        <thead>
          <tr>
            <th>#</th>
            <th>Time</th>
            <th>Actor</th>
            <th>Action</th>
            <th>Target</th>
            <th>Rollout</th>
            <th>Details</th>
            <th>Hash</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>{r.id}</td>
              <td>
                <LocalTime at={r.at} />
              </td>
              <td>
                {r.actor}
                {r.role ? ` (${r.role})` : ""}
              </td>
              <td>
                <code>{r.action}</code>
              </td>
              <td>{r.targetId ?? ""}</td>
              <td>{r.rolloutId ?? ""}</td>
              <td>
                <code>{JSON.stringify(r.details)}</code>
              </td>
              <td>
                <code title={r.hash}>{r.hash.slice(0, 12)}…</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="who" data-testid="audit-pages">
        {before ? <>Rows older than #{before}, </> : <>The newest rows, </>}at most {AUDIT_PAGE_SIZE} a page.
        {before && (
          <>
            {" "}
            <Link href={`/audit${query ? `?${query}` : ""}`}>Newest</Link>
          </>
        )}
        {older && (
          <>
            {" "}
            · <Link href={older}>Older</Link>
          </>
        )}{" "}
        The export has every matching row.
      </p>
    </>
  );
}

import pg from "pg";
import { arg, percentile, post, signIn, startBenchApp, verdict } from "./support";
import { generatePassword, hashPassword } from "../lib/auth/password";
import { liveStreams } from "../lib/web/stream-limit";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Client {
  delays: number[];
  progress: number;
  done: boolean;
}

/** One SSE viewer: reads the stream and notes, for each live progress event, how long after the poller wrote it it arrived. */
function viewer(base: string, cookie: string, rolloutId: number, since: number, abort: AbortSignal): Client {
  const c: Client = { delays: [], progress: 0, done: false };
  void (async () => {
    const res = await fetch(`${base}/api/rollouts/${rolloutId}/events?after=${since}`, { headers: { cookie }, signal: abort });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = frame.split("\n").find((l) => l.startsWith("data: "));
        if (!data) continue;
        const e = JSON.parse(data.slice(6)) as { kind: string; at: string };
        if (e.kind === "progress") {
          c.progress++;
          c.delays.push(Date.now() - Date.parse(e.at));
        }
        if (e.kind === "apply_done") c.done = true;
      }
    }
  })().catch(() => undefined);
  return c;
}

/** Signs in `n` bench engineers (created in the store with a fresh password each run) and returns their cookies. */
async function viewerCookies(base: string, store: pg.Client, n: number): Promise<string[]> {
  const password = generatePassword();
  const hash = await hashPassword(password);
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const email = `bench_viewer_${i}`;
    await store.query(
      `INSERT INTO app_user (email, role, password_hash) VALUES ($1, 'engineer', $2)
       ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash`,
      [email, hash],
    );
    cookies.push(await signIn(base, email, password));
  }
  return cookies;
}

/**
 * 100 SSE viewers on one rollout of the built app (started by the demo launcher on its own data):
 * the target must see one progress poller, and the p95 delay from a progress row being read (its
 * event's timestamp) to its arrival at a viewer must stay under a second.
 */
export async function run(args: string[]) {
  const clients = arg(args, "clients", 100);
  const port = arg(args, "port", 3300);
  const base = `http://localhost:${port}`;
  const app = await startBenchApp(port, {}, { stagingRows: arg(args, "staging-rows", 1_000_000) });
  const { port: pgPort, password } = app.embedded;
  const pgUrl = (db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/${db}`;
  const target = new pg.Client({ connectionString: pgUrl("chefcloud_staging") });
  const store = new pg.Client({ connectionString: pgUrl("indexdeck") });
  await Promise.all([target.connect(), store.connect()]);
  const abort = new AbortController();
  try {
    // Earlier runs built these indexes; drop them so the builds (and their progress) happen again.
    for (const idx of [
      "idx_fr_overview_org_period",
      "idx_fr_rankings_org_metric_period",
      "idx_fr_budgets_org_cc_period",
      "idx_inv_batches_org_sku",
      "idx_po_org_status_created",
      "idx_payments_org_status_created",
    ]) {
      await target.query(`DROP INDEX CONCURRENTLY IF EXISTS ${idx}`);
    }
    const logins = app.logins;
    const sre = await signIn(base, "sre", logins.sre);
    const dba = await signIn(base, "dba", logins.dba);
    const { id } = (await post(base, sre, "/api/rollouts", {
      changesetId: "file:001_franchise_indexes.sql",
      targetId: "chefcloud_staging",
    })) as { id: number };
    const {
      rows: [{ sha }],
    } = await store.query("SELECT changeset_sha256 AS sha FROM rollout WHERE id = $1", [id]);
    await post(base, dba, `/api/rollouts/${id}/approve`, {
      decision: "approve",
      comment: "fan-out benchmark",
      changesetSha256: sha,
      targetId: "chefcloud_staging",
    });
    await post(base, dba, `/api/rollouts/${id}/precheck`, { backupId: "bench" });
    for (let i = 0; ; i++) {
      const {
        rows: [r],
      } = await store.query("SELECT state, precheck->>'ok' AS ok FROM rollout WHERE id = $1", [id]);
      if (r.state === "prechecked") break;
      if (i > 300 || (r.state === "approved" && r.ok === "false")) throw new Error(`pre-check did not pass: ${r.state}`);
      await sleep(100);
    }
    const {
      rows: [{ last }],
    } = await store.query("SELECT coalesce(max(id), 0)::int AS last FROM rollout_event WHERE rollout_id = $1", [id]);
    // A person may hold only a few live streams per app server (lib/web/stream-limit.ts): the viewers are
    // as many engineers as that takes, each watching from several tabs.
    const cookies = await viewerCookies(base, store, Math.ceil(clients / (liveStreams.perUser / 2)));
    const viewers = Array.from({ length: clients }, (_, i) => viewer(base, cookies[i % cookies.length], id, last, abort.signal));
    await sleep(1500); // every stream open and subscribed
    await post(base, dba, `/api/rollouts/${id}/apply`, {});
    let maxPollers = 0;
    const end = Date.now() + 120_000;
    while (!viewers.every((v) => v.done) && Date.now() < end) {
      const {
        rows: [{ n }],
      } = await target.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [`indexdeck:${id}:poll`]);
      maxPollers = Math.max(maxPollers, n);
      await sleep(100);
    }
    const delays = viewers.flatMap((v) => v.delays).sort((a, b) => a - b);
    const {
      rows: [{ n: progressRows }],
    } = await store.query("SELECT count(*)::int AS n FROM rollout_event WHERE rollout_id = $1 AND kind = 'progress'", [id]);
    const p95 = percentile(delays, 95);
    console.log(
      JSON.stringify({
        benchmark: "fanout",
        clients,
        rolloutId: id,
        progressEvents: progressRows,
        clientsWithAllProgress: viewers.filter((v) => v.progress === progressRows).length,
        clientsDone: viewers.filter((v) => v.done).length,
        maxPollersOnTarget: maxPollers,
        delayMs: { p50: percentile(delays, 50), p95, max: delays.at(-1) ?? null, samples: delays.length },
        ...verdict([
          { figure: "pollers on the target", value: maxPollers, op: "==", goal: 1 },
          { figure: "progress delay p95", value: p95, op: "<=", goal: 1000, unit: "ms" },
          { figure: "viewers that saw the apply finish", value: viewers.filter((v) => v.done).length, op: ">=", goal: clients },
        ]),
      }),
    );
  } finally {
    abort.abort();
    await target.end();
    await store.end();
    await app.stop();
  }
}

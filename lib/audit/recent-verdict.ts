import type pg from "pg";
import { scopedIntervalCache } from "../serve/interval-cache";
import { AnchorError, checkpointAudit } from "./anchor";
import { auditKeyOrNull } from "./key";
import { verifyAudit, type ChainPoint, type VerifyResult } from "./verify";

export interface RecentVerdict extends VerifyResult {
  /** When the whole chain was last recomputed; rows after its head were checked for this answer. */
  wholeChainAt: Date;
}

const wholeChains = scopedIntervalCache<Pick<pg.Pool, "connect">, VerifyResult & { at: Date }>();

/**
 * The verdict the Audit and sign-off pages show. Recomputing 100,000 rows takes seconds, so the whole
 * chain is recomputed at most once per `wholeEveryMs` (one run shared by every viewer, and after that
 * interval viewers get the last verdict while a new run goes on behind them), and each view checks
 * the rows written since that run's head, chained onto it (views at once share that check). An edit to an older row shows up at
 * the next whole run; `npx indexdeck audit verify` always recomputes everything.
 */
export async function recentVerdict(db: Pick<pg.Pool, "connect">, wholeEveryMs = 60_000): Promise<RecentVerdict> {
  const whole = await wholeChains(db, "chain", wholeEveryMs, () => wholeChain(db).then((r) => ({ ...r, at: new Date() })));
  const { at: wholeChainAt, ...wholeResult } = whole;
  if (!whole.ok) return { ...wholeResult, wholeChainAt };
  const head = whole.headId === null ? null : { id: whole.headId, hash: whole.headHash!, keyedFrom: whole.keyedFrom };
  const tail = await sharedTail(db, head);
  if (!tail.ok) return { ...tail, rows: whole.rows + tail.rows, wholeChainAt };
  return {
    ...tail,
    rows: whole.rows + tail.rows,
    headId: tail.headId ?? whole.headId,
    headHash: tail.headHash ?? whole.headHash,
    wholeChainAt,
  };
}

interface TailLane {
  running: Promise<VerifyResult> | null;
  queued: Promise<VerifyResult> | null;
}

const tailLanes = new WeakMap<object, Map<string, TailLane>>();

/** How long views that asked wait for a running tail check before one of their own starts. */
const TAIL_WAIT_MS = 10_000;

/**
 * The rows after `head`, checked once for everyone who asks meanwhile: a view joins the check that
 * starts next, never one already under way (that one may have read past the rows written just before
 * the view asked). So fifty views at once cost two tail checks, not fifty; each still covers every
 * row written before it asked.
 */
function sharedTail(db: Pick<pg.Pool, "connect">, head: ChainPoint | null): Promise<VerifyResult> {
  let lanes = tailLanes.get(db);
  if (!lanes) tailLanes.set(db, (lanes = new Map()));
  const key = head ? `${head.id}:${head.hash}:${head.keyedFrom ?? ""}` : "";
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { running: null, queued: null }));
  const current = lane;
  const start = (): Promise<VerifyResult> => {
    const run = verifyAudit(db, head);
    current.running = run;
    const settled = () => {
      if (current.running === run) current.running = null;
      if (!current.running && !current.queued && lanes.get(key) === current) lanes.delete(key);
    };
    run.then(settled, settled);
    return run;
  };
  if (!current.running) return start();
  // A check that hangs (a connection that never comes back) holds the views behind it only so long.
  current.queued ??= Promise.race([
    current.running.catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, TAIL_WAIT_MS).unref()),
  ]).then(() => {
    current.queued = null;
    return start();
  });
  return current.queued;
}

/**
 * The whole-chain run. With INDEXDECK_AUDIT_ANCHOR naming a file (outside the store), it is checked
 * against the checkpoints there and, when intact, its head is anchored: so an app server writes a
 * checkpoint about once a minute while the chain grows, and a rewrite shows against the last one.
 */
async function wholeChain(db: Pick<pg.Pool, "connect">): Promise<VerifyResult> {
  const file = process.env.INDEXDECK_AUDIT_ANCHOR;
  const key = auditKeyOrNull();
  if (!file || !key) return verifyAudit(db);
  try {
    return (await checkpointAudit(db, file, key)).result;
  } catch (err) {
    // An anchor that cannot be read or was not signed with this key: the chain cannot be vouched for.
    if (!(err instanceof AnchorError)) throw err;
    return {
      ok: false,
      rows: 0,
      firstBadId: null,
      reason: err.message,
      headId: null,
      headHash: null,
      keyedFrom: null,
      signaturesChecked: true,
    };
  }
}

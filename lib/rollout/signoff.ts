import type pg from "pg";
import * as z from "zod";
import { appendAudit, auditActor } from "../audit/log";
import { authorizeTarget, type Actor } from "../auth/policy";
import { lintText } from "../changeset/lint";
import { withTransaction } from "../store/pool";
import { listApprovals, type Approval } from "./approvals";
import { planChangeSet } from "./plan";
import { latencyComparison, type LatencyComparison } from "../monitor/latency";
import { createFollowups, usageEvidence } from "../monitor/followups";
import { decide, refusal, stateAllows } from "./machine";
import { getRollout, RolloutError, type Rollout } from "./rollouts";

/** The seed's Production Readiness Checklist. `evidence` items are filled from what indexdeck recorded; the rest are attested. */
export const CHECKLIST = [
  { id: "concurrently", section: "pre-deployment", label: "SQL scripts use CONCURRENTLY", kind: "evidence" },
  { id: "if-not-exists", section: "pre-deployment", label: "Scripts include IF NOT EXISTS", kind: "evidence" },
  { id: "timeouts", section: "pre-deployment", label: "Timeout guards configured", kind: "evidence" },
  { id: "reviewed", section: "pre-deployment", label: "Reviewed and approved by DBA/SRE", kind: "evidence" },
  { id: "lint-clean", section: "pre-deployment", label: "Lint passes (no errors)", kind: "evidence" },
  { id: "off-peak", section: "deployment", label: "Off-peak window scheduled", kind: "attestation" },
  { id: "backup", section: "deployment", label: "Database backup confirmed", kind: "attestation" },
  { id: "disk", section: "deployment", label: "Disk space verified (≥ 10% free)", kind: "evidence" },
  { id: "monitoring-access", section: "deployment", label: "Monitoring dashboard access confirmed", kind: "attestation" },
  { id: "rollback-reviewed", section: "deployment", label: "Rollback procedure reviewed", kind: "attestation" },
  { id: "indexes-valid", section: "post-deployment", label: "All indexes created successfully and valid", kind: "evidence" },
  { id: "explain", section: "post-deployment", label: "Query planner uses the new indexes (EXPLAIN verified)", kind: "evidence" },
  { id: "p95", section: "post-deployment", label: "p95 latency improvements observed", kind: "evidence" },
  { id: "no-error-spikes", section: "post-deployment", label: "No error spikes in application logs", kind: "attestation" },
  { id: "usage-stats", section: "post-deployment", label: "Index usage statistics collected", kind: "evidence" },
] as const;

export type ChecklistId = (typeof CHECKLIST)[number]["id"];
const ATTESTED = CHECKLIST.filter((c) => c.kind === "attestation").map((c) => c.id);

export interface ChecklistItem {
  id: ChecklistId;
  section: string;
  label: string;
  kind: "evidence" | "attestation";
  /** true: proven or attested; false: evidence says no; null: not measured (never a guess). */
  ok: boolean | null;
  evidence: string;
  /** For an attestation: what pre-check recorded about it (the window, the backup), quoted beside the attestation. */
  precheck?: string;
}

export const SignoffInput = z.object({
  decision: z.enum(["signed_off", "signed_off_with_follow_ups", "not_signed_off"]),
  notes: z.string().trim().max(5000, "notes: at most 5000 characters").default(""),
  attested: z.array(z.enum(ATTESTED as [string, ...string[]])).default([]),
  changesetSha256: z.string().regex(/^[0-9a-f]{64}$/, "changesetSha256: not a sha256"),
});
export type SignoffInput = z.infer<typeof SignoffInput>;

/** The checklist as indexdeck can prove it for this rollout, before anyone attests anything. */
export async function evidenceChecklist(
  rollout: Rollout,
  approvals: Approval[],
  latency: LatencyComparison[] = [],
  usage: { ok: boolean | null; evidence: string } | null = null,
): Promise<ChecklistItem[]> {
  const lint = await lintText({ file: rollout.changesetName, text: rollout.changesetSql });
  const rules = new Set(lint.findings.map((f) => f.rule));
  const tasks = await planChangeSet(rollout.changesetName, rollout.changesetSql, rollout.environment);
  const builds = tasks.filter((t) => t.kind === "create_index");
  const check = (id: string) => rollout.precheck?.checks.find((c) => c.id === id);
  const approvers = approvals.filter((a) => a.decision === "approve" && a.changesetSha256 === rollout.changesetSha256);
  const verifyIdx = rollout.verify?.indexes ?? [];
  const plans = rollout.verify?.plans ?? [];
  const proofs: Record<string, { ok: boolean | null; evidence: string }> = {
    concurrently: {
      ok: builds.every((t) => t.concurrent),
      evidence: `${builds.filter((t) => t.concurrent).length} of ${builds.length} CREATE INDEX statements use CONCURRENTLY`,
    },
    "if-not-exists": {
      ok: builds.every((t) => t.ifNotExists),
      evidence: `${builds.filter((t) => t.ifNotExists).length} of ${builds.length} use IF NOT EXISTS`,
    },
    timeouts: {
      ok: !rules.has("require-lock-timeout") && !rules.has("require-statement-timeout"),
      evidence: rules.has("statement-timeout-risk")
        ? "lock_timeout and statement_timeout set (lint warns the statement_timeout is short for concurrent builds)"
        : "lock_timeout and statement_timeout set before the first index statement",
    },
    reviewed: {
      ok: approvers.length >= rollout.approvalsRequired,
      evidence:
        rollout.approvalsRequired === 0
          ? "the target's policy needs no approval"
          : `approved by ${approvers.map((a) => `${a.approver} (${a.approverRole})`).join(", ") || "nobody"}; ${rollout.approvalsRequired} required`,
    },
    "lint-clean": {
      ok: lint.findings.every((f) => f.severity !== "error"),
      evidence: `${lint.findings.filter((f) => f.severity === "error").length} errors, ${lint.findings.filter((f) => f.severity === "warning").length} warnings`,
    },
    disk: {
      ok: check("disk-space") ? check("disk-space")!.status === "pass" : null,
      evidence: check("disk-space")?.summary ?? "no pre-check recorded",
    },
    "indexes-valid": {
      ok: verifyIdx.length ? verifyIdx.every((c) => c.status === "pass") : null,
      evidence: verifyIdx.map((c) => `${c.title}: ${c.summary}`).join("; ") || "not verified",
    },
    explain: {
      ok: plans.length ? plans.every((c) => c.status === "pass") : null,
      evidence: plans.map((c) => `${c.title}: ${c.status}`).join("; ") || "no workload queries declared for this change set",
    },
    p95: p95Evidence(latency),
    "usage-stats": usage ?? { ok: null, evidence: "not measured" },
  };
  const hints: Record<string, string> = {
    "off-peak": check("maintenance-window")?.summary ?? "",
    backup: check("backup")?.summary ?? "",
  };
  return CHECKLIST.map((c) =>
    c.kind === "evidence"
      ? { ...c, ok: proofs[c.id].ok, evidence: proofs[c.id].evidence }
      : hints[c.id]
        ? { ...c, ok: false, evidence: `pre-check: ${hints[c.id]}`, precheck: hints[c.id] }
        : { ...c, ok: false, evidence: "to be attested by the person signing off" },
  );
}

function p95Evidence(latency: LatencyComparison[]): { ok: boolean | null; evidence: string } {
  const measured = latency.filter((l) => l.changePercent !== null);
  if (!measured.length) return { ok: null, evidence: "not measured: no p95 before and after for this rollout" };
  const fmt = (l: LatencyComparison) =>
    `${l.workload} ${l.before!.p95Ms!.toFixed(2)} → ${l.after!.p95Ms!.toFixed(2)} ms (${l.changePercent! > 0 ? "+" : ""}${l.changePercent!.toFixed(0)}%)`;
  return {
    ok: measured.every((l) => l.changePercent! < 0) && measured.length === latency.length,
    evidence: `measured p95: ${measured.map(fmt).join("; ")}${measured.length < latency.length ? `; ${latency.length - measured.length} pattern(s) not measured both times` : ""}`,
  };
}

export interface Signoff {
  id: number;
  rolloutId: number;
  targetId: string;
  decision: SignoffInput["decision"];
  checklist: ChecklistItem[];
  notes: string;
  signedBy: string;
  signedByRole: string;
  auditHash: string;
  createdAt: Date;
}

/** Records a sign-off of a verified rollout: evidence from the store, attestations from the signer, one audit row, all at once. */
export async function signOff(pool: pg.Pool, rolloutId: number, actor: Actor, input: SignoffInput): Promise<Signoff> {
  const rollout = await getRollout(pool, rolloutId);
  if (!rollout) throw new RolloutError(`rollout ${rolloutId} does not exist`, 404);
  authorizeTarget(actor, rollout.targetId);
  if (input.changesetSha256 !== rollout.changesetSha256)
    throw new RolloutError("this form was for other SQL; reload and review again", 409);
  if (!stateAllows("signoff", rollout.state)) throw refusal("signoff", rolloutId, rollout.state);
  const usage = await usageEvidence(pool, rolloutId, new Date(rollout.verify?.at ?? rollout.updatedAt));
  const checklist = (
    await evidenceChecklist(rollout, await listApprovals(pool, rolloutId), await latencyComparison(pool, rolloutId), usage)
  ).map((item) =>
    item.kind === "attestation"
      ? {
          ...item,
          ok: input.attested.includes(item.id),
          evidence: [
            input.attested.includes(item.id) ? `attested by ${actor.email}` : "not attested",
            item.precheck && `pre-check: ${item.precheck}`,
          ]
            .filter(Boolean)
            .join("; "),
        }
      : item,
  );
  const id = await withTransaction(pool, async (tx) => {
    await tx.query("SELECT 1 FROM rollout WHERE id = $1 FOR UPDATE", [rolloutId]);
    if (input.decision !== "not_signed_off") await decide(tx, rolloutId, "signoff");
    const audit = await appendAudit(tx, {
      ...auditActor(actor),
      action: "rollout.signoff",
      targetId: rollout.targetId,
      rolloutId,
      changesetSha256: rollout.changesetSha256,
      details: {
        decision: input.decision,
        attested: input.attested,
        notes: input.notes,
        unmet: checklist.filter((c) => c.ok === false).map((c) => c.id),
      },
    });
    if (input.decision !== "not_signed_off") await createFollowups(tx, rolloutId, new Date());
    const {
      rows: [row],
    } = await tx.query<{ id: number }>(
      `INSERT INTO signoff (rollout_id, target_id, decision, checklist, notes, signed_by, signed_by_role, audit_content_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [rolloutId, rollout.targetId, input.decision, JSON.stringify(checklist), input.notes, actor.email, actor.role, audit.contentHash],
    );
    return row.id;
  });
  // After commit, when the audit row has its place and chain hash.
  return (await getSignoff(pool, id))!;
}

export interface SignoffFilter {
  rolloutId?: number;
  targetId?: string;
  person?: string;
  from?: Date;
  to?: Date;
  decision?: SignoffInput["decision"];
}

const SIGNOFF_COLUMNS = `
  id,
  rollout_id     AS "rolloutId",
  target_id      AS "targetId",
  decision,
  checklist,
  notes,
  signed_by      AS "signedBy",
  signed_by_role AS "signedByRole",
  coalesce(audit_hash, (SELECT a.hash FROM audit_log a WHERE a.content_hash = signoff.audit_content_hash ORDER BY a.id LIMIT 1)) AS "auditHash",
  created_at     AS "createdAt"`;

export async function listSignoffs(db: Pick<pg.Pool, "query">, f: SignoffFilter, limit = 500): Promise<Signoff[]> {
  const { rows } = await db.query<Signoff>(
    `SELECT ${SIGNOFF_COLUMNS}
       FROM signoff
      WHERE ($1::text IS NULL OR target_id = $1)
        AND ($2::text IS NULL OR signed_by = $2)
        AND ($3::timestamptz IS NULL OR created_at >= $3)
        AND ($4::timestamptz IS NULL OR created_at < $4)
        AND ($5::text IS NULL OR decision = $5)
        AND ($6::bigint IS NULL OR rollout_id = $6)
      ORDER BY id DESC
      LIMIT $7`,
    [f.targetId ?? null, f.person ?? null, f.from ?? null, f.to ?? null, f.decision ?? null, f.rolloutId ?? null, limit],
  );
  return rows;
}

export async function getSignoff(db: Pick<pg.Pool, "query">, id: number): Promise<Signoff | null> {
  const { rows } = await db.query<Signoff>(`SELECT ${SIGNOFF_COLUMNS} FROM signoff WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

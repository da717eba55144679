/**
 * targets/ — the databases indexes are rolled out to: their config and policies, connections,
 * and one module per topic of queries against them (catalog, progress, activity, inventory). The
 * rest of lib is given targets only as a TargetSource (./source.ts), asked when it needs the list.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import * as z from "zod";
import { ROLES } from "../auth/policy";
import { parseMemoryKb } from "../changeset/settings";
import { DEFAULT_TARGET_LIMITS } from "./limits";
import { POSTGRES_URL, POSTGRES_URL_MESSAGE, TargetsConfigError } from "./urls";

const Weekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
const Clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24 h)");

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const ApprovalPolicySchema = z
  .object({
    required: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    roles: z.array(z.enum(ROLES)).min(1).default(["dba", "sre"]),
    requesterMayApprove: z.boolean().default(false),
  })
  .strict();

export const MaintenanceWindowSchema = z
  .object({
    days: z.array(Weekday).min(1),
    start: Clock,
    end: Clock,
    timeZone: z.string().refine(isTimeZone, "must be an IANA time zone such as UTC or Europe/Berlin").default("UTC"),
  })
  .strict();

export const FreezeSchema = z
  .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), reason: z.string().min(1).max(500) })
  .strict()
  .refine((f) => Date.parse(f.from) < Date.parse(f.to), { message: "a freeze must end after it starts", path: ["to"] });

const NodeId = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, "must be lowercase letters, digits, _ or -, starting with a letter");
const ConnectionUrl = z.string().regex(POSTGRES_URL, POSTGRES_URL_MESSAGE).optional();
const ConnectionEnv = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, "must be the name of an environment variable")
  .optional();

/** The node id every target's primary has in usage evidence; a replica can't take it. */
export const PRIMARY_NODE = "primary";

/** A streaming replica of the target: its scans count as much as the primary's when judging an index unused. */
const ReplicaSchema = z
  .object({
    id: NodeId.refine((id) => id !== PRIMARY_NODE, `"${PRIMARY_NODE}" names every target's primary`),
    label: z.string().min(1).max(100).optional(),
    url: ConnectionUrl,
    urlEnv: ConnectionEnv,
  })
  .strict()
  .refine((r) => !!r.url !== !!r.urlEnv, { message: "give exactly one of url or urlEnv", path: ["url"] });

const MemorySetting = z.string().refine((v) => (parseMemoryKb(v) ?? 0) >= 1024, "must be a size such as '1GB' (at least 1MB)");

const TargetSchema = z
  .object({
    id: NodeId,
    label: z.string().min(1).max(100),
    environment: z.enum(["staging", "production"]),
    url: ConnectionUrl,
    urlEnv: ConnectionEnv,
    replicas: z.array(ReplicaSchema).max(16).default([]),
    // An index is reported unused only after this many days without a scan on every node.
    unusedWindowDays: z.number().min(0).max(365).default(14),
    approvals: ApprovalPolicySchema,
    maintenanceWindows: z.array(MaintenanceWindowSchema).default([]),
    freezes: z.array(FreezeSchema).default([]),
    // budgetSeconds bounds each latency probe (before with pre-check, after with verify) as a whole.
    probes: z
      .object({ enabled: z.boolean(), budgetSeconds: z.number().min(1).max(600).default(20) })
      .strict()
      .default({ enabled: false, budgetSeconds: 20 }),
    // Production only: the staging target whose verified rollout of the same sha256 lets a change set be promoted here.
    stagingTarget: z.string().min(1).max(63).optional(),
    // The schemas builds resolve names in, after pg_catalog (which always comes first); the role's own path when absent.
    searchPath: z.array(z.string().min(1).max(63)).min(1).max(16).optional(),
    // Upper bounds for the change set's SET maintenance_work_mem / max_parallel_maintenance_workers on this target.
    limits: z
      .object({
        maintenanceWorkMem: MemorySetting.default(DEFAULT_TARGET_LIMITS.maintenanceWorkMem),
        parallelMaintenanceWorkers: z.number().int().min(0).max(64).default(DEFAULT_TARGET_LIMITS.parallelMaintenanceWorkers),
      })
      .strict()
      .default({ ...DEFAULT_TARGET_LIMITS }),
    // How apply paces its builds here (lib/rollout/pacing.ts): settings pinned on the build session, and
    // conditions checked between statements that hold the next one back until they clear.
    apply: z
      .object({
        maxParallelMaintenanceWorkers: z.number().int().min(0).max(64).optional(),
        maintenanceWorkMem: MemorySetting.optional(),
        pauseWhen: z
          .object({
            replicaLagSeconds: z.number().positive().max(86_400).optional(),
            wraparoundVacuum: z.boolean().default(false),
            activeConnections: z.number().int().min(1).max(100_000).optional(),
          })
          .strict()
          .default({ wraparoundVacuum: false }),
        recheckSeconds: z.number().min(0.1).max(300).default(5),
      })
      .strict()
      .default({ pauseWhen: { wraparoundVacuum: false }, recheckSeconds: 5 }),
    // How pre-check finds backup evidence: pg_stat_archiver's last archived WAL, or a backup id a person attests.
    backup: z
      .object({ evidence: z.enum(["archiver", "attestation"]), maxAgeHours: z.number().positive().default(24) })
      .strict()
      .default({ evidence: "attestation", maxAgeHours: 24 }),
  })
  .strict()
  .refine((t) => !!t.url !== !!t.urlEnv, { message: "give exactly one of url or urlEnv", path: ["url"] })
  .refine((t) => t.environment !== "production" || meetsProductionFloor(t.approvals), {
    message:
      "a production target needs 2 approvals from people other than the requester (required: 2, requesterMayApprove: false); this floor can't be lowered",
    path: ["approvals"],
  })
  .refine((t) => t.apply.pauseWhen.replicaLagSeconds === undefined || t.replicas.length > 0, {
    message: "replicaLagSeconds needs the target's replicas listed in replicas: there is no lag to measure",
    path: ["apply", "pauseWhen", "replicaLagSeconds"],
  })
  .refine((t) => t.environment === "production" || t.stagingTarget === undefined, {
    message: "only a production target names a stagingTarget",
    path: ["stagingTarget"],
  });

/** What a webhook may announce; the one list the schema, the enqueuer and the admin page read. */
export const WEBHOOK_EVENTS = ["awaiting_approval", "failed", "verified", "signed_off", "invalid_index"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const WebhookSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, "must be lowercase letters, digits, _ or -, starting with a letter"),
    // Only from this server-side file, never from a browser: the receiver is whatever the operator wrote here.
    url: z
      .string()
      .max(2000)
      .refine((u) => URL.canParse(u) && ["http:", "https:"].includes(new URL(u).protocol), "must be an http:// or https:// URL"),
    format: z.enum(["json", "slack"]),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
    secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be the name of an environment variable"),
    targets: z.array(z.string().min(1).max(63)).min(1).optional(),
  })
  .strict();

export type WebhookConfig = z.infer<typeof WebhookSchema>;

const TargetsFileSchema = z
  .object({ targets: z.array(TargetSchema), webhooks: z.array(WebhookSchema).default([]) })
  .strict()
  .refine((f) => new Set(f.targets.map((t) => t.id)).size === f.targets.length, { message: "target ids must be unique", path: ["targets"] })
  .refine((f) => new Set(f.webhooks.map((w) => w.id)).size === f.webhooks.length, {
    message: "webhook ids must be unique",
    path: ["webhooks"],
  })
  .superRefine((f, ctx) => {
    // Replica ids name nodes in the store's usage history and in reports: one id, one server, file-wide.
    const ids = new Set(f.targets.map((t) => t.id));
    f.targets.forEach((t, i) =>
      t.replicas.forEach((r, j) => {
        if (ids.has(r.id))
          ctx.addIssue({ code: "custom", message: `${r.id} is already a target or replica id`, path: ["targets", i, "replicas", j, "id"] });
        ids.add(r.id);
      }),
    );
    f.webhooks.forEach((w, i) => {
      for (const id of w.targets ?? []) {
        if (!f.targets.some((t) => t.id === id))
          ctx.addIssue({ code: "custom", message: `names ${id}, which is not a target of this file`, path: ["webhooks", i, "targets"] });
      }
    });
    f.targets.forEach((t, i) => {
      if (t.stagingTarget !== undefined && !f.targets.some((s) => s.id === t.stagingTarget && s.environment === "staging")) {
        ctx.addIssue({
          code: "custom",
          message: `names ${t.stagingTarget}, which is not a staging target of this file`,
          path: ["targets", i, "stagingTarget"],
        });
      }
    });
  });

/**
 * Four eyes on production (invariant 11): two approvals, neither from the requester. The targets file
 * can't go below it and neither can a policy saved in the app.
 */
export function meetsProductionFloor(approvals: { required: number; requesterMayApprove: boolean }): boolean {
  return approvals.required >= 2 && !approvals.requesterMayApprove;
}

export type TargetConfig = z.infer<typeof TargetSchema>;

export function targetsFilePath(): string {
  // A file named at run time, never part of the build: the comment keeps Turbopack from tracing the whole project for it.
  return path.resolve(/*turbopackIgnore: true*/ process.env.INDEXDECK_TARGETS ?? "indexdeck.targets.json");
}

export interface TargetsFile {
  targets: TargetConfig[];
  webhooks: WebhookConfig[];
}

/** Parses a targets file; every problem names the file, the field path and what is wrong. */
export function parseTargetsFile(text: string, file: string): TargetConfig[] {
  return parseConfigFile(text, file).targets;
}

/** The whole targets file: its targets and the webhooks that announce what happens on them. */
export function parseConfigFile(text: string, file: string): TargetsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TargetsConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = TargetsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${file}: ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`);
    throw new TargetsConfigError(problems.join("\n"));
  }
  return parsed.data;
}

// Every page view and job reads the targets: the file is parsed once per version of it (its size and
// times), since validating it builds an Intl.DateTimeFormat per window and cost as much as the
// Indexes page's own rendering.
let lastParsed: { version: string; config: TargetsFile } | null = null;

/**
 * Reads the targets file as it is now. A missing file means no targets and no webhooks; a malformed
 * one is an error. Each call gets its own copy, so no caller can change another's.
 */
function loadConfig(file: string): TargetsFile {
  let text: string;
  let version: string;
  try {
    const stat = statSync(file);
    version = `${file}\0${stat.size}\0${stat.mtimeMs}\0${stat.ctimeMs}`;
    if (lastParsed?.version === version) return structuredClone(lastParsed.config);
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { targets: [], webhooks: [] };
    throw new TargetsConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  const config = parseConfigFile(text, file);
  lastParsed = { version, config };
  return structuredClone(config);
}

/** The configured targets, as they are in the file now. */
export function loadTargets(file = targetsFilePath()): TargetConfig[] {
  return loadConfig(file).targets;
}

/** The configured webhooks, as they are in the file now. */
export function loadWebhooks(file = targetsFilePath()): WebhookConfig[] {
  return loadConfig(file).webhooks;
}

export function findTarget(targets: TargetConfig[], id: string): TargetConfig | undefined {
  return targets.find((t) => t.id === id);
}

export type ReplicaConfig = TargetConfig["replicas"][number];

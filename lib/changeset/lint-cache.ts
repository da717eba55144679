import { createHash } from "node:crypto";
import { version as packageVersion } from "../../package.json";
import { sha256 } from "./store";
import { lintText, type FileReport, type LintInput } from "./lint";
import { DEFAULT_LINT_OPTIONS, type LintOptions } from "./rule";
import { RULES } from "./rules";

/**
 * What a schema-less lint's findings depend on besides the SQL: indexdeck's release and its rule
 * registry (ids, severities, which may be suppressed). A cache keyed on it never hands one linter's
 * findings to another, should the cache ever outlive the process or be shared between releases.
 */
export const LINTER_VERSION = createHash("sha256")
  .update(JSON.stringify([packageVersion, RULES.map((r) => [r.id, r.severity, r.suppressible !== false, !!r.needsDatabase])]))
  .digest("hex")
  .slice(0, 16);

/** A lint the cache may keep: no target schema, whose catalog changes under the same SQL; the SQL as text, as stored. */
export type CachedLintInput = Omit<LintInput, "schema" | "text"> & { text: string };

/**
 * Lint results of stored change sets, kept by sha256. A change set's SQL never changes for its
 * sha256, so its findings (for one linter version and options) are computed once per app server
 * rather than once per view; concurrent askers share one run. At most `capacity` reports are kept,
 * the least recently used going first, so memory stays bounded however many change sets exist.
 */
export class LintCache {
  private readonly entries = new Map<string, Promise<FileReport>>();
  private readonly version: string;
  private readonly capacity: number;
  /** How many times the linter actually ran (tests and diagnostics). */
  runs = 0;

  constructor(options: { version?: string; capacity?: number } = {}) {
    this.version = options.version ?? LINTER_VERSION;
    this.capacity = options.capacity ?? 500;
  }

  get size(): number {
    return this.entries.size;
  }

  key(digest: string, options: Partial<LintOptions> | undefined): string {
    // Options merged with the defaults, in a fixed order: {} and the defaults spelled out are one key.
    const merged: Record<string, unknown> = { ...DEFAULT_LINT_OPTIONS, ...options };
    const canonical = Object.keys(merged)
      .sort()
      .map((k) => [k, merged[k]]);
    return `${this.version}:${digest}:${JSON.stringify(canonical)}`;
  }

  async lint(input: CachedLintInput): Promise<FileReport> {
    const key = this.key(sha256(input.text), input.options);
    let report = this.entries.get(key);
    if (report) {
      this.entries.delete(key); // re-inserted below: a Map iterates in insertion order, oldest first
    } else {
      this.runs++;
      report = lintText({ text: input.text, options: input.options, file: input.file });
      // A failed lint is not kept: the next asker runs it again.
      report.catch(() => {
        if (this.entries.get(key) === report) this.entries.delete(key);
      });
    }
    this.entries.set(key, report);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return asFile(await report, input.file);
  }
}

/** The same findings under the name this caller knows the SQL by (two change sets may share a sha256). */
function asFile(report: FileReport, file: string): FileReport {
  if (report.file === file) return report;
  return { ...report, file, findings: report.findings.map((f) => ({ ...f, file })) };
}

/** This app server's cache: the Change sets page and the reports ask the same one. */
export const lintCache = new LintCache();

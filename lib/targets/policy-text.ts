import type { z } from "zod";
import { FreezeSchema, MaintenanceWindowSchema } from "./config";
import { describeWindow } from "./windows";

type Window = z.infer<typeof MaintenanceWindowSchema>;
type Freeze = z.infer<typeof FreezeSchema>;

/** One window per line, as a person writes it: `mon,tue 02:00-04:00 Europe/Berlin` (zone optional, UTC). */
export function formatWindows(windows: Window[]): string {
  return windows.map(describeWindow).join("\n");
}

/** One freeze per line: `FROM TO reason`, both times ISO-8601 with an offset. */
export function formatFreezes(freezes: Freeze[]): string {
  return freezes.map((f) => `${f.from} ${f.to} ${f.reason}`).join("\n");
}

export type Parsed<T> = { ok: true; value: T[] } | { ok: false; errors: string[] };

function parseLines<T>(field: string, text: string, schema: z.ZodType<T>, toObject: (words: string[]) => unknown): Parsed<T> {
  const value: T[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    const parsed = schema.safeParse(toObject(words));
    if (parsed.success) value.push(parsed.data);
    else
      errors.push(
        ...parsed.error.issues.map(
          (issue) => `${field}, line ${i + 1}${issue.path.length ? ` (${issue.path.join(".")})` : ""}: ${issue.message}`,
        ),
      );
  });
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

export function parseWindows(text: string): Parsed<Window> {
  return parseLines("maintenance windows", text, MaintenanceWindowSchema, ([days, span, timeZone, ...rest]) => {
    const [start, end] = (span ?? "").split("-");
    return {
      days: (days ?? "").toLowerCase().split(",").filter(Boolean),
      start: start ?? "",
      end: end ?? "",
      ...(timeZone ? { timeZone } : {}),
      ...(rest.length ? { extra: rest.join(" ") } : {}),
    };
  });
}

export function parseFreezes(text: string): Parsed<Freeze> {
  return parseLines("freezes", text, FreezeSchema, ([from, to, ...reason]) => ({
    from: from ?? "",
    to: to ?? "",
    reason: reason.join(" "),
  }));
}

import { once } from "node:events";
export interface Io {
  /** Standard output; bytes are UTF-8, never split inside a character. */
  out(text: string | Uint8Array): void;
  /** Resolves once what `out` was given has gone out: a fast producer waits, instead of queueing a whole report in memory. */
  drained?(): Promise<void>;
  err(text: string): void;
  /** Reads standard input to the end (for passwords piped in). */
  stdin(): Promise<string>;
}

export class UsageError extends Error {}

// `indexdeck lint … | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  drained: async () => {
    if (process.stdout.writableNeedDrain) await once(process.stdout, "drain");
  },
  err: (t) => void process.stderr.write(t),
  stdin: async () => {
    if (process.stdin.isTTY) return "";
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

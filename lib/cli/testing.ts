import { execFile } from "node:child_process";
import path from "node:path";
import { main } from "./main";

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(argv: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (t) => void (out += typeof t === "string" ? t : Buffer.from(t).toString("utf8")),
    err: (t) => void (err += t),
    stdin: async () => stdin,
  });
  return { code, out, err };
}

const BIN = path.resolve(import.meta.dirname, "../../bin/indexdeck.cjs");

/** Runs the compiled `indexdeck` bin as a user does, a process of its own, and captures what it prints. */
export function runBin(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [BIN, ...argv], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, out, err) => {
      const code = error ? error.code : 0;
      if (typeof code !== "number") reject(error);
      else resolve({ code, out, err });
    }),
  );
}

import { main } from "./main";

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(argv: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), stdin: async () => stdin });
  return { code, out, err };
}

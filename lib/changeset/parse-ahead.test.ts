import { createRequire } from "node:module";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lintCorpus } from "../../bench/lint-corpus";
import { parseStatements, PARSE_AHEAD_BYTES, parserReady, type ParsedItem } from "./parse";
import { ParseWorker } from "./parse-ahead";
import { parserModule } from "./pg-parser";
import { Source } from "./source";

const { compiledCli } = createRequire(import.meta.url)("../../bin/cli-load.cjs") as { compiledCli: (root: string) => Promise<string> };

// The worker runs only as the compiled CLI builds it: the build of these sources, as `indexdeck` runs it.
let build: string;
beforeAll(async () => {
  build = path.dirname(await compiledCli(path.resolve(import.meta.dirname, "../..")));
  // As the CLI does: compiled from the file beside the bundle, so the worker is handed the same module.
  await parserReady({ wasmFile: path.join(build, "libpg-query.wasm") });
}, 120_000);

// Syntax errors, psql meta-commands, COPY data and unterminated text among ~20,000 statements.
const text = `${lintCorpus(PARSE_AHEAD_BYTES, { seed: 7 })}\nSELECT 1 +;\n${lintCorpus(PARSE_AHEAD_BYTES / 2, { seed: 8 })}`;

/** What a parse says of each statement and unchecked text, every 40th statement's tree included. */
async function parsed(parseWorker?: ParseWorker, midway?: () => void): Promise<unknown[]> {
  const out: unknown[] = [];
  let n = 0;
  for (const item of parseStatements(new Source("f.sql", text), undefined, { parseWorker }) as Generator<ParsedItem>) {
    if ("syntaxError" in item) out.push(item.syntaxError);
    else {
      const { index, startByte, endByte, line, column, kind, ignored, backslashAt } = item.statement;
      out.push({ index, startByte, endByte, line, column, kind, ignored, backslashAt });
      if (index % 40 === 0) out.push(item.statement.node);
    }
    // Paused now and then, as the CLI pauses for its output: the worker gets ahead.
    if (++n % 500 === 0) await new Promise((r) => setTimeout(r, 10));
    if (n === 5000) midway?.();
  }
  return out;
}

describe("parsing ahead on a second thread", () => {
  it("gives what one thread gives, with most chunks parsed by the worker on the module this thread compiled", async () => {
    expect(parserModule()).toBeInstanceOf(WebAssembly.Module);
    const alone = await parsed();
    expect(alone.some((x) => typeof x === "object" && x !== null && "message" in x)).toBe(true);
    const worker = new ParseWorker(path.join(build, "parse-worker.cjs"));
    try {
      expect(await parsed(worker)).toEqual(alone);
      // ~300 chunks of 4 KB; the linter's pauses leave the worker well ahead.
      expect(worker.taken).toBeGreaterThan(150);
    } finally {
      worker.stop();
    }
  });

  it("gives the same when the worker can't start, or dies halfway", async () => {
    const alone = await parsed();
    const missing = new ParseWorker(path.join(build, "no-such-worker.cjs"));
    expect(await parsed(missing)).toEqual(alone);
    expect(missing.taken).toBe(0);
    const killed = new ParseWorker(path.join(build, "parse-worker.cjs"));
    expect(await parsed(killed, () => killed.stop())).toEqual(alone);
    expect(killed.taken).toBeGreaterThan(0);
  });

  it("is not started for a file under PARSE_AHEAD_BYTES", async () => {
    const worker = new ParseWorker(path.join(build, "parse-worker.cjs"));
    try {
      const short = lintCorpus(PARSE_AHEAD_BYTES / 4, { seed: 9 });
      for (const item of parseStatements(new Source("short.sql", short), undefined, { parseWorker: worker })) void item;
      expect(worker.taken).toBe(0);
    } finally {
      worker.stop();
    }
  });
});

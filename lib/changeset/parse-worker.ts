/** The worker thread of parse-ahead.ts: parses each job's chunks, in order, ahead of the linter. */
import { parentPort } from "node:worker_threads";
import { AHEAD_BYTES, AT, DONE, LEAP_BYTES, type AheadChunk, type AheadJob } from "./parse-ahead";
import { parserReady, parseBytesToJson } from "./pg-parser";

// Jobs one at a time, in the order they came: each runs to its end (or the linter's DONE) before the next.
let jobs = Promise.resolve();
parentPort!.on("message", (job: AheadJob) => {
  jobs = jobs.then(() => parseAhead(job)).catch(() => undefined);
});

async function parseAhead({ wasmModule, bytes, ranges, treeKinds, keptTreeBytes, shared, port }: AheadJob): Promise<void> {
  await parserReady(wasmModule && { module: wasmModule });
  const at = new Int32Array(shared);
  const kinds = new Set(treeKinds);
  let from = 0;
  try {
    for (let r = 0; r < ranges.length; r += 2) {
      const [start, end] = [ranges[r], ranges[r + 1]];
      let linter = Atomics.load(at, AT);
      // Past the linter's reach: wait for it.
      for (; start - linter > AHEAD_BYTES; linter = Atomics.load(at, AT)) Atomics.wait(at, AT, linter, 50);
      // Caught up: the linter parses this chunk itself, and those up to a leap past it.
      if (start <= linter) from = linter === DONE ? DONE : linter + LEAP_BYTES;
      if (start < from) continue;
      let stmts: AheadChunk["stmts"];
      try {
        stmts = parseBytesToJson(bytes.subarray(start, end), (kind, location, length) => {
          return kinds.has(kind) || start + location + (length ?? end - start - location) <= keptTreeBytes;
        });
      } catch {
        // bad SQL, or a failure of the parser's own: the linter parses this chunk again and learns which
      }
      port.postMessage({ start, end, stmts } satisfies AheadChunk);
    }
  } finally {
    port.close();
  }
}

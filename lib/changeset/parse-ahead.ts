/**
 * Parsing a long file on a second thread, ahead of the one that lints it. The parser's WebAssembly is
 * about 40% of a long lint's CPU; a worker thread runs it on the chunks the linter will ask for next
 * while the linter runs its rules, and hands over each chunk's statements with the trees it was asked
 * for as JSON text.
 *
 * The linter never waits for the worker: a chunk whose parse is not there when it is wanted is parsed
 * where it is wanted, as without a worker, and the worker skips what the linter has passed. So a worker
 * that is slow to start, falls behind, fails or dies costs time at most, and what is linted is the same.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { ParsedRaw, RawStatement } from "./pg-parser";

/** One file for the worker: its bytes, the chunks to parse in order (start, end pairs), which trees to decode. */
export interface AheadJob {
  /** The parser as the linter's thread compiled it (parserModule): the worker runs the same code and compiles nothing. */
  wasmModule: WebAssembly.Module | undefined;
  bytes: Uint8Array;
  ranges: Int32Array;
  treeKinds: string[];
  /** Trees of statements that end within this many bytes of the file's start are decoded too (the kept ones). */
  keptTreeBytes: number;
  /** Int32Array slots (AT): where the linter is. */
  shared: SharedArrayBuffer;
  /** Where the job's answers go. */
  port: MessagePort;
}

/** One chunk's answer: its statements, or `stmts` absent when the chunk did not parse (the linter finds out why). */
export interface AheadChunk {
  start: number;
  end: number;
  stmts?: Array<RawStatement<string>>;
}

/** The shared slot: the start of the chunk the linter last asked for; DONE once the job is over. */
export const AT = 0;
export const DONE = 0x7fffffff;

/** How far past the linter the worker parses before it waits: its answers in memory stay about this much SQL. */
export const AHEAD_BYTES = 64 * 1024;

/**
 * When the linter has caught up with the worker (it wants the chunk the worker is at), the worker goes
 * this far past it: each then parses its own chunks, and neither parses the other's.
 */
export const LEAP_BYTES = 32 * 1024;

export interface ParseAhead {
  /** The chunk [start, end) as the worker parsed it, or undefined: then parse it here. */
  take(start: number, end: number): ParsedRaw[] | undefined;
  /** The file is done: the worker drops the rest of it. */
  stop(): void;
}

/**
 * A worker thread (`file`, built from parse-worker.ts) that parses ahead for one file after another.
 * Started before the files are read, so that its start overlaps the reading and splitting of the first.
 */
export class ParseWorker {
  private readonly worker: Worker;
  /** Chunks the linter took from this worker rather than parsing them itself, over all its files. */
  taken = 0;

  constructor(file: string) {
    // A small heap: the worker keeps little (its garbage, each chunk's JSON, dies young), and its heap is
    // memory the lint pays. One that runs out is a worker that failed.
    this.worker = new Worker(file, { resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 } });
    this.worker.unref();
    // A worker that fails is only a worker that answers nothing: everything is parsed by the linter.
    this.worker.on("error", () => undefined);
  }

  /**
   * Parses `ranges` of `bytes` ahead. Bytes in a SharedArrayBuffer (readChangeSets reads files into
   * one) are shared with the worker, any others copied to it.
   */
  ahead(
    wasmModule: WebAssembly.Module | undefined,
    bytes: Uint8Array,
    ranges: Int32Array,
    treeKinds: string[],
    keptTreeBytes: number,
  ): ParseAhead {
    const shared = new SharedArrayBuffer(4);
    const at = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    const job: AheadJob = { wasmModule, bytes, ranges, treeKinds, keptTreeBytes, shared, port: port2 };
    this.worker.postMessage(job, [port2]);
    let queue: AheadChunk[] = [];
    let head = 0;
    return {
      take: (start, end) => {
        Atomics.store(at, AT, start);
        Atomics.notify(at, AT);
        // What was taken or passed is let go of: the worker stays ahead for the whole file.
        if (head >= 64) [queue, head] = [queue.slice(head), 0];
        for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) queue.push(m.message as AheadChunk);
        while (head < queue.length && queue[head].start < start) head++;
        const chunk = queue[head];
        if (!chunk || chunk.start !== start || chunk.end !== end || !chunk.stmts) return undefined;
        head++;
        this.taken++;
        return chunk.stmts.map((s) => ({ ...s, tree: s.tree === undefined ? undefined : JSON.parse(s.tree) }));
      },
      stop: () => {
        Atomics.store(at, AT, DONE);
        Atomics.notify(at, AT);
        port1.close();
      },
    };
  }

  stop(): void {
    void this.worker.terminate();
  }
}

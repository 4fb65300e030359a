/**
 * @fileoverview The persistent worker pool shared by every Monte Carlo runner: worker threads are started once per
 * process (lazily, up to the worker count asked for), kept idle between jobs without holding the process open, and
 * reused by later jobs. A job sends its init payload once per worker (images in shared memory, so workers read one
 * copy), hands out chunks of item indices until none are left, and places each result by index, so results never
 * depend on the pool size or on scheduling.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { XbarcError, type DiagnosticCode } from "@xbarc/ir";
import type { JobKind, PoolMessage, SerializedError, WorkerMessage } from "./protocol.js";

/** One job: evaluate items 0 .. items−1 with the evaluator `kind` built from `init`. */
export interface PoolJob<Init> {
  readonly kind: JobKind;
  /** what each worker builds its evaluator from (structured-cloned once per worker; SharedArrayBuffers are shared) */
  readonly init: Init;
  /** item indices 0 .. items−1 are evaluated (Monte Carlo run indices) */
  readonly items: number;
  /** worker threads to use (≥ 1); the pool grows to this size if it is smaller */
  readonly workers: number;
  /** item indices per hand-out */
  readonly chunkSize: number;
  /** names the workers in error messages, e.g. "Monte Carlo" or "program Monte Carlo" */
  readonly label: string;
  /** called as items finish (in completion order) */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * The worker script. Workers need JavaScript, so when this file runs as TypeScript source (vitest aliases the
 * packages to src/) the script is taken from the package's built dist/ instead: build first with
 * `npx tsc -b packages/backend-sim` (the test helpers do). From the built package it is dist/worker.js.
 */
export function getWorkerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith(".ts") ? join(dirname(here), "..", "..", "dist", "worker.js") : join(dirname(here), "..", "worker.js");
  if (!existsSync(file)) {
    throw new Error(`the Monte Carlo worker script ${file} is missing: build the package first (npx tsc -b packages/backend-sim)`);
  }
  return file;
}

/** Rebuilds an error sent by a worker: an XbarcError keeps its code, location and hint. */
function deserializeError(e: SerializedError, label: string): Error {
  if (e.code) {
    return new XbarcError(e.code as DiagnosticCode, e.message, { ...(e.location ? { location: e.location } : {}), ...(e.hint ? { hint: e.hint } : {}) });
  }
  const err = new Error(`in a ${label} worker: ${e.message}`);
  if (e.stack) err.stack = e.stack;
  return err;
}

/** A worker thread of the pool and the job whose messages it currently delivers. */
interface PoolWorker {
  readonly thread: Worker;
  /** the current job's message handler; undefined while idle */
  onMessage?: (m: WorkerMessage<unknown>) => void;
  onFailure?: (e: Error) => void;
}

/** Worker threads started once and reused by every job; one job runs at a time, later ones wait their turn. */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private nextJob = 0;

  constructor(private readonly file: string) {}

  /** Threads started so far. */
  get size(): number {
    return this.workers.length;
  }

  /** Runs `job` once the jobs before it have finished; resolves with each item's result by index. */
  run<Init, Result>(job: PoolJob<Init>): Promise<Result[]> {
    const result = this.queue.then(() => this.runNow<Init, Result>(job));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Stops every thread (the pool starts new ones if used again). */
  async close(): Promise<void> {
    const threads = this.workers.splice(0).map((w) => w.thread);
    await Promise.all(threads.map((t) => t.terminate()));
  }

  private spawn(): PoolWorker {
    const worker: PoolWorker = { thread: new Worker(this.file) };
    worker.thread.on("message", (m: WorkerMessage<unknown>) => worker.onMessage?.(m));
    worker.thread.on("error", (e) => worker.onFailure?.(e));
    worker.thread.on("exit", (code) => {
      // a thread that died is replaced on the next job; the job it served fails
      const i = this.workers.indexOf(worker);
      if (i >= 0) this.workers.splice(i, 1);
      worker.onFailure?.(new Error(`a Monte Carlo worker thread exited with code ${code}`));
    });
    worker.thread.unref();
    this.workers.push(worker);
    return worker;
  }

  private async runNow<Init, Result>(job: PoolJob<Init>): Promise<Result[]> {
    const { items, chunkSize, label, onProgress } = job;
    const results = new Array<Result>(items);
    if (items === 0) return results;
    const count = Math.max(1, Math.min(job.workers, items));
    while (this.workers.length < count) this.spawn();
    const team = this.workers.slice(0, count);
    const id = this.nextJob++;
    let next = 0;
    let done = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        let failed = false;
        let idle = 0;
        const fail = (e: Error): void => {
          if (failed) return;
          failed = true;
          reject(e);
        };
        const handOut = (w: PoolWorker): void => {
          if (next >= items) {
            if (++idle === count) resolve();
            return;
          }
          const chunk: number[] = [];
          for (; next < items && chunk.length < chunkSize; next++) chunk.push(next);
          const m: PoolMessage = { type: "items", job: id, items: chunk };
          w.thread.postMessage(m);
        };
        for (const w of team) {
          w.onFailure = fail;
          w.onMessage = (m) => {
            if (failed || m.job !== id) return;
            if (m.type === "result") {
              results[m.item] = m.result as Result;
              onProgress?.(++done, items);
            } else if (m.type === "chunk-done") {
              handOut(w);
            } else {
              fail(deserializeError(m.error, label));
            }
          };
          w.thread.ref(); // an idle pool must not keep the process alive, a working one must
          const start: PoolMessage = { type: "job", job: id, kind: job.kind, init: job.init };
          w.thread.postMessage(start);
          handOut(w);
        }
      });
    } finally {
      for (const w of team) {
        w.onMessage = undefined;
        w.onFailure = undefined;
        w.thread.unref();
      }
    }
    return results;
  }
}

let sharedPool: WorkerPool | undefined;

/** The process-wide pool (created on first use, with threads started as jobs need them). */
export function getWorkerPool(): WorkerPool {
  sharedPool ??= new WorkerPool(getWorkerFile());
  return sharedPool;
}

/** Worker threads a job uses by default: one per core, at most one per item. */
export function defaultWorkerCount(items: number): number {
  return Math.min(availableParallelism(), items);
}

/**
 * @fileoverview The worker pool shared by the Monte Carlo runners: starts worker threads with one init payload, hands
 * out chunks of run indices until none are left, and places each result by run index, so results never depend on
 * the worker count or scheduling.
 */
import { Worker } from "node:worker_threads";
import { XbarcError, type DiagnosticCode } from "@xbarc/ir";
import type { RunChunkMessage, SerializedError, WorkerMessage } from "./protocol.js";

/** Options of runOnWorkerPool. */
export interface WorkerPoolOptions<Init> {
  /** the built worker script; it must serve runs with serveMonteCarloRuns */
  readonly file: string;
  /** what every worker starts with (`workerData`, structured-cloned) */
  readonly init: Init;
  /** run indices 0 .. runs−1 are evaluated */
  readonly runs: number;
  /** worker threads to start (≥ 1) */
  readonly workers: number;
  /** run indices per hand-out */
  readonly chunkSize: number;
  /** names the workers in error messages, e.g. "Monte Carlo" or "program Monte Carlo" */
  readonly label: string;
  /** called as runs finish (in completion order) */
  readonly onProgress?: (done: number, total: number) => void;
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

/**
 * Evaluates runs 0 .. runs−1 on `workers` worker threads and returns each run's result by run index. Rejects on the
 * first failure (rethrowing a worker's XbarcError with its code); every worker is terminated either way.
 */
export async function runOnWorkerPool<Init, Result>(options: WorkerPoolOptions<Init>): Promise<Result[]> {
  const { file, init, runs, workers: count, chunkSize, label, onProgress } = options;
  const results = new Array<Result>(runs);
  let next = 0;
  let done = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      let finished = 0;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const handOut = (w: Worker): boolean => {
        if (next >= runs) return false;
        const chunk: number[] = [];
        for (; next < runs && chunk.length < chunkSize; next++) chunk.push(next);
        const m: RunChunkMessage = { type: "runs", runs: chunk };
        w.postMessage(m);
        return true;
      };
      const idle = (): void => {
        finished++;
        if (finished === count) resolve();
      };
      for (let i = 0; i < count; i++) {
        const w = new Worker(file, { workerData: init });
        workers.push(w);
        w.on("message", (m: WorkerMessage<Result>) => {
          if (failed) return;
          if (m.type === "result") {
            results[m.run] = m.result;
            onProgress?.(++done, runs);
          } else if (m.type === "chunk-done") {
            if (!handOut(w)) idle();
          } else {
            fail(deserializeError(m.error, label));
          }
        });
        w.on("error", (e) => fail(e));
        w.on("exit", (code) => {
          if (code !== 0) fail(new Error(`a ${label} worker exited with code ${code}`));
        });
        if (!handOut(w)) idle();
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

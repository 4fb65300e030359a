/**
 * @fileoverview The worker-thread side of the Monte Carlo worker pool: builds an evaluator once from `workerData`,
 * then evaluates each chunk of runs it is sent and posts one result per run (see runOnWorkerPool).
 */
import { parentPort, workerData } from "node:worker_threads";
import { isXbarcError } from "@xbarc/ir";
import type { RunChunkMessage, SerializedError, WorkerMessage } from "./protocol.js";

/** What a worker evaluates: one Monte Carlo run at a time, by run index. */
export interface RunEvaluator<Result> {
  evaluateRun(run: number): Result;
}

/** An error as it crosses the thread boundary: an XbarcError keeps its code, location and hint. */
function serializeError(e: unknown): SerializedError {
  if (isXbarcError(e)) {
    return { code: e.code, message: e.message, ...(e.location ? { location: e.location } : {}), ...(e.hint ? { hint: e.hint } : {}), ...(e.stack ? { stack: e.stack } : {}) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
}

/**
 * Serves runs in this worker thread. A failure to build the evaluator is reported on the first chunk, so the pool
 * rethrows it like any run error. `script` and `runner` name the worker script and what starts it, for the error
 * thrown when the script is run outside a worker thread.
 */
export function serveMonteCarloRuns<Init, Result>(create: (init: Init) => RunEvaluator<Result>, script: string, runner: string): void {
  const port = parentPort;
  if (!port) throw new Error(`${script} must run as a worker thread (started by ${runner})`);
  const post = (m: WorkerMessage<Result>): void => port.postMessage(m);

  let evaluator: RunEvaluator<Result> | undefined;
  let startError: SerializedError | undefined;
  try {
    evaluator = create(workerData as Init);
  } catch (e) {
    startError = serializeError(e);
  }

  port.on("message", (m: RunChunkMessage) => {
    if (!evaluator) {
      post({ type: "error", error: startError! });
      return;
    }
    try {
      for (const run of m.runs) post({ type: "result", run, result: evaluator.evaluateRun(run) });
      post({ type: "chunk-done" });
    } catch (e) {
      post({ type: "error", error: serializeError(e) });
    }
  });
}

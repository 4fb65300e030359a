/**
 * @fileoverview The worker-thread side of the worker pool: for each job, builds the evaluator its kind names from the
 * job's init payload (once per job), then evaluates each chunk of items it is sent and posts one result per item.
 */
import { parentPort } from "node:worker_threads";
import { isXbarcError } from "@xbarc/ir";
import type { JobKind, PoolMessage, SerializedError, WorkerMessage } from "./protocol.js";

/** What a worker evaluates: one item (a Monte Carlo run) at a time, by index. */
export interface RunEvaluator<Result> {
  evaluateRun(run: number): Result;
}

/** Builds a job's evaluator from its init payload. */
export type EvaluatorFactory = (init: never) => RunEvaluator<unknown>;

/** An error as it crosses the thread boundary: an XbarcError keeps its code, location and hint. */
function serializeError(e: unknown): SerializedError {
  if (isXbarcError(e)) {
    return { code: e.code, message: e.message, ...(e.location ? { location: e.location } : {}), ...(e.hint ? { hint: e.hint } : {}), ...(e.stack ? { stack: e.stack } : {}) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
}

/**
 * Serves jobs in this worker thread with the evaluators of `factories`. A failure to build a job's evaluator is
 * reported on its first chunk, so the pool rethrows it like any item error. `script` names the worker script for the
 * error thrown when it is run outside a worker thread.
 */
export function serveJobs(factories: Readonly<Record<JobKind, EvaluatorFactory>>, script: string): void {
  const port = parentPort;
  if (!port) throw new Error(`${script} must run as a worker thread (started by the Monte Carlo worker pool)`);
  const post = (m: WorkerMessage<unknown>): void => port.postMessage(m);

  let job = -1;
  let evaluator: RunEvaluator<unknown> | undefined;
  let startError: SerializedError | undefined;

  port.on("message", (m: PoolMessage) => {
    if (m.type === "job") {
      job = m.job;
      evaluator = undefined;
      startError = undefined;
      try {
        evaluator = factories[m.kind](m.init as never);
      } catch (e) {
        startError = serializeError(e);
      }
      return;
    }
    if (m.job !== job) return; // a chunk of a job that has been replaced
    if (!evaluator) {
      post({ type: "error", job, error: startError ?? { message: "no evaluator was built for this job" } });
      return;
    }
    try {
      for (const item of m.items) post({ type: "result", job, item, result: evaluator.evaluateRun(item) });
      post({ type: "chunk-done", job });
    } catch (e) {
      post({ type: "error", job, error: serializeError(e) });
    }
  });
}

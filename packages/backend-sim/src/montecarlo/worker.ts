/**
 * @fileoverview Worker thread entry of the Monte Carlo runner: parses the module once from `workerData`, then
 * evaluates each chunk of runs it is sent and posts one result per run. Loaded only from the built JavaScript.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isXbarcError } from "@xbarc/ir";
import { MonteCarloEvaluator } from "./evaluate.js";
import type { RunChunkMessage, SerializedError, WorkerInit, WorkerMessage } from "./protocol.js";

function serialize(e: unknown): SerializedError {
  if (isXbarcError(e)) {
    return { code: e.code, message: e.message, ...(e.location ? { location: e.location } : {}), ...(e.hint ? { hint: e.hint } : {}), ...(e.stack ? { stack: e.stack } : {}) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
}

const port = parentPort;
if (!port) throw new Error("montecarlo/worker.js must run as a worker thread (started by runMonteCarlo)");
const post = (m: WorkerMessage): void => port.postMessage(m);

let evaluator: MonteCarloEvaluator | undefined;
let startError: SerializedError | undefined;
try {
  const init = workerData as WorkerInit;
  evaluator = new MonteCarloEvaluator(init, init.data);
} catch (e) {
  startError = serialize(e);
}

port.on("message", (m: RunChunkMessage) => {
  if (!evaluator) {
    post({ type: "error", error: startError! });
    return;
  }
  try {
    for (const run of m.runs) post({ type: "result", run, correct: evaluator.evaluateRun(run) });
    post({ type: "chunk-done" });
  } catch (e) {
    post({ type: "error", error: serialize(e) });
  }
});

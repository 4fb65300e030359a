/**
 * @fileoverview Worker thread entry of the program Monte Carlo runner: builds a ProgramEvaluator once from
 * `workerData`, then simulates each run it is sent and posts one result per run. Loaded only from the built JavaScript.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isXbarcError } from "@xbarc/ir";
import type { RunChunkMessage, SerializedError, WorkerMessage } from "../montecarlo/protocol.js";
import { ProgramEvaluator, type ProgramWorkerInit } from "./montecarlo.js";

function serialize(e: unknown): SerializedError {
  if (isXbarcError(e)) {
    return { code: e.code, message: e.message, ...(e.location ? { location: e.location } : {}), ...(e.hint ? { hint: e.hint } : {}), ...(e.stack ? { stack: e.stack } : {}) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
}

const port = parentPort;
if (!port) throw new Error("sim/montecarlo-worker.js must run as a worker thread (started by runProgramMonteCarlo)");
const post = (m: WorkerMessage): void => port.postMessage(m);

let evaluator: ProgramEvaluator | undefined;
let startError: SerializedError | undefined;
try {
  evaluator = new ProgramEvaluator(workerData as ProgramWorkerInit);
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

/**
 * @fileoverview Worker thread entry of the Monte Carlo runner: parses the module once from `workerData`, then
 * evaluates each chunk of runs it is sent and posts one result per run. Loaded only from the built JavaScript.
 */
import { MonteCarloEvaluator } from "./evaluate.js";
import type { WorkerInit } from "./protocol.js";
import { serveMonteCarloRuns } from "./worker-loop.js";

serveMonteCarloRuns((init: WorkerInit) => new MonteCarloEvaluator(init, init.data), "montecarlo/worker.js", "runMonteCarlo");

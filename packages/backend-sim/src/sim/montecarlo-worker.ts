/**
 * @fileoverview Worker thread entry of the program Monte Carlo runner: builds a ProgramEvaluator once from
 * `workerData`, then simulates each run it is sent and posts one result per run. Loaded only from the built JavaScript.
 */
import { serveMonteCarloRuns } from "../montecarlo/worker-loop.js";
import { ProgramEvaluator, type ProgramWorkerInit } from "./montecarlo.js";

serveMonteCarloRuns((init: ProgramWorkerInit) => new ProgramEvaluator(init), "sim/montecarlo-worker.js", "runProgramMonteCarlo");

/**
 * @fileoverview Entry of the worker pool's threads: serves weight-level Monte Carlo jobs (a MonteCarloEvaluator over
 * the annotated module) and program Monte Carlo jobs (a ProgramEvaluator over the crossbar program). Loaded only from
 * the built JavaScript.
 */
import { MonteCarloEvaluator, type WeightsWorkerInit } from "./montecarlo/evaluate.js";
import { serveJobs } from "./montecarlo/worker-loop.js";
import { ProgramEvaluator, type ProgramWorkerInit } from "./sim/montecarlo.js";

serveJobs({
  weights: (init: WeightsWorkerInit) => new MonteCarloEvaluator(init, init.data),
  program: (init: ProgramWorkerInit) => new ProgramEvaluator(init),
}, "worker.js");

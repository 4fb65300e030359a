/**
 * @fileoverview The Monte Carlo runner: evaluates N sampled device instances of an annotated module on labelled
 * images, spread over worker threads. Each run's randomness depends only on (seed, run, layer), so the per-run
 * accuracies are identical whatever the worker count or scheduling.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DeviceProfile, Tensor } from "@xbarc/ir";
import { checkBatches, MonteCarloEvaluator } from "./evaluate.js";
import { runOnWorkerPool } from "./pool.js";
import type { WorkerInit } from "./protocol.js";

/** Options of runMonteCarlo. */
export interface MonteCarloOptions {
  /** the module after assign-levels: `printModule(m, { weights: true }).text` */
  readonly moduleText: string;
  /** its weights side file: `printModule(m, { weights: true }).weights` */
  readonly weights: Uint8Array;
  /** the device sampled: its levels must be those assign-levels used; its variation may be overridden */
  readonly device: DeviceProfile;
  /** evaluation images fitted to the module's input, one tensor per batch */
  readonly images: readonly Tensor[];
  /** images used per batch (the last batch may be zero-padded) */
  readonly counts: readonly number[];
  /** one label per used image, in batch order */
  readonly labels: Int32Array;
  /** Monte Carlo instances to evaluate */
  readonly runs: number;
  /** seed of the run; instance r of layer k draws from createRng(seed, "montecarlo/run-r/layer-k") */
  readonly seed: number;
  /** worker threads (default: the machine's available parallelism, at most `runs`); 0 evaluates in this thread */
  readonly workers?: number;
  /** the built worker script; default: montecarlo/worker.js of this package's dist (see getWorkerFile) */
  readonly workerFile?: string;
  /** called as runs finish (in completion order) */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What runMonteCarlo measured. */
export interface MonteCarloResult {
  /** images evaluated per run */
  readonly images: number;
  /** correct images of each run, by run index */
  readonly correct: number[];
  /** accuracy of each run, by run index */
  readonly accuracies: number[];
  /** mean accuracy over the runs */
  readonly mean: number;
  /** sample standard deviation (n − 1) of the accuracy over the runs; 0 for one run */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /** worker threads actually used (0: evaluated in the calling thread) */
  readonly workers: number;
}

/**
 * The worker script. Workers need JavaScript, so when this file runs as TypeScript source (vitest aliases the
 * packages to src/) the script is taken from the package's built dist/ instead: build first with
 * `npx tsc -b packages/backend-sim` (the test helpers do). From the built package it is the sibling worker.js.
 */
export function getWorkerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith(".ts")
    ? join(dirname(here), "..", "..", "dist", "montecarlo", "worker.js")
    : join(dirname(here), "worker.js");
  if (!existsSync(file)) {
    throw new Error(`the Monte Carlo worker script ${file} is missing: build the package first (npx tsc -b packages/backend-sim)`);
  }
  return file;
}

/** Mean, sample standard deviation, min and max of accuracies. */
export function summarizeAccuracies(accuracies: readonly number[]): { mean: number; std: number; min: number; max: number } {
  const n = accuracies.length;
  if (n === 0) return { mean: 0, std: 0, min: 0, max: 0 };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const a of accuracies) {
    sum += a;
    if (a < min) min = a;
    if (a > max) max = a;
  }
  // identical runs (an ideal device) report exactly that accuracy, without rounding residue in the mean or std
  if (min === max) return { mean: min, std: 0, min, max };
  const mean = sum / n;
  let ss = 0;
  for (const a of accuracies) ss += (a - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min, max };
}

/**
 * Evaluates `runs` Monte Carlo instances and returns the accuracy of each. Workers start once per call, each parses
 * the module once, then takes chunks of run indices from a shared queue until none are left.
 */
export async function runMonteCarlo(options: MonteCarloOptions): Promise<MonteCarloResult> {
  const total = checkBatches({ images: options.images, counts: options.counts, labels: options.labels });
  const runs = options.runs;
  if (!Number.isInteger(runs) || runs < 0) throw new RangeError(`runMonteCarlo: runs must be a whole number ≥ 0, got ${runs}`);
  const requested = options.workers ?? availableParallelism();
  const workerCount = Math.max(0, Math.min(requested, runs));
  let correct = new Array<number>(runs).fill(0);
  const data = { images: options.images, counts: options.counts, labels: options.labels };
  const init = { moduleText: options.moduleText, weights: options.weights, device: options.device, seed: options.seed };

  if (workerCount === 0) {
    if (runs > 0) {
      const evaluator = new MonteCarloEvaluator(init, data);
      for (let r = 0; r < runs; r++) {
        correct[r] = evaluator.evaluateRun(r);
        options.onProgress?.(r + 1, runs);
      }
    }
  } else {
    // small chunks keep the workers balanced; results never depend on which worker took which run
    const chunkSize = Math.max(1, Math.min(4, Math.floor(runs / (workerCount * 4))));
    correct = await runOnWorkerPool<WorkerInit, number>({
      file: options.workerFile ?? getWorkerFile(), init: { ...init, data }, runs, workers: workerCount, chunkSize, label: "Monte Carlo",
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const accuracies = correct.map((c) => (total === 0 ? 0 : c / total));
  return { images: total, correct, accuracies, ...summarizeAccuracies(accuracies), workers: workerCount };
}

/**
 * @fileoverview The Monte Carlo runner: evaluates N sampled device instances of an annotated module on labelled
 * images, spread over worker threads. Each run's randomness depends only on (seed, run, layer), so the per-run
 * accuracies are identical whatever the worker count or scheduling.
 */
import type { DeviceProfile, Tensor } from "@xbarc/ir";
import { checkBatches, MonteCarloEvaluator, shareBatches, type WeightsWorkerInit } from "./evaluate.js";
import { defaultWorkerCount, getWorkerPool } from "./pool.js";

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
  /** worker threads of the process-wide pool (default: the machine's available parallelism, at most `runs`); 0 evaluates in this thread */
  readonly workers?: number;
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
 * Evaluates `runs` Monte Carlo instances and returns the accuracy of each. The pool's workers each parse the module
 * once per call, then take chunks of run indices from a shared queue until none are left.
 */
export async function runMonteCarlo(options: MonteCarloOptions): Promise<MonteCarloResult> {
  const total = checkBatches({ images: options.images, counts: options.counts, labels: options.labels });
  const runs = options.runs;
  if (!Number.isInteger(runs) || runs < 0) throw new RangeError(`runMonteCarlo: runs must be a whole number ≥ 0, got ${runs}`);
  const workerCount = Math.max(0, Math.min(options.workers ?? defaultWorkerCount(runs), runs));
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
    correct = await getWorkerPool().run<WeightsWorkerInit, number>({
      kind: "weights", init: { ...init, data: shareBatches(data) }, items: runs, workers: workerCount, chunkSize, label: "Monte Carlo",
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const accuracies = correct.map((c) => (total === 0 ? 0 : c / total));
  return { images: total, correct, accuracies, ...summarizeAccuracies(accuracies), workers: workerCount };
}

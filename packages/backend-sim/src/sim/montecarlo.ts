/**
 * @fileoverview Program-level Monte Carlo (sim spec, "Functional"): run r samples `sampleProgramInstance(program,
 * seed, r)` and simulates the program over labelled images fitted to its input, counting correct top-1 classes.
 * Runs spread over worker threads; each run depends only on (seed, run), so results never depend on the worker count.
 */
import { XbarcError, type Tensor, type TensorType, type VariationSpec } from "@xbarc/ir";
import { fitImages, getInputFit, top1 } from "../datasets/fit.js";
import type { ImageSet } from "../datasets/image-set.js";
import { checkBatches, packTensors, shareBatches, type LabelledBatches } from "../montecarlo/evaluate.js";
import { defaultWorkerCount, getWorkerPool } from "../montecarlo/pool.js";
import { summarizeAccuracies, type MonteCarloResult } from "../montecarlo/runner.js";
import type { Program } from "../program/types.js";
import { simulateImages } from "./functional.js";
import { releaseInstanceKernels } from "./layer-wasm.js";
import { getIdealInstance, sampleProgramInstance, type SimInstance } from "./instance.js";

/** The model input type a program was compiled for. */
export function getProgramInputType(program: Program): TensorType {
  return { dtype: program.input.dtype, shape: [...program.input.shape] } as TensorType;
}

/**
 * Fits images [offset, offset+count) to the program's input with its recorded preprocessing, batch by batch (the
 * program's batch; the last batch zero-padded), with their labels. Throws XB4002 when the images do not fit.
 */
export function fitProgramImages(program: Program, images: ImageSet, labels: Int32Array, offset: number, count: number): LabelledBatches {
  const type = getProgramInputType(program);
  const fit = getInputFit(images, type, program.input.name);
  const batches: Tensor[] = [];
  const counts: number[] = [];
  for (let done = 0; done < count; done += fit.batch) {
    const n = Math.min(fit.batch, count - done);
    // one type object for all: simulateImages checks the shape of each distinct one
    batches.push({ type, data: fitImages(images, type, program.input.preprocessing, offset + done, n, program.input.name).data } as Tensor);
    counts.push(n);
  }
  // consecutive views of one array: a pass's inputs reach WebAssembly memory in one copy
  return { images: packTensors(batches), counts, labels: labels.slice(offset, offset + count) };
}

/** Images of `data` whose top-1 class (first program output) equals the label, on one instance of the cells. */
export function countProgramCorrect(program: Program, data: LabelledBatches, instance: SimInstance, adcLossless = false): number {
  const output = program.outputs[0];
  if (output === undefined) {
    throw new XbarcError("XB6005", `program of model ${program.model.name} has no output buffer`, { hint: "recompile the model with `xbarc compile`" });
  }
  if (data.images.length === 0) return 0;
  const y = simulateImages(program, data.images, { instance, path: "auto", adcLossless }).outputs.get(output);
  if (!y) throw new XbarcError("XB6005", `program output ${output} was never written`, { hint: "recompile the model with `xbarc compile`" });
  return countCorrectTop1(y, data);
}

/** Images of `data` whose top-1 class in `output` (stacked over data.images, as simulateImages gives it) equals the label. */
export function countCorrectTop1(output: Tensor, data: LabelledBatches): number {
  if (data.images.length === 0) return 0;
  // each batch's rows follow the previous batch's; a batch's first counts[b] rows are its real images
  const classCount = output.type.shape.length === 0 ? 1 : output.type.shape[output.type.shape.length - 1]!;
  const rowsPerBatch = classCount === 0 ? 0 : output.data.length / classCount / data.images.length;
  const classes = top1(output, rowsPerBatch * data.images.length);
  let correct = 0;
  let first = 0;
  data.counts.forEach((count, b) => {
    for (let i = 0; i < count; i++) if (classes[b * rowsPerBatch + i] === data.labels[first + i]) correct++;
    first += count;
  });
  return correct;
}

/** What a program Monte Carlo worker starts with (`workerData`): plain data, structured-cloned. */
export interface ProgramWorkerInit {
  readonly program: Program;
  readonly data: LabelledBatches;
  readonly seed: number;
  /** replaces the device's variation when present */
  readonly variation?: VariationSpec;
}

/** Evaluates Monte Carlo runs of a program one by one in the calling thread (what each worker runs). */
export class ProgramEvaluator {
  constructor(private readonly init: ProgramWorkerInit) {
    checkBatches(init.data);
  }

  /** Correct images on the ideal device (every cell on its level); `adcLossless` removes ADC clipping too. */
  evaluateIdeal(adcLossless: boolean): number {
    return countProgramCorrect(this.init.program, this.init.data, getIdealInstance(this.init.program), adcLossless);
  }

  /** Correct images in Monte Carlo run `run` (a function of the seed and `run` only). */
  evaluateRun(run: number): number {
    const { program, seed, variation } = this.init;
    const instance = sampleProgramInstance(program, seed, run, variation);
    const correct = countProgramCorrect(program, this.init.data, instance);
    releaseInstanceKernels(instance);
    return correct;
  }
}

/** Options of runProgramMonteCarlo. */
export interface ProgramMonteCarloOptions {
  readonly program: Program;
  /** images fitted to the program's input (fitProgramImages), with their labels */
  readonly data: LabelledBatches;
  /** Monte Carlo instances */
  readonly runs: number;
  readonly seed: number;
  /** replaces the program device's variation */
  readonly variation?: VariationSpec;
  /** worker threads of the process-wide pool (default: available parallelism, at most `runs`); 0 evaluates in this thread */
  readonly workers?: number;
  /** called as runs finish (in completion order) */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Accuracy statistics over Monte Carlo runs: those of runMonteCarlo, plus percentiles. */
export interface ProgramMonteCarloResult extends MonteCarloResult {
  /** percentiles of the run accuracies (linear interpolation between order statistics, numpy's default) */
  readonly p5: number;
  readonly p50: number;
  readonly p95: number;
}

/** The q-th percentile (0..100) of `values` with linear interpolation between order statistics (numpy's default). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return lo === hi || a === b ? a : a + (b - a) * (pos - lo);
}

/** Simulates `runs` sampled instances of a program over the images and summarizes the accuracies. */
export async function runProgramMonteCarlo(options: ProgramMonteCarloOptions): Promise<ProgramMonteCarloResult> {
  const total = checkBatches(options.data);
  const runs = options.runs;
  if (!Number.isInteger(runs) || runs < 0) throw new RangeError(`runProgramMonteCarlo: runs must be a whole number ≥ 0, got ${runs}`);
  const workerCount = Math.max(0, Math.min(options.workers ?? defaultWorkerCount(runs), runs));
  let correct = new Array<number>(runs).fill(0);
  const init: ProgramWorkerInit = {
    program: options.program, data: options.data, seed: options.seed, ...(options.variation ? { variation: options.variation } : {}),
  };
  if (workerCount === 0) {
    const evaluator = new ProgramEvaluator(init);
    for (let r = 0; r < runs; r++) {
      correct[r] = evaluator.evaluateRun(r);
      options.onProgress?.(r + 1, runs);
    }
  } else {
    // one run is a whole pass over the images: hand out single runs so the workers stay balanced
    correct = await getWorkerPool().run<ProgramWorkerInit, number>({
      kind: "program", init: { ...init, data: shareBatches(init.data) }, items: runs, workers: workerCount, chunkSize: 1, label: "program Monte Carlo",
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const accuracies = correct.map((c) => (total === 0 ? 0 : c / total));
  return {
    images: total, correct, accuracies, ...summarizeAccuracies(accuracies),
    p5: percentile(accuracies, 5), p50: percentile(accuracies, 50), p95: percentile(accuracies, 95), workers: workerCount,
  };
}

/**
 * @fileoverview Top-1 accuracy of a module three ways on labelled batches — float (the fixed-point layers' quantized
 * weights, float activations), the fixed-point reference, and "hardware": the fixed-point reference with Monte Carlo
 * instances of the device's variation on every bit-sliced cell — and the evaluator the place-truncation pass uses for
 * Algorithm 1 of Diware et al., ICCAD 2024.
 */
import { interpretModule, XbarcError, type DeviceProfile, type Module, type Op, type Tensor, type TypedArray } from "@xbarc/ir";
import { top1 } from "../datasets/fit.js";
import { createInstanceRng } from "../device/effective-weights.js";
import type { CellSampler } from "../device/sample.js";
import { getFixedPointLayers, getFixedPointWeights } from "./layer.js";
import { runFixedPoint, type WindowMode } from "./run.js";
import { createCellValueModel, getModuleGeometry, isIdealCellModel, sampleModuleWeights } from "./variation.js";

/** Labelled model inputs, batch by batch (the shape of the passes' CalibrationSet). */
export interface LabelledInputs {
  /** each batch maps input name → tensor of the model input's type */
  readonly batches: readonly ReadonlyMap<string, Tensor>[];
  /** one label per used image, in batch order */
  readonly labels: Int32Array;
  /** images used in each batch (the last may be padded) */
  readonly counts: readonly number[];
}

/** Options of hardwareAccuracy. */
export interface HardwareAccuracyOptions {
  /** Monte Carlo instances (each samples every cell once) */
  readonly runs: number;
  /** the run's seed; instance `run` of layer `k` draws from a stream of (seed, run, k) only */
  readonly seed: number;
  /** samples cells with this sampler instead of the device's own variation (e.g. an overridden σ) */
  readonly sampler?: CellSampler;
}

/** Mean and per-run accuracies of a Monte Carlo evaluation. */
export interface HardwareAccuracy {
  /** mean top-1 accuracy over the runs, 0..1 */
  readonly mean: number;
  /** each run's accuracy */
  readonly runs: number[];
}

function checkInputs(module: Module, data: LabelledInputs): string {
  const output = module.outputs[0];
  if (!output) throw new XbarcError("XB4002", `module @${module.name} has no output to classify with`, { hint: "evaluate a classifier" });
  const total = data.counts.reduce((a, b) => a + b, 0);
  if (total !== data.labels.length || data.counts.length !== data.batches.length) {
    throw new XbarcError("XB4002", `${data.batches.length} batches holding ${total} images, but ${data.counts.length} counts and ${data.labels.length} labels`, { hint: "give one count per batch and one label per image" });
  }
  return output.name;
}

/** Fraction of images whose top-1 class of the first output (computed by `run` per batch) equals the label. */
function accuracyOf(module: Module, data: LabelledInputs, run: (batch: ReadonlyMap<string, Tensor>) => Map<string, Tensor>): number {
  const outputName = checkInputs(module, data);
  let correct = 0;
  let first = 0;
  data.batches.forEach((batch, b) => {
    const count = data.counts[b]!;
    const classes = top1(run(batch).get(outputName)!, count);
    for (let i = 0; i < count; i++) if (classes[i] === data.labels[first + i]) correct++;
    first += count;
  });
  return data.labels.length ? correct / data.labels.length : 0;
}

/**
 * Float accuracy with every fixed-point layer's weights at their quantized values w_int·2^−W_FL (read from #quant
 * codes, since after assign-levels the weight constant holds what analog cells would realise) and float activations.
 */
export function floatAccuracy(module: Module, data: LabelledInputs): number {
  const saved: [Op, TypedArray][] = [];
  try {
    for (const op of module.ops) {
      const fixed = op.opcode === "conv" || op.opcode === "linear" ? getFixedPointWeights(module, op) : undefined;
      const weight = op.operands[1];
      if (!fixed || !weight?.data || saved.some(([o]) => o.operands[1] === weight)) continue;
      saved.push([op, weight.data]);
      const values = new Float32Array(fixed.wInt.length);
      for (let i = 0; i < values.length; i++) values[i] = fixed.wInt[i]! * 2 ** -fixed.wFl;
      weight.data = values;
    }
    return accuracyOf(module, data, (batch) => interpretModule(module, batch));
  } finally {
    for (const [op, data0] of saved) op.operands[1]!.data = data0;
  }
}

/** Accuracy of the fixed-point reference (ideal device): the crossbar spec's integer arithmetic, bit for bit. */
export function fixedPointAccuracy(module: Module, data: LabelledInputs, window: WindowMode = "trunc"): number {
  const layers = getFixedPointLayers(module);
  return accuracyOf(module, data, (batch) => runFixedPoint(module, batch, { layers, window }).outputs);
}

/**
 * Accuracy on a device with variation, at the weight level: per Monte Carlo run, every cell of every bit-sliced layer
 * is sampled (sampleSlicedWeights) and the fixed-point reference runs with those effective integers; accumulators are
 * rounded to integers as an ideal ADC would. ADC clipping, read noise and the bias row's cells are not modelled here
 * (the simulator models them). On a device without variation this equals fixedPointAccuracy for every run.
 */
export function hardwareAccuracy(module: Module, data: LabelledInputs, device: DeviceProfile, options: HardwareAccuracyOptions): HardwareAccuracy {
  const layers = getFixedPointLayers(module);
  const model = createCellValueModel(device, options.sampler);
  if (isIdealCellModel(model)) {
    const acc = fixedPointAccuracy(module, data);
    return { mean: acc, runs: new Array<number>(options.runs).fill(acc) };
  }
  const geometry = getModuleGeometry(layers, device);
  const runs: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const effectiveWeights = sampleModuleWeights(layers, geometry, model, (k) => createInstanceRng(options.seed, run, k));
    runs.push(accuracyOf(module, data, (batch) => runFixedPoint(module, batch, { layers, effectiveWeights }).outputs));
  }
  return { mean: runs.reduce((a, b) => a + b, 0) / Math.max(1, runs.length), runs };
}

/**
 * The evaluator the place-truncation pass runs Algorithm 1 with (it is registered with `registerTruncationEvaluator`
 * from @xbarc/passes, which cannot import this package). Accuracies are fractions 0..1.
 */
export function createTruncationEvaluator(): {
  floatAccuracy(module: Module, data: LabelledInputs): number;
  fixedPointAccuracy(module: Module, data: LabelledInputs): number;
  hardwareAccuracy(module: Module, data: LabelledInputs, device: DeviceProfile, options: { runs: number; seed: number }): number;
} {
  return {
    floatAccuracy,
    fixedPointAccuracy: (module, data) => fixedPointAccuracy(module, data),
    hardwareAccuracy: (module, data, device, options) => hardwareAccuracy(module, data, device, options).mean,
  };
}

/**
 * @fileoverview The fixed-point reference's top-1 accuracy within 1 point of float for 8-bit weights and inputs on
 * every fixture model (fixtures/models/{public,trained}), compiled for isaac with calibration images disjoint from the
 * evaluation slice; float is the interpreter on the uncompiled model, on the same slice.
 */
import { describe, expect, it } from "vitest";
import { getBuiltinProfile, interpretModule, type Module, type Tensor } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { getWeightOps, runPipeline, type CalibrationSet } from "@xbarc/passes";
import { getFixedPointLayers, runFixedPoint } from "@xbarc/backend-sim";
import { loadDigitsTestSplit, range } from "./helpers/datasets.js";
import { listFixtureModels, sampleSize, samplesFor, type FixtureModel } from "./helpers/models.js";

const PIPELINE = `canonicalize,quantize{quantizer="fixed-point", bits=8},assign-levels,tile,bit-slice,place-truncation{rule=default}`;
const isaac = getBuiltinProfile("isaac")!;
/** images per run for models with a symbolic batch (fixed-batch models keep theirs: 1 for the Zoo model, 10 for one LeNet) */
const BATCH = 250;
/** calibration images per model */
const CALIBRATION_SIZE = 500;

/**
 * Calibration rows disjoint from the evaluation slice: MNIST t10k[0:500] (the public models never saw t10k; our
 * MNIST models are evaluated on t10k[8000:10000] only), and the first 500 digits rows outside the 359-row test split.
 */
function calibrationIndices(model: FixtureModel): { indices: number[]; name: string } {
  if (model.dataset === "digits") {
    const test = new Set(loadDigitsTestSplit());
    return { indices: range(0, 1797).filter((r) => !test.has(r)).slice(0, CALIBRATION_SIZE), name: `digits-train[0:${CALIBRATION_SIZE}]` };
  }
  return { indices: range(0, CALIBRATION_SIZE), name: `t10k[0:${CALIBRATION_SIZE}]` };
}

/** The samples at `indices`, preprocessed as the model's manifest states (test-side code), in batches of the model's input (the last one zero-padded). */
function labelledBatches(m: Module, model: FixtureModel, indices: readonly number[], name: string): CalibrationSet {
  const input = m.inputs[0]!;
  const batch = input.type.shape[0]!;
  const size = sampleSize(model);
  expect(input.type.shape.slice(1).reduce((a, b) => a * b, 1)).toBe(size);
  const { data, labels } = samplesFor(model, indices);
  const batches: Map<string, Tensor>[] = [];
  const counts: number[] = [];
  for (let i = 0; i < indices.length; i += batch) {
    const n = Math.min(batch, indices.length - i);
    const slot = new Float32Array(batch * size);
    slot.set(data.subarray(i * size, (i + n) * size));
    batches.push(new Map([[input.name, { type: input.type, data: slot }]]));
    counts.push(n);
  }
  return { name, batches, counts, labels: Int32Array.from(labels) };
}

/** Top-1 accuracy of `run`'s output named `output` over the batches (argmax written out here, first maximum wins). */
function accuracy(data: CalibrationSet, output: string, run: (batch: ReadonlyMap<string, Tensor>) => ReadonlyMap<string, Tensor>): number {
  let correct = 0;
  let first = 0;
  data.batches.forEach((batch, b) => {
    const y = run(batch).get(output)!;
    const classes = y.type.shape[y.type.shape.length - 1]!;
    const values = y.data as Float32Array | Float64Array;
    for (let i = 0; i < data.counts[b]!; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (values[i * classes + c]! > values[i * classes + best]!) best = c;
      if (best === data.labels[first + i]) correct++;
    }
    first += data.counts[b]!;
  });
  return correct / data.labels.length;
}

describe("the fixed-point reference on every fixture model", () => {
  for (const model of listFixtureModels()) {
    const { name: calibName } = calibrationIndices(model);
    it(`is within 1 point of float for 8-bit weights and inputs (${model.id}, isaac, calibration ${calibName}, evaluation ${model.evalSliceName})`, () => {
      const float = loadOnnxFile(model.path, { batch: BATCH });
      const evaluation = labelledBatches(float, model, model.evalIndices, model.evalSliceName);
      const output = float.outputs[0]!.name;
      const floatAcc = accuracy(evaluation, output, (batch) => interpretModule(float, batch));
      // the interpreter reproduces onnxruntime's accuracy stated in the manifest (same slice, same preprocessing)
      expect(Math.abs(floatAcc - model.referenceAccuracy), `${model.id}: interpreter ${floatAcc}, onnxruntime ${model.referenceAccuracy}`).toBeLessThanOrEqual(1 / evaluation.labels.length + 1e-12);

      const m = loadOnnxFile(model.path, { batch: BATCH });
      const { indices, name } = calibrationIndices(model);
      const calibration = labelledBatches(m, model, indices, name);
      expect(indices.some((i) => model.evalIndices.includes(i))).toBe(false);
      runPipeline(m, PIPELINE, { device: isaac, calibration });
      const ops = getWeightOps(m);
      expect(ops.length).toBeGreaterThan(0);
      for (const op of ops) {
        expect(op.getAnnotation("trunc")!.data, `${model.id} ${op.results[0]!.name}`).toMatchObject({ a_wl: 8, w_wl: 8, o_rwl: 8, ranges: name });
      }
      const layers = getFixedPointLayers(m);
      expect(layers.size).toBe(ops.length);
      const fixedAcc = accuracy(evaluation, output, (batch) => runFixedPoint(m, batch, { layers }).outputs);
      expect(Math.abs(fixedAcc - floatAcc), `${model.id}: float ${floatAcc}, fixed point ${fixedAcc}`).toBeLessThanOrEqual(0.01);
    });
  }
});

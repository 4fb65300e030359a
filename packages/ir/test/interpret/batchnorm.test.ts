/** @fileoverview Training-mode batch normalisation: the kernel against a naive reference, the op's results and shape rule. */
import { describe, expect, it } from "vitest";
import {
  batchNormImpl,
  batchNormTrainingImpl,
  inferTypes,
  isXbarcError,
  Module,
  readNumbers,
  runOp,
  tensorFromNumbers,
  withDefaults,
  type Attrs,
  type Tensor,
  type TensorType,
} from "@xbarc/ir";
import { expectClose, indices, randomF32, rng, size } from "./helpers.js";

interface Reference {
  y: number[];
  runningMean: number[];
  runningVar: number[];
}

/**
 * ONNX BatchNormalization-15 training mode written out from the spec, element by element over multi-indices:
 * current_mean/current_var are the mean and population variance over every axis but 1.
 */
function naiveTraining(
  x: Float32Array, shape: number[], scale: Float32Array, bias: Float32Array, mean: Float32Array, variance: Float32Array,
  epsilon: number, momentum: number,
): Reference {
  const c = shape[1]!;
  const members: number[][] = Array.from({ length: c }, () => []);
  let flat = 0;
  for (const idx of indices(shape)) members[idx[1]!]!.push(x[flat++]!);
  const batchMean = members.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  const batchVar = members.map((v, ch) => v.reduce((a, b) => a + (b - batchMean[ch]!) ** 2, 0) / v.length);
  const y: number[] = [];
  flat = 0;
  for (const idx of indices(shape)) {
    const ch = idx[1]!;
    y.push(((x[flat++]! - batchMean[ch]!) / Math.sqrt(batchVar[ch]! + epsilon)) * scale[ch]! + bias[ch]!);
  }
  return {
    y,
    runningMean: batchMean.map((m, ch) => mean[ch]! * momentum + m * (1 - momentum)),
    runningVar: batchVar.map((v, ch) => variance[ch]! * momentum + v * (1 - momentum)),
  };
}

/** Random operands for x of `shape`; variances positive. */
function randomCase(seed: number, shape: number[]) {
  const rand = rng(seed);
  const c = shape[1]!;
  // an offset on x so the mean is far from 0 and a one-pass variance would lose digits
  const x = randomF32(rand, size(shape)).map((v) => 3 * v + 5);
  const scale = randomF32(rand, c);
  const bias = randomF32(rand, c);
  const mean = randomF32(rand, c);
  const variance = randomF32(rand, c).map((v) => v + 1.5);
  return { x, scale, bias, mean, variance };
}

describe("batchNormTrainingImpl", () => {
  const shapes = [[4, 3], [2, 3, 5], [2, 3, 4, 5], [1, 2, 3, 2, 2], [3, 1, 7]];
  shapes.forEach((shape, k) => {
    it(`matches the naive spec formula (batch mean, population variance, running stats) for x ${JSON.stringify(shape)}`, () => {
      const { x, scale, bias, mean, variance } = randomCase(100 + k, shape);
      const [epsilon, momentum] = [0.01, 0.8];
      const got = batchNormTrainingImpl(x, shape, scale, bias, mean, variance, epsilon, momentum);
      const want = naiveTraining(x, shape, scale, bias, mean, variance, epsilon, momentum);
      expectClose(got.y, want.y);
      expectClose(got.runningMean, want.runningMean);
      expectClose(got.runningVar, want.runningVar);
      expect(got.y).toBeInstanceOf(Float32Array);
      expect(got.runningMean).toBeInstanceOf(Float32Array);
    });
  });

  it("gives each channel of y mean ≈ bias and variance ≈ scale²·v/(v+ε), whatever the operand mean/var", () => {
    const shape = [3, 2, 4];
    const { x, scale, bias } = randomCase(7, shape);
    const epsilon = 1e-3;
    const got = batchNormTrainingImpl(x, shape, scale, bias, new Float32Array([100, -100]), new Float32Array([1e6, 1e-6]), epsilon, 0.9);
    const want = naiveTraining(x, shape, scale, bias, new Float32Array(2), new Float32Array(2), epsilon, 0.9);
    for (let ch = 0; ch < 2; ch++) {
      const ys: number[] = [];
      for (let b = 0; b < 3; b++) for (let i = 0; i < 4; i++) ys.push(got.y[(b * 2 + ch) * 4 + i]!);
      const mu = ys.reduce((a, v) => a + v, 0) / ys.length;
      const v = ys.reduce((a, t) => a + (t - mu) ** 2, 0) / ys.length;
      // the batch variance is the running-var blend with input_var = 0, divided by (1 − momentum)
      const batchVar = want.runningVar[ch]! / 0.1;
      expectClose([mu], [bias[ch]!]);
      expectClose([v], [(scale[ch]! ** 2 * batchVar) / (batchVar + epsilon)]);
    }
  });

  it("keeps the storage kind of input_mean/input_var for the running statistics (f64 here, f32 x)", () => {
    const shape = [2, 2, 3];
    const { x, scale, bias } = randomCase(9, shape);
    const mean = Float64Array.from([0.25, -0.5]);
    const variance = Float64Array.from([2, 3]);
    const got = batchNormTrainingImpl(x, shape, scale, bias, mean, variance, 1e-5, 0.5);
    const want = naiveTraining(x, shape, scale, bias, Float32Array.from(mean), Float32Array.from(variance), 1e-5, 0.5);
    expect(got.runningMean).toBeInstanceOf(Float64Array);
    expect(got.runningVar).toBeInstanceOf(Float64Array);
    expectClose(got.runningMean, want.runningMean, 1e-12, 1e-12);
    expectClose(got.runningVar, want.runningVar, 1e-12, 1e-12);
  });

  it("returns the operand statistics unchanged when momentum is 1, and the batch statistics when it is 0", () => {
    const shape = [2, 3, 2];
    const { x, scale, bias, mean, variance } = randomCase(11, shape);
    const kept = batchNormTrainingImpl(x, shape, scale, bias, mean, variance, 1e-5, 1);
    expectClose(kept.runningMean, mean);
    expectClose(kept.runningVar, variance);
    const batch = batchNormTrainingImpl(x, shape, scale, bias, mean, variance, 1e-5, 0);
    const want = naiveTraining(x, shape, scale, bias, mean, variance, 1e-5, 0);
    expectClose(batch.runningMean, want.runningMean);
    // y in training mode equals inference-mode batchnorm fed with the batch statistics
    expectClose(batch.y, batchNormImpl(x, shape, scale, bias, batch.runningMean, batch.runningVar, 1e-5));
  });
});

/** A batchnorm op over inputs typed like `operands`, with `numResults` results (placeholder types: runOp infers them). */
function batchnormOp(operands: Tensor[], attrs: Attrs, numResults: number) {
  const m = new Module("bn");
  const vals = operands.map((t, i) => m.addInput(`in${i}`, t.type));
  const results = Array.from({ length: numResults }, (_, i) => ({ name: `r${i}`, type: { dtype: "f32", shape: [] } as TensorType }));
  return m.addOp("batchnorm", vals, results, withDefaults("batchnorm", attrs));
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isXbarcError(e) ? e.code : `not an XbarcError: ${String(e)}`;
  }
  return undefined;
}

describe("batchnorm op", () => {
  const shape = [2, 3, 4];
  const { x, scale, bias, mean, variance } = randomCase(21, shape);
  const operands = [
    tensorFromNumbers("f32", shape, x), tensorFromNumbers("f32", [3], scale), tensorFromNumbers("f32", [3], bias),
    tensorFromNumbers("f32", [3], mean), tensorFromNumbers("f32", [3], variance),
  ];

  it("fills training_mode=0 and momentum=0.9 as defaults", () => {
    expect(withDefaults("batchnorm", {})).toEqual({ epsilon: 1e-5, training_mode: 0, momentum: 0.9 });
  });

  it("returns y, running_mean and running_var with training_mode=1 and three results", () => {
    const op = batchnormOp(operands, { epsilon: 0.01, training_mode: 1, momentum: 0.7 }, 3);
    const [y, rm, rv] = runOp(op, operands);
    const want = naiveTraining(x, shape, scale, bias, mean, variance, 0.01, 0.7);
    expect(y!.type).toEqual({ dtype: "f32", shape });
    expect(rm!.type).toEqual({ dtype: "f32", shape: [3] });
    expectClose(readNumbers(y!), want.y);
    expectClose(readNumbers(rm!), want.runningMean);
    expectClose(readNumbers(rv!), want.runningVar);
  });

  it("normalises with the batch statistics when training_mode=1 has a single result", () => {
    const op = batchnormOp(operands, { epsilon: 0.01, training_mode: 1 }, 1);
    const got = runOp(op, operands);
    expect(got).toHaveLength(1);
    expectClose(readNumbers(got[0]!), naiveTraining(x, shape, scale, bias, mean, variance, 0.01, 0.9).y);
  });

  it("normalises with the operand statistics when training_mode=0", () => {
    const op = batchnormOp(operands, { epsilon: 0.01 }, 1);
    expectClose(readNumbers(runOp(op, operands)[0]!), Array.from(batchNormImpl(x, shape, scale, bias, mean, variance, 0.01)));
  });

  it("types the running statistics like the mean and var operands (ONNX T2), not like x", () => {
    const types = inferTypes("batchnorm", {
      operands: [{ dtype: "f16", shape }, { dtype: "f32", shape: [3] }, { dtype: "f32", shape: [3] }, { dtype: "f64", shape: [3] }, { dtype: "f64", shape: [3] }],
      values: [],
      attrs: withDefaults("batchnorm", { training_mode: 1 }),
      numResults: 3,
    });
    expect(types).toEqual([{ dtype: "f16", shape }, { dtype: "f64", shape: [3] }, { dtype: "f64", shape: [3] }]);
  });

  it("rejects running-statistic results in inference mode, a training_mode other than 0/1, and two results", () => {
    const ctx = (attrs: Attrs, numResults: number) => ({ operands: operands.map((t) => t.type), values: [], attrs: withDefaults("batchnorm", attrs), numResults });
    expect(codeOf(() => inferTypes("batchnorm", ctx({ training_mode: 0 }, 3)))).toBe("XB3003");
    expect(codeOf(() => inferTypes("batchnorm", ctx({ training_mode: 2 }, 1)))).toBe("XB3003");
    expect(codeOf(() => inferTypes("batchnorm", ctx({ training_mode: 1 }, 2)))).toBe("XB3006");
  });
});

/**
 * @fileoverview The prune pass on the real MNIST MLP fixture: magnitude zeroes exactly the smallest |w| to the requested
 * sparsity; sensitivity and crossbar keep the calibration accuracy drop (measured here, independently) within their
 * budget; crossbar removes whole matrix rows/columns and frees crossbars by the tile planner; #prune round-trips; the
 * masks rebuild the pruned float model; missing calibration is a clear error.
 */
import { describe, expect, it } from "vitest";
import { createTensor, getBuiltinProfile, parseModule, printModule, type DeviceProfile, type Module } from "@xbarc/ir";
import {
  applyPruneMasks, copyModule, countCrossbars, getCrossbarCount, getWeightOps, runPipeline, type CalibrationSet,
} from "@xbarc/passes";
import { argmaxRows, countCorrect } from "./helpers/compare.js";
import { loadMnistTest, preprocessSamples, range } from "./helpers/datasets.js";
import { catchXbarcError } from "./helpers/errors.js";
import { fixturePath } from "./helpers/paths.js";
import { importModel, interpretFloat } from "./helpers/xbarc.js";

const MLP = fixturePath("models", "trained", "mlp784-32-10-relu.onnx");
const BATCH = 100;
const isaac = getBuiltinProfile("isaac")!;
/** seed 004's 32×32 crossbar on ISAAC's cell and converters */
const ISAAC_32: DeviceProfile = { ...isaac, name: "isaac-32", crossbar: { ...isaac.crossbar, rows: 32, cols: 32 } };

/** t10k[start:end] as calibration batches of BATCH images for the MLP (input [BATCH, 784], x/255). */
function mnistCalibration(start: number, end: number): CalibrationSet {
  const batches: Map<string, ReturnType<typeof createTensor>>[] = [];
  const counts: number[] = [];
  for (let s = start; s < end; s += BATCH) {
    const { data } = preprocessSamples(loadMnistTest(), range(s, s + BATCH), "unit");
    batches.push(new Map([["input", createTensor({ dtype: "f32", shape: [BATCH, 784] }, data)]]));
    counts.push(Math.min(BATCH, end - s));
  }
  return { name: `t10k[${start}:${end}]`, batches, labels: Int32Array.from(loadMnistTest().labels.subarray(start, end)), counts };
}

/** Top-1 accuracy (percent) of a float module on t10k[start:end], by the test helpers' own argmax and count. */
function accuracyPercent(m: Module, start: number, end: number): number {
  let correct = 0;
  for (let s = start; s < end; s += BATCH) {
    const { data, labels } = preprocessSamples(loadMnistTest(), range(s, s + BATCH), "unit");
    correct += countCorrect(argmaxRows(interpretFloat(m, data, [BATCH, 784]).data, 10), labels);
  }
  return (100 * correct) / (end - start);
}

/** The weights of every conv/linear layer by weight name (copies). */
function weightsOf(m: Module): Map<string, Float32Array> {
  return new Map(getWeightOps(m).map((op) => [op.operands[1]!.name, Float32Array.from(op.operands[1]!.data as Float32Array)]));
}

function pruneAnnotation(m: Module, weight: string): Record<string, unknown> {
  const op = getWeightOps(m).find((o) => o.operands[1]!.name === weight)!;
  return op.getAnnotation("prune")!.data as Record<string, unknown>;
}

const CALIBRATION = mnistCalibration(0, 400);

describe("prune{rule=magnitude}", () => {
  it("zeroes exactly the smallest |w| of each layer up to the requested sparsity, and records it in #prune and the mask", () => {
    const m = importModel(MLP, BATCH);
    const before = weightsOf(m);
    runPipeline(m, 'prune{rule="magnitude", sparsity=0.3}', { roundTripEach: true, checkNoopChanges: true });
    for (const op of getWeightOps(m)) {
      const name = op.operands[1]!.name;
      const w0 = before.get(name)!;
      const w = op.operands[1]!.data as Float32Array;
      const want = Math.round(0.3 * w0.length);
      // the reference: sort |w| of the original weights (ties by index) and take the first `want`
      const order = Array.from(w0.keys()).sort((a, b) => Math.abs(w0[a]!) - Math.abs(w0[b]!) || a - b);
      const expectedZero = new Set(order.slice(0, want));
      let zeros = 0;
      for (let i = 0; i < w.length; i++) {
        if (expectedZero.has(i)) expect(w[i]).toBe(0);
        else expect(w[i]).toBe(w0[i]);
        if (w[i] === 0) zeros++;
      }
      expect(zeros).toBe(want);
      const a = pruneAnnotation(m, name);
      expect(a).toMatchObject({ rule: "magnitude", zeros: want, target: 0.3, stop: "target" });
      expect(a.sparsity).toBeCloseTo(want / w.length, 12);
      const mask = m.constants.find((c) => c.name === a.mask)!.data as Uint8Array;
      expect(mask.length).toBe(w.length);
      for (let i = 0; i < w.length; i++) expect(mask[i]).toBe(expectedZero.has(i) ? 1 : 0);
    }
  });

  it("with a budget but no calibration images, refuses with XB5003 and says what to pass", () => {
    const m = importModel(MLP, BATCH);
    const e = catchXbarcError(() => runPipeline(m, 'prune{rule="magnitude", budget=1}'));
    expect(e.code).toBe("XB5003");
    expect(e.message).toMatch(/calibration images/);
    expect(e.hint).toMatch(/--calib-images/);
  });
});

describe("prune{rule=sensitivity}", () => {
  it("without calibration images refuses with XB5003", () => {
    const e = catchXbarcError(() => runPipeline(importModel(MLP, BATCH), "prune"));
    expect(e.code).toBe("XB5003");
    expect(e.message).toMatch(/sensitivity/);
  });

  it("keeps the calibration accuracy drop within the budget, measured independently, while pruning most of fc1", () => {
    const m = importModel(MLP, BATCH);
    const base = accuracyPercent(m, 0, 400);
    const r = runPipeline(m, 'prune{rule="sensitivity", budget=0.5, step=0.1}', { calibration: CALIBRATION, roundTripEach: true });
    const after = accuracyPercent(m, 0, 400);
    expect(base - after).toBeLessThanOrEqual(0.5 + 1e-9);
    const fc1 = pruneAnnotation(m, "fc1.weight");
    expect(fc1).toMatchObject({ rule: "sensitivity", budget: 0.5, step: 0.1, calibration: "t10k[0:400]" });
    // the budget, not the limit, stopped it, and by then much of the first layer was gone
    expect(fc1.stop).toBe("budget");
    expect(fc1.sparsity as number).toBeGreaterThanOrEqual(0.3);
    // layers are visited most weights first, so fc2's record holds the accuracy the whole model ended with
    expect(pruneAnnotation(m, "fc2.weight").acc as number).toBeCloseTo(after / 100, 12);
    expect(r.steps[0]!.stats["calibration-correct-after"]).toBe(Math.round((after / 100) * 400));
  });

  it("prunes first the weights of pixels that are blank in every calibration image (their saliency is 0)", () => {
    const m = importModel(MLP, BATCH);
    runPipeline(m, 'prune{rule="sensitivity", budget=0.5, step=0.1}', { calibration: CALIBRATION });
    const pixels = loadMnistTest().pixels;
    const w = getWeightOps(m)[0]!.operands[1]!.data as Float32Array;
    let blank = 0;
    for (let p = 0; p < 784; p++) {
      let ink = 0;
      for (let i = 0; i < 400; i++) ink += pixels[i * 784 + p]!;
      if (ink !== 0) continue;
      blank++;
      for (let h = 0; h < 32; h++) expect(w[h * 784 + p]).toBe(0);
    }
    expect(blank).toBeGreaterThan(50);
  });
});

describe("prune{rule=crossbar}", () => {
  it("removes whole matrix rows or columns, frees crossbars of the 32×32 device and keeps the budget", () => {
    const m = importModel(MLP, BATCH);
    const base = accuracyPercent(m, 0, 400);
    const before = weightsOf(m);
    runPipeline(m, 'prune{rule="crossbar", budget=1}', { calibration: CALIBRATION, device: ISAAC_32, roundTripEach: true });
    expect(base - accuracyPercent(m, 0, 400)).toBeLessThanOrEqual(1 + 1e-9);
    for (const op of getWeightOps(m)) {
      const name = op.operands[1]!.name;
      const [cols, rows] = op.operands[1]!.type.shape as [number, number];
      const w = op.operands[1]!.data as Float32Array;
      const w0 = before.get(name)!;
      const zeroRow = (r: number): boolean => range(0, cols).every((c) => w[c * rows + r] === 0);
      const zeroCol = (c: number): boolean => range(0, rows).every((r) => w[c * rows + r] === 0);
      // every weight that changed lies in a row or a column that is now zero throughout
      for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) {
        if (w[c * rows + r] !== w0[c * rows + r]) expect(zeroRow(r) || zeroCol(c)).toBe(true);
      }
      const a = pruneAnnotation(m, name);
      expect(a.rows_removed).toBe(range(0, rows).filter(zeroRow).length);
      expect(a.cols_removed).toBe(range(0, cols).filter(zeroCol).length);
      expect(a.xbars_after as number).toBeLessThanOrEqual(a.xbars_before as number);
    }
    const fc1 = pruneAnnotation(m, "fc1.weight");
    expect(fc1.xbars_after as number).toBeLessThan(fc1.xbars_before as number);
    // the class logits keep every output channel
    expect(pruneAnnotation(m, "fc2.weight").cols_removed).toBe(0);
  });

  it("leads the tile pass to fewer crossbars than the unpruned model on the same compile steps", () => {
    const m = importModel(MLP, BATCH);
    const unpruned = copyModule(m);
    // merge="zeros": the tile pass drops all-zero matrix rows and columns (exact), nothing else
    runPipeline(m, 'prune{rule="crossbar", budget=1},quantize{quantizer="fixed-point", bits=8},tile{merge="zeros"}', { calibration: CALIBRATION, device: ISAAC_32 });
    const after = getCrossbarCount(m);
    const before = countCrossbars(unpruned, [{ pass: "quantize", options: { quantizer: "fixed-point", bits: 8 } }, { pass: "tile", options: { merge: "zeros" } }], ISAAC_32);
    const fc1 = pruneAnnotation(m, "fc1.weight");
    expect(after.layers.map((l) => l.layer)).toEqual(before.layers.map((l) => l.layer));
    expect(after.total).toBeLessThan(before.total);
    expect(after.total).toBe(after.layers.reduce((s, l) => s + l.crossbars, 0));
    // the tile pass frees at least what the prune pass counted (quantization may zero further rows)
    expect(before.layers[0]!.crossbars - after.layers[0]!.crossbars).toBeGreaterThanOrEqual(0);
    expect(after.layers[0]!.crossbars).toBeLessThanOrEqual(fc1.xbars_after as number);
  });
});

describe("#prune and the masks", () => {
  it("print → parse → print is the identity on a pruned module, and the masks rebuild the pruned float weights", () => {
    const m = importModel(MLP, BATCH);
    const unpruned = copyModule(m);
    runPipeline(m, 'prune{rule="magnitude", sparsity=0.6}');
    const printed = printModule(m, { weights: true });
    // round(0.6 · 32·784) = 15053 zeros in fc1; the sparsity printed is the achieved fraction
    expect(printed.text).toContain(`#prune{rule="magnitude", sparsity=${15053 / 25088}, zeros=15053, mask="fc1.weight.prune_mask", target=0.6, stop="target"}`);
    expect(printed.text).toContain("const @fc1.weight.prune_mask : u8[32,784]");
    const back = parseModule(printed.text, { weights: printed.weights! });
    expect(printModule(back, { weights: true }).text).toBe(printed.text);
    expect(applyPruneMasks(unpruned, back)).toBe(15053 + 192);
    const pruned = weightsOf(m);
    for (const [name, w] of weightsOf(unpruned)) expect(w).toEqual(pruned.get(name));
  });
});

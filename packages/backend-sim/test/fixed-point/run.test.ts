/**
 * @fileoverview The fixed-point reference against a naive BigInt implementation of the crossbar spec on hand-built
 * modules (random weights, formats, row tiles, windows, biases), the full window, effective weights and the sampling
 * of sliced cells.
 */
import { describe, expect, it } from "vitest";
import { createRng, isXbarcError, type Tensor } from "@xbarc/ir";
import {
  createCellValueModel, fixedPointAccuracy, getFixedPointLayers, getSlicedGeometry, hardwareAccuracy, runFixedPoint, sampleSlicedWeights,
} from "@xbarc/backend-sim";
import { testDevice } from "../cells-module.js";
import { buildConv, buildMlp, naiveConv, naiveLinear, randomInput, type LayerFormats } from "./modules.js";

const input = (name: string, shape: number[], data: Float32Array): Map<string, Tensor> => new Map([[name, { type: { dtype: "f32", shape }, data }]]);

/** Formats of a first layer fed [lo, hi) inputs and a second one fed its relu'd output. */
const CASES: { name: string; k: number; n: number; f1: LayerFormats; f2: LayerFormats; lo: number; hi: number }[] = [
  {
    name: "unsigned inputs, three row tiles, digital bias, the paper's window (D_L = W_FL, O_RWL = A_WL)",
    k: 70, n: 12, lo: 0, hi: 1,
    f1: { wBits: 8, wFl: 7, aBits: 8, aFl: 7, aSigned: false, rows: [32, 32, 6], dL: 7, oRwl: 8, bias: "digital" },
    f2: { wBits: 8, wFl: 8, aBits: 8, aFl: 6, aSigned: false, rows: [12], dL: 8, oRwl: 8, bias: "digital" },
  },
  {
    name: "signed inputs, a bias row driven by 2^3, narrow windows that wrap",
    k: 40, n: 9, lo: -2, hi: 2,
    f1: { wBits: 6, wFl: 4, aBits: 6, aFl: 3, aSigned: true, rows: [17, 16, 8], dL: 2, oRwl: 5, bias: "row", biasInput: 8 },
    f2: { wBits: 4, wFl: 2, aBits: 5, aFl: 1, aSigned: false, rows: [9], dL: 0, oRwl: 4, bias: "none" },
  },
  {
    name: "16-bit weights, negative fraction lengths, one row tile each",
    k: 24, n: 5, lo: -40, hi: 60,
    f1: { wBits: 16, wFl: -2, aBits: 8, aFl: -1, aSigned: true, rows: [24], dL: 0, oRwl: 12, bias: "digital" },
    f2: { wBits: 8, wFl: 3, aBits: 8, aFl: -6, aSigned: false, rows: [5], dL: 3, oRwl: 8, bias: "digital" },
  },
];

describe("runFixedPoint on a two-layer MLP", () => {
  for (const c of CASES) {
    for (const full of [false, true]) {
      it(`equals the naive BigInt reference layer by layer (${c.name}${full ? ", full window" : ""})`, () => {
        const batch = 3;
        const model = buildMlp(11, batch, c.k, c.n, 4, c.f1, c.f2);
        const x = randomInput(12, batch * c.k, c.lo, c.hi);
        const result = runFixedPoint(model.module, input("x", [batch, c.k], x), { recordInts: true, window: full ? "full" : "trunc" });
        const [l1, l2] = model.layers;
        const ref1 = naiveLinear(Float64Array.from(x), batch, c.k, l1!.wInt, c.n, l1!.bias, c.f1, full);
        expect(result.ints!.get("h")!.fl).toBe(ref1.fl);
        expect([...result.ints!.get("h")!.out]).toEqual(ref1.y.map(Number));
        // the second layer sees relu of the first layer's real output
        const h = Float64Array.from(ref1.y, (v) => Math.max(0, Number(v) * 2 ** -ref1.fl));
        const ref2 = naiveLinear(h, batch, c.n, l2!.wInt, 4, l2!.bias, c.f2, full);
        expect([...result.ints!.get("y")!.out]).toEqual(ref2.y.map(Number));
        expect([...(result.outputs.get("y")!.data as Float64Array)]).toEqual(ref2.y.map((v) => Number(v) * 2 ** -ref2.fl));
      });
    }
  }

  it("reproduces the untruncated result with a full window whatever the row tiling", () => {
    const f: LayerFormats = { wBits: 8, wFl: 6, aBits: 8, aFl: 7, aSigned: false, rows: [50], dL: 6, oRwl: 8, bias: "digital" };
    const run = (rows: number[]) => {
      const model = buildMlp(3, 2, 50, 7, 3, { ...f, rows }, { ...f, rows: [7] });
      return runFixedPoint(model.module, input("x", [2, 50], randomInput(4, 100, 0, 1)), { recordInts: true, window: "full" }).ints!.get("h")!;
    };
    const one = run([50]);
    for (const rows of [[25, 25], [1, 49], [13, 13, 13, 11]]) {
      const tiled = run(rows);
      expect([...tiled.out]).toEqual([...one.out]);
      // each tile's kept value is its whole accumulator
      tiled.tiles.forEach((t, i) => expect([...tiled.kept[i]!]).toEqual([...t]));
    }
  });

  it("gives the same integers when the effective weights are the nominal ones", () => {
    const c = CASES[1]!;
    const model = buildMlp(5, 2, c.k, c.n, 4, c.f1, c.f2);
    const inputs = input("x", [2, c.k], randomInput(6, 2 * c.k, c.lo, c.hi));
    const nominal = runFixedPoint(model.module, inputs).outputs.get("y")!.data;
    const effectiveWeights = new Map(model.layers.map((l) => [l.op, Float64Array.from(l.wInt)]));
    expect(runFixedPoint(model.module, inputs, { effectiveWeights }).outputs.get("y")!.data).toEqual(nominal);
  });
});

describe("runFixedPoint on a conv layer", () => {
  const f: LayerFormats = { wBits: 8, wFl: 7, aBits: 8, aFl: 6, aSigned: true, rows: [7, 11, 9], dL: 5, oRwl: 9, bias: "digital" };
  for (const [group, stride, pad] of [[1, 1, 1], [2, 2, 0], [3, 1, 2]] as const) {
    it(`equals the naive reference with row tiles that split channels (group ${group}, stride ${stride}, pad ${pad})`, () => {
      const cin = 3 * group;
      const shape: [number, number, number, number] = [2, cin, 7, 6];
      const model = buildConv(21 + group, shape, 2 * group, 3, pad, stride, group, f);
      const x = randomInput(22, shape.reduce((a, b) => a * b, 1), -1.5, 1.5);
      for (const full of [false, true]) {
        const got = runFixedPoint(model.module, input("x", [...shape], x), { recordInts: true, window: full ? "full" : "trunc" }).ints!.get("y")!;
        const ref = naiveConv(Float64Array.from(x), shape, model.layers[0]!.wInt, 2 * group, 3, pad, stride, group, model.layers[0]!.bias, f, full);
        expect(got.fl).toBe(ref.fl);
        expect([...got.out]).toEqual(ref.y.map(Number));
      }
    });
  }
});

describe("getFixedPointLayers", () => {
  const f: LayerFormats = { wBits: 8, wFl: 7, aBits: 8, aFl: 7, aSigned: false, rows: [10], dL: 7, oRwl: 8, bias: "digital" };
  const fail = (edit: (trunc: Record<string, unknown>) => void): unknown => {
    const model = buildMlp(1, 1, 10, 3, 2, f, { ...f, rows: [3] });
    const op = model.layers[0]!.op;
    const trunc = { ...op.getAnnotation("trunc")!.data } as Record<string, unknown>;
    edit(trunc);
    op.setAnnotation("trunc", trunc as never);
    try {
      getFixedPointLayers(model.module);
    } catch (e) {
      return e;
    }
    throw new Error("accepted");
  };

  it("rejects a #trunc whose W_FL the codes were not quantized with, naming both formats", () => {
    const e = fail((t) => { t.w_fl = 9; });
    expect(isXbarcError(e) && e.code).toBe("XB6002");
    expect((e as Error).message).toMatch(/\(W_WL, W_FL\) = \(8, 9\) but the #quant codebook is \(8, 7\)/);
  });

  it("rejects row tiles that do not cover the weight matrix", () => {
    const e = fail((t) => { t.rows = [6, 3]; });
    expect((e as Error).message).toMatch(/rows=\[6,3\] cover 9 matrix rows, but the layer has 10/);
  });
});

describe("sampleSlicedWeights", () => {
  const f: LayerFormats = { wBits: 8, wFl: 7, aBits: 8, aFl: 7, aSigned: false, rows: [64, 36], dL: 7, oRwl: 8, bias: "digital" };
  const levels = [0, 1e-6, 2e-6, 3e-6];

  for (const signed of ["differential", "offset-column"] as const) {
    it(`rebuilds every integer weight exactly on an ideal device (${signed})`, () => {
      const model = buildMlp(9, 1, 100, 20, 2, f, { ...f, rows: [20] });
      const layer = getFixedPointLayers(model.module).get(model.layers[0]!.op)!;
      const device = testDevice(levels, signed);
      const eff = sampleSlicedWeights(layer, getSlicedGeometry(layer, device), createCellValueModel(device), createRng(1, "t"));
      expect([...eff]).toEqual([...layer.wInt]);
    });
  }

  it("leaves a zero weight exactly zero on a differential pair whose lowest level is 0 S, and moves the others", () => {
    const model = buildMlp(9, 1, 100, 20, 2, f, { ...f, rows: [20] });
    const layer = getFixedPointLayers(model.module).get(model.layers[0]!.op)!;
    const device = testDevice(levels, "differential", { model: "lognormal", sigma: 0.3 });
    const draw = (seed: number) => sampleSlicedWeights(layer, getSlicedGeometry(layer, device), createCellValueModel(device), createRng(seed, "t"));
    const eff = draw(2);
    let moved = 0;
    for (let i = 0; i < eff.length; i++) {
      if (layer.wInt[i] === 0) expect(eff[i]).toBe(0);
      else if (eff[i] !== layer.wInt[i]) moved++;
    }
    expect(moved).toBeGreaterThan(0.9 * eff.length);
    // a seed fixes the instance
    expect(draw(2)).toEqual(eff);
    expect(draw(3)).not.toEqual(eff);
  });

  it("gives the fixed-point accuracy for every Monte Carlo run on a device without variation", () => {
    const model = buildMlp(14, 4, 30, 8, 3, { ...f, rows: [30] }, { ...f, rows: [8] });
    const batches = [0, 1, 2].map((b) => input("x", [4, 30], randomInput(40 + b, 120, 0, 1)));
    const rng = createRng(3, "labels");
    const data = { batches, counts: [4, 4, 3], labels: Int32Array.from({ length: 11 }, () => rng.nextInt(3)) };
    const acc = fixedPointAccuracy(model.module, data);
    const hw = hardwareAccuracy(model.module, data, testDevice(levels, "offset-column"), { runs: 3, seed: 1 });
    expect(hw.runs).toEqual([acc, acc, acc]);
    const noisy = hardwareAccuracy(model.module, data, testDevice(levels, "offset-column", { model: "lognormal", sigma: 0.5 }), { runs: 2, seed: 1 });
    expect(noisy.runs).toHaveLength(2);
    expect(noisy.mean).toBeGreaterThanOrEqual(0);
  });
});

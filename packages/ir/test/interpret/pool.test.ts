import { describe, expect, it } from "vitest";
import { avgPoolImpl, globalAvgPoolImpl, maxPoolImpl, Module, runOp, tensorFromNumbers, type PoolParams } from "@xbarc/ir";
import { expectClose, flatIndex, indices, randInt, randomF32, rng, size } from "./helpers.js";

const iota = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i + 1);

function params(kernel: number[], extra: Partial<PoolParams> = {}): PoolParams {
  const r = kernel.length;
  return { kernel, strides: new Array(r).fill(1), pads: new Array(2 * r).fill(0), dilations: new Array(r).fill(1), ceilMode: false, ...extra };
}

/** Pooling from the definition: every output cell looks at its taps o·s − pb + k·d, one multi-index at a time. */
function naivePool(x: Float32Array, xShape: number[], p: PoolParams, kind: "max" | "avg", includePad = false): { data: number[]; shape: number[] } {
  const r = xShape.length - 2;
  const inSp = xShape.slice(2);
  const outSp = inSp.map((d, i) => {
    const span = (d + p.pads[i]! + p.pads[i + r]! - p.dilations[i]! * (p.kernel[i]! - 1) - 1) / p.strides[i]!;
    let o = (p.ceilMode ? Math.ceil(span) : Math.floor(span)) + 1;
    if (p.ceilMode && (o - 1) * p.strides[i]! >= d + p.pads[i]!) o--;
    return o;
  });
  const shape = [xShape[0]!, xShape[1]!, ...outSp];
  const data: number[] = [];
  for (const [n, c, ...o] of indices(shape)) {
    let best = -Infinity;
    let sum = 0;
    let inImage = 0;
    let inPadded = 0;
    for (const k of indices(p.kernel)) {
      const pos = o.map((od, d) => od * p.strides[d]! - p.pads[d]! + k[d]! * p.dilations[d]!);
      if (pos.every((q, d) => q >= -p.pads[d]! && q < inSp[d]! + p.pads[d + r]!)) inPadded++;
      if (pos.some((q, d) => q < 0 || q >= inSp[d]!)) continue;
      const v = x[flatIndex(xShape, [n!, c!, ...pos])]!;
      best = Math.max(best, v);
      sum += v;
      inImage++;
    }
    data.push(kind === "max" ? best : sum / (includePad ? inPadded : inImage));
  }
  return { data, shape };
}

describe("maxPoolImpl", () => {
  it("matches the ONNX MaxPool example with ceil_mode (4x4, kernel 3, stride 2)", () => {
    const got = maxPoolImpl(iota(16), [1, 1, 4, 4], params([3, 3], { strides: [2, 2], ceilMode: true }));
    expect(got.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(got.data)).toEqual([11, 12, 15, 16]);
  });

  it("drops a ceil_mode window that would start in the end padding", () => {
    // ONNX test maxpool_2d_ceil_output_size_reduce_by_one: 2x2 input, kernel 1, stride 2 → one cell, not two
    const got = maxPoolImpl(iota(4), [1, 1, 2, 2], params([1, 1], { strides: [2, 2], ceilMode: true }));
    expect(got.shape).toEqual([1, 1, 1, 1]);
    expect(Array.from(got.data)).toEqual([1]);
  });

  it("never lets padded cells win and reports row-major indices over the whole tensor", () => {
    // ONNX example maxpool_with_argmax_2d_precomputed_pads: 5x5 of 1..25, kernel 5, pads 2
    const x = new Float32Array(50);
    x.set(iota(25));
    x.set(iota(25).map((v) => -v), 25);
    const got = maxPoolImpl(x, [1, 2, 5, 5], params([5, 5], { pads: [2, 2, 2, 2] }), true);
    expect(Array.from(got.data.subarray(0, 25))).toEqual([
      13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25,
    ]);
    expect(Array.from(got.indices!.subarray(0, 25), Number)).toEqual([
      12, 13, 14, 14, 14, 17, 18, 19, 19, 19, 22, 23, 24, 24, 24, 22, 23, 24, 24, 24, 22, 23, 24, 24, 24,
    ]);
    // channel 1 is all negative: padding (which would be 0) must not win, and indices include the channel offset
    expect(got.data[25]).toBe(-1);
    expect(Number(got.indices![25])).toBe(25);
  });

  it("reports column-major spatial indices with storage_order=1", () => {
    // ONNX example maxpool_with_argmax_2d_precomputed_strides
    const got = maxPoolImpl(iota(25), [1, 1, 5, 5], params([2, 2], { strides: [2, 2] }), true, 1);
    expect(Array.from(got.data)).toEqual([7, 9, 17, 19]);
    expect(Array.from(got.indices!, Number)).toEqual([6, 16, 8, 18]);
  });

  it("pools integer tensors without converting them", () => {
    const x = Uint8Array.from({ length: 25 }, (_, i) => i + 1);
    const got = maxPoolImpl(x, [1, 1, 5, 5], params([5, 5], { pads: [2, 2, 2, 2] }));
    expect(got.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(got.data.subarray(0, 5))).toEqual([13, 14, 15, 15, 15]);
  });

  for (const r of [1, 2, 3]) {
    it(`matches a direct ${r}-D max pool on random windows with pads, strides, dilations and ceil_mode`, () => {
      const rand = rng(200 + r);
      for (let trial = 0; trial < 30; trial++) {
        const kernel = Array.from({ length: r }, () => randInt(rand, 1, 3));
        const dilations = Array.from({ length: r }, () => randInt(rand, 1, 2));
        const pads = Array.from({ length: 2 * r }, (_, i) => randInt(rand, 0, kernel[i % r]! - 1));
        const p = params(kernel, { strides: Array.from({ length: r }, () => randInt(rand, 1, 3)), dilations, pads, ceilMode: rand() < 0.5 });
        const xShape = [randInt(rand, 1, 2), randInt(rand, 1, 3), ...kernel.map((k, i) => dilations[i]! * (k - 1) + 1 + randInt(rand, 0, 4))];
        const x = randomF32(rand, size(xShape));
        const ref = naivePool(x, xShape, p, "max");
        const got = maxPoolImpl(x, xShape, p);
        expect(got.shape).toEqual(ref.shape);
        expectClose(got.data, ref.data, 0, 0);
      }
    });
  }
});

describe("avgPoolImpl", () => {
  it("matches the ONNX AveragePool example with ceil_mode", () => {
    const got = avgPoolImpl(iota(16), [1, 1, 4, 4], params([3, 3], { strides: [2, 2], ceilMode: true }), false);
    expect(Array.from(got.data)).toEqual([6, 7.5, 12, 13.5]);
  });

  it("divides by the non-pad cells when count_include_pad=0", () => {
    // ONNX example averagepool_2d_precomputed_pads
    const got = avgPoolImpl(iota(25), [1, 1, 5, 5], params([5, 5], { pads: [2, 2, 2, 2] }), false);
    expectClose(got.data, [7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14, 14.5, 15, 15.5, 16, 16.5, 17, 17.5, 18, 18.5, 19]);
  });

  it("divides by the whole window when count_include_pad=1", () => {
    // 5x5 of 1..25, kernel 5, pads 2: every window has 25 cells, padding counts as 0
    const got = avgPoolImpl(iota(25), [1, 1, 5, 5], params([5, 5], { pads: [2, 2, 2, 2] }), true);
    expect(got.data[0]).toBeCloseTo((1 + 2 + 3 + 6 + 7 + 8 + 11 + 12 + 13) / 25, 6);
    expect(got.data[12]).toBeCloseTo(13, 6);
    // row 1, col 4: image rows 0..3 × cols 2..4
    expect(got.data[9]).toBeCloseTo(138 / 25, 6);
  });

  for (const includePad of [false, true]) {
    it(`matches a direct average pool on random N-d windows (count_include_pad=${Number(includePad)})`, () => {
      const rand = rng(300 + Number(includePad));
      for (let trial = 0; trial < 40; trial++) {
        const r = randInt(rand, 1, 3);
        const kernel = Array.from({ length: r }, () => randInt(rand, 1, 3));
        const dilations = Array.from({ length: r }, () => randInt(rand, 1, 2));
        const pads = Array.from({ length: 2 * r }, (_, i) => randInt(rand, 0, kernel[i % r]! - 1));
        const p = params(kernel, { strides: Array.from({ length: r }, () => randInt(rand, 1, 3)), dilations, pads, ceilMode: rand() < 0.5 });
        const xShape = [1, randInt(rand, 1, 3), ...kernel.map((k, i) => dilations[i]! * (k - 1) + 1 + randInt(rand, 0, 4))];
        const x = randomF32(rand, size(xShape));
        const ref = naivePool(x, xShape, p, "avg", includePad);
        const got = avgPoolImpl(x, xShape, p, includePad);
        expect(got.shape).toEqual(ref.shape);
        expectClose(got.data, ref.data);
      }
    });
  }
});

describe("globalAvgPoolImpl", () => {
  it("averages each channel plane and keeps the spatial dims as 1", () => {
    const got = globalAvgPoolImpl(Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]), [1, 2, 2, 2]);
    expect(got.shape).toEqual([1, 2, 1, 1]);
    expect(Array.from(got.data)).toEqual([2.5, 25]);
  });
});

describe("maxpool op", () => {
  it("returns i64 indices as a second result when the op has two results", () => {
    const m = new Module("mp");
    const x = m.addInput("x", { dtype: "f32", shape: [1, 1, 5, 5] });
    const op = m.addOp("maxpool", [x], [
      { name: "y", type: { dtype: "f32", shape: [1, 1, 2, 2] } },
      { name: "i", type: { dtype: "i64", shape: [1, 1, 2, 2] } },
    ], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil_mode: 0, storage_order: 0 });
    const [y, idx] = runOp(op, [tensorFromNumbers("f32", [1, 1, 5, 5], iota(25))]);
    expect(Array.from(y!.data as Float32Array)).toEqual([7, 9, 17, 19]);
    expect(idx!.type).toEqual({ dtype: "i64", shape: [1, 1, 2, 2] });
    expect(Array.from(idx!.data as BigInt64Array)).toEqual([6n, 8n, 16n, 18n]);
  });
});

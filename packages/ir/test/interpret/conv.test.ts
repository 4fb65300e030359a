import { describe, expect, it } from "vitest";
import { convImpl, createTensor, halfToFloat, Module, readNumbers, runOp, tensorFromNumbers } from "@xbarc/ir";
import { expectClose, flatIndex, indices, randInt, randomF32, rng, size } from "./helpers.js";

interface ConvCase {
  xShape: number[];
  wShape: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
  bias: boolean;
}

/** Direct convolution straight from the definition: one sum per output element, no im2col. */
function naiveConv(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, c: ConvCase): { data: number[]; shape: number[] } {
  const r = c.xShape.length - 2;
  const n = c.xShape[0]!;
  const [m, cg] = c.wShape as [number, number];
  const inSp = c.xShape.slice(2);
  const kSp = c.wShape.slice(2);
  const outSp = inSp.map((d, i) => Math.floor((d + c.pads[i]! + c.pads[i + r]! - c.dilations[i]! * (kSp[i]! - 1) - 1) / c.strides[i]!) + 1);
  const outShape = [n, m, ...outSp];
  const out: number[] = [];
  for (const [bi, oc, ...o] of indices(outShape)) {
    const g = Math.floor(oc! / (m / c.group));
    let s = b ? b[oc!]! : 0;
    for (let ci = 0; ci < cg; ci++) {
      for (const k of indices(kSp)) {
        const pos = o.map((od, d) => od * c.strides[d]! - c.pads[d]! + k[d]! * c.dilations[d]!);
        if (pos.some((p, d) => p < 0 || p >= inSp[d]!)) continue;
        s += x[flatIndex(c.xShape, [bi!, g * cg + ci, ...pos])]! * w[flatIndex(c.wShape, [oc!, ci, ...k])]!;
      }
    }
    out.push(s);
  }
  return { data: out, shape: outShape };
}

function randomCase(rand: () => number, r: number): ConvCase {
  const group = randInt(rand, 1, 3);
  const cg = randInt(rand, 1, 3);
  const mg = randInt(rand, 1, 3);
  const kernel = Array.from({ length: r }, () => randInt(rand, 1, 3));
  const dilations = Array.from({ length: r }, () => randInt(rand, 1, 2));
  const strides = Array.from({ length: r }, () => randInt(rand, 1, 3));
  const pads = Array.from({ length: 2 * r }, () => randInt(rand, 0, 2));
  const spatial = kernel.map((k, i) => dilations[i]! * (k - 1) + 1 + randInt(rand, 0, r === 3 ? 3 : 6));
  return {
    xShape: [randInt(rand, 1, 2), group * cg, ...spatial],
    wShape: [group * mg, cg, ...kernel],
    strides,
    pads,
    dilations,
    group,
    bias: rand() < 0.5,
  };
}

/** Draws x, w (and b when the case has a bias) from `rand` and checks convImpl against naiveConv: shape and values. */
function expectMatchesNaive(c: ConvCase, rand: () => number): void {
  const x = randomF32(rand, size(c.xShape));
  const w = randomF32(rand, size(c.wShape));
  const b = c.bias ? randomF32(rand, c.wShape[0]!) : null;
  const ref = naiveConv(x, w, b, c);
  const got = convImpl(x, c.xShape, w, c.wShape, b, c);
  expect(got.shape, JSON.stringify(c)).toEqual(ref.shape);
  expectClose(got.data, ref.data);
}

describe("convImpl", () => {
  for (const r of [1, 2, 3]) {
    it(`matches a direct ${r}-D convolution on random shapes with groups, pads, strides and dilations`, () => {
      const rand = rng(1000 + r);
      for (let trial = 0; trial < (r === 3 ? 15 : 40); trial++) expectMatchesNaive(randomCase(rand, r), rand);
    });
  }

  it("handles outputs larger than one position tile, with odd channel and tap counts", () => {
    // 24x24 outputs = 576 positions (> the 256-position tile); 5 output channels and 3·3·3 = 27 taps exercise the remainders
    const c: ConvCase = { xShape: [1, 3, 24, 24], wShape: [5, 3, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, bias: true };
    expectMatchesNaive(c, rng(8));
  });

  it("treats a 1x1 unpadded convolution as a plain matrix product of the channel planes", () => {
    const c: ConvCase = { xShape: [2, 4, 3, 3], wShape: [5, 4, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, bias: true };
    expectMatchesNaive(c, rng(7));
  });

  it("computes the ONNX Conv example with padding (5x5 input, 3x3 all-ones kernel)", () => {
    // onnx/docs/Operators.md Conv example "conv_with_padding"
    const x = Float32Array.from({ length: 25 }, (_, i) => i);
    const w = new Float32Array(9).fill(1);
    const got = convImpl(x, [1, 1, 5, 5], w, [1, 1, 3, 3], null, { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 });
    expect(Array.from(got.data)).toEqual([
      12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84,
    ]);
  });
});

describe("conv op", () => {
  function convModule(dtype: "f32" | "f64" | "f16") {
    const m = new Module("conv");
    const x = m.addInput("x", { dtype, shape: [1, 2, 4, 4] });
    const w = m.addConstant("w", { dtype, shape: [2, 1, 3, 3] }, undefined);
    const op = m.addOp("conv", [x, w, null], [{ name: "y", type: { dtype, shape: [1, 2, 2, 2] } }], {
      strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 2,
    });
    return op;
  }

  it("computes f64 in double precision", () => {
    const op = convModule("f64");
    const rand = rng(3);
    // inputs near 1 with tiny offsets: an f32 computation would lose them (f32 eps ≈ 1.2e-7)
    const xs = Array.from({ length: 32 }, () => 1 + rand() * 1e-9);
    const ws = Array.from({ length: 18 }, () => rand());
    const [y] = runOp(op, [tensorFromNumbers("f64", [1, 2, 4, 4], xs), tensorFromNumbers("f64", [2, 1, 3, 3], ws), null]);
    expect(y!.data).toBeInstanceOf(Float64Array);
    const ref = naiveConv(xs, ws, null, { xShape: [1, 2, 4, 4], wShape: [2, 1, 3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 2, bias: false });
    expectClose(y!.data as Float64Array, ref.data, 1e-13, 1e-13);
  });

  it("computes f16 in f32 and rounds the result to half precision", () => {
    const op = convModule("f16");
    const rand = rng(4);
    const xs = Array.from({ length: 32 }, () => rand());
    const ws = Array.from({ length: 18 }, () => rand());
    const x16 = tensorFromNumbers("f16", [1, 2, 4, 4], xs);
    const w16 = tensorFromNumbers("f16", [2, 1, 3, 3], ws);
    const [y] = runOp(op, [x16, w16, null]);
    expect(y!.type.dtype).toBe("f16");
    expect(y!.data).toBeInstanceOf(Uint16Array);
    const ref = naiveConv(Float32Array.from(readNumbers(x16)), Float32Array.from(readNumbers(w16)), null, {
      xShape: [1, 2, 4, 4], wShape: [2, 1, 3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 2, bias: false,
    });
    const got = Array.from(y!.data as Uint16Array, (h) => halfToFloat(h));
    expectClose(got, ref.data, 1e-3, 1e-3);
  });

  it("rejects a weight whose channels do not match the input and names the value", () => {
    const op = convModule("f32");
    const x = createTensor({ dtype: "f32", shape: [1, 2, 4, 4] });
    const w = createTensor({ dtype: "f32", shape: [2, 2, 3, 3] });
    expect(() => runOp(op, [x, w, null])).toThrow(/%y: conv: input x has 2 channels but weight f32\[2,2,3,3\] expects 2×group\(2\) = 4/);
  });
});

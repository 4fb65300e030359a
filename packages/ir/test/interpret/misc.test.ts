import { describe, expect, it } from "vitest";
import { batchNormImpl, castImpl, floatToHalf, halfToFloat, softmaxImpl } from "@xbarc/ir";
import { expectClose } from "./helpers.js";

describe("softmaxImpl", () => {
  it("normalises along a middle axis", () => {
    // shape [2,3,2], axis 1
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0]);
    const y = softmaxImpl(x, [2, 3, 2], 1);
    const e = [Math.exp(1), Math.exp(3), Math.exp(5)];
    const s = e[0]! + e[1]! + e[2]!;
    expectClose([y[0]!, y[2]!, y[4]!], e.map((v) => v / s));
    expectClose([y[6]!, y[8]!, y[10]!], [1 / 3, 1 / 3, 1 / 3]);
  });

  it("stays finite for huge inputs (ONNX softmax_large_number)", () => {
    const y = softmaxImpl(Float32Array.from([10000, 10001, 10002, 10003]), [4], 0);
    const e = [Math.exp(-3), Math.exp(-2), Math.exp(-1), 1];
    const s = e.reduce((a, b) => a + b);
    expectClose(y, e.map((v) => v / s));
  });

  it("computes logsoftmax as x − max − log Σexp without overflow", () => {
    const y = softmaxImpl(Float64Array.from([1000, 1001]), [2], 0, true);
    const lse = 1001 + Math.log(1 + Math.exp(-1));
    expectClose(y, [1000 - lse, 1001 - lse], 1e-12, 1e-12);
  });
});

describe("batchNormImpl", () => {
  it("normalises each channel with its own statistics", () => {
    const x = Float32Array.from([1, 2, 3, 4]); // [1,2,2]
    const y = batchNormImpl(x, [1, 2, 2], Float32Array.from([1, 2]), Float32Array.from([0, 1]), Float32Array.from([1, 3]), Float32Array.from([4, 1]), 0);
    expectClose(y, [0, 0.5, 1, 3]);
  });
});

describe("castImpl", () => {
  it("truncates floats toward zero into integers and maps NaN to 0", () => {
    const x = Float32Array.from([2.9, -2.9, NaN, 1e3]);
    expect(Array.from(castImpl(x, "f32", "i32") as Int32Array)).toEqual([2, -2, 0, 1000]);
    expect(Array.from(castImpl(x, "f32", "i64") as BigInt64Array)).toEqual([2n, -2n, 0n, 1000n]);
  });

  it("rounds to half precision (round to nearest even) for f16", () => {
    const got = castImpl(Float32Array.from([1, 1 + 2 ** -11, 65504, 1e6]), "f32", "f16") as Uint16Array;
    expect(Array.from(got, halfToFloat)).toEqual([1, 1, 65504, Infinity]);
    expect(got[0]).toBe(floatToHalf(1));
  });

  it("maps nonzero (and NaN) to true for bool, and bool to 0/1", () => {
    expect(Array.from(castImpl(Float32Array.from([0, -0, 0.1, NaN]), "f32", "bool") as Uint8Array)).toEqual([0, 0, 1, 1]);
    expect(Array.from(castImpl(Uint8Array.from([0, 1]), "bool", "f32") as Float32Array)).toEqual([0, 1]);
  });

  it("keeps i64 ↔ u64 exact and widens f16 exactly", () => {
    expect(Array.from(castImpl(BigInt64Array.from([-1n]), "i64", "u64") as BigUint64Array)).toEqual([2n ** 64n - 1n]);
    const h = Uint16Array.from([floatToHalf(0.333251953125)]);
    expect(Array.from(castImpl(h, "f16", "f64") as Float64Array)).toEqual([0.333251953125]);
  });
});

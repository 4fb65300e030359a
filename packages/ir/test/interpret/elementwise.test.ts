import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { binaryImpl, broadcastShapes, clipImpl, halfToFloat, leakyReluImpl, Module, reluImpl, runOp, sigmoidImpl, tensorFromNumbers, type Tensor } from "@xbarc/ir";
import { expectClose, flatIndex, indices, randomF32, rng, size } from "./helpers.js";

/** numpy broadcasting from its definition: align right, size-1 dims repeat. */
function naiveBroadcast(a: ArrayLike<number>, aShape: number[], b: ArrayLike<number>, bShape: number[], f: (x: number, y: number) => number) {
  const rank = Math.max(aShape.length, bShape.length);
  const pa = [...new Array(rank - aShape.length).fill(1), ...aShape];
  const pb = [...new Array(rank - bShape.length).fill(1), ...bShape];
  const out = pa.map((d, i) => Math.max(d, pb[i]!));
  const data: number[] = [];
  for (const idx of indices(out)) {
    const ia = flatIndex(pa, idx.map((v, i) => (pa[i] === 1 ? 0 : v)));
    const ib = flatIndex(pb, idx.map((v, i) => (pb[i] === 1 ? 0 : v)));
    data.push(f(a[ia]!, b[ib]!));
  }
  return { data, shape: out };
}

function binaryOp(opcode: string, a: Tensor, b: Tensor): Tensor {
  const m = new Module("t");
  const x = m.addInput("a", a.type);
  const y = m.addInput("b", b.type);
  const op = m.addOp(opcode, [x, y], [{ name: "c", type: { dtype: a.type.dtype, shape: broadcastShapes(a.type.shape, b.type.shape) } }]);
  return runOp(op, [a, b])[0]!;
}

describe("binaryImpl", () => {
  it("broadcasts like numpy for every pair of random compatible shapes", () => {
    const rand = rng(11);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (full, ones, drop) => {
          const aShape = full;
          // b: drop some leading dims and set some dims to 1
          const bShape = full.slice(Math.min(drop, full.length)).map((d, i) => (ones[i] ? 1 : d));
          const a = randomF32(rand, size(aShape));
          const b = randomF32(rand, size(bShape));
          for (const [kind, f] of [["add", (x: number, y: number) => x + y], ["sub", (x: number, y: number) => x - y], ["mul", (x: number, y: number) => x * y]] as const) {
            const ref = naiveBroadcast(a, aShape, b, bShape, f);
            const out = broadcastShapes(aShape, bShape);
            expect(out).toEqual(ref.shape);
            expectClose(binaryImpl(kind, a, aShape, b, bShape, out) as Float32Array, ref.data);
            // and with the operands swapped, so a is the broadcast one
            const swapped = naiveBroadcast(b, bShape, a, aShape, f);
            expectClose(binaryImpl(kind, b, bShape, a, aShape, out) as Float32Array, swapped.data);
          }
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it("rejects shapes that do not broadcast, naming both", () => {
    expect(() => broadcastShapes([2, 3], [4, 3])).toThrow(/\[2,3\] and \[4,3\] cannot be broadcast/);
  });

  it("truncates integer division toward zero, as ONNX requires", () => {
    const c = binaryOp("div", tensorFromNumbers("i32", [4], [7, -7, 7, -7]), tensorFromNumbers("i32", [4], [2, 2, -2, -2]));
    expect(Array.from(c.data as Int32Array)).toEqual([3, -3, -3, 3]);
  });

  it("wraps integer overflow like the machine type", () => {
    const add8 = binaryOp("add", tensorFromNumbers("i8", [2], [127, -128]), tensorFromNumbers("i8", [2], [1, -1]));
    expect(Array.from(add8.data as Int8Array)).toEqual([-128, 127]);
    const mul32 = binaryOp("mul", tensorFromNumbers("i32", [1], [0x40000001]), tensorFromNumbers("i32", [1], [4]));
    expect(Array.from(mul32.data as Int32Array)).toEqual([4]);
    const subU8 = binaryOp("sub", tensorFromNumbers("u8", [1], [1]), tensorFromNumbers("u8", [1], [2]));
    expect(Array.from(subU8.data as Uint8Array)).toEqual([255]);
  });

  it("computes i64 and u64 exactly with BigInt, beyond 2^53", () => {
    const a = { type: { dtype: "i64" as const, shape: [2] }, data: BigInt64Array.from([2n ** 62n, -(2n ** 62n) - 3n]) };
    const b = { type: { dtype: "i64" as const, shape: [] }, data: BigInt64Array.from([2n]) };
    expect(Array.from(binaryOp("mul", a, b).data as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 63n - 6n]);
    expect(Array.from(binaryOp("div", a, b).data as BigInt64Array)).toEqual([2n ** 61n, -(2n ** 61n) - 1n]);
    const u = { type: { dtype: "u64" as const, shape: [1] }, data: BigUint64Array.from([2n ** 64n - 1n]) };
    const one = { type: { dtype: "u64" as const, shape: [1] }, data: BigUint64Array.from([1n]) };
    expect(Array.from(binaryOp("add", u, one).data as BigUint64Array)).toEqual([0n]);
  });

  it("computes f16 in f32 and rounds back to half", () => {
    const c = binaryOp("add", tensorFromNumbers("f16", [2], [1, 2048]), tensorFromNumbers("f16", [2], [0.0009765625, 1]));
    expect(c.data).toBeInstanceOf(Uint16Array);
    // 1 + 2^-10 is representable in half; 2048 + 1 rounds to even (2048)
    expect(Array.from(c.data as Uint16Array, halfToFloat)).toEqual([1.0009765625, 2048]);
  });
});

describe("activations", () => {
  it("keeps sigmoid finite and accurate for large |x|", () => {
    const y = sigmoidImpl(Float64Array.from([-1000, -50, 0, 50, 1000]));
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(Math.exp(-50), 30);
    expect(y[2]).toBe(0.5);
    expect(y[3]).toBe(1);
    expect(y[4]).toBe(1);
    expect(Array.from(y).every(Number.isFinite)).toBe(true);
  });

  it("applies relu to any dtype, including BigInt64Array", () => {
    expect(Array.from(reluImpl(Float32Array.from([-1, 0, 2.5])) as Float32Array)).toEqual([0, 0, 2.5]);
    expect(Array.from(reluImpl(Int8Array.from([-5, 5])) as Int8Array)).toEqual([0, 5]);
    expect(Array.from(reluImpl(BigInt64Array.from([-5n, 5n])) as BigInt64Array)).toEqual([0n, 5n]);
  });

  it("scales negative inputs by alpha in leakyrelu", () => {
    expect(Array.from(leakyReluImpl(Float32Array.from([-2, 3]), 0.1))).toEqual([Math.fround(-0.2), 3]);
  });

  it("clips with open bounds, and lets max win when min > max (as onnxruntime)", () => {
    expect(Array.from(clipImpl(Float32Array.from([-3, 0, 3]), -1) as Float32Array)).toEqual([-1, 0, 3]);
    expect(Array.from(clipImpl(Float32Array.from([-3, 0, 3]), undefined, 1) as Float32Array)).toEqual([-3, 0, 1]);
    expect(Array.from(clipImpl(Float32Array.from([-3, 0, 3]), 2, 1) as Float32Array)).toEqual([1, 1, 1]);
    expect(Array.from(clipImpl(BigInt64Array.from([-3n, 9n]), -1n, 4n) as BigInt64Array)).toEqual([-1n, 4n]);
  });
});

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { concatImpl, gatherImpl, Module, padImpl, resolveSlice, runOp, sliceImpl, tensorFromNumbers, transposeImpl, type Tensor, type TensorType } from "@xbarc/ir";
import { flatIndex, indices, size } from "./helpers.js";

const iota = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i);
const i64 = (values: number[]): Tensor => tensorFromNumbers("i64", [values.length], values);

/** Runs one op built from operand tensors; the result type is a placeholder, runOp infers the real one. */
function run(opcode: string, operands: (Tensor | null)[], attrs = {}): Tensor {
  const m = new Module("t");
  const vals = operands.map((t, i) => (t ? m.addInput(`x${i}`, t.type) : null));
  const op = m.addOp(opcode, vals, [{ name: "y", type: { dtype: "f32", shape: [] } as TensorType }], attrs);
  return runOp(op, operands)[0]!;
}

describe("transposeImpl", () => {
  it("puts element x[j] at out[i] with i_k = j_perm[k]", () => {
    const shape = [2, 3, 4];
    const x = iota(24);
    const perm = [2, 0, 1];
    const got = transposeImpl(x, shape, perm);
    expect(got.shape).toEqual([4, 2, 3]);
    for (const j of indices(shape)) {
      const i = perm.map((p) => j[p]!);
      expect(got.data[flatIndex(got.shape, i)]).toBe(x[flatIndex(shape, j)]);
    }
  });

  it("is undone by the inverse permutation (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }).chain((shape) =>
          fc.tuple(fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length })),
        ),
        ([shape, perm]) => {
          const x = iota(size(shape));
          const inverse = perm.map((_, i) => perm.indexOf(i));
          const once = transposeImpl(x, shape, perm);
          const back = transposeImpl(once.data, once.shape, inverse);
          expect(back.shape).toEqual(shape);
          expect(Array.from(back.data as Float32Array)).toEqual(Array.from(x));
        },
      ),
      { seed: 7, numRuns: 50 },
    );
  });

  it("moves BigInt64Array and raw f16 bits without converting them", () => {
    const big = transposeImpl(BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n]), [2, 3], [1, 0]);
    expect(Array.from(big.data as BigInt64Array)).toEqual([1n, 4n, 2n, 5n, 3n, 6n]);
    const half = transposeImpl(Uint16Array.from([0x3c00, 0x4000, 0xc000, 0x7c00]), [2, 2], [1, 0]);
    expect(Array.from(half.data as Uint16Array)).toEqual([0x3c00, 0xc000, 0x4000, 0x7c00]);
  });
});

describe("reshape", () => {
  it("preserves the data in row-major order for any target with one inferred dim (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.nat(), (shape, pick) => {
        const x = tensorFromNumbers("f32", shape, iota(size(shape)));
        const target = [...shape].reverse();
        target[pick % target.length] = -1;
        const y = run("reshape", [x, i64(target)], { allowzero: 0 });
        expect(y.type.shape).toEqual([...shape].reverse());
        expect(Array.from(y.data as Float32Array)).toEqual(Array.from(x.data as Float32Array));
      }),
      { seed: 3, numRuns: 40 },
    );
  });

  it("copies input dims for 0 unless allowzero is set", () => {
    const x = tensorFromNumbers("f32", [2, 3, 4], iota(24));
    expect(run("reshape", [x, i64([0, 0, -1])], { allowzero: 0 }).type.shape).toEqual([2, 3, 4]);
    expect(() => run("reshape", [x, i64([0, 24])], { allowzero: 1 })).toThrow(/cannot reshape \[2,3,4\]/);
  });
});

describe("sliceImpl", () => {
  it("walks backwards with negative steps and clamps INT64_MIN ends (ONNX slice_neg_steps)", () => {
    // data [20,10,5], starts [20,10,4], ends [0,0,1], axes [0,1,2], steps [-1,-3,-2] → [19,3,2]
    const dims = resolveSlice("slice", [20, 10, 5], [20, 10, 4], [0, 0, 1], [0, 1, 2], [-1, -3, -2]);
    expect(dims.map((d) => d.count)).toEqual([19, 3, 2]);
    const x = iota(1000);
    const got = sliceImpl(x, [20, 10, 5], dims);
    // first element: x[19, 9, 4]; last: x[1, 3, 2]
    expect(got.data[0]).toBe(19 * 50 + 9 * 5 + 4);
    expect(got.data[got.data.length - 1]).toBe(1 * 50 + 3 * 5 + 2);
    const all = resolveSlice("slice", [4], [-1], [-9.223372036854776e18], [0], [-1]);
    expect(Array.from(sliceImpl(iota(4), [4], all).data as Float32Array)).toEqual([3, 2, 1, 0]);
  });

  it("matches a naive strided selection on a 2-D case with negative starts and out-of-range ends", () => {
    const x = iota(30);
    const y = run("slice", [tensorFromNumbers("f32", [5, 6], x), i64([-4, 1]), i64([1000, 6]), i64([0, 1]), i64([2, 2])]);
    expect(y.type.shape).toEqual([2, 3]);
    const expected: number[] = [];
    for (let r = 1; r < 5; r += 2) for (let c = 1; c < 6; c += 2) expected.push(r * 6 + c);
    expect(Array.from(y.data as Float32Array)).toEqual(expected);
  });
});

describe("gatherImpl", () => {
  it("takes along an axis and wraps negative indices", () => {
    // data [3,4], indices [[-1, 0]] along axis 1 → [3,1,2]
    const got = gatherImpl(iota(12), [3, 4], 1, [-1, 0], [1, 2]);
    expect(got.shape).toEqual([3, 1, 2]);
    expect(Array.from(got.data as Float32Array)).toEqual([3, 0, 7, 4, 11, 8]);
  });

  it("rejects an index out of range", () => {
    expect(() => gatherImpl(iota(4), [4], 0, [4], [1])).toThrow(/out of range/);
  });

  it("gathers i64 data with i32 indices through the op", () => {
    const data = { type: { dtype: "i64" as const, shape: [3] }, data: BigInt64Array.from([10n, 20n, 30n]) };
    const y = run("gather", [data, tensorFromNumbers("i32", [2], [2, -3])], { axis: 0 });
    expect(Array.from(y.data as BigInt64Array)).toEqual([30n, 10n]);
  });
});

describe("concatImpl", () => {
  it("joins along a middle axis", () => {
    const got = concatImpl([iota(4), Float32Array.from([9, 9])], [[2, 2], [2, 1]], 1);
    expect(got.shape).toEqual([2, 3]);
    expect(Array.from(got.data as Float32Array)).toEqual([0, 1, 9, 2, 3, 9]);
  });
});

describe("padImpl", () => {
  const x = Float32Array.from([1, 2, 3, 4, 5, 6]); // [2,3]
  it("pads with a constant and crops with negative pads", () => {
    const got = padImpl(x, [2, 3], [1, -1, 0, 1], "constant", 7);
    expect(got.shape).toEqual([3, 3]);
    expect(Array.from(got.data as Float32Array)).toEqual([7, 7, 7, 2, 3, 7, 5, 6, 7]);
  });
  it("mirrors without repeating the edge in reflect mode", () => {
    expect(Array.from(padImpl(x, [2, 3], [0, 2, 0, 2], "reflect", 0).data as Float32Array)).toEqual([3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4]);
  });
  it("repeats the edge in edge mode and tiles in wrap mode", () => {
    expect(Array.from(padImpl(x, [2, 3], [1, 1, 0, 0], "edge", 0).data as Float32Array)).toEqual([1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6]);
    expect(Array.from(padImpl(x, [2, 3], [0, 1, 0, 1], "wrap", 0).data as Float32Array)).toEqual([3, 1, 2, 3, 1, 6, 4, 5, 6, 4]);
  });
  it("pads only the listed axes through the op", () => {
    const y = run("pad", [tensorFromNumbers("f32", [2, 3], x), i64([1, 1]), tensorFromNumbers("f32", [], [0.5]), i64([-1])], { mode: "constant" });
    expect(y.type.shape).toEqual([2, 5]);
    expect(Array.from(y.data as Float32Array)).toEqual([0.5, 1, 2, 3, 0.5, 0.5, 4, 5, 6, 0.5]);
  });
});

describe("squeeze, unsqueeze, flatten, shape", () => {
  it("squeezes the listed (or all size-1) dims and unsqueezes at output positions", () => {
    const x = tensorFromNumbers("f32", [1, 3, 1, 2], iota(6));
    expect(run("squeeze", [x, null]).type.shape).toEqual([3, 2]);
    expect(run("squeeze", [x, i64([-2])]).type.shape).toEqual([1, 3, 2]);
    expect(() => run("squeeze", [x, i64([1])])).toThrow(/cannot squeeze axis 1/);
    expect(run("unsqueeze", [tensorFromNumbers("f32", [3, 2], iota(6)), i64([3, 0])]).type.shape).toEqual([1, 3, 2, 1]);
  });

  it("flattens around a negative axis", () => {
    expect(run("flatten", [tensorFromNumbers("f32", [2, 3, 4], iota(24))], { axis: -1 }).type.shape).toEqual([6, 4]);
  });

  it("returns the clamped dims as i64", () => {
    const y = run("shape", [tensorFromNumbers("f32", [2, 3, 4], iota(24))], { start: -2, end: 10 });
    expect(y.type).toEqual({ dtype: "i64", shape: [2] });
    expect(Array.from(y.data as BigInt64Array)).toEqual([3n, 4n]);
  });
});

import { describe, expect, it } from "vitest";
import { gemmImpl, linearImpl, matmulImpl } from "@xbarc/ir";
import { expectClose, randomF32, rng } from "./helpers.js";

/** C[i,j] = Σ_t A[i,t]·B[t,j] from the definition, with element getters so transposes are explicit. */
function naiveMatmul(m: number, k: number, n: number, a: (i: number, t: number) => number, b: (t: number, j: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a(i, t) * b(t, j);
      out.push(s);
    }
  }
  return out;
}

describe("gemmImpl", () => {
  for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    it(`computes alpha·A'·B' + beta·C with trans_a=${Number(transA)}, trans_b=${Number(transB)}`, () => {
      const rand = rng(50 + Number(transA) * 2 + Number(transB));
      const [m, k, n] = [5, 7, 6];
      const a = randomF32(rand, m * k);
      const b = randomF32(rand, k * n);
      const c = randomF32(rand, n);
      const ga = transA ? (i: number, t: number) => a[t * m + i]! : (i: number, t: number) => a[i * k + t]!;
      const gb = transB ? (t: number, j: number) => b[j * k + t]! : (t: number, j: number) => b[t * n + j]!;
      const ref = naiveMatmul(m, k, n, ga, gb).map((v, idx) => 0.5 * v + 2 * c[idx % n]!);
      const got = gemmImpl(a, transA ? [k, m] : [m, k], b, transB ? [n, k] : [k, n], c, [n], 0.5, 2, transA, transB);
      expect(got.shape).toEqual([m, n]);
      expectClose(got.data, ref);
    });
  }

  it("broadcasts a column bias C [M,1] and a scalar C", () => {
    const a = Float32Array.from([1, 2, 3, 4]);
    const eye = Float32Array.from([1, 0, 0, 1]);
    expect(Array.from(gemmImpl(a, [2, 2], eye, [2, 2], Float32Array.from([10, 20]), [2, 1], 1, 1, false, false).data)).toEqual([11, 12, 23, 24]);
    expect(Array.from(gemmImpl(a, [2, 2], eye, [2, 2], Float32Array.from([5]), [], 1, 1, false, false).data)).toEqual([6, 7, 8, 9]);
  });
});

describe("matmulImpl", () => {
  it("broadcasts batch dims and promotes 1-D operands", () => {
    const rand = rng(60);
    const a = randomF32(rand, 2 * 1 * 3 * 4);
    const b = randomF32(rand, 3 * 4 * 5);
    const got = matmulImpl(a, [2, 1, 3, 4], b, [3, 4, 5]);
    expect(got.shape).toEqual([2, 3, 3, 5]);
    const ref: number[] = [];
    for (let p = 0; p < 2; p++) {
      for (let q = 0; q < 3; q++) {
        ref.push(...naiveMatmul(3, 4, 5, (i, t) => a[p * 12 + i * 4 + t]!, (t, j) => b[q * 20 + t * 5 + j]!));
      }
    }
    expectClose(got.data, ref);
    const v = Float32Array.from([1, 2, 3, 4]);
    const vv = matmulImpl(v, [4], v, [4]);
    expect(vv.shape).toEqual([]);
    expect(Array.from(vv.data)).toEqual([30]);
    const mv = matmulImpl(b.subarray(0, 20), [4, 5], Float32Array.from([1, 0, 0, 0, 0]), [5]);
    expect(mv.shape).toEqual([4]);
    expectClose(mv.data, [b[0]!, b[5]!, b[10]!, b[15]!]);
  });
});

describe("linearImpl", () => {
  it("computes y = x·wᵀ + b over all leading dims, with row counts not divisible by the blocking", () => {
    const rand = rng(70);
    const [rows, k, n] = [7, 13, 9];
    const x = randomF32(rand, rows * k);
    const w = randomF32(rand, n * k);
    const b = randomF32(rand, n);
    const got = linearImpl(x, [7, 1, k], w, [n, k], b);
    expect(got.shape).toEqual([7, 1, n]);
    const ref = naiveMatmul(rows, k, n, (i, t) => x[i * k + t]!, (t, j) => w[j * k + t]!).map((v, idx) => v + b[idx % n]!);
    expectClose(got.data, ref);
  });

  it("sums each output from t = 0 up and adds the bias last, bit for bit, whatever the blocking (every row and column count 1..9)", () => {
    const rand = rng(71);
    for (const k of [0, 3, 17]) {
      for (let rows = 1; rows <= 9; rows++) {
        for (let n = 1; n <= 9; n++) {
          const x = Float64Array.from(randomF32(rand, rows * k), (v) => v * 1.1);
          const w = Float64Array.from(randomF32(rand, n * k), (v) => v / 3);
          const b = rows % 2 === 0 ? Float64Array.from(randomF32(rand, n)) : null;
          const got = linearImpl(x, [rows, k], w, [n, k], b);
          const ref = naiveMatmul(rows, k, n, (i, t) => x[i * k + t]!, (t, j) => w[j * k + t]!).map((v, idx) => v + (b ? b[idx % n]! : 0));
          expect(Array.from(got.data), `${rows}×${k} · ${n}×${k}`).toEqual(ref);
        }
      }
    }
  });
});

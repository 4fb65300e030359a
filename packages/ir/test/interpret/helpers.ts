/** @fileoverview Test helpers for the interpreter: a seeded PRNG, random tensors and closeness checks. */
import { expect } from "vitest";

/** mulberry32: a tiny seeded PRNG so every random case is replayable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform floats in [-1, 1) as Float32Array. */
export function randomF32(rand: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}

/** Random integer in [lo, hi]. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Product of dims. */
export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major flat index of a multi-index. */
export function flatIndex(shape: readonly number[], idx: readonly number[]): number {
  let off = 0;
  for (let d = 0; d < shape.length; d++) off = off * shape[d]! + idx[d]!;
  return off;
}

/** Every multi-index of a shape in row-major order. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = size(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise (ORT conformance tolerance by default), naming the first bad index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `index ${i}: expected NaN, found ${a}`).toBe(true);
      continue;
    }
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) expect.fail(`index ${i}: expected ${e}, found ${a} (|diff| ${Math.abs(a - e)})`);
  }
}

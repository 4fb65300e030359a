/** @fileoverview Tolerance comparison of float outputs (scaled by the reference's range) and top-1 helpers. */
import { expect } from "vitest";

/** Largest |a[i] − b[i]| and where it occurs (NaN anywhere counts as infinite). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; index: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  let index = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    const dd = Number.isNaN(d) ? Infinity : d;
    if (dd > max || index < 0) {
      max = dd;
      index = i;
    }
  }
  return { max, index };
}

/** max − min of the values (0 for an empty array). */
export function valueRange(a: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < lo) lo = a[i]!;
    if (a[i]! > hi) hi = a[i]!;
  }
  return a.length ? hi - lo : 0;
}

/** Options of {@link expectClose}. */
export interface CloseOptions {
  /** allowed max |actual − expected| as a fraction of max(1, range(expected)); default 1e-4 */
  readonly relToRange?: number;
  /** what is being compared, for the failure message */
  readonly label?: string;
}

/**
 * Asserts max |actual − expected| ≤ relToRange · max(1, range(expected)) elementwise, with a failure message
 * naming the worst element. Returns the measured error for reporting.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, options: CloseOptions = {}): { max: number; tolerance: number } {
  const rel = options.relToRange ?? 1e-4;
  const label = options.label ?? "values";
  expect(actual.length, `${label}: element count`).toBe(expected.length);
  const tolerance = rel * Math.max(1, valueRange(expected));
  const { max, index } = maxAbsDiff(actual, expected);
  const detail = `${label}: max |Δ| = ${max.toExponential(3)} at [${index}] (actual ${actual[index]}, expected ${expected[index]}), tolerance ${tolerance.toExponential(3)}`;
  expect(max <= tolerance, detail).toBe(true);
  return { max, tolerance };
}

/** Arg-max of each row of a row-major [rows, cols] matrix (first index wins ties). */
export function argmaxRows(data: ArrayLike<number>, cols: number): Int32Array {
  if (data.length % cols !== 0) throw new Error(`${data.length} values are not rows of ${cols}`);
  const rows = data.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c]! > data[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** How many predictions equal their labels. */
export function countCorrect(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) n++;
  return n;
}

/** Indices where two prediction arrays differ. */
export function disagreements(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/** Concatenates float32 arrays. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

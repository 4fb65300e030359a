/** @fileoverview Tolerance comparison of float outputs (scaled by the reference's range), bit-for-bit differences, and top-1 helpers. */
import { expect } from "vitest";
import type { FixedPointResult, SimulationRun } from "@xbarc/backend-sim";

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

/** "" when a and b hold the same float64 values bit for bit (Object.is per element), else where they first differ. */
export function bitDifference(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `element ${i}: ${a[i]} vs ${b[i]}`;
  return "";
}

/** Same as bitDifference, over lists of arrays (row tiles). */
export function listBitDifference(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): string {
  if (a.length !== b.length) return `${a.length} and ${b.length} row tiles`;
  for (let i = 0; i < a.length; i++) {
    const d = bitDifference(a[i]!, b[i]!);
    if (d) return `row tile ${i}, ${d}`;
  }
  return "";
}

/** "" when two lists of runs hold the same outputs bit for bit (every output of `a` present in `b`), else where they first differ. */
export function runsBitDifference(a: readonly SimulationRun[], b: readonly SimulationRun[]): string {
  if (a.length !== b.length) return `${a.length} and ${b.length} runs`;
  for (let i = 0; i < a.length; i++) {
    for (const [name, t] of a[i]!.outputs) {
      const other = b[i]!.outputs.get(name);
      if (!other) return `run ${i}: no output ${name}`;
      const d = bitDifference(t.data as Float64Array, other.data as Float64Array);
      if (d) return `run ${i}, output ${name}: ${d}`;
    }
  }
  return "";
}

/**
 * Expects a simulation with recordInts to equal runFixedPoint's result on the same input bit for bit: per layer the
 * fraction length, x_int, every row tile's accumulators before and after the truncation window and the output
 * integers, then every output. `path` labels the messages.
 */
export function expectSimulationEqualsFixedPoint(sim: SimulationRun, ref: FixedPointResult, layers: readonly { readonly name: string }[], path: string): void {
  for (const layer of layers) {
    const a = sim.ints!.get(layer.name)!;
    const b = ref.ints!.get(layer.name)!;
    expect(a.fl, `${layer.name} fl`).toBe(b.fl);
    expect(bitDifference(a.x, b.x), `${layer.name} x_int (${path})`).toBe("");
    expect(listBitDifference(a.tiles, b.tiles), `${layer.name} row-tile accumulators (${path})`).toBe("");
    expect(listBitDifference(a.kept, b.kept), `${layer.name} kept windows (${path})`).toBe("");
    expect(bitDifference(a.out, b.out), `${layer.name} output integers (${path})`).toBe("");
  }
  for (const [name, t] of ref.outputs) {
    expect(bitDifference(sim.outputs.get(name)!.data as Float64Array, t.data as Float64Array), `output ${name} (${path})`).toBe("");
  }
}

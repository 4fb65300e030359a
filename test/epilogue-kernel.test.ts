/**
 * @fileoverview The layer tail's integer form (kernels.wat `epilogue` with a shift k ≥ 0) against its float64 form —
 * which the engine tests hold to the reference engine — on seeded random i32 accumulators: ReLU or not, signed and
 * unsigned quantize formats (a ReLU before a signed format is the one case the final clamp does not cover), integer
 * biases or none, 2×2 max pools or none, shifts 0 to 6, channel counts that leave 1 to 8 lanes of the last eight,
 * output planes that leave 0 to 3 positions past the kernel's blocks of four, and accumulators far past the quantize
 * range (the kernel's pre-clamps).
 */
import { describe, expect, it } from "vitest";
import { KernelArena } from "../packages/backend-sim/src/sim/wasm/module.js";
import { range } from "./helpers/datasets.js";

interface TailCase {
  name: string; batch: number; height: number; width: number; channels: number; relu: boolean; pool: boolean; bias: Int32Array | undefined;
  shift: number; fq: number; lo: number; hi: number; acc: Int32Array;
}

function tailCase(seed: number): TailCase {
  let state = seed >>> 0;
  const next = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
  const batch = 1 + next(3);
  // a height×width plane, even for the 2×2 pool; pooled, 1 to 18 output positions
  const height = 2 + 2 * next(3);
  const width = 2 + 2 * next(6);
  const channels = 1 + next(9);
  const relu = next(2) === 0;
  const pool = next(2) === 0;
  const bias = next(3) === 0 ? undefined : Int32Array.from({ length: channels }, () => next(201) - 100);
  const shift = next(7);
  const fq = next(4) - 1;
  const bits = 4 + next(5);
  const signed = next(2) === 0;
  const [lo, hi] = signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
  const acc = Int32Array.from({ length: batch * height * width * channels }, () => {
    const u = next(20);
    // mostly within a few times the quantize range, some far beyond it either way, up to the ends of i32 (where adding
    // a bias or the rounding's 2^(k−1) would wrap without the kernel's clamps)
    if (u === 0) return 2 ** 31 - 1 - next(100);
    if (u === 1) return -(2 ** 31) + next(100);
    return next(8 * (hi - lo + 1) * 2 ** shift) - 4 * (hi - lo + 1) * 2 ** shift;
  });
  return {
    name: `seed ${seed}: ${batch} × ${height}×${width} × ${channels}, ${relu ? "ReLU, " : ""}${pool ? "2×2 pool, " : ""}${bias ? "bias, " : ""}k ${shift}, [${lo}, ${hi}]`,
    batch, height, width, channels, relu, pool, bias, shift, fq, lo, hi, acc,
  };
}

/** 2×2 max-pool windows over a height×width plane: per output position the offsets of its four taps. */
function poolTaps(height: number, width: number): { tapStarts: Int32Array; taps: Int32Array } {
  const taps: number[] = [];
  const tapStarts = Int32Array.from({ length: (height / 2) * (width / 2) + 1 }, (_, q) => 4 * q);
  for (let y = 0; y < height / 2; y++) {
    for (let x = 0; x < width / 2; x++) taps.push(2 * y * width + 2 * x, 2 * y * width + 2 * x + 1, (2 * y + 1) * width + 2 * x, (2 * y + 1) * width + 2 * x + 1);
  }
  return { tapStarts, taps: Int32Array.from(taps) };
}

/** Positions of a case's output plane. */
function outputPositions(c: TailCase): number {
  return c.pool ? (c.height * c.width) / 4 : c.height * c.width;
}

const SENTINEL = 0x5a5a5a5a;

/** The kernel's output ([batch, channels, outPositions]) as numbers, and (integer form) its reported range and whether the i32s past the output are untouched. */
function runEpilogue(arena: KernelArena, c: TailCase, integer: boolean): { values: number[]; range?: [number, number]; past?: boolean } {
  const mark = arena.mark();
  const positions = c.height * c.width;
  const outPositions = outputPositions(c);
  const count = c.batch * c.channels * outPositions;
  const accAt = arena.scratch(c.acc.length * 4 + 32);
  arena.i32(accAt, c.acc.length).set(c.acc);
  let biasAt = 0;
  if (c.bias) {
    biasAt = arena.scratch(c.channels * 8 + 24);
    if (integer) arena.i32(biasAt, c.channels).set(c.bias);
    else arena.f64(biasAt, c.channels).set(c.bias);
  }
  let tapStartsAt = 0;
  let tapsAt = 0;
  if (c.pool) {
    const { tapStarts, taps } = poolTaps(c.height, c.width);
    tapStartsAt = arena.scratch(tapStarts.length * 4);
    arena.i32(tapStartsAt, tapStarts.length).set(tapStarts);
    tapsAt = arena.scratch(taps.length * 4);
    arena.i32(tapsAt, taps.length).set(taps);
  }
  const outAt = arena.scratch(count * 8);
  // a sentinel past the integer form's output (count i32): the kernel must not store there
  arena.i32(outAt, count * 2).fill(SENTINEL);
  const rangeAt = arena.scratch(8);
  // moveScale · qScale = 2^−k; the clamping bounds as the kernel's contract asks
  const moveScale = 2 ** -(c.shift + c.fq);
  const largestBias = c.bias ? Math.max(...Array.from(c.bias, Math.abs)) : 0;
  const L = (c.lo - 1) * 2 ** c.shift;
  const H = (c.hi + 1) * 2 ** c.shift;
  arena.exports.epilogue(accAt, 1, c.batch, positions, c.channels, biasAt, moveScale, c.relu ? 1 : 0, tapStartsAt, tapsAt, outPositions, 2 ** c.fq, c.lo, c.hi,
    outAt, integer ? c.shift : -1, L - largestBias, H + largestBias, L, H, rangeAt);
  const result = integer
    ? { values: Array.from(arena.i32(outAt, count)), range: Array.from(arena.i32(rangeAt, 2)) as [number, number], past: arena.i32(outAt, count * 2).subarray(count).every((v) => v === SENTINEL) }
    : { values: Array.from(arena.f64(outAt, count)) };
  arena.release(mark);
  return result;
}

describe("the layer tail's integer form (kernels.wat epilogue)", () => {
  const CASES = range(1, 161).map((seed) => tailCase(9000 + seed));

  it("the cases cover ReLU before a signed format, pools, biases, every last-group width, every position tail and accumulators beyond the range", () => {
    expect(CASES.some((c) => c.relu && c.lo < 0)).toBe(true);
    expect(CASES.some((c) => c.pool && c.bias && c.relu)).toBe(true);
    for (const lanes of range(1, 9)) expect(CASES.some((c) => ((c.channels - 1) % 8) + 1 === lanes), `${lanes} lanes`).toBe(true);
    for (const left of range(0, 4)) expect(CASES.some((c) => outputPositions(c) % 4 === left && outputPositions(c) > 4), `${left} positions left`).toBe(true);
    expect(CASES.some((c) => c.shift === 0)).toBe(true);
    expect(CASES.some((c) => c.bias && c.acc.some((a) => Math.abs(a) >= 2 ** 31 - 100))).toBe(true);
  });

  it("gives the float64 form's quantized values, and their range over 0 and the values, on 160 random tails, storing nothing past its output", () => {
    const arena = new KernelArena();
    for (const c of CASES) {
      const float = runEpilogue(arena, c, false).values;
      const { values, range: got, past } = runEpilogue(arena, c, true);
      expect(values, c.name).toEqual(float);
      expect(past, `${c.name}: nothing stored past the output`).toBe(true);
      expect(got, c.name).toEqual([Math.min(0, ...float), Math.max(0, ...float)]);
    }
  });
});

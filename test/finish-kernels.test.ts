/**
 * @fileoverview The WebAssembly finish of a faithful tile's exact reads in i32 (kernels.wat `finish_slices_i32`)
 * against the TypeScript it replaces — combineSlicesImpl, subtractPerColumnImpl, truncateWindowImpl, then the add into
 * the layer's accumulators — on seeded random reads: both combine schemes, 1 to 5 slices (4, the kernel's vector
 * form, with column counts either side of a multiple of 4), left and right truncation shifts, windows and none.
 */
import { describe, expect, it } from "vitest";
import { combineSlicesImpl, subtractPerColumnImpl, truncateWindowImpl, type CombineScheme } from "@xbarc/backend-sim";
import { KernelArena } from "../packages/backend-sim/src/sim/wasm/module.js";
import { range } from "./helpers/datasets.js";
import { bitDifference } from "./helpers/compare.js";

interface FinishCase {
  name: string; scheme: CombineScheme; slices: number; cellBits: number; cols: number; outer: number;
  reads: Int32Array; physCols: number; correction: Int32Array; dL: number; oRwl: number | undefined; acc: Int32Array; accStride: number; colBase: number;
}

function finishCase(seed: number): FinishCase {
  let state = seed >>> 0;
  const next = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
  const scheme: CombineScheme = next(2) === 0 ? "differential" : "offset-column";
  const slices = 1 + next(5);
  const cellBits = 1 + next(3);
  const cols = 1 + next(13);
  const outer = 1 + next(5);
  const physCols = (scheme === "differential" ? 2 * cols * slices : (cols + 1) * slices) + next(3); // reads may have a wider stride
  // ADC codes of an 8-bit ADC; every sum stays far inside i32
  const reads = Int32Array.from({ length: outer * physCols }, () => next(256));
  const correction = Int32Array.from({ length: cols }, () => next(20001) - 10000);
  const dL = next(7) - 2;
  const oRwl = next(3) === 0 ? undefined : 8 + next(25);
  const accStride = cols + next(4);
  const colBase = accStride - cols;
  const acc = Int32Array.from({ length: outer * accStride }, () => next(2001) - 1000);
  return {
    name: `seed ${seed}: ${scheme}, ${slices} × ${cellBits}-bit slices, ${cols} columns, ${outer} vectors, D_L ${dL}, window ${oRwl ?? "none"}`,
    scheme, slices, cellBits, cols, outer, reads, physCols, correction, dL, oRwl, acc, accStride, colBase,
  };
}

/** What the reference engine adds: combine, subtract the correction, truncate (when the tile has a window), accumulate. */
function reference(c: FinishCase): Int32Array {
  const v = combineSlicesImpl(Float64Array.from(c.reads), c.outer, c.physCols, c.cols, c.slices, c.cellBits, c.scheme, new Float64Array(c.outer * c.cols));
  subtractPerColumnImpl(v, c.outer, c.cols, Float64Array.from(c.correction));
  if (c.oRwl !== undefined) truncateWindowImpl(v, c.dL, c.oRwl);
  const acc = c.acc.slice();
  for (let o = 0; o < c.outer; o++) for (let j = 0; j < c.cols; j++) acc[o * c.accStride + c.colBase + j]! += v[o * c.cols + j]!;
  return acc;
}

function finishInWasm(arena: KernelArena, c: FinishCase): Int32Array {
  const mark = arena.mark();
  const srcAt = arena.scratch(c.reads.length * 4);
  arena.i32(srcAt, c.reads.length).set(c.reads);
  const correctionAt = arena.scratch(c.cols * 4 + 16);
  arena.i32(correctionAt, c.cols).set(c.correction);
  const accAt = arena.scratch(c.acc.length * 4);
  arena.i32(accAt, c.acc.length).set(c.acc);
  // as layer-wasm's windowI32: no window is a shift of 0 with no wrap
  const [dL, wrapShift] = c.oRwl === undefined ? [0, 0] : [c.dL, 32 - c.oRwl];
  arena.exports.finish_slices_i32(srcAt, c.physCols, c.outer, c.cols, c.scheme === "differential" ? 1 : 2, c.slices, c.cellBits, correctionAt, dL, wrapShift,
    accAt, c.accStride, c.colBase);
  const out = arena.i32(accAt, c.acc.length).slice();
  arena.release(mark);
  return out;
}

describe("the i32 finish of a faithful tile's reads (finish_slices_i32)", () => {
  const CASES = range(1, 201).map((seed) => finishCase(7000 + seed));

  it("the cases cover both schemes, the 4-slice vector form with and without a scalar tail, and the other slice counts", () => {
    for (const scheme of ["differential", "offset-column"]) {
      expect(CASES.some((c) => c.scheme === scheme && c.slices === 4 && c.cols >= 4 && c.cols % 4 === 0), `${scheme}, 4 slices, whole quads`).toBe(true);
      expect(CASES.some((c) => c.scheme === scheme && c.slices === 4 && c.cols > 4 && c.cols % 4 !== 0), `${scheme}, 4 slices, a tail`).toBe(true);
      for (const slices of [1, 2, 3, 5]) expect(CASES.some((c) => c.scheme === scheme && c.slices === slices), `${scheme}, ${slices} slices`).toBe(true);
    }
    expect(CASES.some((c) => c.dL < 0 && c.oRwl !== undefined)).toBe(true);
    expect(CASES.some((c) => c.oRwl === undefined)).toBe(true);
  });

  it("equals combine → subtract → truncate → accumulate bit for bit on 200 random tiles", () => {
    const arena = new KernelArena();
    for (const c of CASES) expect(bitDifference(Float64Array.from(finishInWasm(arena, c)), Float64Array.from(reference(c))), c.name).toBe("");
  });
});

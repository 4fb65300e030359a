/**
 * @fileoverview The WebAssembly kernel that carries activations into a layer (kernels.wat `to_i32`, quantizing them on
 * the way or not) against the TypeScript it replaces, on the values where float64 rounding and integer conversion are delicate:
 * exact ties, −0, values past 2^51 and 2^52, ±∞, NaN, the i32 limits, and odd lengths (the last element is scalar);
 * and `quantize_f32`, its float32 form, on float32 inputs: ties, subnormals, float32's largest values, every length
 * modulo 4 (the last group is partial).
 */
import { describe, expect, it } from "vitest";
import { quantizeActivationsImpl } from "@xbarc/backend-sim";
import { KernelArena } from "../packages/backend-sim/src/sim/wasm/module.js";
import { bitDifference } from "./helpers/compare.js";

const DELICATE = [
  0, -0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, -0.49999999999999994, 127.5, 128.5, -128.5, 255.5, 256,
  1e-300, -1e-300, 2 ** 51 - 0.5, 2 ** 51 + 1, 2 ** 52 + 1, -(2 ** 52) - 3, 1e300, -1e300, Infinity, -Infinity, NaN, 3.7, -3.7,
];

function randomValues(n: number, seed: number): Float64Array {
  let state = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 600;
  });
}

const arena = new KernelArena();

/** [fits, values, min, max] from kernels.wat to_i32, quantizing on the way when `quantize` says how. */
function convert(x: Float64Array, quantize?: { scale: number; lo: number; hi: number }): [boolean, Int32Array, number, number] {
  const mark = arena.mark();
  const src = arena.scratch(x.length * 8);
  const dst = arena.scratch(x.length * 4);
  const range = arena.scratch(16);
  arena.f64(src, x.length).set(x);
  const fits = arena.exports.to_i32(src, x.length, dst, range, quantize ? 1 : 0, quantize?.scale ?? 1, quantize?.lo ?? 0, quantize?.hi ?? 0) === 1;
  const result: [boolean, Int32Array, number, number] = [fits, arena.i32(dst, x.length).slice(), arena.f64(range, 2)[0]!, arena.f64(range, 2)[1]!];
  arena.release(mark);
  return result;
}

/** What the engine did in TypeScript: Int32Array#set and a scan from 0 that skips NaN. */
function reference(x: Float64Array): [Int32Array, number, number] {
  let min = 0;
  let max = 0;
  for (const v of x) {
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return [Int32Array.from(x), min, max];
}

describe("the to_i32 kernel quantizing a layer input", () => {
  const formats: [number, number, boolean][] = [[0, 8, false], [1, 8, true], [-2, 4, true], [3, 16, false], [0, 31, true], [0, 32, false], [0, 53, true]];
  for (const [fl, bits, signed] of formats) {
    it(`gives quantizeActivationsImpl's values as i32, with their range, for ${bits}-bit ${signed ? "signed" : "unsigned"} values with fl ${fl}`, () => {
      const lo = signed ? -(2 ** (bits - 1)) : 0;
      const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      for (const x of [Float64Array.from(DELICATE), Float64Array.from(DELICATE.slice(1)), randomValues(1001, bits + fl)]) {
        const quantized = quantizeActivationsImpl(x, fl, bits, signed);
        const [fits, ints, min, max] = convert(x, { scale: 2 ** fl, lo, hi });
        const [refInts, refMin, refMax] = reference(quantized);
        expect(fits).toBe(refMin >= -(2 ** 31) && refMax < 2 ** 31);
        expect([Object.is(min, refMin), Object.is(max, refMax)]).toEqual([true, true]);
        if (fits) expect(Array.from(ints)).toEqual(Array.from(refInts));
      }
    });
  }
});

describe("the to_i32 kernel", () => {

  it("stores what Int32Array#set stores and finds the same range, for values within i32", () => {
    const inRange = [0, -0, 1, -1, 2.9, -2.9, 2 ** 31 - 1, -(2 ** 31), NaN, 12345, -7, 0.5, -0.5];
    for (const values of [inRange, inRange.slice(1), [...inRange, ...Array.from(randomValues(999, 5), Math.round)]]) {
      const x = Float64Array.from(values);
      const [fits, ints, min, max] = convert(x);
      const [refInts, refMin, refMax] = reference(x);
      expect(fits).toBe(true);
      expect(Array.from(ints)).toEqual(Array.from(refInts));
      expect([Object.is(min, refMin), Object.is(max, refMax)]).toEqual([true, true]);
    }
  });

  it("reports values outside i32 (and ±∞) so that the engine converts them as Int32Array#set does", () => {
    for (const outside of [2 ** 31, -(2 ** 31) - 1, Infinity, -Infinity, 1e12]) {
      const x = Float64Array.from([1, 2, outside, 3]);
      const [fits, , min, max] = convert(x);
      expect(fits, String(outside)).toBe(false);
      expect([min, max]).toEqual(reference(x).slice(1));
    }
  });
});

/** [values, min, max] from kernels.wat quantize_f32 of float32 `x` in a (fl, bits, signed) format. */
function quantizeFloat32(x: Float32Array, fl: number, lo: number, hi: number): [Int32Array, number, number] {
  const mark = arena.mark();
  const src = arena.scratch(x.length * 4);
  const dst = arena.scratch(x.length * 4 + 16);
  const range = arena.scratch(16);
  arena.f32(src, x.length).set(x);
  // a sentinel after the values: the partial last group must not store past them
  arena.i32(dst + x.length * 4, 1)[0] = 0x5a5a5a5a;
  arena.exports.quantize_f32(src, x.length, dst, range, 2 ** fl, lo, hi);
  const result: [Int32Array, number, number] = [arena.i32(dst, x.length + 1).slice(), arena.f64(range, 2)[0]!, arena.f64(range, 2)[1]!];
  arena.release(mark);
  return result;
}

describe("the quantize_f32 kernel quantizing a float32 layer input", () => {
  const DELICATE_F32 = [
    0, -0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0.49999997, 127.5, 128.5, -128.5, 255.5, 256, 1e-45, -1e-45, 1e-39, 1.1754942e-38,
    3.4028235e38, -3.4028235e38, 2 ** 23 + 1, -(2 ** 24), Infinity, -Infinity, NaN, 3.7, -3.7, 0.0039215689,
  ];
  const formats: [number, number, boolean][] = [[0, 8, false], [4, 8, false], [1, 8, true], [-2, 4, true], [7, 16, false], [0, 24, true], [-126, 8, true], [127, 8, true], [126, 24, false]];
  for (const [fl, bits, signed] of formats) {
    it(`gives quantizeActivationsImpl's values of the widened inputs for ${bits}-bit ${signed ? "signed" : "unsigned"} values with fl ${fl}`, () => {
      const lo = signed ? -(2 ** (bits - 1)) : 0;
      const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      const cases = [0, 1, 2, 3, 4, 5].map((drop) => Float32Array.from(DELICATE_F32.slice(drop)));
      cases.push(Float32Array.from(randomValues(1003, bits + fl), (v) => v / 2 ** fl / 300));
      for (const x of cases) {
        const quantized = quantizeActivationsImpl(Float64Array.from(x), fl, bits, signed);
        const [ints, min, max] = quantizeFloat32(x, fl, lo, hi);
        const [refInts, refMin, refMax] = reference(quantized);
        expect(Array.from(ints.subarray(0, x.length))).toEqual(Array.from(refInts));
        expect([Object.is(min, refMin), Object.is(max, refMax)]).toEqual([true, true]);
        expect(ints[x.length]).toBe(0x5a5a5a5a);
      }
    });
  }
});


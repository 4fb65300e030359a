/**
 * @fileoverview The simulator's tile kernels on hand-computed cases: im2col offsets, bit-serial reads with ADC
 * clipping, the differential and offset-column combines, and the fast path's collapse of slices and steps.
 */
import { describe, expect, it } from "vitest";
import { bitSerialReadImpl, combineSlicesImpl, effectiveWeightsImpl, getConvTapOffsets, integerMvmImpl } from "@xbarc/backend-sim";

describe("sim kernels", () => {
  it("getConvTapOffsets marks padded taps −1 and finds the others in the input plane", () => {
    // 1-D: input 3, kernel 3, pad 1 each side, stride 1 → 3 outputs
    expect([...getConvTapOffsets([3], [3], [3], [1], [1, 1], [1])]).toEqual([-1, 0, 1, 0, 1, 2, 1, 2, -1]);
    // 2-D 2×2 input, 1×2 kernel, stride 1, no pad → outputs 2×1; taps (0,0),(0,1)
    expect([...getConvTapOffsets([2, 2], [2, 1], [1, 2], [1, 1], [0, 0, 0, 0], [1, 1])]).toEqual([0, 1, 2, 3]);
  });

  it("bitSerialReadImpl converts each step's column sum and clips it at the ADC's top code", () => {
    // two rows driven with x_u = 3 and 2 (2 steps of 1 bit), one column of levels [3, 3]
    const xu = Int32Array.from([3, 2]);
    const cells = Float64Array.from([3, 3]);
    // step 0: bits (1, 0) → 3; step 1: bits (1, 1) → 6; lossless: 3 + 2·6 = 15 = (3 + 2)·3
    expect([...bitSerialReadImpl(xu, 1, 2, cells, 1, 2, 1, 0, Infinity, 0, undefined, new Float64Array(1))]).toEqual([15]);
    // a 2-bit ADC holds 3: step 1 reads 3 instead of 6 → 3 + 2·3 = 9
    expect([...bitSerialReadImpl(xu, 1, 2, cells, 1, 2, 1, 0, 3, 0, undefined, new Float64Array(1))]).toEqual([9]);
  });

  it("combineSlicesImpl subtracts G− slices (differential) or the offset column (offset-column)", () => {
    // differential, 2 slices of 2 bits: P = [1, 2] → 1 + 4·2 = 9, N = [3, 0] → 3: 9 − 3 = 6
    expect([...combineSlicesImpl(Float64Array.from([1, 2, 3, 0]), 1, 4, 1, 2, 2, "differential", new Float64Array(1))]).toEqual([6]);
    // offset-column, 2 weight columns of 2 slices then the offset column [0, 2] (= 8): u = [1 + 4·3, 0 + 4·1] → 13 − 8, 4 − 8
    expect([...combineSlicesImpl(Float64Array.from([1, 3, 0, 1, 0, 2]), 1, 6, 2, 2, 2, "offset-column", new Float64Array(2))]).toEqual([5, -4]);
  });

  it("one MVM with the shift-added cells equals the lossless bit-serial read followed by the combine", () => {
    // 3 rows, 1 weight column, differential with 2 slices of 2 bits; 3-bit inputs over 3 one-bit steps
    const cells = Float64Array.from([1, 2, 0, 0, 0, 0, 3, 1, 2, 1, 1, 0]);
    const xu = Int32Array.from([5, 7, 2]);
    const phys = bitSerialReadImpl(xu, 1, 3, cells, 4, 3, 1, 0, Infinity, 0, undefined, new Float64Array(4));
    const slow = combineSlicesImpl(phys, 1, 4, 1, 2, 2, "differential", new Float64Array(1));
    const fast = integerMvmImpl(xu, 1, 3, effectiveWeightsImpl(cells, 3, 4, 1, 2, 2, "differential"), 1, new Float64Array(1));
    // w = [1 + 4·2, −(3 + 4·1), 2 + 4·1 − 1] = [9, −7, 5]: 5·9 − 7·7 + 2·5 = 6
    expect([...slow]).toEqual([6]);
    expect([...fast]).toEqual([6]);
  });
});

/**
 * @fileoverview sliceWeights / unsliceWeights: shifting and adding the slices rebuilds every integer weight, for both
 * signed schemes, every cell width 1..4 and word length 2..12; every slice fits a cell; the differential scheme
 * stores magnitudes (one side zero); the offset column's slices rebuild 2^(W_WL−1); out-of-range weights are refused.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { getOffsetColumnSlices, getSliceCount, sliceWeights, SLICE_SCHEMES, unsliceWeights } from "@xbarc/passes";

/** A word length, a cell width and integers in that word length's two's-complement range (ends included). */
const case_ = fc
  .record({ wBits: fc.integer({ min: 2, max: 12 }), cellBits: fc.integer({ min: 1, max: 4 }) })
  .chain(({ wBits, cellBits }) => {
    const half = 2 ** (wBits - 1);
    const value = fc.oneof(fc.integer({ min: -half, max: half - 1 }), fc.constantFrom(-half, half - 1, 0, -1));
    return fc.record({ wBits: fc.constant(wBits), cellBits: fc.constant(cellBits), w: fc.array(value, { minLength: 1, maxLength: 64 }) });
  });

describe("sliceWeights", () => {
  for (const scheme of SLICE_SCHEMES) {
    it(`rebuilds every integer weight by shift-and-add, with every slice inside a cell (${scheme}, fast-check, seeded)`, () => {
      fc.assert(
        fc.property(case_, ({ wBits, cellBits, w }) => {
          const wInt = Int32Array.from(w);
          const s = sliceWeights(wInt, wBits, cellBits, scheme);
          const S = Math.ceil(wBits / cellBits);
          expect(s.slices).toBe(S);
          expect(s.pos.length).toBe(S * w.length);
          const top = 2 ** cellBits - 1;
          for (const v of s.pos) if (v > top) throw new Error(`slice value ${v} exceeds ${top}`);
          if (scheme === "differential-magnitude") {
            expect(s.neg!.length).toBe(S * w.length);
            for (const v of s.neg!) if (v > top) throw new Error(`slice value ${v} exceeds ${top}`);
            expect(s.offset).toBe(0);
          } else {
            expect(s.neg).toBeUndefined();
            expect(s.offset).toBe(2 ** (wBits - 1));
          }
          // shift-and-add written out here (not through unsliceWeights) so the two cannot share a mistake
          for (let i = 0; i < w.length; i++) {
            let sum = -s.offset;
            for (let k = 0; k < S; k++) sum += 2 ** (k * cellBits) * (s.pos[k * w.length + i]! - (s.neg ? s.neg[k * w.length + i]! : 0));
            if (sum !== w[i]) throw new Error(`weight ${i}: ${w[i]} rebuilt as ${sum} (W_WL=${wBits}, cell_bits=${cellBits})`);
          }
          expect(Array.from(unsliceWeights(s))).toEqual(w);
        }),
        { seed: 2024, numRuns: 300 },
      );
    });
  }

  it("stores magnitudes in the differential scheme: for each weight one side is all zero", () => {
    fc.assert(
      fc.property(case_, ({ wBits, cellBits, w }) => {
        const s = sliceWeights(Int32Array.from(w), wBits, cellBits, "differential-magnitude");
        const S = s.slices;
        for (let i = 0; i < w.length; i++) {
          let p = 0;
          let n = 0;
          for (let k = 0; k < S; k++) {
            p += s.pos[k * w.length + i]!;
            n += s.neg![k * w.length + i]!;
          }
          if (p > 0 && n > 0) throw new Error(`weight ${w[i]} has both G+ and G− slices`);
          if ((w[i]! > 0) !== p > 0 || (w[i]! < 0) !== n > 0) throw new Error(`weight ${w[i]} is on the wrong side`);
        }
      }),
      { seed: 11, numRuns: 100 },
    );
  });

  it("slices a known weight as the spec says: −3 in 4 bits on 2-bit cells", () => {
    // offset: u = −3 + 8 = 5 = 0b0101 → slices [1, 1]; differential: N = 3 = 0b0011 → [3, 0]
    expect(Array.from(sliceWeights(Int32Array.of(-3), 4, 2, "offset-unsigned").pos)).toEqual([1, 1]);
    const d = sliceWeights(Int32Array.of(-3), 4, 2, "differential-magnitude");
    expect([Array.from(d.pos), Array.from(d.neg!)]).toEqual([[0, 0], [3, 0]]);
    // 5 bits on 2-bit cells: S = 3, slice-major [s][i]; 16 = 0b1_00_00 needs the top slice, 15 = 0b0_11_11 does not
    const e = sliceWeights(Int32Array.of(-16, 15), 5, 2, "differential-magnitude");
    expect(Array.from(e.neg!)).toEqual([0, 0, 0, 0, 1, 0]);
    expect(Array.from(e.pos)).toEqual([0, 3, 0, 3, 0, 0]);
  });

  it("gives the offset column's slices of 2^(W_WL−1), which shift-and-add back to it", () => {
    for (let wBits = 2; wBits <= 12; wBits++) {
      for (let cellBits = 1; cellBits <= 4; cellBits++) {
        const s = getOffsetColumnSlices(wBits, cellBits);
        expect(s.length).toBe(getSliceCount(wBits, cellBits));
        expect(s.reduce((acc, v, k) => acc + v * 2 ** (k * cellBits), 0)).toBe(2 ** (wBits - 1));
      }
    }
  });

  it("refuses a weight outside the word length and a cell width outside 1..8", () => {
    expect(() => sliceWeights(Int32Array.of(3, 8), 4, 2, "offset-unsigned")).toThrow(/weight 1 is 8, outside the 4-bit range \[-8, 7\]/);
    expect(() => sliceWeights(Int32Array.of(-9), 4, 2, "differential-magnitude")).toThrow(/outside the 4-bit range/);
    expect(() => sliceWeights(Int32Array.of(1), 4, 0, "offset-unsigned")).toThrow(expect.objectContaining({ code: "XB5003" }));
  });
});

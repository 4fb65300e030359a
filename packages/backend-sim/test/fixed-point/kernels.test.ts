/** @fileoverview The fixed-point kernels against BigInt and textbook references on random values. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ceilLog2, getIntegerRange, quantizeActivationsImpl, requantizeImpl, roundHalfEven, truncateWindowImpl, wrapSigned } from "@xbarc/backend-sim";

/** floor(acc / 2^dL) then two's-complement wrap to oRwl bits, in BigInt: an arithmetic shift and asIntN. */
function bigIntWindow(acc: number, dL: number, oRwl: number): number {
  return Number(BigInt.asIntN(oRwl, BigInt(acc) >> BigInt(dL)));
}

/** Round half to even by comparing the fraction with one half (no Math.round). */
function textbookHalfEven(y: number): number {
  const f = Math.floor(y);
  const d = y - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

describe("truncateWindowImpl", () => {
  it("equals an arithmetic shift by D_L and a wrap to O_RWL bits computed in BigInt, on random accumulators", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 1, max: 30 }), (acc, dL, oRwl) => {
        const out = truncateWindowImpl(Float64Array.of(acc), dL, oRwl);
        expect(out[0]).toBe(bigIntWindow(acc, dL, oRwl));
      }),
      { numRuns: 2000, seed: 4 },
    );
  });

  it("keeps a value that fits the window exactly and wraps one that does not", () => {
    // 8-bit window after dropping 3 bits: 127·8 + 7 keeps 127; 128·8 wraps to −128; −129·8 wraps to 127
    const out = truncateWindowImpl(Float64Array.of(127 * 8 + 7, 128 * 8, -129 * 8, -1), 3, 8);
    expect([...out]).toEqual([127, -128, 127, -1]);
  });

  it("leaves every accumulator that fits O_WL bits unchanged with a full window (D_L = 0, O_RWL = O_WL)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }).chain((oWl) => fc.tuple(fc.constant(oWl), fc.array(fc.integer({ min: -(2 ** (oWl - 1)), max: 2 ** (oWl - 1) - 1 }), { minLength: 1, maxLength: 50 }))),
        ([oWl, values]) => {
          const acc = Float64Array.from(values);
          expect([...truncateWindowImpl(acc.slice(), 0, oWl)]).toEqual([...acc]);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe("wrapSigned", () => {
  it("agrees with BigInt.asIntN on random integers", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), fc.integer({ min: 1, max: 40 }), (v, bits) => {
        expect(wrapSigned(v, bits)).toBe(Number(BigInt.asIntN(bits, BigInt(v))));
      }),
      { numRuns: 1000, seed: 6 },
    );
  });

  it("agrees with BigInt.asIntN at 53 bits and keeps every float64 integer in wider windows, even where 2^bits is ∞", () => {
    const values = [-3, 5, 2 ** 52, -(2 ** 52), 2 ** 53 - 1, -(2 ** 53) + 1, 0];
    for (const bits of [53, 54, 60, 64, 1023, 1100]) {
      for (const v of values) expect(wrapSigned(v, bits), `${v} in ${bits} bits`).toBe(Number(BigInt.asIntN(bits, BigInt(v))));
    }
    const window = truncateWindowImpl(Float64Array.from([-3, 5, -(2 ** 52), 7.5]), 1, 1100);
    expect(Array.from(window)).toEqual([-2, 2, -(2 ** 51), 3]);
  });
});

describe("roundHalfEven", () => {
  it("rounds ties to the even neighbour and everything else to the nearest integer", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, -2, 2, -3]);
    // around and beyond 2^51, where a float64 has no fraction bits left to round, and the non-finite values
    const edges = [2 ** 51 - 0.5, 2 ** 51 - 1.5, -(2 ** 51) + 0.5, 2 ** 51, 2 ** 52 + 2, -(2 ** 53), 1e300, -0, -0.25, Infinity, -Infinity];
    for (const y of edges) expect(roundHalfEven(y), String(y)).toBe(textbookHalfEven(y) + 0);
    expect(roundHalfEven(NaN)).toBeNaN();
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.integer({ min: 0, max: 8 }), (k, shift) => {
        // dyadic values k / 2^shift include every kind of tie
        const y = k / 2 ** shift;
        expect(roundHalfEven(y)).toBe(textbookHalfEven(y) + 0);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe("quantizeActivationsImpl", () => {
  it("scales by 2^A_FL, rounds half to even and clamps to the unsigned or signed A_WL-bit range", () => {
    expect([...quantizeActivationsImpl([0, 0.25, 0.3125, 0.9, 2, -1], 4, 4, false)]).toEqual([0, 4, 5, 14, 15, 0]);
    expect([...quantizeActivationsImpl([-1, -0.40625, 0.40625, 0.5, 3], 4, 4, true)]).toEqual([-8, -6, 6, 7, 7]);
    expect(getIntegerRange(8, false)).toEqual([0, 255]);
    expect(getIntegerRange(8, true)).toEqual([-128, 127]);
  });

  it("requantizes integers between fraction lengths exactly like quantizing their real values", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -4, max: 12 }), fc.integer({ min: -4, max: 12 }), fc.boolean(), (v, from, to, signed) => {
        const direct = quantizeActivationsImpl([v * 2 ** -from], to, 8, signed)[0];
        expect(requantizeImpl([v], from, to, 8, signed)[0]).toBe(direct);
      }),
      { numRuns: 500, seed: 8 },
    );
  });
});

describe("ceilLog2", () => {
  it("is the number of carry bits of an R-term sum", () => {
    expect([1, 2, 3, 4, 5, 25, 128, 129].map(ceilLog2)).toEqual([0, 1, 2, 2, 3, 5, 7, 8]);
  });
});

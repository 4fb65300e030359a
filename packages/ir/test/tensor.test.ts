import { describe, expect, it } from "vitest";
import { floatToHalf, halfToFloat, readNumbers, tensorFromNumbers } from "@xbarc/ir";

describe("tensor", () => {
  it("round-trips every finite float16 bit pattern through number", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = halfToFloat(h);
      if (Number.isNaN(x)) continue;
      expect(floatToHalf(x)).toBe(h);
    }
  });

  it("converts numbers to integer dtypes as a cast does (truncate toward zero)", () => {
    const t = tensorFromNumbers("i32", [3], [2.7, -2.7, 5]);
    expect(Array.from(readNumbers(t))).toEqual([2, -2, 5]);
    const big = tensorFromNumbers("i64", [2], [-3.9, 1e15]);
    expect(Array.from(readNumbers(big))).toEqual([-3, 1e15]);
  });
});

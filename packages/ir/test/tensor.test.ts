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

describe("viewBytes", () => {
  it("copies misaligned bytes even when they come from a Node Buffer", async () => {
    const { viewBytes } = await import("@xbarc/ir");
    const buf = Buffer.alloc(9);
    new DataView(buf.buffer, buf.byteOffset).setFloat32(1, 1.5, true);
    const view = viewBytes("f32", buf.subarray(1, 5));
    expect(Array.from(view as Float32Array)).toEqual([1.5]);
  });
});

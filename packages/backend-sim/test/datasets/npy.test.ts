import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { halfToFloat, readNumbers, tensorFromNumbers, type DType } from "@xbarc/ir";
import { encodeNpy, parseNpy, readNpy } from "@xbarc/backend-sim";
import { catchXbarcError } from "../../../../test/helpers/errors.js";

const dir = fileURLToPath(new URL("../fixtures/npy/", import.meta.url));
const SIGNED = [0, 1, -2, 3, -4, 5];
const UNSIGNED = [0, 1, 2, 3, 4, 200];
const FLOATS = [0.5, -1.25, 3, 0.125, -0, 1024];

// files written by numpy 2.4 (see fixtures/npy/README.md)
const CASES: [code: string, dtype: DType, values: number[]][] = [
  ["u1", "u8", UNSIGNED], ["i1", "i8", SIGNED], ["i2", "i16", SIGNED], ["i4", "i32", SIGNED], ["i8", "i64", SIGNED],
  ["f2", "f16", FLOATS], ["f4", "f32", FLOATS], ["f8", "f64", FLOATS],
];

describe("npy", () => {
  for (const [code, dtype, values] of CASES) {
    it(`reads numpy's ${code} file as ${dtype}[2,3] with the saved values`, () => {
      const t = readNpy(join(dir, `${code}.npy`));
      expect(t.type).toEqual({ dtype, shape: [2, 3] });
      expect(Array.from(readNumbers(t))).toEqual(values);
    });

    it(`encodes ${dtype} byte for byte as numpy.save does`, () => {
      const bytes = readFileSync(join(dir, `${code}.npy`));
      expect(Buffer.from(encodeNpy(parseNpy(bytes)))).toEqual(bytes);
    });

    it(`round-trips a ${dtype} tensor through encodeNpy and parseNpy`, () => {
      const t = tensorFromNumbers(dtype, [3, 2, 1], [1, 2, 3, 4, 5, 6].map((v) => (dtype.startsWith("u") ? v : -v)));
      const back = parseNpy(encodeNpy(t));
      expect(back.type).toEqual(t.type);
      expect(Array.from(readNumbers(back))).toEqual(Array.from(readNumbers(t)));
    });
  }

  it("keeps the float16 bit pattern of -0", () => {
    const t = readNpy(join(dir, "f2.npy"));
    expect((t.data as Uint16Array)[4]).toBe(0x8000);
    expect(Object.is(halfToFloat((t.data as Uint16Array)[4]!), -0)).toBe(true);
  });

  it("reads a scalar and a 1-D array, and re-encodes them as numpy does", () => {
    const s = readNpy(join(dir, "scalar-f4.npy"));
    expect(s.type).toEqual({ dtype: "f32", shape: [] });
    expect(Array.from(readNumbers(s))).toEqual([2.5]);
    const v = readNpy(join(dir, "vector-i8.npy"));
    expect(v.type).toEqual({ dtype: "i64", shape: [3] });
    expect(Array.from(v.data as BigInt64Array)).toEqual([7n, -3n, 9n]);
    for (const f of ["scalar-f4.npy", "vector-i8.npy"]) {
      const bytes = readFileSync(join(dir, f));
      expect(Buffer.from(encodeNpy(parseNpy(bytes)))).toEqual(bytes);
    }
  });

  it("reads a version 2.0 header", () => {
    const t = readNpy(join(dir, "v2-f4.npy"));
    expect(t.type).toEqual({ dtype: "f32", shape: [2, 3] });
    expect(Array.from(readNumbers(t))).toEqual(FLOATS);
  });

  it("rejects Fortran-order arrays with XB7002 and says how to fix it", () => {
    const e = catchXbarcError(() => readNpy(join(dir, "fortran-f4.npy")));
    expect(e.code).toBe("XB7002");
    expect(e.message).toMatch(/Fortran/);
    expect(e.hint).toMatch(/ascontiguousarray/);
  });

  it("rejects big-endian data with XB7002", () => {
    const e = catchXbarcError(() => readNpy(join(dir, "big-endian-f4.npy")));
    expect(e.code).toBe("XB7002");
    expect(e.message).toMatch(/big-endian/);
  });

  it("rejects a truncated file with XB7002 naming the byte counts", () => {
    const bytes = readFileSync(join(dir, "f8.npy"));
    const e = catchXbarcError(() => parseNpy(bytes.subarray(0, bytes.length - 5), "cut.npy"));
    expect(e.code).toBe("XB7002");
    expect(e.location).toEqual({ kind: "file", file: "cut.npy" });
    expect(e.message).toContain("needs 48 bytes, the file has 43");
  });
});

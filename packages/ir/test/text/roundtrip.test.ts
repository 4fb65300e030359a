import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  allocArray,
  bytesOf,
  floatToHalf,
  formatNumber,
  formatNumberF16,
  formatNumberF32,
  halfToFloat,
  Module,
  parseModule,
  printModule,
  printType,
  printValueRef,
  sha256Hex,
  WEIGHTS_ALIGNMENT,
  type DType,
  type TypedArray,
} from "@xbarc/ir";
import { rng } from "../interpret/helpers.js";
import { dataSnapshot, moduleSnapshot } from "./module-snapshot.js";

const FIXTURES = "packages/ir/test/fixtures";
const fixtureNames = readdirSync(FIXTURES).filter((f) => f.endsWith(".xir")).sort();

function readFixture(name: string): string {
  return readFileSync(`${FIXTURES}/${name}`, "utf8");
}

/** Random data for a dtype, seeded with the hard cases (0.1, -0, subnormals, extremes) first. */
function randomData(dtype: DType, n: number, random: () => number): TypedArray {
  const data = allocArray(dtype, n);
  const specials: Partial<Record<DType, (number | bigint)[]>> = {
    f32: [0.1, -0, 1e-45, 1.17549435e-38, 3.4028234663852886e38, -Infinity, NaN],
    f64: [0.1, -0, 5e-324, Number.MAX_VALUE, Infinity, NaN],
    f16: [floatToHalf(0.1), 0x8000, 0x0001, 0x7bff, 0x7c00, 0x7e00],
    i64: [2n ** 63n - 1n, -(2n ** 63n), -1n],
    u64: [2n ** 64n - 1n],
    i8: [-128, 127],
    u8: [255],
  };
  const start = specials[dtype] ?? [];
  for (let i = 0; i < n; i++) {
    const r = random();
    if (i < start.length) (data as { [i: number]: number | bigint })[i] = start[i]!;
    else if (dtype === "f32" || dtype === "f64") data[i] = (r - 0.5) * 10 ** Math.floor(random() * 8 - 4);
    else if (dtype === "f16") data[i] = floatToHalf((r - 0.5) * 100);
    else if (dtype === "i64") data[i] = BigInt(Math.floor((r - 0.5) * 2 ** 53)) * 1024n;
    else if (dtype === "u64") data[i] = BigInt(Math.floor(r * 2 ** 53)) * 2048n;
    else if (dtype === "bool") data[i] = r < 0.5 ? 1 : 0;
    else if (dtype === "i8") data[i] = Math.floor(r * 256) - 128;
    else if (dtype === "u8") data[i] = Math.floor(r * 256);
    else if (dtype === "i32") data[i] = Math.floor((r - 0.5) * 2 ** 32);
    else data[i] = Math.floor(r * 65536);
  }
  return data;
}

/** A small CNN-shaped module whose constants hold random data of many dtypes, large and small. */
function createWeightedModule(seed: number): Module {
  const random = rng(seed);
  const m = new Module("weighted");
  m.attrs = { producer: "test", opset: 13, scale: 0.1 };
  const x = m.addInput("input.1", { dtype: "f32", shape: [1, 3, 8, 8] });
  const constants: [string, DType, number[]][] = [
    ["conv1.weight", "f32", [4, 3, 3, 3]],
    ["conv1.bias", "f32", [4]],
    ["half", "f16", [5, 7]],
    ["double", "f64", [3, 3, 2]],
    ["onnx::Reshape_5", "i64", [2]],
    ["big_ints", "i64", [33]],
    ["u64s", "u64", [20]],
    ["mask", "bool", [17]],
    ["codes", "i8", [9, 9]],
    ["u8s", "u8", [3, 1]],
    ["i32s", "i32", [40]],
    ["u16s", "u16", [18]],
    ["tiny", "f32", []],
  ];
  const values = constants.map(([name, dtype, shape]) =>
    m.addConstant(name, { dtype, shape }, randomData(dtype, shape.reduce((a, b) => a * b, 1), random)),
  );
  const conv = m.addOp("conv", [x, values[0]!, values[1]!], [{ name: "/conv1/Conv_output_0", type: { dtype: "f32", shape: [1, 4, 6, 6] } }],
    { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }, "/conv1/Conv");
  conv.setAnnotation("quant", { scheme: "uniform", codes: 256, err: 1.7e-4, range: { lo: -0.31, hi: 0.29 } });
  const flat = m.addOp("reshape", [conv.results[0]!, values[4]!], [{ name: "flat", type: { dtype: "f32", shape: [1, 144] } }], { allowzero: 0 });
  m.outputs = [flat.results[0]!, values[12]!];
  return m;
}

function offsetsIn(text: string): { offset: number; bytes: number; sha256: string }[] {
  return [...text.matchAll(/weights\(offset=(\d+), bytes=(\d+), sha256="([0-9a-f]+)"\)/g)].map((r) => ({
    offset: Number(r[1]),
    bytes: Number(r[2]),
    sha256: r[3]!,
  }));
}

describe("IR text fixtures", () => {
  it("has hand-written fixtures to test", () => {
    expect(fixtureNames.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of fixtureNames) {
    it(`prints ${name} back exactly as written`, () => {
      const text = readFixture(name);
      expect(printModule(parseModule(text, { file: name })).text).toBe(text);
    });
  }

  it("reads the lenet5 fixture into the module it describes", () => {
    const m = parseModule(readFixture("lenet5.xir"));
    expect(m.name).toBe("lenet5");
    expect(m.attrs).toEqual({ producer: "pytorch", opset: 13, batch: 1, source: "lenet5.onnx" });
    expect(m.inputs.map((v) => v.name)).toEqual(["input"]);
    expect(m.constants.map((c) => c.name)).toContain("conv1.weight");
    const conv = m.ops[0]!;
    expect(conv.opcode).toBe("conv");
    expect(conv.operands.map((v) => v?.name)).toEqual(["input", "conv1.weight", "conv1.bias"]);
    expect(conv.operands[1]).toBe(m.constants[0]);
    expect(conv.results[0]!.type).toEqual({ dtype: "f32", shape: [1, 6, 28, 28] });
    expect(conv.attrs).toEqual({ strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1], group: 1 });
    expect(conv.loc).toBe("Conv_0");
    expect(conv.annotations.map((a) => a.kind)).toEqual(["prune", "quant", "tiles"]);
    expect(conv.getAnnotation("quant")!.data).toEqual({ scheme: "mes-caq", codes: 57, wmin: -0.31, wmax: 0.29, err: 0.00017 });
    expect(m.ops[1]!.operands[0]).toBe(conv.results[0]);
    expect(m.constants.find((c) => c.name === "conv1.weight")!.data).toBeUndefined();
    expect(Array.from(m.constants.find((c) => c.name === "shape_0")!.data as BigInt64Array)).toEqual([1n, -1n]);
    expect(m.outputs.map((v) => v.name)).toEqual(["logits", "probs"]);
  });

  it("reads quoted and ONNX-style names, keyword keys and quoted keys exactly", () => {
    const m = parseModule(readFixture("names.xir"));
    expect(m.name).toBe("my model (v2)");
    expect(m.inputs.map((v) => v.name)).toEqual(["input.1", "x y", "23"]);
    expect(m.constants.map((c) => c.name)).toEqual(["onnx::Conv_2", 'weight "quoted"\n', "$tmp:0-a/b", ""]);
    expect(m.ops.map((op) => op.results[0]!.name)).toEqual(["/conv1/Conv_output_0", "ünïcödé ✓", "24", "tab\there", "Z.9"]);
    const custom = m.ops[3]!;
    expect(custom.opcode).toBe("custom op");
    expect(Object.keys(custom.attrs)).toEqual(["none", "loc", "input", "odd key", "__proto__", "1st"]);
    expect(Object.getPrototypeOf(custom.attrs)).toBe(Object.prototype);
    expect(custom.annotations).toEqual([{ kind: "my-kind", data: { "a b": 1 } }, { kind: "input", data: { output: false } }]);
    expect(m.ops[1]!.loc).toBe('Mul "odd" \\ node');
    expect(m.outputs.map(printValueRef)).toEqual(['%"ünïcödé ✓"', "%Z.9", "%input.1", "@onnx::Conv_2"]);
  });

  it("reads every inline literal into the exact element value of its dtype", () => {
    const m = parseModule(readFixture("literals.xir"));
    const data = (name: string) => m.constants.find((c) => c.name === name)!.data;
    expect(dataSnapshot(data("f"))!.values).toEqual([Math.fround(0.1), -0, Math.fround(1e-45), Math.fround(1.1754942e-38), Math.fround(3.4028235e38), NaN, -Infinity, 16777216]);
    expect(Array.from(data("h") as Uint16Array).map(halfToFloat)).toEqual([halfToFloat(floatToHalf(0.1)), -0, 2 ** -24, 65504, NaN, Infinity, -2.5]);
    expect(dataSnapshot(data("d"))!.values).toEqual([0.1, -0, 5e-324, Number.MAX_VALUE, -Infinity, 0.1 + 0.2]);
    expect(Array.from(data("i64") as BigInt64Array)).toEqual([9223372036854775807n, -9223372036854775808n, 0n]);
    expect(Array.from(data("u64") as BigUint64Array)).toEqual([18446744073709551615n, 1n]);
    expect(Array.from(data("i8") as Int8Array)).toEqual([-128, 0, 127]);
    expect(Array.from(data("u32") as Uint32Array)).toEqual([0, 4294967295]);
    expect(Array.from(data("b") as Uint8Array)).toEqual([1, 0, 0, 1]);
    expect(data("scalar")).toEqual(new Float32Array([-1.5]));
    expect(data("empty")).toEqual(new Float32Array(0));
    expect(data("seventeen")).toBeUndefined();
    expect(m.attrs.nested).toEqual({ a: { b: { c: [1, [2, [3, []]], {}] } } });
    expect(Object.is(m.attrs.zero, -0)).toBe(true);
    expect(m.attrs.nan_value).toBeNaN();
    expect([m.attrs.pos, m.attrs.neg, m.attrs.tiny, m.attrs.big]).toEqual([Infinity, -Infinity, 5e-324, 1e21]);
    expect(m.attrs.text).toBe('line\nbreak "quoted" tab\t back\\slash \u0001 é');
  });

  it("ignores // comments, blank lines and spacing", () => {
    const canonical = readFixture("multi.xir");
    const messy = `// xbarc-ir 1 · model multi.onnx · after 03-quantize\n// pipeline: canonicalize\n\n${canonical
      .replace("  input %x : f32[1,10]", "  input   %x :f32[ 1 , 10 ]   // the image")
      .replace("{seed=0}", "{ seed = 0 }")
      .replace(/\n {6}#note/, "    #note")}`;
    expect(messy).not.toBe(canonical);
    expect(printModule(parseModule(messy)).text).toBe(canonical);
  });

  it("reads CRLF line endings and prints the canonical LF text", () => {
    const canonical = readFixture("lenet5.xir");
    expect(printModule(parseModule(canonical.replace(/\n/g, "\r\n"))).text).toBe(canonical);
  });

  it("prints non-canonical spellings in their shortest round-tripping form", () => {
    const text = "module @m {\n  const @f : f32[3] = [0.30000001192092896, 1.401298464324817e-45, 1.0e2]\n  const @h : f16[1] = [65504]\n  const @b : bool[2] = [1, 0]\n  output @f, @h, @b\n}\n";
    const out = printModule(parseModule(text)).text;
    expect(out).toContain("const @f : f32[3] = [0.3,1e-45,100]");
    expect(out).toContain("const @h : f16[1] = [65500]");
    expect(out).toContain("const @b : bool[2] = [true,false]");
  });

  it("accepts statements in any order and forward references, printing them grouped", () => {
    const text = "module @m {\n  %y = relu %x : f32[2]\n  const @c : f32[2] = [1, 2]\n  input %x : f32[2]\n  output %y\n}\n";
    const m = parseModule(text);
    expect(m.ops[0]!.operands[0]).toBe(m.inputs[0]);
    expect(printModule(m).text).toBe("module @m {\n  input %x : f32[2]\n  const @c : f32[2] = [1,2]\n  %y = relu %x : f32[2]\n  output %y\n}\n");
  });

  it("does not verify: an unknown op with wrong types parses", () => {
    const m = parseModule("module @m {\n  input %x : f32[2]\n  %y = frobnicate %x, %x : i8[7,7]\n  output %y\n}\n");
    expect(m.ops[0]!.opcode).toBe("frobnicate");
    expect(m.ops[0]!.results[0]!.type).toEqual({ dtype: "i8", shape: [7, 7] });
  });
});

describe("printModule", () => {
  it("prints the exact format of the design example", () => {
    const m = new Module("lenet5");
    m.attrs = { producer: "pytorch", opset: 13, batch: 1 };
    const x = m.addInput("input", { dtype: "f32", shape: [1, 1, 28, 28] });
    const w = m.addConstant("conv1.weight", { dtype: "f32", shape: [6, 1, 5, 5] }, new Float32Array(150));
    const b = m.addConstant("conv1.bias", { dtype: "f32", shape: [6] }, undefined);
    const s = m.addConstant("shape_0", { dtype: "i64", shape: [2] }, new BigInt64Array([1n, -1n]));
    const conv = m.addOp("conv", [x, w, b], [{ name: "conv1_out", type: { dtype: "f32", shape: [1, 6, 28, 28] } }],
      { strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1], group: 1 }, "Conv_0");
    conv.setAnnotation("quant", { scheme: "mes-caq", codes: 57, wmin: -0.31, wmax: 0.29, err: 0.00017 });
    conv.setAnnotation("tiles", { xbar: [128, 128], grid: [2, 1] });
    const drop = m.addOp("dropout", [conv.results[0]!, null, null],
      [{ name: "y", type: { dtype: "f32", shape: [1, 10] } }, { name: "mask", type: { dtype: "bool", shape: [1, 10] } }], { seed: 0 }, "Dropout_3");
    const flat = m.addOp("reshape", [drop.results[0]!, s], [{ name: "logits", type: { dtype: "f32", shape: [1, 10] } }]);
    m.outputs = [flat.results[0]!, drop.results[1]!];
    expect(printModule(m).text).toBe(
      [
        "module @lenet5 attributes {producer=\"pytorch\", opset=13, batch=1} {",
        "  input %input : f32[1,1,28,28]",
        "  const @conv1.weight : f32[6,1,5,5]",
        "  const @conv1.bias : f32[6]",
        "  const @shape_0 : i64[2] = [1,-1]",
        "  %conv1_out = conv %input, @conv1.weight, @conv1.bias {strides=[1,1], pads=[2,2,2,2], dilations=[1,1], group=1} : f32[1,6,28,28] loc(\"Conv_0\")",
        "      #quant{scheme=\"mes-caq\", codes=57, wmin=-0.31, wmax=0.29, err=0.00017}",
        "      #tiles{xbar=[128,128], grid=[2,1]}",
        "  %y, %mask = dropout %conv1_out, none, none {seed=0} : f32[1,10], bool[1,10] loc(\"Dropout_3\")",
        "  %logits = reshape %y, @shape_0 : f32[1,10]",
        "  output %logits, %mask",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("prints types, value references and names as stored, never renumbered", () => {
    expect(printType({ dtype: "f32", shape: [1, 6, 28, 28] })).toBe("f32[1,6,28,28]");
    expect(printType({ dtype: "bool", shape: [] })).toBe("bool[]");
    const m = new Module("m");
    expect(printValueRef(m.addInput("/conv1/Conv_output_0", { dtype: "f32", shape: [] }))).toBe("%/conv1/Conv_output_0");
    expect(printValueRef(m.addInput("onnx::Conv_2", { dtype: "f32", shape: [] }))).toBe("%onnx::Conv_2");
    expect(printValueRef(m.addInput("23", { dtype: "f32", shape: [] }))).toBe("%23");
    expect(printValueRef(m.addInput("weird name", { dtype: "f32", shape: [] }))).toBe('%"weird name"');
    expect(printValueRef(m.addConstant("w\"", { dtype: "f32", shape: [] }, undefined))).toBe('@"w\\""');
  });

  it("prints a constant inline up to 16 elements and by reference from 17", () => {
    const m = new Module("m");
    m.addConstant("c16", { dtype: "i32", shape: [16] }, new Int32Array(16).fill(3));
    m.addConstant("c17", { dtype: "i32", shape: [17] }, new Int32Array(17).fill(3));
    const plain = printModule(m).text;
    expect(plain).toContain(`const @c16 : i32[16] = [${new Array(16).fill(3).join(",")}]`);
    expect(plain).toContain("const @c17 : i32[17]\n");
    const withWeights = printModule(m, { weights: true });
    expect(withWeights.text).toContain(`const @c17 : i32[17] = weights(offset=0, bytes=68, sha256="${sha256Hex(bytesOf(new Int32Array(17).fill(3)))}")`);
    expect(withWeights.weights!.byteLength).toBe(68);
  });
});

describe("weights side file", () => {
  for (const seed of [1, 2, 3]) {
    it(`round-trips random weights exactly (seed ${seed})`, () => {
      const m = createWeightedModule(seed);
      const printed = printModule(m, { weights: true });
      const back = parseModule(printed.text, { weights: printed.weights });
      expect(moduleSnapshot(back)).toEqual(moduleSnapshot(m));
      const again = printModule(back, { weights: true });
      expect(again.text).toBe(printed.text);
      expect(Buffer.from(again.weights!).equals(Buffer.from(printed.weights!))).toBe(true);
    });
  }

  it("keeps float32 0.1, subnormals and -0 bit for bit", () => {
    const m = createWeightedModule(7);
    const printed = printModule(m, { weights: true });
    const back = parseModule(printed.text, { weights: printed.weights });
    const w = back.constants[0]!.data as Float32Array;
    expect(w[0]).toBe(Math.fround(0.1));
    expect(Object.is(w[1], -0)).toBe(true);
    expect(w[2]).toBe(Math.fround(1e-45));
    expect(new Uint32Array(w.buffer, w.byteOffset, w.length)).toEqual(new Uint32Array((m.constants[0]!.data as Float32Array).buffer));
  });

  it("lays payloads out in constant order at 64-byte-aligned offsets with the recorded length and digest", () => {
    const m = createWeightedModule(4);
    const { text, weights } = printModule(m, { weights: true });
    const refs = offsetsIn(text);
    const large = m.constants.filter((c) => c.data!.length > 16);
    expect(refs.length).toBe(large.length);
    let end = 0;
    refs.forEach((ref, i) => {
      expect(ref.offset % WEIGHTS_ALIGNMENT).toBe(0);
      expect(ref.offset).toBeGreaterThanOrEqual(end);
      expect(ref.offset - end).toBeLessThan(WEIGHTS_ALIGNMENT);
      const payload = weights!.subarray(ref.offset, ref.offset + ref.bytes);
      expect(Buffer.from(payload).equals(Buffer.from(bytesOf(large[i]!.data!)))).toBe(true);
      expect(ref.sha256).toBe(sha256Hex(payload));
      // padding between payloads is zero
      expect(weights!.subarray(end, ref.offset).every((b) => b === 0)).toBe(true);
      end = ref.offset + ref.bytes;
    });
    expect(weights!.byteLength).toBe(end);
  });

  it("leaves large constants without data when the text is parsed without its side file", () => {
    const m = createWeightedModule(5);
    const { text } = printModule(m, { weights: true });
    const back = parseModule(text);
    for (const c of back.constants) {
      if (c.type.shape.reduce((a, b) => a * b, 1) > 16) expect(c.data).toBeUndefined();
      else expect(dataSnapshot(c.data)).toEqual(dataSnapshot(m.constants.find((o) => o.name === c.name)!.data));
    }
    expect(printModule(back).text).toBe(printModule(m).text);
  });

  it("does not alias the caller's side-file buffer", () => {
    const m = createWeightedModule(6);
    const { text, weights } = printModule(m, { weights: true });
    const back = parseModule(text, { weights });
    weights!.fill(0);
    expect(dataSnapshot(back.constants[0]!.data)).toEqual(dataSnapshot(m.constants[0]!.data));
  });

  it("reports a changed side file as XB2004 naming the constant and the sha256 field", () => {
    const m = createWeightedModule(8);
    const { text, weights } = printModule(m, { weights: true });
    const corrupted = weights!.slice();
    const ref = offsetsIn(text)[1]!;
    corrupted[ref.offset + 3]! ^= 0x40;
    expect(() => parseModule(text, { weights: corrupted })).toThrowError(expect.objectContaining({ code: "XB2004", message: expect.stringMatching(/sha256 of constant @half /) }));
    expect(() => parseModule(text, { weights: weights!.subarray(0, weights!.byteLength - 1) })).toThrowError(
      expect.objectContaining({ code: "XB2004", message: expect.stringMatching(/too short for constant @\S+: offset=\d+ \+ bytes=\d+/) }),
    );
  });
});

describe("canonical numbers", () => {
  it("spells doubles as String does, plus nan, inf, -inf and -0", () => {
    expect([0.1, 1e21, 1.5e-7, -3, 5e-324].map(formatNumber)).toEqual(["0.1", "1e+21", "1.5e-7", "-3", "5e-324"]);
    expect([NaN, Infinity, -Infinity, -0, 0].map(formatNumber)).toEqual(["nan", "inf", "-inf", "-0", "0"]);
  });

  it("prints every float32 in a random sample as the shortest decimal reading back to it", () => {
    const random = rng(11);
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    for (let i = 0; i < 20000; i++) {
      bits[0] = Math.floor(random() * 2 ** 32);
      const x = f[0]!;
      if (Number.isNaN(x) || !Number.isFinite(x)) continue;
      const s = formatNumberF32(x);
      expect(Object.is(Math.fround(Number(s)), x)).toBe(true);
      const digits = s.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length;
      // one digit fewer never reads back (otherwise the printed form was not the shortest)
      if (digits > 1) expect(Math.fround(Number(x.toPrecision(digits - 1)))).not.toBe(x);
    }
    expect(formatNumberF32(0.1)).toBe("0.1");
    expect(formatNumberF32(Math.fround(0.1))).toBe("0.1");
    expect(formatNumberF32(1e-45)).toBe("1e-45");
  });

  it("prints every float16 bit pattern as a decimal reading back to the same half", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = halfToFloat(h);
      const s = formatNumberF16(x);
      if (Number.isNaN(x)) expect(s).toBe("nan");
      else expect(floatToHalf(Number(s.replace(/^(-?)inf$/, "$1Infinity")))).toBe(h);
    }
  });
});

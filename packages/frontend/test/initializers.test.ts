/** @fileoverview Initializers in every TensorProto encoding, Constant nodes, and the standalone TensorProto files. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { halfToFloat, readNumbers, renderError, type Module, type Value } from "@xbarc/ir";
import { decodeTensorProto, encodeTensorProto, importOnnx, loadOnnxFile } from "@xbarc/frontend";
import { DT, encodeModel, node, placeAt, rawFloatTensor, valueInfo } from "./onnx-builder.js";
import onnxProto from "onnx-proto";
import { catchXbarcError } from "../../../test/helpers/errors.js";

/** A model whose output is an Identity of initializer `w`, so the initializer is imported as a constant. */
function modelWithInitializer(t: onnxProto.onnx.ITensorProto, dims: number[], elemType: number): Uint8Array {
  return encodeModel({
    nodes: [node("Identity", ["w"], ["y"])],
    inputs: [],
    outputs: [valueInfo("y", elemType, dims)],
    initializers: [{ ...t, name: "w" }],
  });
}

function constant(m: Module, name: string): Value {
  const c = m.constants.find((v) => v.name === name);
  if (!c) throw new Error(`no constant ${name}`);
  return c;
}

describe("initializer encodings", () => {
  const values = [1.5, -2.25, 3.125, 0, 1e-7, -65504];

  it("views aligned raw_data without copying", () => {
    const t = rawFloatTensor("w", [2, 3], values);
    const bytes = placeAt(modelWithInitializer(t, [2, 3], DT.FLOAT), t.rawData!, 4, 0);
    const w = constant(importOnnx(bytes, { file: "aligned.onnx" }), "w");
    expect(w.type).toEqual({ dtype: "f32", shape: [2, 3] });
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from(new Float32Array(values)));
    expect(w.data!.buffer).toBe(bytes.buffer);
  });

  it("copies misaligned raw_data and keeps its values", () => {
    const t = rawFloatTensor("w", [2, 3], values);
    const bytes = placeAt(modelWithInitializer(t, [2, 3], DT.FLOAT), t.rawData!, 4, 1);
    const w = constant(importOnnx(bytes, { file: "misaligned.onnx" }), "w");
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from(new Float32Array(values)));
    expect(w.data!.buffer).not.toBe(bytes.buffer);
  });

  it("reads float_data", () => {
    const m = importOnnx(modelWithInitializer({ dims: [3, 2], dataType: DT.FLOAT, floatData: values }, [3, 2], DT.FLOAT), { file: "f.onnx" });
    const w = constant(m, "w");
    expect(w.type.shape).toEqual([3, 2]);
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from(new Float32Array(values)));
  });

  it("reads int8 values from int32_data, sign included", () => {
    const m = importOnnx(modelWithInitializer({ dims: [4], dataType: DT.INT8, int32Data: [-128, -1, 0, 127] }, [4], DT.INT8), { file: "i8.onnx" });
    const w = constant(m, "w");
    expect(w.type.dtype).toBe("i8");
    expect(Array.from(w.data as Int8Array)).toEqual([-128, -1, 0, 127]);
  });

  it("reads float16 bit patterns from int32_data", () => {
    // 0x3c00 = 1, 0xc000 = -2, 0x3555 ≈ 0.33325, 0x7bff = 65504
    const bits = [0x3c00, 0xc000, 0x3555, 0x7bff];
    const m = importOnnx(modelWithInitializer({ dims: [2, 2], dataType: DT.FLOAT16, int32Data: bits }, [2, 2], DT.FLOAT16), { file: "f16.onnx" });
    const w = constant(m, "w");
    expect(w.type.dtype).toBe("f16");
    expect(Array.from(w.data as Uint16Array, halfToFloat)).toEqual([1, -2, 0.333251953125, 65504]);
  });

  it("reads int64_data exactly, beyond 2^53 and negative", () => {
    const big = 9007199254740993n; // 2^53 + 1 is not a double
    const m = importOnnx(modelWithInitializer({ dims: [3], dataType: DT.INT64, int64Data: [big.toString() as unknown as number, -5, 7] }, [3], DT.INT64),
      { file: "i64.onnx" });
    const w = constant(m, "w");
    expect(w.type.dtype).toBe("i64");
    expect(Array.from(w.data as BigInt64Array)).toEqual([big, -5n, 7n]);
  });

  it("reads double_data", () => {
    const m = importOnnx(modelWithInitializer({ dims: [2], dataType: DT.DOUBLE, doubleData: [0.1, -1e300] }, [2], DT.DOUBLE), { file: "f64.onnx" });
    const w = constant(m, "w");
    expect(w.type.dtype).toBe("f64");
    expect(Array.from(w.data as Float64Array)).toEqual([0.1, -1e300]);
  });

  it("reads uint32 and uint64 values from uint64_data", () => {
    const u32 = constant(importOnnx(modelWithInitializer({ dims: [2], dataType: DT.UINT32, uint64Data: [4294967295, 3] }, [2], DT.UINT32), { file: "u32.onnx" }), "w");
    expect(Array.from(u32.data as Uint32Array)).toEqual([4294967295, 3]);
    const u64 = constant(importOnnx(modelWithInitializer({ dims: [1], dataType: DT.UINT64, uint64Data: ["18446744073709551615" as unknown as number] }, [1], DT.UINT64), { file: "u64.onnx" }), "w");
    expect(Array.from(u64.data as BigUint64Array)).toEqual([18446744073709551615n]);
  });

  it("reads bool values from int32_data", () => {
    const w = constant(importOnnx(modelWithInitializer({ dims: [3], dataType: DT.BOOL, int32Data: [1, 0, 1] }, [3], DT.BOOL), { file: "b.onnx" }), "w");
    expect(w.type.dtype).toBe("bool");
    expect(Array.from(w.data as Uint8Array)).toEqual([1, 0, 1]);
  });

  it("rejects a data field whose length does not match the dims (XB1011)", () => {
    const e = catchXbarcError(() => importOnnx(modelWithInitializer({ dims: [2, 2], dataType: DT.FLOAT, floatData: [1, 2, 3] }, [2, 2], DT.FLOAT), { file: "short.onnx" }));
    expect(e.code).toBe("XB1011");
    expect(e.message).toContain('initializer "w"');
  });

  it("rejects bfloat16 and string tensors by name (XB1008)", () => {
    for (const [dataType, name] of [[DT.BFLOAT16, "BFLOAT16"], [DT.STRING, "STRING"]] as const) {
      const e = catchXbarcError(() => importOnnx(modelWithInitializer({ dims: [1], dataType, int32Data: [0] }, [1], DT.FLOAT), { file: "bf16.onnx" }));
      expect(e.code).toBe("XB1008");
      expect(e.message).toContain('initializer "w"');
      expect(e.message).toContain(name);
    }
  });
});

describe("external data", () => {
  function externalModel(location: string, offset: number, length: number): Uint8Array {
    return modelWithInitializer({
      dims: [2, 2], dataType: DT.FLOAT, dataLocation: 1,
      externalData: [{ key: "location", value: location }, { key: "offset", value: String(offset) }, { key: "length", value: String(length) }],
    }, [2, 2], DT.FLOAT);
  }

  it("reads a tensor at an offset of a data file beside the model", () => {
    const dir = mkdtempSync(join(tmpdir(), "xbarc-ext-"));
    const payload = new Float32Array([0.5, -1, 2, 4]);
    const file = new Uint8Array(3 + payload.byteLength);
    file.set(new Uint8Array(payload.buffer), 3); // an odd offset exercises the misaligned path
    writeFileSync(join(dir, "weights.bin"), file);
    writeFileSync(join(dir, "model.onnx"), externalModel("weights.bin", 3, 16));
    const w = constant(loadOnnxFile(join(dir, "model.onnx")), "w");
    expect(Array.from(w.data as Float32Array)).toEqual([0.5, -1, 2, 4]);
  });

  it("names the initializer and the path when the data file is missing (XB1009)", () => {
    const dir = mkdtempSync(join(tmpdir(), "xbarc-ext-"));
    writeFileSync(join(dir, "model.onnx"), externalModel("gone.bin", 0, 16));
    const e = catchXbarcError(() => loadOnnxFile(join(dir, "model.onnx")));
    expect(e.code).toBe("XB1009");
    expect(e.message).toContain('initializer "w"');
    expect(e.message).toContain(join(dir, "gone.bin"));
    expect(renderError(e)).toContain(join(dir, "model.onnx"));
  });

  it("reports a data file that is too short (XB1009)", () => {
    const dir = mkdtempSync(join(tmpdir(), "xbarc-ext-"));
    writeFileSync(join(dir, "short.bin"), new Uint8Array(10));
    writeFileSync(join(dir, "model.onnx"), externalModel("short.bin", 0, 16));
    const e = catchXbarcError(() => loadOnnxFile(join(dir, "model.onnx")));
    expect(e.code).toBe("XB1009");
    expect(e.message).toMatch(/initializer "w".*short\.bin.*too short/);
  });

  it("refuses a location outside the model's directory (XB1009)", () => {
    const dir = mkdtempSync(join(tmpdir(), "xbarc-ext-"));
    writeFileSync(join(dir, "model.onnx"), externalModel("../etc/passwd", 0, 16));
    expect(catchXbarcError(() => loadOnnxFile(join(dir, "model.onnx"))).code).toBe("XB1009");
  });

  it("needs a directory to read external data from (XB1009)", () => {
    const e = catchXbarcError(() => importOnnx(externalModel("w.bin", 0, 16), { file: "bytes-only.onnx" }));
    expect(e.code).toBe("XB1009");
  });
});

describe("constants", () => {
  it("turns Constant nodes into constants named by their outputs", () => {
    const m = importOnnx(encodeModel({
      nodes: [
        node("Constant", [], ["c_float"], { value_float: { float: 0.1 } }),
        node("Constant", [], ["c_ints"], { value_ints: [3, -4] }),
        node("Constant", [], ["c_tensor"], { value: { tensor: rawFloatTensor("", [2], [7, 8]) } }),
        node("Add", ["c_float", "c_float"], ["y"]),
      ],
      inputs: [],
      outputs: [valueInfo("y", DT.FLOAT, [])],
    }), { file: "const.onnx" });
    expect(constant(m, "c_float").type).toEqual({ dtype: "f32", shape: [] });
    expect((constant(m, "c_float").data as Float32Array)[0]).toBe(Math.fround(0.1));
    expect(Array.from(constant(m, "c_ints").data as BigInt64Array)).toEqual([3n, -4n]);
    expect(Array.from(constant(m, "c_tensor").data as Float32Array)).toEqual([7, 8]);
    expect(m.ops.map((o) => o.opcode)).toEqual(["add"]);
  });

  it("treats graph inputs that are also initializers (IR version 3) as constants", () => {
    const m = importOnnx(encodeModel({
      irVersion: 3,
      nodes: [node("Add", ["x", "w"], ["y"])],
      inputs: [valueInfo("x", DT.FLOAT, [2]), valueInfo("w", DT.FLOAT, [2])],
      outputs: [valueInfo("y", DT.FLOAT, [2])],
      initializers: [rawFloatTensor("w", [2], [1, 2])],
    }), { file: "ir3.onnx" });
    expect(m.inputs.map((v) => v.name)).toEqual(["x"]);
    expect(m.constants.map((v) => v.name)).toEqual(["w"]);
  });
});

describe("TensorProto files", () => {
  it("round-trips every dtype through encodeTensorProto and decodeTensorProto", () => {
    const cases = [
      { dtype: "f32", data: new Float32Array([1.5, -2]) },
      { dtype: "f64", data: new Float64Array([0.1, 3]) },
      { dtype: "f16", data: new Uint16Array([0x3c00, 0xc000]) },
      { dtype: "i8", data: new Int8Array([-3, 4]) },
      { dtype: "i64", data: new BigInt64Array([-(2n ** 62n), 5n]) },
      { dtype: "u64", data: new BigUint64Array([2n ** 64n - 1n, 0n]) },
      { dtype: "bool", data: new Uint8Array([1, 0]) },
    ] as const;
    for (const c of cases) {
      const tensor = { type: { dtype: c.dtype, shape: [2, 1] }, data: c.data };
      const back = decodeTensorProto(encodeTensorProto("t", tensor), "t.pb");
      expect(back.name).toBe("t");
      expect(back.tensor.type).toEqual(tensor.type);
      expect(Array.from(back.tensor.data as ArrayLike<unknown>)).toEqual(Array.from(c.data as ArrayLike<unknown>));
    }
  });

  it("decodes an ONNX test-set input file", () => {
    const file = "fixtures/onnx-node/node/test_add_bcast/test_data_set_0/input_1.pb";
    const { tensor } = decodeTensorProto(readFileSync(file), file);
    expect(tensor.type).toEqual({ dtype: "f32", shape: [5] });
    expect(readNumbers(tensor).every(Number.isFinite)).toBe(true);
  });

  it("rejects a truncated tensor file with XB4003 naming the file", () => {
    const bytes = encodeTensorProto("t", { type: { dtype: "f32", shape: [64] }, data: new Float32Array(64) });
    const e = catchXbarcError(() => decodeTensorProto(bytes.subarray(0, bytes.length - 9), "cut.pb"));
    expect(e.code).toBe("XB4003");
    expect(e.message).toContain("cut.pb");
  });

  it("rejects an empty tensor file with XB4003", () => {
    expect(catchXbarcError(() => decodeTensorProto(new Uint8Array(0), "empty.pb")).code).toBe("XB4003");
  });
});

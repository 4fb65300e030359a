/** @fileoverview What the importer says about input it cannot import: codes, files, nodes and fields named. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderError } from "@xbarc/ir";
import { importOnnx, loadOnnxFile } from "@xbarc/frontend";
import { DT, encodeModel, node, pseudoRandomBytes, rawFloatTensor, valueInfo, type ModelSpec } from "./onnx-builder.js";
import { catchXbarcError } from "../../../test/helpers/errors.js";

/** A one-node model around `n` with input x: f32[1,2,4,4] and output y. */
function oneNode(n: ReturnType<typeof node>, extra: Partial<ModelSpec> = {}): Uint8Array {
  return encodeModel({
    nodes: [n],
    inputs: [valueInfo("x", DT.FLOAT, [1, 2, 4, 4])],
    outputs: [valueInfo("y", DT.FLOAT, [1, 2, 4, 4])],
    ...extra,
  });
}

describe("file errors", () => {
  const real = "fixtures/models/trained/lenet5.onnx";
  const bytes = readFileSync(real);

  for (const cut of [100, 1000, 20000, bytes.length - 1]) {
    it(`rejects ${real} cut to ${cut} bytes with XB1002 naming the file and the byte offset`, () => {
      const e = catchXbarcError(() => importOnnx(bytes.subarray(0, cut), { file: "lenet5-cut.onnx" }));
      expect(e.code).toBe("XB1002");
      expect(e.message).toContain("lenet5-cut.onnx");
      // protobufjs: "index out of range: <offset> + <length> > <size>"
      expect(e.message).toMatch(new RegExp(`index out of range: \\d+ \\+ \\d+ > ${cut}`));
      expect(e.hint).toMatch(/truncated or corrupt/);
    });
  }

  it("rejects pseudo-random bytes as not an ONNX model", () => {
    for (const seed of [1, 2, 3]) {
      const e = catchXbarcError(() => importOnnx(pseudoRandomBytes(4096, seed), { file: "noise.bin" }));
      expect(["XB1002", "XB1003"]).toContain(e.code);
      expect(e.message).toContain("noise.bin");
    }
  });

  it("rejects a text file that protobuf cannot decode with XB1002", () => {
    const e = catchXbarcError(() => loadOnnxFile("fixtures/README.md"));
    expect(e.code).toBe("XB1002");
    expect(e.message).toContain("fixtures/README.md");
    expect(e.message).toMatch(/invalid wire type \d+ at offset \d+/);
  });

  it("rejects a text file that decodes as an empty message with XB1003 and asks whether it is an ONNX model", () => {
    const dir = mkdtempSync(join(tmpdir(), "xbarc-err-"));
    writeFileSync(join(dir, "script.onnx"), "#!/bin/sh\n");
    const e = catchXbarcError(() => loadOnnxFile(join(dir, "script.onnx")));
    expect(e.code).toBe("XB1003");
    expect(e.message).toContain("script.onnx");
    expect(e.hint).toMatch(/is this an ONNX model\?/);
  });

  it("rejects an empty file and a missing file with XB1001", () => {
    const dir = mkdtempSync(join(tmpdir(), "xbarc-err-"));
    writeFileSync(join(dir, "empty.onnx"), "");
    for (const path of [join(dir, "empty.onnx"), join(dir, "missing.onnx")]) {
      const e = catchXbarcError(() => loadOnnxFile(path));
      expect(e.code).toBe("XB1001");
      expect(e.message).toContain(path);
    }
  });
});

describe("node errors", () => {
  it("names the node, operator and opset of an unsupported operator (XB1004)", () => {
    const e = catchXbarcError(() => importOnnx(oneNode(node("Resize", ["x"], ["y"], {}, "upsample_3"), { opset: 13 }), { file: "resize.onnx" }));
    expect(e.code).toBe("XB1004");
    expect(e.message).toBe('node "upsample_3" (Resize, opset 13): operator is not supported');
    expect(e.location).toEqual({ kind: "onnx", file: "resize.onnx", node: "upsample_3", opType: "Resize" });
    expect(e.hint).toContain("Conv");
    expect(renderError(e)).toMatch(/^resize\.onnx: error XB1004: node "upsample_3"/);
  });

  it("names an unnamed node by OpType_index", () => {
    const model = encodeModel({
      nodes: [node("Relu", ["x"], ["r"]), node("Erf", ["r"], ["y"])],
      inputs: [valueInfo("x", DT.FLOAT, [2])],
      outputs: [valueInfo("y", DT.FLOAT, [2])],
      opset: 9,
    });
    expect(catchXbarcError(() => importOnnx(model, { file: "erf.onnx" })).message).toBe('node "Erf_1" (Erf, opset 9): operator is not supported');
  });

  it("rejects a node of another domain with XB1010 naming node and domain", () => {
    const n = { ...node("Gelu", ["x"], ["y"], {}, "gelu0"), domain: "com.microsoft" };
    const e = catchXbarcError(() => importOnnx(oneNode(n), { file: "ms.onnx" }));
    expect(e.code).toBe("XB1010");
    expect(e.message).toContain('node "gelu0"');
    expect(e.message).toContain('"com.microsoft"');
  });

  it("rejects an opset newer than the importer knows with XB1010 naming the opset", () => {
    const e = catchXbarcError(() => importOnnx(oneNode(node("Relu", ["x"], ["y"]), { opset: 99 }), { file: "future.onnx" }));
    expect(e.code).toBe("XB1010");
    expect(e.message).toContain("opset 99");
  });

  it("names the node and the input when an initializer is missing (XB1005)", () => {
    const e = catchXbarcError(() => importOnnx(oneNode(node("Conv", ["x", "conv1.weight"], ["y"], {}, "conv1")), { file: "nw.onnx" }));
    expect(e.code).toBe("XB1005");
    expect(e.message).toContain('node "conv1"');
    expect(e.message).toContain('"conv1.weight"');
    expect(e.location).toMatchObject({ file: "nw.onnx", node: "conv1", field: "conv1.weight" });
  });

  it("names the input and the dimension of an unresolvable symbolic dim (XB1006)", () => {
    const model = encodeModel({
      nodes: [node("Relu", ["tokens"], ["y"])],
      inputs: [valueInfo("tokens", DT.FLOAT, ["batch", "seq_len", 8])],
      outputs: [valueInfo("y", DT.FLOAT, ["batch", "seq_len", 8])],
    });
    const e = catchXbarcError(() => importOnnx(model, { file: "seq.onnx" }));
    expect(e.code).toBe("XB1006");
    expect(e.message).toContain('graph input "tokens"');
    expect(e.message).toContain("dimension 1");
    expect(e.message).toContain('"seq_len"');
    expect(e.hint).toMatch(/static shapes/);
  });

  it("rejects a bad attribute value with XB1007 naming node and attribute", () => {
    const e = catchXbarcError(() => importOnnx(oneNode(node("MaxPool", ["x"], ["y"], { kernel_shape: [2, 2], auto_pad: "SAME_MIDDLE" }, "pool1")), { file: "ap.onnx" }));
    expect(e.code).toBe("XB1007");
    expect(e.message).toContain('node "pool1"');
    expect(e.message).toContain('attribute "auto_pad"');
    expect(e.location).toMatchObject({ node: "pool1", field: "auto_pad" });
  });

  it("rejects an attribute of the wrong type with XB1007", () => {
    const e = catchXbarcError(() => importOnnx(oneNode(node("LeakyRelu", ["x"], ["y"], { alpha: "big" })), { file: "t.onnx" }));
    expect(e.code).toBe("XB1007");
    expect(e.message).toContain('attribute "alpha" must be of type float');
  });

  it("rejects BatchNormalization running-statistic outputs with training_mode=0 with XB1007", () => {
    const init = ["s", "b", "m", "v"].map((k) => rawFloatTensor(k, [2], [1, 1]));
    const e = catchXbarcError(() => importOnnx(oneNode(node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], { training_mode: 0 }, "bn"),
      { opset: 15, initializers: init }), { file: "bn.onnx" }));
    expect(e.code).toBe("XB1007");
    expect(e.message).toContain('"rm", "rv" with training_mode=0');
    expect(e.location).toMatchObject({ node: "bn", field: "outputs" });
  });

  it("rejects the opset-9 BatchNormalization training outputs with XB1007", () => {
    const init = ["s", "b", "m", "v"].map((k) => rawFloatTensor(k, [2], [1, 1]));
    const e = catchXbarcError(() => importOnnx(oneNode(node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "mean", "var", "saved_mean", "saved_var"], {}, "bn"),
      { opset: 9, initializers: init }), { file: "bn9.onnx" }));
    expect(e.code).toBe("XB1007");
    expect(e.message).toContain("at opset 9");
    expect(e.hint).toContain("training_mode=1");
  });

  it("reports operands that do not fit the operator as XB1006 with the operand types", () => {
    const model = encodeModel({
      nodes: [node("Add", ["x", "z"], ["y"], {}, "add_bad")],
      inputs: [valueInfo("x", DT.FLOAT, [2, 3]), valueInfo("z", DT.FLOAT, [4])],
      outputs: [valueInfo("y", DT.FLOAT, [2, 3])],
    });
    const e = catchXbarcError(() => importOnnx(model, { file: "bcast.onnx" }));
    expect(e.code).toBe("XB1006");
    expect(e.message).toContain('node "add_bad" (Add)');
    expect(e.notes.join(" ")).toContain("f32[2,3]");
  });

  it("rejects a graph output whose declared element type disagrees (XB1006)", () => {
    const model = encodeModel({
      nodes: [node("Relu", ["x"], ["y"])],
      inputs: [valueInfo("x", DT.FLOAT, [2])],
      outputs: [valueInfo("y", DT.INT64, [2])],
    });
    const e = catchXbarcError(() => importOnnx(model, { file: "out.onnx" }));
    expect(e.code).toBe("XB1006");
    expect(e.message).toContain('graph output "y"');
  });

  it("rejects a graph input of an unsupported element type with XB1008", () => {
    const model = encodeModel({
      nodes: [node("Identity", ["x"], ["y"])],
      inputs: [valueInfo("x", DT.BFLOAT16, [2])],
      outputs: [valueInfo("y", DT.BFLOAT16, [2])],
    });
    const e = catchXbarcError(() => importOnnx(model, { file: "bf.onnx" }));
    expect(e.code).toBe("XB1008");
    expect(e.message).toContain('"x"');
    expect(e.message).toContain("BFLOAT16");
  });
});

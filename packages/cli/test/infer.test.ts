import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readNumbers, tensorFromNumbers } from "@xbarc/ir";
import { decodeTensorProto, encodeTensorProto } from "@xbarc/frontend";
import { encodeNpy } from "@xbarc/backend-sim";
import { DT, encodeModel, node, valueInfo } from "../../frontend/test/onnx-builder.js";
import { fixture, listFiles, makeTempDir, REPO, xbarc } from "./helpers.js";

const tmp = makeTempDir("infer");
afterAll(tmp.cleanup);

function readPb(path: string) {
  return decodeTensorProto(readFileSync(join(REPO, path)), path);
}

/** max |a − b| over two equally shaped tensors. */
function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A one-node Relu model whose output name holds path characters. */
function reluModelWithSlashOutput(): Uint8Array {
  return encodeModel({
    nodes: [node("Relu", ["x"], ["block/relu:0"], {}, "relu")],
    inputs: [valueInfo("x", DT.FLOAT, [2, 3])],
    outputs: [valueInfo("block/relu:0", DT.FLOAT, [2, 3])],
  });
}

describe("xbarc infer", () => {
  for (const name of ["lenet5", "mlp784-32-10-relu"]) {
    it(`reproduces the fixture's output_0.pb for ${name} within 1e-4`, () => {
      const dir = `models/trained/${name}/test_data_set_0`;
      const outDir = join(tmp.dir, `out-${name}`);
      const r = xbarc("infer", fixture(`models/trained/${name}.onnx`), "--input", fixture(`${dir}/input_0.pb`), "--output-dir", outDir);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(listFiles(outDir)).toEqual(["logits.pb"]);
      const got = decodeTensorProto(readFileSync(join(outDir, "logits.pb")), "logits.pb");
      const want = readPb(fixture(`${dir}/output_0.pb`));
      expect(got.name).toBe("logits");
      expect(got.tensor.type).toEqual(want.tensor.type);
      expect(maxAbsDiff(readNumbers(got.tensor), readNumbers(want.tensor))).toBeLessThan(1e-4);
    });
  }

  it("accepts name=file and .npy inputs, and prints a JSON summary", () => {
    const input = readPb(fixture("models/trained/mlp784-32-10-relu/test_data_set_0/input_0.pb")).tensor;
    const npy = join(tmp.dir, "x.npy");
    writeFileSync(npy, encodeNpy(input));
    const outDir = join(tmp.dir, "out-npy");
    const r = xbarc("infer", fixture("models/trained/mlp784-32-10-relu.onnx"), "--input", `input=${npy}`, "--output-dir", outDir, "--json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { outputs: { name: string; type: string; file: string; values: number[] }[] };
    expect(doc.outputs).toHaveLength(1);
    expect(doc.outputs[0]!.name).toBe("logits");
    expect(doc.outputs[0]!.type).toBe("f32[16,10]");
    expect(doc.outputs[0]!.file).toBe(join(outDir, "logits.pb"));
    const want = readNumbers(readPb(fixture("models/trained/mlp784-32-10-relu/test_data_set_0/output_0.pb")).tensor);
    doc.outputs[0]!.values.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4));
  });

  it("names output files after the output with path characters replaced", () => {
    const model = join(tmp.dir, "slash.onnx");
    writeFileSync(model, reluModelWithSlashOutput());
    const x = join(tmp.dir, "relu-in.pb");
    writeFileSync(x, encodeTensorProto("x", tensorFromNumbers("f32", [2, 3], [-1, 2, -3, 4, -5, 6])));
    const outDir = join(tmp.dir, "out-slash");
    const r = xbarc("infer", model, "--input", x, "--output-dir", outDir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(listFiles(outDir)).toEqual(["block_relu_0.pb"]);
    const got = decodeTensorProto(readFileSync(join(outDir, "block_relu_0.pb")), "y.pb");
    expect(got.name).toBe("block/relu:0");
    expect(Array.from(readNumbers(got.tensor))).toEqual([0, 2, 0, 4, 0, 6]);
  });

  it("runs an .xir written by import --weights, and without the weights names the constant that has no data (XB6001)", () => {
    const xir = join(tmp.dir, "lenet16.xir");
    const weights = join(tmp.dir, "lenet16.weights");
    expect(xbarc("import", fixture("models/trained/lenet5.onnx"), "--batch", "16", "-o", xir, "--weights", weights).code).toBe(0);
    const input = fixture("models/trained/lenet5/test_data_set_0/input_0.pb");
    const outDir = join(tmp.dir, "out-xir");
    const r = xbarc("infer", xir, "--weights", weights, "--input", input, "--output-dir", outDir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const got = decodeTensorProto(readFileSync(join(outDir, "logits.pb")), "logits.pb");
    const want = readPb(fixture("models/trained/lenet5/test_data_set_0/output_0.pb"));
    expect(maxAbsDiff(readNumbers(got.tensor), readNumbers(want.tensor))).toBeLessThan(1e-4);

    const noData = xbarc("infer", xir, "--input", input, "--output-dir", join(tmp.dir, "out-nodata"));
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(/error XB6001: constant @\S+ has no data/);
    expect(noData.stderr).toContain("--weights");
    expect(listFiles(tmp.dir)).not.toContain("out-nodata");
  });

  it("rejects a wrong-shaped input with XB4002 naming the input, expected and found types, and creates no output dir", () => {
    // lenet5's 16 test images fed to the flat MLP: f32[16,1,28,28] where f32[16,784] is expected
    const outDir = join(tmp.dir, "never-created");
    const r = xbarc("infer", fixture("models/trained/mlp784-32-10-relu.onnx"),
      "--input", fixture("models/trained/lenet5/test_data_set_0/input_0.pb"), "--output-dir", outDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB4002: /);
    expect(r.stderr).toContain('input "input"');
    expect(r.stderr).toContain("f32[16,784]");
    expect(r.stderr).toContain("f32[16,1,28,28]");
    expect(r.stderr).toContain("input_0.pb");
    expect(listFiles(tmp.dir)).not.toContain("never-created");
  });

  it("rejects an input file that is not a tensor with XB4003 naming it", () => {
    const junk = join(tmp.dir, "junk.pb");
    writeFileSync(junk, "not a tensor at all, just text\n");
    const r = xbarc("infer", fixture("models/trained/mlp784-32-10-relu.onnx"), "--input", junk, "--output-dir", join(tmp.dir, "junk-out"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB4003: /);
    expect(r.stderr).toContain("junk.pb");
    expect(listFiles(tmp.dir)).not.toContain("junk-out");
  });

  it("exits 2 when --output-dir is missing", () => {
    const r = xbarc("infer", fixture("models/trained/mlp784-32-10-relu.onnx"), "--input", "x.pb");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--output-dir/);
  });
});

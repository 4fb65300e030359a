import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tensorFromNumbers, XbarcError } from "@xbarc/ir";
import { checkInputs, EXIT, evalFloat, getModelFormat, importModel, inferModule, OutputSet, readIndexFile, reportError, toSafeFileName, writeOutputs, type Io } from "@xbarc/cli";
import { catchXbarcError } from "../../../test/helpers/errors.js";

const FIX = "fixtures";
const MNIST = { images: `${FIX}/mnist/t10k-images-idx3-ubyte.gz`, labels: `${FIX}/mnist/t10k-labels-idx1-ubyte.gz` };
const tmp = mkdtempSync(join(tmpdir(), "xbarc-api-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("evalFloat", () => {
  it("reproduces 99.60% for the fixed-batch-10 PyTorch LeNet with (x/255 − 0.1307)/0.3081 (fixtures/README.md)", () => {
    const pre = { mean: 0.1307, std: 0.3081 };
    const model = `${FIX}/models/public/lenet5-pytorch1.3-opset9-batch10.onnx`;
    const full = evalFloat({ model, ...MNIST, offset: 8000, preprocessing: pre });
    expect(full.batchSize).toBe(10);
    expect(full.images).toBe(2000);
    expect(full.correct).toBe(1992);
    // 1995 + 5 images: both runs end in a zero-padded batch whose padded rows must not count
    const head = evalFloat({ model, ...MNIST, offset: 8000, limit: 1995, preprocessing: pre });
    const tail = evalFloat({ model, ...MNIST, offset: 9995, preprocessing: pre });
    expect(tail.images).toBe(5);
    expect(head.correct + tail.correct).toBe(full.correct);
  });

  it("reproduces 96.94% of the digits MLP on the test split from fixtures/digits/test_split.json", () => {
    const digits = `${FIX}/digits/digits.csv.gz`;
    const r = evalFloat({
      model: `${FIX}/models/trained/digits-mlp64-32-10.onnx`,
      images: digits,
      labels: digits,
      indices: readIndexFile(`${FIX}/digits/test_split.json`),
      preprocessing: { scale: 1 / 16 },
    });
    expect(r.images).toBe(359);
    expect(r.correct).toBe(348);
  });

  it("rejects an offset past the end as a usage error (XB7001)", () => {
    const e = catchXbarcError(() => evalFloat({ model: `${FIX}/models/trained/mlp784-32-10-relu.onnx`, ...MNIST, offset: 10000 }));
    expect(e.code).toBe("XB7001");
    expect(e.message).toContain("10000");
  });
});

describe("checkInputs and inferModule", () => {
  it("name the input, the expected and the found type on a mismatch (XB4002)", () => {
    const m = importModel(`${FIX}/models/trained/mlp784-32-10-relu.onnx`, { batch: 2 });
    const wrong = tensorFromNumbers("f64", [2, 784], new Array(2 * 784).fill(0));
    const e = catchXbarcError(() => checkInputs(m, new Map([["input", wrong]]), new Map([["input", "x.npy"]])));
    expect(e.code).toBe("XB4002");
    expect(e.message).toBe('input "input": expected f32[2,784], found f64[2,784] in x.npy');
    const missing = catchXbarcError(() => checkInputs(m, new Map()));
    expect(missing.message).toContain('"input"');
    const unknown = catchXbarcError(() => checkInputs(m, new Map([["image", wrong]])));
    expect(unknown.message).toContain('no input named "image"');
  });

  it("runs canonicalize and the interpreter on a Record of inputs", () => {
    const m = importModel(`${FIX}/models/trained/mlp784-32-10-relu.onnx`, { batch: 1 });
    const out = inferModule(m, { input: tensorFromNumbers("f32", [1, 784], new Array(784).fill(0)) });
    expect(out.get("logits")?.type).toEqual({ dtype: "f32", shape: [1, 10] });
    expect(m.ops.some((op) => op.opcode === "linear")).toBe(true);
  });
});

describe("output files", () => {
  it("appear together on commit, and nothing (not even a created directory) stays after abort", () => {
    const dir = join(tmp, "a", "b");
    const out = new OutputSet();
    out.ensureDir(dir);
    out.add(join(dir, "x.pb"), "x");
    out.add(join(dir, "y.pb"), "y");
    expect(readdirSync(dir).every((f) => f.endsWith(".tmp"))).toBe(true);
    out.abort();
    expect(existsSync(join(tmp, "a"))).toBe(false);

    writeOutputs((o) => {
      o.ensureDir(dir);
      o.add(join(dir, "x.pb"), "x");
    });
    expect(readdirSync(dir)).toEqual(["x.pb"]);
    expect(readFileSync(join(dir, "x.pb"), "utf8")).toBe("x");
  });

  it("are not written when one of them fails, and the error is XB7003 naming the bad path", () => {
    const ok = join(tmp, "ok.txt");
    const blocker = join(tmp, "blocker");
    writeFileSync(blocker, "");
    const e = catchXbarcError(() => writeOutputs((o) => {
      o.add(ok, "fine");
      o.add(join(blocker, "nested.txt"), "never");
    }));
    expect(e.code).toBe("XB7003");
    expect(e.message).toContain(join(blocker, "nested.txt"));
    expect(readdirSync(tmp).filter((f) => f.startsWith("ok") || f.startsWith(".ok"))).toEqual([]);
  });

  it("get names without path characters", () => {
    expect(toSafeFileName("block/relu:0")).toBe("block_relu_0");
    expect(toSafeFileName("/f5/Gemm_output_0")).toBe("_f5_Gemm_output_0");
    expect(toSafeFileName("..")).toBe("_..");
    expect(toSafeFileName(".hidden")).toBe("_hidden");
    expect(toSafeFileName("a\\b c")).toBe("a_b_c");
  });
});

describe("reportError", () => {
  function capture(): Io & { err: string } {
    const io = { err: "", isTTY: false, writeOut: () => {}, writeErr: (t: string) => { io.err += t; } };
    return io;
  }

  it("maps a user error to exit 1 with the rendered diagnostic", () => {
    const io = capture();
    const code = reportError(io, new XbarcError("XB7002", "cannot read dataset file: no such file", { location: { kind: "file", file: "d.gz" }, hint: "check the path" }), false);
    expect(code).toBe(EXIT.userError);
    expect(io.err).toBe("d.gz: error XB7002: cannot read dataset file: no such file\n  hint: check the path\n");
  });

  it("maps any other exception to exit 3, says it is a bug, and prints the stack", () => {
    const io = capture();
    const code = reportError(io, new TypeError("x is undefined"), false);
    expect(code).toBe(EXIT.internalError);
    expect(io.err).toMatch(/^internal error XB9001: x is undefined \(this is a bug in xbarc/);
    expect(io.err).toMatch(/TypeError: x is undefined\n\s+at /);
  });

  it("prints one JSON error object with --json, and XB7001 means exit 2", () => {
    const io = capture();
    const code = reportError(io, new XbarcError("XB7001", "say which input"), true);
    expect(code).toBe(EXIT.usageError);
    expect(JSON.parse(io.err)).toEqual({ error: { code: "XB7001", message: "say which input", notes: [] } });
  });
});

describe("small helpers", () => {
  it("getModelFormat goes by extension, then by the text's first word", () => {
    const text = join(tmp, "model.txt");
    writeFileSync(text, "// xbarc-ir 1\nmodule @m {\n  output\n}\n");
    expect(getModelFormat("a.xir")).toBe("xir");
    expect(getModelFormat("a.ONNX")).toBe("onnx");
    expect(getModelFormat(text)).toBe("xir");
    expect(getModelFormat(`${FIX}/models/trained/lenet5.onnx`)).toBe("onnx");
  });

  it("readIndexFile reads an array or an object with one index array, and rejects anything else", () => {
    const arr = join(tmp, "arr.json");
    writeFileSync(arr, "[4, 0, 2]");
    expect(readIndexFile(arr)).toEqual([4, 0, 2]);
    const two = join(tmp, "two.json");
    writeFileSync(two, '{"a": [1], "b": [2]}');
    expect(catchXbarcError(() => readIndexFile(two)).code).toBe("XB7002");
    const neg = join(tmp, "neg.json");
    writeFileSync(neg, "[1, -1]");
    expect(catchXbarcError(() => readIndexFile(neg)).message).toContain("neg.json");
  });
});

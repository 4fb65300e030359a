/** @fileoverview Importing real models and small built ones: names, module facts, static shapes, opset lowering. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  XbarcError,
  createTensor,
  interpretModule,
  parseModule,
  printModule,
  readNumbers,
  tensorFromNumbers,
  verifyModule,
  type Module,
  type Op,
  type Tensor,
} from "@xbarc/ir";
import { SUPPORTED_ONNX_OPS, decodeTensorProto, importOnnx, loadOnnxFile, shortestFloat32 } from "@xbarc/frontend";
import { DT, encodeModel, node, rawFloatTensor, rawInt64Tensor, valueInfo } from "./onnx-builder.js";

function opsOf(m: Module): string[] {
  return m.ops.map((o) => o.opcode);
}

function opNamed(m: Module, result: string): Op {
  const op = m.ops.find((o) => o.results.some((r) => r.name === result));
  if (!op) throw new Error(`no op defines ${result}`);
  return op;
}

function run(m: Module, inputs: Record<string, Tensor>): Map<string, Tensor> {
  return interpretModule(m, inputs);
}

/** A deterministic test input with values in [-2, 2). */
function ramp(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensorFromNumbers("f32", shape, Array.from({ length: n }, (_, i) => ((i * 37) % 23) / 5.75 - 2));
}

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `element ${i}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]!)));
}

describe("real models", () => {
  const models = [
    "fixtures/models/public/zoo-mnist-8-cntk2.5.1-opset8",
    "fixtures/models/public/lenet5-pytorch1.3-opset9-batch10",
    "fixtures/models/public/lenet5-pytorch2.0-opset10",
    "fixtures/models/trained/lenet5",
    "fixtures/models/trained/cnn-3conv-2fc",
    "fixtures/models/trained/mlp784-32-10-sigmoid",
    "fixtures/models/trained/digits-mlp64-32-10",
  ];
  for (const base of models) {
    it(`imports ${base}.onnx and reproduces its stored output`, () => {
      const input = decodeTensorProto(readFileSync(`${base}/test_data_set_0/input_0.pb`), "input_0.pb").tensor;
      const expected = decodeTensorProto(readFileSync(`${base}/test_data_set_0/output_0.pb`), "output_0.pb").tensor;
      // a symbolic batch dim takes the batch option; a fixed one (batch10) keeps its size
      const m = loadOnnxFile(`${base}.onnx`, { batch: input.type.shape[0] });
      verifyModule(m);
      expect(m.inputs[0]!.type).toEqual(input.type);
      const out = run(m, { [m.inputs[0]!.name]: input }).get(m.outputs[0]!.name)!;
      expect(out.type).toEqual(expected.type);
      expectAllClose(readNumbers(out), readNumbers(expected), 1e-4);
    });
  }

  it("produces modules whose IR text parses back to the same text", () => {
    for (const base of models) {
      const m = loadOnnxFile(`${base}.onnx`);
      const printed = printModule(m, { weights: true });
      const again = printModule(parseModule(printed.text, { weights: printed.weights }), { weights: true });
      expect(again.text).toBe(printed.text);
    }
  });

  it("records the source, producer, IR version, opset and batch in module attributes", () => {
    const m = loadOnnxFile("fixtures/models/public/lenet5-pytorch1.3-opset9-batch10.onnx", { batch: 4 });
    expect(m.name).toBe("lenet5_pytorch1_3_opset9_batch10");
    expect(m.attrs).toEqual({ source: "lenet5-pytorch1.3-opset9-batch10.onnx", producer: "pytorch 1.3", ir_version: 4, opset: 9, batch: 4 });
  });

  it("keeps ONNX value names and uses node names (or OpType_index) as locations", () => {
    const m = loadOnnxFile("fixtures/models/public/zoo-mnist-8-cntk2.5.1-opset8.onnx");
    const conv = opNamed(m, "Convolution28_Output_0");
    expect(conv.loc).toBe("Convolution28");
    expect(conv.operands[1]!.name).toBe("Parameter5");
    const built = importOnnx(encodeModel({
      nodes: [node("Relu", ["x"], ["r"]), node("Sigmoid", ["r"], ["y"], {}, "named")],
      inputs: [valueInfo("x", DT.FLOAT, [2])],
      outputs: [valueInfo("y", DT.FLOAT, [2])],
    }), { file: "names.onnx" });
    expect(built.ops.map((o) => o.loc)).toEqual(["Relu_0", "named"]);
  });
});

describe("static shapes", () => {
  it("gives a symbolic or unset first dim the batch size", () => {
    for (const first of ["N", null]) {
      const m = importOnnx(encodeModel({
        nodes: [node("Relu", ["x"], ["y"])],
        inputs: [valueInfo("x", DT.FLOAT, [first, 3])],
        outputs: [valueInfo("y", DT.FLOAT, [first, 3])],
      }), { file: "batch.onnx", batch: 7 });
      expect(m.inputs[0]!.type.shape).toEqual([7, 3]);
      expect(m.outputs[0]!.type.shape).toEqual([7, 3]);
    }
  });

  it("infers a PyTorch Shape→Gather→Unsqueeze→Concat→Reshape chain statically", () => {
    const m = importOnnx(encodeModel({
      opset: 13,
      nodes: [
        node("Shape", ["x"], ["s"]),
        node("Constant", [], ["zero"], { value: { tensor: rawInt64Tensor("", [], [0]) } }),
        node("Gather", ["s", "zero"], ["n"], { axis: 0 }),
        node("Unsqueeze", ["n", "axes0"], ["n1"]),
        node("Concat", ["n1", "minus1"], ["target"], { axis: 0 }),
        node("Reshape", ["x", "target"], ["y"]),
      ],
      initializers: [rawInt64Tensor("axes0", [1], [0]), rawInt64Tensor("minus1", [1], [-1])],
      inputs: [valueInfo("x", DT.FLOAT, ["batch", 2, 3, 4])],
      outputs: [valueInfo("y", DT.FLOAT, ["batch", null])],
    }), { file: "chain.onnx", batch: 5 });
    expect(m.outputs[0]!.type).toEqual({ dtype: "f32", shape: [5, 24] });
    expect(opsOf(m)).toEqual(["shape", "gather", "unsqueeze", "concat", "reshape"]);
  });

  it("falls back to the declared type when a shape depends on a run-time input", () => {
    const spec = (declared: boolean) => encodeModel({
      nodes: [node("Slice", ["x", "starts", "ends"], ["y"])],
      inputs: [valueInfo("x", DT.FLOAT, [10]), valueInfo("starts", DT.INT64, [1]), valueInfo("ends", DT.INT64, [1])],
      outputs: [valueInfo("y", DT.FLOAT, declared ? [4] : ["k"])],
    });
    const m = importOnnx(spec(true), { file: "declared.onnx" });
    expect(m.outputs[0]!.type.shape).toEqual([4]);
    let error: unknown;
    try {
      importOnnx(spec(false), { file: "undeclared.onnx" });
    } catch (e) {
      error = e;
    }
    expect((error as XbarcError).code).toBe("XB1006");
    expect((error as XbarcError).message).toMatch(/node "Slice_0" \(Slice\).*"y".*"starts"/);
  });

  it("accepts float16 and float64 model inputs", () => {
    for (const [dt, dtype] of [[DT.FLOAT16, "f16"], [DT.DOUBLE, "f64"]] as const) {
      const m = importOnnx(encodeModel({
        nodes: [node("Relu", ["x"], ["y"])],
        inputs: [valueInfo("x", dt, [1, 2])],
        outputs: [valueInfo("y", dt, [1, 2])],
      }), { file: "half.onnx" });
      expect(m.inputs[0]!.type.dtype).toBe(dtype);
      expect(m.outputs[0]!.type.dtype).toBe(dtype);
    }
  });
});

describe("attributes", () => {
  it("stores float attributes as the shortest decimal of their float32", () => {
    expect(shortestFloat32(Math.fround(0.01))).toBe(0.01);
    expect(shortestFloat32(Math.fround(1e-5))).toBe(1e-5);
    expect(shortestFloat32(Math.fround(1 / 3))).toBe(0.33333334);
    const m = importOnnx(encodeModel({
      nodes: [node("LeakyRelu", ["x"], ["y"], { alpha: { float: 0.01 } })],
      inputs: [valueInfo("x", DT.FLOAT, [2])],
      outputs: [valueInfo("y", DT.FLOAT, [2])],
    }), { file: "alpha.onnx" });
    expect(m.ops[0]!.attrs.alpha).toBe(0.01);
  });

  it("resolves auto_pad SAME_LOWER and SAME_UPPER to explicit pads, the odd cell at the start or the end", () => {
    for (const [mode, pads] of [["SAME_UPPER", [0, 0, 1, 1]], ["SAME_LOWER", [1, 1, 0, 0]]] as const) {
      const m = importOnnx(encodeModel({
        nodes: [node("Conv", ["x", "w"], ["y"], { auto_pad: mode, strides: [2, 2] })],
        initializers: [rawFloatTensor("w", [1, 1, 3, 3], new Array(9).fill(1))],
        inputs: [valueInfo("x", DT.FLOAT, [1, 1, 4, 4])],
        outputs: [valueInfo("y", DT.FLOAT, [1, 1, 2, 2])],
      }), { file: "same.onnx" });
      // out = ceil(4/2) = 2, total pad = (2−1)·2 + (3−1) + 1 − 4 = 1 per spatial dim
      expect(m.ops[0]!.attrs.pads).toEqual(pads);
      expect(m.outputs[0]!.type.shape).toEqual([1, 1, 2, 2]);
      // pools too: out = 3, total pad = (3−1)·1 + (2−1) + 1 − 3 = 1
      const odd = importOnnx(encodeModel({
        nodes: [node("MaxPool", ["x"], ["y"], { auto_pad: mode, kernel_shape: [2, 2] })],
        inputs: [valueInfo("x", DT.FLOAT, [1, 1, 3, 3])],
        outputs: [valueInfo("y", DT.FLOAT, [1, 1, 3, 3])],
      }), { file: "same.onnx" });
      expect(odd.ops[0]!.attrs.pads).toEqual(pads);
      expect(odd.outputs[0]!.type.shape).toEqual([1, 1, 3, 3]);
    }
  });

  it("maps Cast's `to` enum to an IR dtype", () => {
    const m = importOnnx(encodeModel({
      nodes: [node("Cast", ["x"], ["y"], { to: DT.FLOAT16 })],
      inputs: [valueInfo("x", DT.FLOAT, [2])],
      outputs: [valueInfo("y", DT.FLOAT16, [2])],
    }), { file: "cast.onnx" });
    expect(m.ops[0]!.attrs.to).toBe("f16");
  });
});

describe("opset lowering", () => {
  /** numpy-style reference: softmax over the flattened dims from `axis` on (the opset<13 definition). */
  function coercedSoftmax(x: Float64Array, shape: number[], axis: number, log: boolean): number[] {
    const inner = shape.slice(axis).reduce((a, b) => a * b, 1);
    const out: number[] = [];
    for (let r = 0; r < x.length / inner; r++) {
      const row = Array.from(x.subarray(r * inner, (r + 1) * inner));
      const max = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
      for (const v of row) out.push(log ? v - max - Math.log(sum) : Math.exp(v - max) / sum);
    }
    return out;
  }

  for (const [opType, log] of [["Softmax", false], ["LogSoftmax", true]] as const) {
    it(`lowers opset-11 ${opType} on a 3-D input with axis=1 to reshape → ${opType.toLowerCase()} → reshape`, () => {
      const shape = [2, 3, 4];
      const m = importOnnx(encodeModel({
        opset: 11,
        nodes: [node(opType, ["x"], ["y"], { axis: 1 })],
        inputs: [valueInfo("x", DT.FLOAT, shape)],
        outputs: [valueInfo("y", DT.FLOAT, shape)],
      }), { file: "softmax11.onnx" });
      expect(opsOf(m)).toEqual(["reshape", log ? "logsoftmax" : "softmax", "reshape"]);
      const x = ramp(shape);
      const y = run(m, { x }).get("y")!;
      expect(y.type.shape).toEqual(shape);
      expectAllClose(readNumbers(y), coercedSoftmax(readNumbers(x), shape, 1, log));
    });
  }

  it("keeps opset-11 Softmax on the last axis as one op", () => {
    const m = importOnnx(encodeModel({
      opset: 11,
      nodes: [node("Softmax", ["x"], ["y"], { axis: 2 })],
      inputs: [valueInfo("x", DT.FLOAT, [2, 3, 4])],
      outputs: [valueInfo("y", DT.FLOAT, [2, 3, 4])],
    }), { file: "softmax11.onnx" });
    expect(opsOf(m)).toEqual(["softmax"]);
  });

  it("turns opset-6 Clip bounds attributes into constant operands", () => {
    const m = importOnnx(encodeModel({
      opset: 6,
      nodes: [node("Clip", ["x"], ["y"], { min: { float: -0.5 }, max: { float: 1.25 } })],
      inputs: [valueInfo("x", DT.FLOAT, [6])],
      outputs: [valueInfo("y", DT.FLOAT, [6])],
    }), { file: "clip6.onnx" });
    const x = tensorFromNumbers("f32", [6], [-3, -0.5, 0, 1, 1.25, 9]);
    expect(Array.from(readNumbers(run(m, { x }).get("y")!))).toEqual([-0.5, -0.5, 0, 1, 1.25, 1.25]);
  });

  it("turns opset-11 Squeeze/Unsqueeze axes attributes into constant operands", () => {
    const m = importOnnx(encodeModel({
      opset: 11,
      nodes: [node("Unsqueeze", ["x"], ["u"], { axes: [0, 3] }), node("Squeeze", ["u"], ["y"], { axes: [-1] })],
      inputs: [valueInfo("x", DT.FLOAT, [2, 3])],
      outputs: [valueInfo("y", DT.FLOAT, [1, 2, 3])],
    }), { file: "squeeze11.onnx" });
    expect(opNamed(m, "u").results[0]!.type.shape).toEqual([1, 2, 3, 1]);
    expect(m.outputs[0]!.type.shape).toEqual([1, 2, 3]);
  });

  it("turns opset-9 Slice attributes into constant operands", () => {
    const m = importOnnx(encodeModel({
      opset: 9,
      nodes: [node("Slice", ["x"], ["y"], { starts: [1, 0], ends: [3, -1], axes: [0, 1] })],
      inputs: [valueInfo("x", DT.FLOAT, [4, 3])],
      outputs: [valueInfo("y", DT.FLOAT, [2, 2])],
    }), { file: "slice9.onnx" });
    const x = tensorFromNumbers("f32", [4, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(readNumbers(run(m, { x }).get("y")!))).toEqual([3, 4, 6, 7]);
  });

  it("turns opset-2 Pad attributes into operands (reflect mode)", () => {
    const m = importOnnx(encodeModel({
      opset: 2,
      nodes: [node("Pad", ["x"], ["y"], { pads: [0, 2, 0, 1], mode: "reflect" })],
      inputs: [valueInfo("x", DT.FLOAT, [1, 4])],
      outputs: [valueInfo("y", DT.FLOAT, [1, 7])],
    }), { file: "pad2.onnx" });
    const x = tensorFromNumbers("f32", [1, 4], [1, 2, 3, 4]);
    expect(Array.from(readNumbers(run(m, { x }).get("y")!))).toEqual([3, 2, 1, 2, 3, 4, 3]);
  });

  it("rewrites opset-6 Add with broadcast=1, axis=1 so B aligns at axis 1", () => {
    const m = importOnnx(encodeModel({
      opset: 6,
      nodes: [node("Add", ["x", "b"], ["y"], { broadcast: 1, axis: 1 })],
      initializers: [rawFloatTensor("b", [3], [10, 20, 30])],
      inputs: [valueInfo("x", DT.FLOAT, [2, 3, 2])],
      outputs: [valueInfo("y", DT.FLOAT, [2, 3, 2])],
    }), { file: "add6.onnx" });
    const x = createTensor({ dtype: "f32", shape: [2, 3, 2] });
    expect(Array.from(readNumbers(run(m, { x }).get("y")!))).toEqual([10, 10, 20, 20, 30, 30, 10, 10, 20, 20, 30, 30]);
  });

  it("turns an opset-1 Reshape shape attribute into a constant operand", () => {
    const m = importOnnx(encodeModel({
      opset: 1,
      nodes: [node("Reshape", ["x"], ["y"], { shape: [3, -1] })],
      inputs: [valueInfo("x", DT.FLOAT, [2, 3])],
      outputs: [valueInfo("y", DT.FLOAT, [3, 2])],
    }), { file: "reshape1.onnx" });
    expect(m.outputs[0]!.type.shape).toEqual([3, 2]);
  });

  it("casts the opset-7 Dropout mask to the input's element type", () => {
    const m = importOnnx(encodeModel({
      opset: 7,
      nodes: [node("Dropout", ["x"], ["y", "mask"], { ratio: { float: 0.3 } })],
      inputs: [valueInfo("x", DT.FLOAT, [3])],
      outputs: [valueInfo("y", DT.FLOAT, [3]), valueInfo("mask", DT.FLOAT, [3])],
    }), { file: "dropout7.onnx" });
    expect(opsOf(m)).toEqual(["dropout", "cast"]);
    const x = tensorFromNumbers("f32", [3], [1, 2, 3]);
    const out = run(m, { x });
    expect(Array.from(readNumbers(out.get("y")!))).toEqual([1, 2, 3]);
    expect(out.get("mask")!.type.dtype).toBe("f32");
    expect(Array.from(readNumbers(out.get("mask")!))).toEqual([1, 1, 1]);
  });

  describe("BatchNormalization training mode (opset 15)", () => {
    // x [2,2,1,2]: channel 0 holds 1,3,5,7 (mean 4, population variance 5), channel 1 holds 0,2,0,2 (mean 1, variance 1)
    const x = tensorFromNumbers("f32", [2, 2, 1, 2], [1, 3, 0, 2, 5, 7, 0, 2]);
    const initializers = [
      rawFloatTensor("s", [2], [1, 2]), rawFloatTensor("b", [2], [0, 0.5]),
      rawFloatTensor("m", [2], [0, 0]), rawFloatTensor("v", [2], [1, 1]),
    ];
    const bnModel = (outputs: string[]) => importOnnx(encodeModel({
      opset: 15,
      nodes: [node("BatchNormalization", ["x", "s", "b", "m", "v"], outputs, { training_mode: 1, momentum: { float: 0.5 }, epsilon: { float: 0 } }, "bn")],
      inputs: [valueInfo("x", DT.FLOAT, [2, 2, 1, 2])],
      outputs: outputs.filter((o) => o !== "").map((o) => valueInfo(o, DT.FLOAT, o === "y" ? [2, 2, 1, 2] : [2])),
      initializers,
    }), { file: "bn-train.onnx" });
    const s5 = Math.sqrt(5);
    const expectedY = [-3 / s5, -1 / s5, -1.5, 2.5, 1 / s5, 3 / s5, -1.5, 2.5];

    it("imports as batchnorm {training_mode=1} with y, running_mean and running_var from the batch statistics", () => {
      const m = bnModel(["y", "rm", "rv"]);
      const op = opNamed(m, "y");
      expect(op.attrs).toEqual({ epsilon: 0, training_mode: 1, momentum: 0.5 });
      expect(op.results.map((r) => r.name)).toEqual(["y", "rm", "rv"]);
      const out = run(m, { x });
      expectAllClose(readNumbers(out.get("y")!), expectedY);
      // running = input·momentum + batch·(1 − momentum), with the population variance
      expectAllClose(readNumbers(out.get("rm")!), [2, 0.5]);
      expectAllClose(readNumbers(out.get("rv")!), [3, 1]);
    });

    it("gives a skipped running_mean output a fresh name so the op keeps its three results", () => {
      const m = bnModel(["y", "", "rv"]);
      const op = opNamed(m, "rv");
      expect(op.results).toHaveLength(3);
      expect(op.results[1]!.name).not.toBe("");
      expectAllClose(readNumbers(run(m, { x }).get("rv")!), [3, 1]);
    });

    it("normalises with the batch statistics when only Y is asked for", () => {
      const m = bnModel(["y"]);
      expect(opNamed(m, "y").results).toHaveLength(1);
      expectAllClose(readNumbers(run(m, { x }).get("y")!), expectedY);
    });
  });

  it("lists the supported operators", () => {
    expect([...SUPPORTED_ONNX_OPS].sort()).toEqual([
      "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "Conv", "Div", "Dropout", "Flatten",
      "Gather", "Gemm", "GlobalAveragePool", "Identity", "LeakyRelu", "LogSoftmax", "MatMul", "MaxPool", "Mul", "Pad",
      "Relu", "Reshape", "Shape", "Sigmoid", "Slice", "Softmax", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    ]);
  });
});

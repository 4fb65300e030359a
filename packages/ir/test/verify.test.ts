import { describe, expect, it } from "vitest";
import {
  computeKnownValues, getOpSpec, inferTypes, isXbarcError, Module, OP_SPECS, readInts, registerAnnotationKind, verifyModule, withDefaults,
  type Attrs, type TensorType, type XbarcError,
} from "@xbarc/ir";

const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape });
const CONV_ATTRS: Attrs = { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 };

/** A valid LeNet-style first layer: x [1,1,28,28] → conv 5x5 pad 2 → relu. */
function lenetHead() {
  const m = new Module("head");
  const x = m.addInput("x", f32(1, 1, 28, 28));
  const w = m.addConstant("conv1.weight", f32(6, 1, 5, 5), new Float32Array(150));
  const b = m.addConstant("conv1.bias", f32(6), new Float32Array(6));
  const conv = m.addOp("conv", [x, w, b], [{ name: "conv1_out", type: f32(1, 6, 28, 28) }], { ...CONV_ATTRS, pads: [2, 2, 2, 2] }, "Conv_0");
  const relu = m.addOp("relu", [conv.results[0]!], [{ name: "relu1_out", type: f32(1, 6, 28, 28) }], {}, "Relu_1");
  m.outputs.push(relu.results[0]!);
  return { m, x, w, b, conv, relu };
}

function verifyError(m: Module): XbarcError {
  try {
    verifyModule(m);
  } catch (e) {
    if (isXbarcError(e)) return e;
    throw e;
  }
  throw new Error("verifyModule accepted an invalid module");
}

describe("verifyModule", () => {
  it("accepts a valid module", () => {
    expect(() => verifyModule(lenetHead().m)).not.toThrow();
  });

  it("rejects a result type that disagrees with the shape rule, showing expected and found", () => {
    const { m, conv } = lenetHead();
    conv.results[0]!.type = f32(1, 6, 24, 24);
    const e = verifyError(m);
    expect(e.code).toBe("XB3001");
    expect(e.message).toContain("expected f32[1,6,28,28], found f32[1,6,24,24]");
    expect(e.message).toContain("%conv1_out");
    expect(e.location).toEqual({ kind: "ir", loc: "Conv_0", value: "conv1_out", op: "conv" });
  });

  it("rejects a value used before the op that defines it", () => {
    const { m } = lenetHead();
    m.ops.reverse();
    const e = verifyError(m);
    expect(e.code).toBe("XB3004");
    expect(e.message).toMatch(/%relu1_out = relu: operand x %conv1_out is used before it is defined/);
  });

  it("rejects an operand that is not defined anywhere in the module", () => {
    const { m, relu } = lenetHead();
    const stray = new Module("other").addInput("stray", f32(1, 6, 28, 28));
    relu.operands[0] = stray;
    const e = verifyError(m);
    expect(e.code).toBe("XB2002");
    expect(e.message).toContain("%stray");
  });

  it("rejects a name defined twice across inputs, constants and results", () => {
    const { m, relu } = lenetHead();
    relu.results[0]!.name = "conv1.weight";
    const e = verifyError(m);
    expect(e.code).toBe("XB2003");
    expect(e.message).toMatch(/"conv1\.weight" is defined twice/);
  });

  it("rejects an unknown op", () => {
    const { m, relu } = lenetHead();
    relu.opcode = "gelu";
    const e = verifyError(m);
    expect(e.code).toBe("XB3002");
    expect(e.message).toContain('unknown op "gelu"');
    expect(e.location).toMatchObject({ op: "gelu", value: "relu1_out", loc: "Relu_1" });
  });

  it("rejects a missing required attribute and names it", () => {
    const { m, conv } = lenetHead();
    delete conv.attrs.strides;
    const e = verifyError(m);
    expect(e.code).toBe("XB3003");
    expect(e.message).toMatch(/%conv1_out = conv: required attribute strides/);
  });

  it("rejects an attribute of the wrong kind", () => {
    const { m, conv } = lenetHead();
    conv.attrs.group = 1.5;
    const e = verifyError(m);
    expect(e.code).toBe("XB3003");
    expect(e.message).toMatch(/attribute group must be an integer, found 1\.5/);
    conv.attrs.group = 1;
    conv.attrs.pads = "same";
    expect(verifyError(m).message).toMatch(/attribute pads must be a list of integers/);
  });

  it("rejects an attribute the op does not have", () => {
    const { m, relu } = lenetHead();
    relu.attrs = { alpha: 0.1 };
    const e = verifyError(m);
    expect(e.code).toBe("XB3003");
    expect(e.message).toMatch(/unknown attribute alpha/);
  });

  it("rejects too few operands and an absent required operand", () => {
    const { m, conv } = lenetHead();
    conv.operands = [conv.operands[0]!];
    const e = verifyError(m);
    expect(e.code).toBe("XB3006");
    expect(e.message).toMatch(/conv needs 2 operands \(x, w, b\?\), found 1/);
    const again = lenetHead();
    again.conv.operands[1] = null;
    const e2 = verifyError(again.m);
    expect(e2.code).toBe("XB3006");
    expect(e2.message).toMatch(/operand w \(#1\) is required but absent/);
  });

  it("rejects a wrong number of results", () => {
    const { m, relu } = lenetHead();
    m.addOp("relu", [relu.results[0]!], [{ name: "a", type: f32(1, 6, 28, 28) }, { name: "b", type: f32(1, 6, 28, 28) }]);
    const e = verifyError(m);
    expect(e.code).toBe("XB3006");
    expect(e.message).toMatch(/%a, %b = relu: relu has 1 result\(s\), found 2/);
  });

  it("reports a shape-rule failure (conv channels vs weight) at the op", () => {
    const { m, w } = lenetHead();
    w.type = f32(6, 3, 5, 5);
    w.data = new Float32Array(450);
    const e = verifyError(m);
    expect(e.code).toBe("XB3001");
    expect(e.message).toMatch(/%conv1_out = conv: conv: input x has 1 channels but weight f32\[6,3,5,5\] expects 3×group\(1\) = 3/);
    expect(e.location).toMatchObject({ op: "conv", value: "conv1_out" });
  });

  it("rejects constant data whose length does not match the type", () => {
    const { m, b } = lenetHead();
    b.data = new Float32Array(5);
    const e = verifyError(m);
    expect(e.code).toBe("XB3001");
    expect(e.message).toMatch(/@conv1\.bias has 5 elements but its type f32\[6\] needs 6/);
  });

  it("rejects an output that is not defined", () => {
    const { m } = lenetHead();
    m.outputs.push(new Module("other").addInput("ghost", f32(1)));
    const e = verifyError(m);
    expect(e.code).toBe("XB2002");
    expect(e.message).toContain("%ghost");
  });

  it("checks annotations against their registered schema", () => {
    registerAnnotationKind("verifytest", { type: "object", properties: { bits: { type: "integer" } }, required: ["bits"], additionalProperties: false });
    const { m, conv } = lenetHead();
    conv.setAnnotation("verifytest", { bits: 8 });
    expect(() => verifyModule(m)).not.toThrow();
    conv.setAnnotation("verifytest", { bits: "eight" });
    const bad = verifyError(m);
    expect(bad.code).toBe("XB3005");
    expect(bad.location).toMatchObject({ op: "conv", value: "conv1_out" });
    conv.annotations = [{ kind: "nosuchkind", data: {} }];
    expect(verifyError(m).code).toBe("XB3007");
  });

  it("checks reshape result shapes through values computed from shape → gather → concat", () => {
    const m = new Module("flat");
    const x = m.addInput("x", f32(3, 4, 5));
    const s = m.addOp("shape", [x], [{ name: "s", type: { dtype: "i64", shape: [3] } }], { start: 0, end: 3 }).results[0]!;
    const i0 = m.addConstant("zero", { dtype: "i64", shape: [1] }, BigInt64Array.from([0n]));
    const n = m.addOp("gather", [s, i0], [{ name: "n", type: { dtype: "i64", shape: [1] } }], { axis: 0 }).results[0]!;
    const minus1 = m.addConstant("minus1", { dtype: "i64", shape: [1] }, BigInt64Array.from([-1n]));
    const target = m.addOp("concat", [n, minus1], [{ name: "target", type: { dtype: "i64", shape: [2] } }], { axis: 0 }).results[0]!;
    const y = m.addOp("reshape", [x, target], [{ name: "y", type: f32(3, 20) }], { allowzero: 0 });
    m.outputs.push(y.results[0]!);
    expect(() => verifyModule(m)).not.toThrow();
    const known = computeKnownValues(m);
    expect(readInts(known.get(target)!)).toEqual([3, -1]);
    y.results[0]!.type = f32(20, 3);
    const e = verifyError(m);
    expect(e.code).toBe("XB3001");
    expect(e.message).toContain("expected f32[3,20], found f32[20,3]");
  });
});

describe("computeKnownValues", () => {
  it("does not evaluate results larger than maxElements", () => {
    const m = new Module("big");
    const w = m.addConstant("w", f32(4, 8), new Float32Array(32).fill(2));
    const t = m.addOp("transpose", [w], [{ name: "t", type: f32(8, 4) }], { perm: [1, 0] }).results[0]!;
    expect(computeKnownValues(m).get(t)?.type.shape).toEqual([8, 4]);
    expect(computeKnownValues(m, { maxElements: 16 }).has(t)).toBe(false);
  });

  it("leaves values computed from module inputs unknown", () => {
    const { m, relu } = lenetHead();
    expect(computeKnownValues(m).has(relu.results[0]!)).toBe(false);
  });
});

describe("op registry", () => {
  it("has a spec with a summary for every op of the contract", () => {
    const ops = [
      "add", "sub", "mul", "div", "relu", "sigmoid", "tanh", "leakyrelu", "clip", "identity", "dropout", "conv", "gemm", "matmul", "linear",
      "maxpool", "avgpool", "globalavgpool", "flatten", "reshape", "transpose", "concat", "batchnorm", "softmax", "logsoftmax", "squeeze",
      "unsqueeze", "pad", "shape", "gather", "slice", "cast",
    ];
    expect([...OP_SPECS.keys()].sort()).toEqual([...ops].sort());
    for (const op of ops) expect(getOpSpec(op)!.summary.length).toBeGreaterThan(10);
  });

  it("fills defaults in the declared order and leaves operand-dependent attributes to the builder", () => {
    expect(Object.entries(withDefaults("maxpool", { strides: [2, 2], kernel_shape: [2, 2] }))).toEqual([
      ["kernel_shape", [2, 2]], ["strides", [2, 2]], ["ceil_mode", 0], ["storage_order", 0],
    ]);
    expect(withDefaults("gemm", {})).toEqual({ alpha: 1, beta: 1, trans_a: 0, trans_b: 0 });
    expect(() => withDefaults("nope", {})).toThrow(/unknown op "nope"/);
  });

  it("throws XB3002 for an unknown op and XB3001/XB3003 from shape rules", () => {
    const ctx = (operands: (TensorType | null)[], attrs: Attrs = {}) => ({ operands, values: [], attrs, numResults: 1 });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isXbarcError(e) ? e.code : "not an XbarcError";
      }
      return "no error";
    };
    expect(code(() => inferTypes("gelu", ctx([f32(1)])))).toBe("XB3002");
    expect(code(() => inferTypes("add", ctx([f32(2, 3), f32(4, 3)])))).toBe("XB3001");
    expect(code(() => inferTypes("add", ctx([f32(2, 3), { dtype: "i32", shape: [2, 3] }])))).toBe("XB3001");
    expect(code(() => inferTypes("transpose", ctx([f32(2, 3)], { perm: [0, 0] })))).toBe("XB3003");
    expect(code(() => inferTypes("conv", ctx([f32(1, 2, 5, 5), f32(4, 2, 3, 3), null], { ...CONV_ATTRS, pads: [1, 1] })))).toBe("XB3003");
    expect(code(() => inferTypes("cast", ctx([f32(1)], { to: "float" })))).toBe("XB3003");
    expect(code(() => inferTypes("conv", ctx([f32(1, 2, 5, 5)])))).toBe("XB3006");
  });

  it("infers conv, pool, gemm, matmul and gather shapes per ONNX", () => {
    const one = (opcode: string, operands: TensorType[], attrs: Attrs = {}, numResults = 1) => inferTypes(opcode, { operands, values: [], attrs, numResults });
    expect(one("conv", [f32(1, 4, 9, 9), f32(6, 2, 3, 3)], { strides: [2, 2], pads: [1, 0, 1, 0], dilations: [2, 1], group: 2 })).toEqual([f32(1, 6, 4, 4)]);
    expect(one("conv", [f32(1, 3, 10), f32(2, 3, 3)], { strides: [1], pads: [0, 0], dilations: [1], group: 1 })).toEqual([f32(1, 2, 8)]);
    expect(one("maxpool", [f32(1, 1, 4, 4)], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil_mode: 1 }, 2)).toEqual([
      f32(1, 1, 2, 2), { dtype: "i64", shape: [1, 1, 2, 2] },
    ]);
    expect(one("gemm", [f32(4, 3), f32(5, 4), f32(5)], { trans_a: 1, trans_b: 1 })).toEqual([f32(3, 5)]);
    expect(one("matmul", [f32(2, 1, 3, 4), f32(5, 4, 6)])).toEqual([f32(2, 5, 3, 6)]);
    expect(one("matmul", [f32(4), f32(4)])).toEqual([f32()]);
    expect(one("gather", [f32(3, 4, 5), { dtype: "i64", shape: [2, 2] }], { axis: -2 })).toEqual([f32(3, 2, 2, 5)]);
    expect(one("linear", [f32(7, 400), f32(120, 400), f32(120)])).toEqual([f32(7, 120)]);
    expect(one("reshape", [f32(2, 3), { dtype: "i64", shape: [1] }], { allowzero: 0 })).toBeUndefined();
  });
});

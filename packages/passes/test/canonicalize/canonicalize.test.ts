/**
 * @fileoverview canonicalize: golden IR per rewrite (input `golden/canonicalize/<case>.xir`, expected `<case>.after.xir`),
 * focused assertions on what each case must show, numeric equivalence before/after on random inputs, and
 * programmatic edge cases (shared weights, outputs that must keep their names, values checked by hand).
 */
import { describe, expect, it } from "vitest";
import { parseModule, readNumbers, type Module, type Value } from "@xbarc/ir";
import { runPipeline } from "@xbarc/passes";
import { cloneModule, expectSameOutputs, goldenCases, lineOf, opcodeCounts, printText, randomInputs, runGolden } from "../helpers.js";

function constant(m: Module, name: string): Value {
  const c = m.constants.find((v) => v.name === name);
  if (!c) throw new Error(`no constant @${name}; constants: ${m.constants.map((v) => v.name).join(", ")}`);
  return c;
}

function values(v: Value): number[] {
  return Array.from(readNumbers({ type: v.type, data: v.data! }));
}

/** What each golden case must show after canonicalize, beyond the snapshot (FileCheck-style). */
const expectations: Record<string, { ops: Record<string, number>; stats: Record<string, number>; check?: (m: Module, text: string) => void }> = {
  "drop-copies": {
    ops: { relu: 1, mul: 1 },
    stats: { "removed-identities": 2, "removed-dropouts": 2, "folded-constants": 1 },
    check: (m, text) => {
      expect(lineOf(text, "%b")).toMatch(/^%b = relu %x :/);
      expect(lineOf(text, "%out")).toMatch(/^%out = mul %b, @m :/);
      expect(values(constant(m, "m"))).toEqual([1, 1, 1, 1]);
      expect(m.outputs.map((v) => v.name)).toEqual(["out"]);
    },
  },
  "shape-chain": {
    ops: { reshape: 1, relu: 1 },
    stats: { "folded-shapes": 2, "folded-constants": 3, "removed-noop-reshapes": 1 },
    check: (m, text) => {
      expect(lineOf(text, "%flat")).toMatch(/^%flat = reshape %x, @target \{allowzero=0\} : f32\[2,12\]/);
      expect(values(constant(m, "target"))).toEqual([2, -1]);
      expect(lineOf(text, "%y")).toMatch(/^%y = relu %flat :/);
    },
  },
  "reshape-chain": {
    ops: { reshape: 1, sigmoid: 1, tanh: 1 },
    stats: { "merged-reshapes": 1, "removed-noop-reshapes": 1 },
    check: (m, text) => {
      expect(lineOf(text, "%r")).toMatch(/^%r = reshape %x, @r\.shape \{allowzero=0\} : f32\[1,3,4\]/);
      expect(values(constant(m, "r.shape"))).toEqual([1, 3, 4]);
      expect(lineOf(text, "%z")).toMatch(/^%z = tanh %v :/);
    },
  },
  "batchnorm-conv": {
    ops: { conv: 2, relu: 1 },
    stats: { "folded-batchnorms": 2 },
    check: (m, text) => {
      expect(lineOf(text, "%bn1_out")).toMatch(/^%bn1_out = conv %x, @conv1\.weight, @conv1\.bias \{/);
      expect(lineOf(text, "%bn2_out")).toMatch(/^%bn2_out = conv %r1, @conv2\.weight, @conv2\.bias \{/);
      expect(constant(m, "conv2.bias").type.shape).toEqual([2]);
      expect(text).not.toContain("@bn1.");
    },
  },
  "batchnorm-gemm": {
    ops: { linear: 2, tanh: 1 },
    stats: { "folded-batchnorms": 2, "gemm-to-linear": 1, "matmul-to-linear": 1 },
    check: (m, text) => {
      expect(lineOf(text, "%bn_out")).toMatch(/^%bn_out = linear %x, @fc\.B, @fc\.C : f32\[2,3\]/);
      expect(constant(m, "fc.B").type.shape).toEqual([3, 4]);
      expect(constant(m, "fc.C").type.shape).toEqual([3]);
      expect(lineOf(text, "%y")).toMatch(/^%y = linear %t, @mm\.weight, @mm\.bias : f32\[2,2\]/);
    },
  },
  "gemm-to-linear": {
    ops: { linear: 4, transpose: 1, add: 1 },
    stats: { "gemm-to-linear": 4 },
    check: (m, text) => {
      expect(lineOf(text, "%h1")).toMatch(/^%h1 = linear %x, @fc1\.weight, @fc1\.bias : f32\[2,3\]/);
      // trans_b=1, alpha=1: PyTorch's weight is already [N,K] and keeps its data
      expect(values(constant(m, "fc1.weight"))).toEqual([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8, 0.9, -1, 1.1, -1.2].map(Math.fround));
      // trans_b=0, alpha=2: w = 2·Bᵀ ([3,4] → [4,3]); beta=0.5: b = 0.5·C
      expect(constant(m, "B2").type.shape).toEqual([4, 3]);
      expect(values(constant(m, "B2")).slice(0, 3)).toEqual([2, -2, 1]);
      expect(values(constant(m, "C2"))).toEqual([0.2, -0.2, 0.4, -0.4].map(Math.fround));
      expect(lineOf(text, "%h2.t")).toMatch(/^%h2\.t = transpose %h2 \{perm=\[1,0\]\} : f32\[4,2\]/);
      expect(lineOf(text, "%h3")).toMatch(/^%h3 = add %h3\.linear, @C3 : f32\[4,3\]/);
      expect(lineOf(text, "%h4")).toMatch(/^%h4 = linear %h3, @B4 : f32\[4,2\]/);
    },
  },
  "bias-add": {
    ops: { conv: 2, add: 1, reshape: 1, linear: 1 },
    stats: { "folded-bias-adds": 3, "folded-constants": 1, "matmul-to-linear": 1 },
    check: (m, text) => {
      expect(lineOf(text, "%cb")).toMatch(/^%cb = conv %x, @conv\.w, @conv\.b \{/);
      expect(values(constant(m, "conv.b"))).toEqual([0.1, -0.1].map(Math.fround));
      expect(lineOf(text, "%c2b")).toMatch(/^%c2b = conv %cb, @conv2\.w, @conv2\.b0 \{/);
      expect(values(constant(m, "conv2.b0"))).toEqual([1.3, 1.6].map(Math.fround));
      expect(lineOf(text, "%sp")).toMatch(/^%sp = add %c2b, @spatial :/);
      expect(lineOf(text, "%y")).toMatch(/^%y = linear %flat, @w, @fc\.b : f32\[1,2\]/);
      expect(constant(m, "w").type.shape).toEqual([2, 8]);
    },
  },
  "matmul-add": {
    ops: { linear: 1, matmul: 1 },
    stats: { "matmul-to-linear": 1, "folded-bias-adds": 1 },
    check: (m, text) => {
      expect(lineOf(text, "%y")).toMatch(/^%y = linear %x, @W, @b : f32\[2,2,4\]/);
      expect(constant(m, "W").type.shape).toEqual([4, 3]);
      expect(values(constant(m, "W")).slice(0, 3)).toEqual([1, -1, 0.1].map(Math.fround));
      expect(lineOf(text, "%z")).toMatch(/^%z = matmul @left, %v :/);
    },
  },
};

describe("canonicalize golden cases", () => {
  const cases = goldenCases("canonicalize");

  it("has an expectation for every golden input and an input for every expectation", () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(expectations).sort());
  });

  for (const c of cases) {
    describe(c.name, () => {
      it("matches the reviewed output snapshot", async () => {
        const { text } = runGolden(c);
        await expect(text).toMatchFileSnapshot(c.expectedPath);
      });

      it("leaves the expected ops and counts the rewrites", () => {
        const { after, result, text } = runGolden(c);
        const want = expectations[c.name]!;
        expect(opcodeCounts(after)).toEqual(want.ops);
        expect(result.steps[0]!.stats).toMatchObject(want.stats);
        expect(result.steps[0]!.changed).toBe(true);
        want.check?.(after, text);
      });

      it("computes the same outputs as before on random inputs", () => {
        const { before, after } = runGolden(c);
        for (const seed of [1, 2]) expectSameOutputs(before, after, randomInputs(before, seed));
      });

      it("is a fixed point: a second run changes nothing", () => {
        const { after, text } = runGolden(c);
        const again = runPipeline(after, "canonicalize", { checkNoopChanges: true });
        expect(again.steps[0]!.changed).toBe(false);
        expect(printText(after)).toBe(text);
      });
    });
  }
});

describe("canonicalize edge cases", () => {
  it("folds BatchNorm into a conv with the values of the published formula", () => {
    const m = parseModule(`module @bn {
  input %x : f32[1,2,1,1]
  const @w : f32[2,2,1,1] = [1, 2, 3, 4]
  const @scale : f32[2] = [2, 3]
  const @bias : f32[2] = [0.5, -0.5]
  const @mean : f32[2] = [1, -1]
  const @var : f32[2] = [3, 15]
  %c = conv %x, @w {strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=1} : f32[1,2,1,1]
  %y = batchnorm %c, @scale, @bias, @mean, @var {epsilon=1} : f32[1,2,1,1]
  output %y
}
`);
    runPipeline(m, "canonicalize");
    // s = scale / sqrt(var + eps) = [2/2, 3/4]; w' = w·s; b' = (0 − mean)·s + bias
    expect(values(constant(m, "w"))).toEqual([1, 2, 2.25, 3]);
    expect(values(constant(m, "w.bias"))).toEqual([-0.5, 0.25]);
    expect(opcodeCounts(m)).toEqual({ conv: 1 });
  });

  it("keeps a batchnorm whose conv result has another reader", () => {
    const m = parseModule(`module @shared {
  input %x : f32[1,1,2,2]
  const @w : f32[1,1,1,1] = [2]
  const @p : f32[1] = [1]
  %c = conv %x, @w {strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=1} : f32[1,1,2,2]
  %y = batchnorm %c, @p, @p, @p, @p {epsilon=1e-5} : f32[1,1,2,2]
  %z = relu %c : f32[1,1,2,2]
  output %y, %z
}
`);
    runPipeline(m, "canonicalize", { checkNoopChanges: true });
    expect(opcodeCounts(m)).toEqual({ conv: 1, batchnorm: 1, relu: 1 });
  });

  it("keeps a training-mode batchnorm after a conv, since it normalises with each batch's statistics", () => {
    const m = parseModule(`module @train {
  input %x : f32[4,2,3,3]
  const @w : f32[2,2,1,1] = [1, 2, 3, 4]
  const @scale : f32[2] = [2, 3]
  const @bias : f32[2] = [0.5, -0.5]
  const @mean : f32[2] = [1, -1]
  const @var : f32[2] = [3, 15]
  %c = conv %x, @w {strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=1} : f32[4,2,3,3]
  %y = batchnorm %c, @scale, @bias, @mean, @var {epsilon=1, training_mode=1, momentum=0.9} : f32[4,2,3,3]
  %c2 = conv %y, @w {strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=1} : f32[4,2,3,3]
  %z, %rm, %rv = batchnorm %c2, @scale, @bias, @mean, @var {epsilon=1, training_mode=1, momentum=0.5} : f32[4,2,3,3], f32[2], f32[2]
  output %z, %rm, %rv
}
`);
    const before = cloneModule(m);
    runPipeline(m, "canonicalize", { checkNoopChanges: true });
    expect(opcodeCounts(m)).toEqual({ conv: 2, batchnorm: 2 });
    const text = printText(m);
    expect(lineOf(text, "%y")).toMatch(/^%y = batchnorm %c, @scale, @bias, @mean, @var \{epsilon=1, training_mode=1, momentum=0\.9\}/);
    expect(values(constant(m, "w"))).toEqual([1, 2, 3, 4]);
    expectSameOutputs(before, m, randomInputs(before));
  });

  it("gives a weight shared by two gemms a fresh constant instead of changing it under the other reader", () => {
    const m = parseModule(`module @tied {
  input %x : f32[1,2]
  const @W : f32[2,2] = [1, 2, 3, 4]
  %a = gemm %x, @W {alpha=1, beta=1, trans_a=0, trans_b=0} : f32[1,2]
  %b = gemm %a, @W {alpha=1, beta=1, trans_a=0, trans_b=0} : f32[1,2]
  output %b
}
`);
    const before = cloneModule(m);
    runPipeline(m, "canonicalize", { checkNoopChanges: true, roundTripEach: true });
    expect(opcodeCounts(m)).toEqual({ linear: 2 });
    expect(m.constants.map((c) => c.name).sort()).toEqual(["W", "W.1"]);
    for (const name of ["W", "W.1"]) expect(values(constant(m, name))).toEqual([1, 3, 2, 4]);
    expectSameOutputs(before, m, randomInputs(before));
  });

  it("keeps an identity that maps an input straight to an output, so the output keeps its name", () => {
    const m = parseModule(`module @passthrough {
  input %x : f32[2]
  %y = identity %x : f32[2]
  output %y
}
`);
    const result = runPipeline(m, "canonicalize", { checkNoopChanges: true });
    expect(result.steps[0]!.changed).toBe(false);
    expect(m.outputs[0]!.name).toBe("y");
  });

  it("does not fold an op whose result is a module output into a constant output", () => {
    const m = parseModule(`module @const_out {
  input %x : f32[1]
  const @a : f32[2] = [1, -2]
  %r = relu @a : f32[2]
  %s = shape %x {start=0, end=1} : i64[1]
  output %r, %s
}
`);
    runPipeline(m, "canonicalize", { checkNoopChanges: true });
    expect(opcodeCounts(m)).toEqual({ relu: 1, shape: 1 });
  });

  it("turns gemm with a non-constant C into linear plus add, scaling C by beta", () => {
    const m = parseModule(`module @dyn_c {
  input %x : f32[2,3]
  input %c : f32[2,2]
  const @B : f32[3,2] = [1, -1, 0.5, 2, -0.25, 0.75]
  %y = gemm %x, @B, %c {alpha=1.5, beta=-2, trans_a=0, trans_b=0} : f32[2,2]
  output %y
}
`);
    const before = cloneModule(m);
    runPipeline(m, "canonicalize", { checkNoopChanges: true, roundTripEach: true });
    expect(opcodeCounts(m)).toEqual({ linear: 1, mul: 1, add: 1 });
    expectSameOutputs(before, m, randomInputs(before, 3));
  });

  it("removes unused constants and reports it as a change", () => {
    const m = parseModule(`module @dead {
  input %x : f32[2]
  const @unused : f32[1] = [3]
  %y = relu %x : f32[2]
  output %y
}
`);
    const result = runPipeline(m, "canonicalize", { checkNoopChanges: true });
    expect(result.steps[0]).toMatchObject({ changed: true, stats: { "removed-dead": 1 } });
    expect(m.constants).toHaveLength(0);
  });
});

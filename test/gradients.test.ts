/**
 * @fileoverview Reverse-mode gradients of the reference interpreter (computeGradients) checked against central
 * finite differences of computeLoss, all in float64: sampled elements of every weight and bias of all 8 fixture
 * models on real MNIST/digits images, every element of the digits MLP, and one small hand-written module per
 * backward rule. Also: the loss agrees with an independent cross-entropy of the float32 interpreter's output, and
 * the errors (unsupported op, bad labels, bad wrt).
 */
import { describe, expect, it } from "vitest";
import {
  Module, Rng, computeGradients, computeLoss, createTensor, inferTypes, interpretModule, maxPoolImpl, printModule, readNumbers,
  type Attrs, type Op, type Tensor, type TensorType, type Value,
} from "@xbarc/ir";
import { catchXbarcError } from "./helpers/errors.js";
import { listFixtureModels, samplesFor, type FixtureModel } from "./helpers/models.js";
import { importModel, interpretFloat } from "./helpers/xbarc.js";

/**
 * Finite-difference step, absolute (the weights are O(0.01–1)). Central differences have truncation error
 * h²·|L'''|/6 ≈ 1e-12·|L'''| and rounding error ≈ δL/h, where δL, the float64 rounding of the loss, is about
 * 1e-16 × the logit magnitudes (≤ ~30 here) ≈ 3e-15, so ≈ 3e-9 at worst; measured: ≤ 3e-10 on every fixture model.
 */
const H = 1e-6;
/** Absolute tolerance: 3× the worst-case rounding error above, and 100× below the gradients the check must see. */
const ATOL = 1e-8;
/** Relative tolerance on top: truncation and accumulated rounding in large gradients. */
const RTOL = 1e-5;

/** |analytic − numeric| within ATOL + RTOL·|numeric|. */
function agrees(analytic: number, numeric: number): boolean {
  return Math.abs(analytic - numeric) <= ATOL + RTOL * Math.abs(numeric);
}

/** A forward pass's position relative to the kinks: one mask or index array per relu/leakyrelu/clip/maxpool op. */
type KinkPattern = (Uint8Array | BigInt64Array)[];

/**
 * The loss at the given constants, and where that forward pass sits relative to the kinks of relu/leakyrelu/clip
 * (which side of 0 or of the bounds each input lies on) and maxpool (the winning tap of every window).
 */
function lossAndKinks(m: Module, input: Tensor, labels: Int32Array, constants: ReadonlyMap<string, Float64Array>): { loss: number; kinks: KinkPattern } {
  const kinks: KinkPattern = [];
  const observe = (op: Op, operands: readonly (Tensor | null)[]): void => {
    const x = operands[0]!;
    const data = x.data as Float64Array;
    if (op.opcode === "relu" || op.opcode === "leakyrelu") {
      kinks.push(Uint8Array.from(data, (v) => (v > 0 ? 1 : 0)));
    } else if (op.opcode === "clip") {
      const lo = operands[1] ? readNumbers(operands[1])[0]! : -Infinity;
      const hi = operands[2] ? readNumbers(operands[2])[0]! : Infinity;
      kinks.push(Uint8Array.from(data, (v) => (v < lo ? 0 : v > hi ? 2 : 1)));
    } else if (op.opcode === "maxpool") {
      const kernel = op.attrs.kernel_shape as number[];
      const r = kernel.length;
      const p = {
        kernel,
        strides: (op.attrs.strides as number[] | undefined) ?? new Array<number>(r).fill(1),
        pads: (op.attrs.pads as number[] | undefined) ?? new Array<number>(2 * r).fill(0),
        dilations: (op.attrs.dilations as number[] | undefined) ?? new Array<number>(r).fill(1),
        ceilMode: op.attrs.ceil_mode === 1,
      };
      kinks.push(maxPoolImpl(data, x.type.shape, p, true, 0).indices!);
    }
  };
  const { loss } = computeLoss(m, input, labels, { constants, observe });
  return { loss, kinks };
}

function samePattern(a: KinkPattern, b: KinkPattern): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength)) === 0);
}

/**
 * One central finite difference of the loss in element `index` of constant `name`, and whether w − h and w + h lie
 * on different sides of a kink (detected from the activations, never from the error).
 */
function finiteDifference(m: Module, input: Tensor, labels: Int32Array, name: string, index: number): { numeric: number; kink: boolean } {
  const c = m.constants.find((v) => v.name === name)!;
  const base = readNumbers({ type: c.type, data: c.data! });
  const plus = base.slice();
  plus[index] += H;
  const minus = base.slice();
  minus[index] -= H;
  const up = lossAndKinks(m, input, labels, new Map([[name, plus]]));
  const down = lossAndKinks(m, input, labels, new Map([[name, minus]]));
  return { numeric: (up.loss - down.loss) / (2 * H), kink: !samePattern(up.kinks, down.kinks) };
}

/** Outcome of checking a set of elements: mismatches (as text), excluded kink samples, checked count, largest |numeric|. */
interface FdReport {
  mismatches: string[];
  kinks: number;
  checked: number;
  maxNumeric: Map<string, number>;
}

/** Checks the given elements of each constant against finite differences. */
function checkElements(m: Module, input: Tensor, labels: Int32Array, gradients: Map<string, Float64Array>, picks: Map<string, number[]>): FdReport {
  const report: FdReport = { mismatches: [], kinks: 0, checked: 0, maxNumeric: new Map() };
  for (const [name, indices] of picks) {
    const analytic = gradients.get(name)!;
    let maxNumeric = 0;
    for (const i of indices) {
      const { numeric, kink } = finiteDifference(m, input, labels, name, i);
      if (kink) {
        report.kinks++;
        continue;
      }
      report.checked++;
      maxNumeric = Math.max(maxNumeric, Math.abs(numeric));
      if (!agrees(analytic[i]!, numeric)) report.mismatches.push(`@${name}[${i}]: analytic ${analytic[i]}, finite difference ${numeric}`);
    }
    report.maxNumeric.set(name, maxNumeric);
  }
  return report;
}

/** `count` distinct random indices below n, plus the `top` indices of largest |g|, deduplicated. */
function sampleIndices(rng: Rng, g: Float64Array, count: number, top: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, g.length)) picked.add(rng.nextInt(g.length));
  const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!));
  for (const i of order.slice(0, top)) picked.add(i);
  return [...picked];
}

/** Per-image cross-entropy of one output row: from logits, or from probabilities when the module ends in softmax. */
function rowCrossEntropy(out: Float32Array | Float64Array, row: number, classes: number, label: number, isProbability: boolean): number {
  const z = Array.from(out.subarray(row * classes, (row + 1) * classes), Number);
  if (isProbability) return -Math.log(z[label]!);
  const max = Math.max(...z);
  return -(z[label]! - max - Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)));
}

const models = listFixtureModels();

/** The batch each model is checked at: its fixed batch (1 or 10), else 4 images. */
const batchOf = (model: FixtureModel): number => model.fixedBatch ?? 4;

/**
 * The `batch` evaluation images with the highest float32 cross-entropy among the first max(64, 10·batch): trained
 * models are nearly certain on most images, and a saturated softmax makes every gradient ~1e-11, below what a
 * finite difference resolves. The losses come from the float32 interpreter, independently of the code under test.
 */
function hardBatch(model: FixtureModel, m: Module): { input: Tensor; labels: Int32Array; f32Loss: number; f32Correct: number } {
  const batch = batchOf(model);
  const pool = model.evalIndices.slice(0, Math.max(64, 10 * batch));
  const isProbability = m.outputs[0]!.def?.opcode === "softmax";
  const scored: { index: number; ce: number }[] = [];
  for (let start = 0; start + batch <= pool.length; start += batch) {
    const chunk = pool.slice(start, start + batch);
    const { data, labels } = samplesFor(model, chunk);
    const out = interpretFloat(m, data, [batch, ...model.sampleDims]).data;
    chunk.forEach((index, k) => scored.push({ index, ce: rowCrossEntropy(out, k, model.classes, labels[k]!, isProbability) }));
  }
  scored.sort((a, b) => b.ce - a.ce);
  const chosen = scored.slice(0, batch).map((s) => s.index);
  const { data, labels } = samplesFor(model, chosen);
  const out = interpretFloat(m, data, [batch, ...model.sampleDims]).data;
  let f32Loss = 0;
  let f32Correct = 0;
  for (let k = 0; k < batch; k++) {
    f32Loss += rowCrossEntropy(out, k, model.classes, labels[k]!, isProbability) / batch;
    const row = Array.from(out.subarray(k * model.classes, (k + 1) * model.classes));
    if (row.indexOf(Math.max(...row)) === labels[k]) f32Correct++;
  }
  return { input: createTensor({ dtype: "f32", shape: [batch, ...model.sampleDims] }, data), labels: Int32Array.from(labels), f32Loss, f32Correct };
}

/** Import + canonicalize and the hard batch, once per model for both of its tests. */
const setups = new Map<string, { m: Module } & ReturnType<typeof hardBatch>>();
function setupOf(model: FixtureModel): { m: Module } & ReturnType<typeof hardBatch> {
  let s = setups.get(model.id);
  if (!s) {
    const m = importModel(model.path, batchOf(model));
    s = { m, ...hardBatch(model, m) };
    setups.set(model.id, s);
  }
  return s;
}

describe("computeGradients on the fixture models", () => {
  describe.each(models.map((model, seed) => ({ id: model.id, model, seed })))("model $id", ({ model, seed }) => {
    it("gives the loss and top-1 count of the float32 interpreter's output, and leaves the module unchanged", () => {
      const { m, input, labels, f32Loss, f32Correct } = setupOf(model);
      // with a weights side file the text carries each constant's sha256, so equal text means equal bytes
      const before = printModule(m, { weights: true }).text;
      const res = computeGradients(m, input, labels);
      expect(res.loss).toBeGreaterThan(0);
      // float32 logits vs float64: agreement to float32 rounding of the outputs
      expect(Math.abs(res.loss - f32Loss)).toBeLessThanOrEqual(1e-4 * Math.max(1, f32Loss));
      expect(res.correct).toBe(f32Correct);
      expect(computeLoss(m, input, labels).loss).toBe(res.loss);
      expect(printModule(m, { weights: true }).text).toBe(before);
    });

    it("matches central finite differences on 2 random and the 2 largest elements of every weight and bias", () => {
      const { m, input, labels } = setupOf(model);
      const { gradients } = computeGradients(m, input, labels);
      // every float constant of a canonicalized classifier is a weight or bias of a conv/linear
      const floatConstants = m.constants.filter((c) => c.type.dtype === "f32").map((c) => c.name);
      expect([...gradients.keys()].sort()).toEqual(floatConstants.sort());
      for (const [name, g] of gradients) expect(g.length, name).toBe(m.constants.find((c) => c.name === name)!.data!.length);
      const rng = new Rng(1000 + seed);
      const picks = new Map([...gradients].map(([name, g]) => [name, sampleIndices(rng, g, 2, 2)]));
      const report = checkElements(m, input, labels, gradients, picks);
      expect(report.mismatches).toEqual([]);
      // a kink between w − h and w + h is rare at h = 1e-6; many would mean the check is not checking
      expect(report.kinks).toBeLessThanOrEqual(Math.floor(report.checked / 5));
      // not vacuous: each constant's sampled gradients include one well above the tolerance
      for (const [name, max] of report.maxNumeric) expect(max, `largest sampled |∂L/∂${name}|`).toBeGreaterThan(100 * ATOL);
    });
  });

  it("matches finite differences on every element of every constant of the digits MLP (2410 values)", () => {
    const model = models.find((m) => m.id === "digits-mlp64-32-10")!;
    const m = importModel(model.path, 8);
    const { input, labels } = hardBatch({ ...model, fixedBatch: 8 }, m);
    const { gradients } = computeGradients(m, input, labels);
    const picks = new Map([...gradients].map(([name, g]) => [name, Array.from(g.keys())]));
    const report = checkElements(m, input, labels, gradients, picks);
    expect(report.checked + report.kinks).toBe(2410);
    expect(report.mismatches).toEqual([]);
    // a few hidden units of this trained MLP sit within ~3e-8 of the relu kink on these images, so every weight
    // feeding them crosses it at h = 1e-6; those samples are detected from the relu inputs and left out
    expect(report.kinks).toBeLessThanOrEqual(Math.floor(report.checked / 5));
  });
});

/** Builds a small f32 module whose result types come from the op registry, with seeded random constants. */
class ModuleBuilder {
  readonly m: Module;
  private readonly rng: Rng;
  private n = 0;

  constructor(name: string, seed: number) {
    this.m = new Module(name);
    this.rng = new Rng(seed);
  }

  input(shape: number[]): Value {
    return this.m.addInput("x", { dtype: "f32", shape });
  }

  /** A float constant with N(0, scale²) values plus `offset`, or the given values. */
  constant(name: string, shape: number[], scale = 0.5, offset = 0): Value {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => offset + scale * this.rng.normal());
    return this.m.addConstant(name, { dtype: "f32", shape }, data);
  }

  ints(name: string, values: number[]): Value {
    return this.m.addConstant(name, { dtype: "i64", shape: [values.length] }, BigInt64Array.from(values.map(BigInt)));
  }

  scalar(name: string, value: number): Value {
    return this.m.addConstant(name, { dtype: "f32", shape: [] }, Float32Array.of(value));
  }

  op(opcode: string, operands: (Value | null)[], attrs: Attrs = {}): Value {
    const values = operands.map((v) => (v && v.kind === "const" ? createTensor(v.type, v.data) : undefined));
    const types = inferTypes(opcode, { operands: operands.map((v) => v?.type ?? null), values, attrs, numResults: 1 })!;
    const name = `v${this.n++}`;
    return this.m.addOp(opcode, operands, [{ name, type: types[0]! }], attrs, `${opcode}_${this.n}`).results[0]!;
  }

  /** flatten → linear to 4 classes → output (the logits head every case ends in). */
  head(v: Value): Module {
    const flat = this.op("flatten", [v], { axis: 1 });
    const k = flat.type.shape[1]!;
    this.m.outputs.push(this.op("linear", [flat, this.constant("head.w", [4, k]), this.constant("head.b", [4])]));
    return this.m;
  }
}

const win2 = (k: number[], s: number[], pads: number[], extra: Attrs = {}): Attrs => ({ kernel_shape: k, strides: s, pads, dilations: k.map(() => 1), ...extra });

/**
 * One case per backward rule: input → add @pre (broadcast over the batch, so dx of the op under test is checked through
 * ∂L/∂@pre) → op under test (with its own constants) → flatten → linear head. Batch 3, labels 0..2.
 */
const CASES: { name: string; shape: number[]; build: (b: ModuleBuilder, x: Value) => Module }[] = [
  {
    name: "conv 2-D with group=2, strides 2, asymmetric pads, dilation 2",
    shape: [4, 7, 8],
    build: (b, x) => b.head(b.op("conv", [x, b.constant("w", [6, 2, 3, 2]), b.constant("b", [6])], { strides: [2, 2], pads: [1, 0, 2, 1], dilations: [2, 1], group: 2 })),
  },
  {
    name: "depthwise conv (group = channels) without bias",
    shape: [3, 6, 6],
    build: (b, x) => b.head(b.op("conv", [x, b.constant("w", [3, 1, 3, 3]), null], { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 3 })),
  },
  {
    name: "conv 1-D with stride 2 and pads",
    shape: [2, 9],
    build: (b, x) => b.head(b.op("conv", [x, b.constant("w", [3, 2, 3]), b.constant("b", [3])], { strides: [2], pads: [1, 1], dilations: [1], group: 1 })),
  },
  {
    name: "pointwise 1×1 conv (the no-im2col path of the forward kernel)",
    shape: [3, 4, 4],
    build: (b, x) => b.head(b.op("conv", [x, b.constant("w", [5, 3, 1, 1]), b.constant("b", [5])], { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 })),
  },
  {
    name: "linear on a rank-3 input",
    shape: [3, 5],
    build: (b, x) => b.head(b.op("linear", [x, b.constant("w", [4, 5]), b.constant("b", [4])])),
  },
  {
    name: "gemm with trans_a, trans_b, alpha, beta and a broadcast C",
    shape: [6],
    build: (b, x) => {
      const at = b.op("transpose", [x], { perm: [1, 0] });
      return b.head(b.op("gemm", [at, b.constant("w", [5, 6]), b.constant("c", [1, 5])], { alpha: 0.7, beta: 1.3, trans_a: 1, trans_b: 1 }));
    },
  },
  { name: "2-D matmul by a constant", shape: [6], build: (b, x) => b.head(b.op("matmul", [x, b.constant("w", [6, 5])])) },
  { name: "relu", shape: [12], build: (b, x) => b.head(b.op("relu", [x])) },
  { name: "sigmoid", shape: [12], build: (b, x) => b.head(b.op("sigmoid", [x])) },
  { name: "tanh", shape: [12], build: (b, x) => b.head(b.op("tanh", [x])) },
  { name: "leakyrelu", shape: [12], build: (b, x) => b.head(b.op("leakyrelu", [x], { alpha: 0.1 })) },
  { name: "clip to [−0.4, 0.6]", shape: [12], build: (b, x) => b.head(b.op("clip", [x, b.scalar("lo", -0.4), b.scalar("hi", 0.6)])) },
  { name: "maxpool 2×2 stride 2", shape: [2, 6, 6], build: (b, x) => b.head(b.op("maxpool", [x], win2([2, 2], [2, 2], [0, 0, 0, 0]))) },
  {
    name: "maxpool 3×3 stride 2 with pads and ceil_mode (overlapping windows)",
    shape: [2, 6, 7],
    build: (b, x) => b.head(b.op("maxpool", [x], win2([3, 3], [2, 2], [1, 1, 1, 1], { ceil_mode: 1 }))),
  },
  {
    name: "avgpool with pads, count_include_pad=0",
    shape: [2, 5, 5],
    build: (b, x) => b.head(b.op("avgpool", [x], win2([3, 3], [2, 2], [1, 1, 1, 1], { count_include_pad: 0 }))),
  },
  {
    name: "avgpool with pads, count_include_pad=1",
    shape: [2, 5, 5],
    build: (b, x) => b.head(b.op("avgpool", [x], win2([3, 2], [1, 2], [1, 0, 1, 1], { count_include_pad: 1 }))),
  },
  { name: "globalavgpool", shape: [3, 4, 5], build: (b, x) => b.head(b.op("globalavgpool", [x])) },
  {
    name: "reshape with an i64 shape operand",
    shape: [2, 6],
    build: (b, x) => b.head(b.op("relu", [b.op("reshape", [x, b.ints("shape", [3, 3, 4])], { allowzero: 0 })])),
  },
  { name: "transpose", shape: [2, 3, 4], build: (b, x) => b.head(b.op("mul", [b.op("transpose", [x], { perm: [0, 3, 1, 2] }), b.constant("s", [4, 1, 1])])) },
  {
    name: "add, sub, mul and div with broadcasting (and one value used twice)",
    shape: [3, 4],
    build: (b, x) => {
      const t = b.op("mul", [x, b.constant("m", [3, 1])]);
      const u = b.op("sub", [b.constant("s", [4]), t]);
      const v = b.op("div", [u, b.constant("d", [1, 4], 0.2, 2)]);
      const w = b.op("mul", [v, v]);
      return b.head(b.op("add", [w, b.op("div", [b.constant("n", [3, 1]), b.op("add", [b.op("mul", [x, x]), b.scalar("one", 1)])])]));
    },
  },
  { name: "softmax inside the network (axis 1 of [N, 3, 4])", shape: [3, 4], build: (b, x) => b.head(b.op("softmax", [x], { axis: 1 })) },
  { name: "logsoftmax inside the network", shape: [3, 4], build: (b, x) => b.head(b.op("logsoftmax", [x], { axis: -1 })) },
  { name: "concat of an activation and a constant", shape: [2, 3], build: (b, x) => b.head(b.op("concat", [b.op("tanh", [x]), b.constant("c", [3, 2, 3])], { axis: 1 })) },
  {
    name: "constant pad with a negative (cropping) pad",
    shape: [3, 4],
    build: (b, x) => b.head(b.op("sigmoid", [b.op("pad", [x, b.ints("pads", [0, 1, 2, 0, -1, 1])], { mode: "constant" })])),
  },
  {
    name: "squeeze, unsqueeze, identity and dropout as pass-throughs",
    shape: [1, 6],
    build: (b, x) => {
      const s = b.op("squeeze", [x, b.ints("axes", [1])]);
      const u = b.op("unsqueeze", [b.op("identity", [s]), b.ints("axes2", [2])]);
      return b.head(b.op("tanh", [b.op("dropout", [u, null, null], { seed: 0 })]));
    },
  },
];

/** Builds a case with its pre-add, a batch of 3 random inputs and labels 0, 1, 2. */
function buildCase(c: (typeof CASES)[number], seed: number): { m: Module; input: Tensor; labels: Int32Array } {
  const b = new ModuleBuilder(`case${seed}`, seed);
  const x = b.input([3, ...c.shape]);
  const pre = b.op("add", [x, b.constant("pre", [1, ...c.shape])]);
  const m = c.build(b, pre);
  const rng = new Rng(seed + 77);
  const n = 3 * c.shape.reduce((a, v) => a * v, 1);
  const input = createTensor({ dtype: "f32", shape: [3, ...c.shape] }, Float32Array.from({ length: n }, () => rng.normal()));
  return { m, input, labels: Int32Array.of(0, 1, 2) };
}

describe("backward rules on hand-written modules", () => {
  it.each(CASES.map((c, i) => ({ ...c, seed: 500 + i })))("$name: every element of every constant matches finite differences", (c) => {
    const { m, input, labels } = buildCase(c, c.seed);
    const { gradients } = computeGradients(m, input, labels);
    const floatConstants = m.constants.filter((v) => v.type.dtype === "f32" && v.type.shape.length > 0).map((v) => v.name);
    expect([...gradients.keys()].sort()).toEqual(expect.arrayContaining(floatConstants.sort()));
    const picks = new Map([...gradients].map(([name, g]) => [name, Array.from(g.keys())]));
    const report = checkElements(m, input, labels, gradients, picks);
    expect(report.mismatches).toEqual([]);
    expect(report.kinks).toBeLessThanOrEqual(Math.floor(report.checked / 10));
    // the pre-add's gradient is the op's input gradient summed over the batch: it must not be all zero
    expect(report.maxNumeric.get("pre")!).toBeGreaterThan(100 * ATOL);
  });

  it("differentiates softmax + cross-entropy at the output as −log p_label of that softmax", () => {
    const b = new ModuleBuilder("softmax_head", 9);
    const x = b.input([3, 6]);
    const logits = b.op("linear", [x, b.constant("w", [4, 6]), b.constant("b", [4])]);
    const probs = b.op("softmax", [logits], { axis: -1 });
    b.m.outputs.push(probs);
    const rng = new Rng(10);
    const input = createTensor({ dtype: "f32", shape: [3, 6] }, Float32Array.from({ length: 18 }, () => 2 * rng.normal()));
    const labels = Int32Array.of(3, 0, 2);
    const res = computeGradients(b.m, input, labels);
    // independent: −mean log p_label from the float32 interpreter's probabilities
    const p = readNumbers(interpretModule(b.m, { x: input }).get(probs.name)!);
    const expected = -(Math.log(p[3]!) + Math.log(p[4]!) + Math.log(p[8 + 2]!)) / 3;
    expect(Math.abs(res.loss - expected)).toBeLessThan(1e-6);
    // and the bias gradient is (p − onehot)/N summed over the batch, from those same probabilities
    for (let c = 0; c < 4; c++) {
      const expectedBias = (p[c]! + p[4 + c]! + p[8 + c]! - labels.filter((l) => l === c).length) / 3;
      expect(Math.abs(res.gradients.get("b")![c]! - expectedBias)).toBeLessThan(1e-6);
    }
    const report = checkElements(b.m, input, labels, res.gradients, new Map([["w", Array.from({ length: 24 }, (_, i) => i)], ["b", [0, 1, 2, 3]]]));
    expect(report.mismatches).toEqual([]);
  });

  it("returns only the constants named in wrt, with the same values as the full run", () => {
    const { m, input, labels } = buildCase(CASES[0]!, 500);
    const all = computeGradients(m, input, labels);
    const some = computeGradients(m, input, labels, { wrt: ["w", "head.b"] });
    expect([...some.gradients.keys()]).toEqual(["w", "head.b"]);
    expect(some.gradients.get("w")).toEqual(all.gradients.get("w"));
    expect(some.gradients.get("head.b")).toEqual(all.gradients.get("head.b"));
    expect(some.loss).toBe(all.loss);
  });
});

describe("computeGradients errors", () => {
  /** x [2,5] + gather(@table, @idx) → linear: gather has no backward rule. */
  function gatherModule(): { m: Module; input: Tensor; labels: Int32Array } {
    const b = new ModuleBuilder("with_gather", 3);
    const x = b.input([2, 5]);
    const g = b.op("gather", [b.constant("table", [7, 5]), b.ints("idx", [4, 1])], { axis: 0 });
    const s = b.op("add", [x, g]);
    b.m.outputs.push(b.op("linear", [s, b.constant("w", [3, 5]), b.constant("b", [3])]));
    return { m: b.m, input: createTensor({ dtype: "f32", shape: [2, 5] }), labels: Int32Array.of(0, 2) };
  }

  it("rejects an op without a backward rule on the loss path, naming the op, its result and its loc (XB4004)", () => {
    const { m, input, labels } = gatherModule();
    const e = catchXbarcError(() => computeGradients(m, input, labels));
    expect(e.code).toBe("XB4004");
    expect(e.message).toContain("gather");
    expect(e.message).toContain("%v0");
    expect(e.message).toContain('loc("gather_1")');
    expect(e.location).toMatchObject({ kind: "ir", loc: "gather_1", value: "v0", op: "gather" });
    expect(e.hint).toMatch(/gradients cover: .*conv.*linear/);
  });

  it("differentiates past such an op when wrt names only constants after it", () => {
    const { m, input, labels } = gatherModule();
    const res = computeGradients(m, input, labels, { wrt: ["w", "b"] });
    expect([...res.gradients.keys()]).toEqual(["w", "b"]);
  });

  it("rejects labels that do not match the batch or the classes (XB4002)", () => {
    const { m, input } = gatherModule();
    expect(catchXbarcError(() => computeGradients(m, input, Int32Array.of(0))).code).toBe("XB4002");
    const e = catchXbarcError(() => computeGradients(m, input, Int32Array.of(0, 3)));
    expect(e.code).toBe("XB4002");
    expect(e.message).toContain("label 3");
  });

  it("rejects a wrt name that is not a float constant (XB4002)", () => {
    const { m, input, labels } = gatherModule();
    const e = catchXbarcError(() => computeGradients(m, input, labels, { wrt: ["idx"] }));
    expect(e.code).toBe("XB4002");
    expect(e.message).toContain("@idx");
  });

  it("rejects an input of the wrong shape (XB4002)", () => {
    const { m, labels } = gatherModule();
    const wrong = createTensor({ dtype: "f32", shape: [2, 4] } satisfies TensorType);
    expect(catchXbarcError(() => computeGradients(m, wrong, labels)).code).toBe("XB4002");
  });
});

/**
 * @fileoverview Reverse-mode gradients through the reference interpreter: a float64 forward pass that records every
 * activation, softmax cross-entropy on the module's logits, and one backward rule per op, giving ∂loss/∂c for the
 * float constants (weights and biases) of a classifier on a calibration batch.
 */
import { XbarcError } from "../diagnostics/error.js";
import type { Module, Op, Value } from "../module.js";
import { floatAttr, intAttr, intsAttr, normalizeAxis, resolvePads, stringAttr } from "../ops/shape-utils.js";
import { readInts, readNumbers, type Tensor } from "../tensor.js";
import { formatType, isFloatDType, numel, type TensorType } from "../types.js";
import type { BinaryKind } from "./elementwise.js";
import { getConvParams, getPoolParams, opLocation, runOp } from "./run.js";
import { convBackwardImpl, gemmBackwardImpl, linearBackwardImpl } from "./backward/dense.js";
import {
  binaryBackwardImpl, clipBackwardImpl, leakyReluBackwardImpl, reluBackwardImpl, sigmoidBackwardImpl, tanhBackwardImpl,
} from "./backward/elementwise.js";
import { avgPoolBackwardImpl, globalAvgPoolBackwardImpl, maxPoolBackwardImpl } from "./backward/pool.js";
import { concatBackwardImpl, padBackwardImpl, transposeBackwardImpl } from "./backward/shape.js";
import { logSoftmaxBackwardImpl, softmaxBackwardImpl, softmaxCrossEntropyImpl } from "./backward/softmax.js";

/** What computeGradients returns for one batch. */
export interface GradientResult {
  /** mean cross-entropy over the batch */
  readonly loss: number;
  /** images whose argmax equals the label */
  readonly correct: number;
  /** ∂loss/∂c for every float constant c that feeds a differentiable op (weights and biases of linear/conv ...), keyed by the constant's value name, same element order as its data, float64 */
  readonly gradients: Map<string, Float64Array>;
}

/** Options of computeGradients. */
export interface GradientOptions {
  /** only these constants (value names); default: every float constant reached */
  readonly wrt?: readonly string[];
  /** float64 values used instead of the stored data of these constants (value name → data in the constant's element order); the module is not changed */
  readonly constants?: ReadonlyMap<string, Float64Array>;
}

/** Options of computeLoss. */
export interface LossOptions {
  /** float64 values used instead of the stored data of these constants (value name → data in the constant's element order) */
  readonly constants?: ReadonlyMap<string, Float64Array>;
  /** called after each op of the float64 forward pass with its operands and results (e.g. to find relu/maxpool kinks); do not mutate them */
  readonly observe?: (op: Op, operands: readonly (Tensor | null)[], results: readonly Tensor[]) => void;
}

/** Mean cross-entropy and top-1 count of one batch. */
export interface LossResult {
  /** mean cross-entropy over the batch */
  readonly loss: number;
  /** images whose argmax equals the label */
  readonly correct: number;
}

/** What a backward rule sees: the op, its float64 operands and results, the results' gradients, and which operand gradients are wanted. */
interface BackwardContext {
  readonly op: Op;
  readonly operands: readonly (Tensor | null)[];
  readonly results: readonly Tensor[];
  /** ∂loss/∂result[0] */
  readonly dy: Float64Array;
  /** wants[i]: operand i needs a gradient */
  readonly wants: readonly boolean[];
}

/** A backward rule: the gradient of each operand (null where not wanted or not differentiable). */
interface BackwardRule {
  /** operand positions that carry a gradient (others are shapes, bounds, indices); "all" for variadic ops */
  readonly differentiable: readonly number[] | "all";
  readonly backward: (ctx: BackwardContext) => (Float64Array | null)[];
}

const f64 = (t: Tensor | null): Float64Array => t!.data as Float64Array;

/** Same data, new shape: the gradient passes through unchanged (the forward kernels copy, so no aliasing is at stake). */
const passThrough: BackwardRule = { differentiable: [0], backward: ({ dy }) => [dy] };

function binaryRule(kind: BinaryKind): BackwardRule {
  return {
    differentiable: [0, 1],
    backward: ({ operands: [a, b], results: [y], dy, wants }) => {
      const { da, db } = binaryBackwardImpl(kind, f64(a!), a!.type.shape, f64(b!), b!.type.shape, y!.type.shape, dy, wants[0]!, wants[1]!);
      return [da, db];
    },
  };
}

/** Scalar clip bound of operand i, or ±∞ when absent. */
function clipBound(t: Tensor | null | undefined, fallback: number): number {
  return t ? readNumbers(t)[0]! : fallback;
}

/** The ops with a backward rule: every op of the canonicalized fixture models and the rest of a classifier's vocabulary. */
const RULES: Record<string, BackwardRule> = {
  linear: {
    differentiable: [0, 1, 2],
    backward: ({ operands: [x, w], dy, wants }) => {
      const g = linearBackwardImpl(f64(x!), f64(w!), w!.type.shape, dy, { x: wants[0]!, w: wants[1]!, b: wants[2] ?? false });
      return [g.dx, g.dw, g.db];
    },
  },
  conv: {
    differentiable: [0, 1, 2],
    backward: ({ op, operands: [x, w], dy, wants }) => {
      const p = getConvParams(op, x!.type.shape.length - 2);
      const g = convBackwardImpl(f64(x!), x!.type.shape, f64(w!), w!.type.shape, dy, p, { x: wants[0]!, w: wants[1]!, b: wants[2] ?? false });
      return [g.dx, g.dw, g.db];
    },
  },
  gemm: {
    differentiable: [0, 1, 2],
    backward: ({ op, operands: [a, b, c], dy, wants }) => {
      const g = gemmBackwardImpl(
        f64(a!), a!.type.shape, f64(b!), b!.type.shape, c ? c.type.shape : null,
        floatAttr("gemm", op.attrs, "alpha", 1), floatAttr("gemm", op.attrs, "beta", 1),
        intAttr("gemm", op.attrs, "trans_a", 0) !== 0, intAttr("gemm", op.attrs, "trans_b", 0) !== 0,
        dy, { a: wants[0]!, b: wants[1]!, c: wants[2] ?? false },
      );
      return [g.da, g.db, g.dc];
    },
  },
  matmul: {
    differentiable: [0, 1],
    backward: ({ op, operands: [a, b], dy, wants }) => {
      // NOTE: only the 2-D case; canonicalize turns matmul with a constant operand into linear anyway
      if (a!.type.shape.length !== 2 || b!.type.shape.length !== 2) throw noRule(op, `matmul of ${formatType(a!.type)} by ${formatType(b!.type)} (only 2-D operands)`);
      const g = gemmBackwardImpl(f64(a!), a!.type.shape, f64(b!), b!.type.shape, null, 1, 0, false, false, dy, { a: wants[0]!, b: wants[1]!, c: false });
      return [g.da, g.db];
    },
  },
  add: binaryRule("add"),
  sub: binaryRule("sub"),
  mul: binaryRule("mul"),
  div: binaryRule("div"),
  relu: { differentiable: [0], backward: ({ operands: [x], dy }) => [reluBackwardImpl(f64(x!), dy)] },
  leakyrelu: {
    differentiable: [0],
    backward: ({ op, operands: [x], dy }) => [leakyReluBackwardImpl(f64(x!), dy, floatAttr("leakyrelu", op.attrs, "alpha", 0.01))],
  },
  sigmoid: { differentiable: [0], backward: ({ results: [y], dy }) => [sigmoidBackwardImpl(f64(y!), dy)] },
  tanh: { differentiable: [0], backward: ({ results: [y], dy }) => [tanhBackwardImpl(f64(y!), dy)] },
  clip: {
    differentiable: [0],
    backward: ({ operands, dy }) => [clipBackwardImpl(f64(operands[0]!), dy, clipBound(operands[1], -Infinity), clipBound(operands[2], Infinity))],
  },
  maxpool: {
    differentiable: [0],
    backward: ({ op, operands: [x], dy }) => [maxPoolBackwardImpl(f64(x!), x!.type.shape, getPoolParams(op), dy)],
  },
  avgpool: {
    differentiable: [0],
    backward: ({ op, operands: [x], dy }) => [
      avgPoolBackwardImpl(x!.type.shape, getPoolParams(op), intAttr("avgpool", op.attrs, "count_include_pad", 0) !== 0, dy),
    ],
  },
  globalavgpool: { differentiable: [0], backward: ({ operands: [x], dy }) => [globalAvgPoolBackwardImpl(x!.type.shape, dy)] },
  flatten: passThrough,
  reshape: passThrough,
  squeeze: passThrough,
  unsqueeze: passThrough,
  identity: passThrough,
  // inference dropout is the identity (its optional mask result is not differentiable)
  dropout: passThrough,
  transpose: {
    differentiable: [0],
    backward: ({ op, operands: [x], results: [y], dy }) => {
      const rank = x!.type.shape.length;
      const perm = intsAttr("transpose", op.attrs, "perm", Array.from({ length: rank }, (_, i) => rank - 1 - i));
      return [transposeBackwardImpl(dy, y!.type.shape, perm)];
    },
  },
  concat: {
    differentiable: "all",
    backward: ({ op, operands, dy, wants }) => {
      const shapes = operands.map((t) => t!.type.shape);
      const axis = normalizeAxis(intAttr("concat", op.attrs, "axis"), shapes[0]!.length);
      return concatBackwardImpl(dy, shapes, axis).map((g, i) => (wants[i] ? g : null));
    },
  },
  pad: {
    differentiable: [0],
    backward: ({ op, operands, dy }) => {
      const x = operands[0]!;
      const mode = stringAttr("pad", op.attrs, "mode", "constant");
      if (mode !== "constant") throw noRule(op, `pad mode "${mode}"`);
      const axes = operands[3];
      const pads = resolvePads("pad", x.type.shape.length, readInts(operands[1]!), axes ? readInts(axes) : undefined);
      return [padBackwardImpl(dy, x.type.shape, pads)];
    },
  },
  softmax: {
    differentiable: [0],
    backward: ({ op, results: [y], dy }) => {
      const shape = y!.type.shape;
      return [softmaxBackwardImpl(f64(y!), dy, shape, normalizeAxis(intAttr("softmax", op.attrs, "axis", -1), shape.length))];
    },
  },
  logsoftmax: {
    differentiable: [0],
    backward: ({ op, results: [y], dy }) => {
      const shape = y!.type.shape;
      return [logSoftmaxBackwardImpl(f64(y!), dy, shape, normalizeAxis(intAttr("logsoftmax", op.attrs, "axis", -1), shape.length))];
    },
  },
};

/** The XB4004 error for an op on the loss path that has no backward rule. */
function noRule(op: Op, what: string = `op "${op.opcode}"`): XbarcError {
  const name = op.results[0] ? `%${op.results[0].name}` : op.opcode;
  const at = op.loc ? ` at loc("${op.loc}")` : "";
  return new XbarcError("XB4004", `${name} = ${op.opcode}${at}: ${what} has no gradient rule, and it lies between a requested constant and the loss`, {
    location: opLocation(op),
    hint: `gradients cover: ${Object.keys(RULES).sort().join(", ")}; canonicalize the module first, or restrict \`wrt\` to constants after this op`,
  });
}

/** True when operand i of `op` can carry a gradient: a rule's differentiable position, or any float operand of an op without a rule. */
function isDifferentiableOperand(op: Op, i: number): boolean {
  const v = op.operands[i];
  if (!v || !isFloatDType(v.type.dtype)) return false;
  const rule = RULES[op.opcode];
  if (!rule) return true;
  return rule.differentiable === "all" || rule.differentiable.includes(i);
}

/** The module's single input and its single output, checked to be logits [N, classes] for `labels`. */
function checkSignature(m: Module, input: Tensor, labels: Int32Array): { inputValue: Value; output: Value; rows: number; classes: number } {
  if (m.inputs.length !== 1 || m.outputs.length !== 1) {
    throw new XbarcError("XB4002", `module @${m.name} has ${m.inputs.length} inputs and ${m.outputs.length} outputs; gradients need exactly one of each`, {
      hint: "gradients treat the single output as the logits of a classifier fed by the single input",
    });
  }
  const inputValue = m.inputs[0]!;
  const output = m.outputs[0]!;
  const inShape = inputValue.type.shape;
  if (!isFloatDType(input.type.dtype) || input.type.shape.length !== inShape.length || input.type.shape.some((d, i) => d !== inShape[i]) || input.data.length !== numel(inShape)) {
    throw new XbarcError("XB4002", `input %${inputValue.name}: expected a float tensor of shape [${inShape.join(",")}], found ${formatType(input.type)}`, {
      location: { kind: "ir", value: inputValue.name },
      hint: "pass one batch of the model's input shape (the batch size is fixed at import)",
    });
  }
  const outShape = output.type.shape;
  if (outShape.length !== 2) {
    throw new XbarcError("XB4002", `output %${output.name} is ${formatType(output.type)}; the loss needs logits [N, classes]`, {
      location: { kind: "ir", value: output.name },
      hint: "end the module in a linear layer (optionally followed by softmax) that gives one row of class scores per image",
    });
  }
  const [rows, classes] = outShape as [number, number];
  if (labels.length !== rows) {
    throw new XbarcError("XB4002", `${labels.length} labels for a batch of ${rows} (output %${output.name} is ${formatType(output.type)})`, {
      hint: "give exactly one label per image of the batch",
    });
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new XbarcError("XB4002", `label ${label} of image ${i} is outside 0..${classes - 1} (output %${output.name} has ${classes} classes)`, {
        hint: "labels are class indices into the output row",
      });
    }
  }
  return { inputValue, output, rows, classes };
}

/** Checks that every overridden constant is a float constant of the module and that its data has the right length (XB4002). */
function checkOverrides(m: Module, overrides: ReadonlyMap<string, Float64Array> | undefined): void {
  if (!overrides) return;
  for (const [name, data] of overrides) {
    const c = m.constants.find((v) => v.name === name);
    if (!c || !isFloatDType(c.type.dtype)) {
      throw new XbarcError("XB4002", `@${name} is not a float constant of module @${m.name}`, {
        location: { kind: "ir", value: name },
        hint: "override only float constants (weights and biases), by their value name",
      });
    }
    if (data.length !== numel(c.type.shape)) {
      throw new XbarcError("XB4002", `override of @${name}: ${data.length} values, but ${formatType(c.type)} has ${numel(c.type.shape)}`, {
        location: { kind: "ir", value: name },
        hint: "give the constant's full data in its element order",
      });
    }
  }
}

/** Ops whose results reach the output, as a set of op indices (dead ops neither run nor receive gradients). */
function liveOps(m: Module): Set<number> {
  const needed = new Set<Value>(m.outputs);
  const live = new Set<number>();
  for (let i = m.ops.length - 1; i >= 0; i--) {
    const op = m.ops[i]!;
    if (!op.results.some((r) => needed.has(r))) continue;
    live.add(i);
    for (const v of op.operands) if (v) needed.add(v);
  }
  return live;
}

/** The recorded float64 forward pass. */
interface Forward {
  /** every value's tensor: floats as f64, integer tensors (shapes, indices) as stored */
  readonly env: Map<Value, Tensor>;
  /** indices of the live ops, in order */
  readonly order: number[];
  /** the value fed to the cross-entropy: the softmax's input when the module ends in softmax over classes, else the output */
  readonly logits: Value;
  /** the index of that final softmax op, or −1 */
  readonly headSoftmax: number;
}

function asFloat64(type: TensorType, data: Float64Array): Tensor {
  return { type: { dtype: "f64", shape: [...type.shape] }, data };
}

/** Runs the live ops in float64 with runOp, keeping every activation for the backward pass. */
function runForward(m: Module, inputValue: Value, input: Tensor, overrides: ReadonlyMap<string, Float64Array> | undefined, observe: LossOptions["observe"]): Forward {
  const env = new Map<Value, Tensor>();
  env.set(inputValue, asFloat64(inputValue.type, readNumbers(input)));
  const read = (v: Value, op?: Op): Tensor => {
    const hit = env.get(v);
    if (hit) return hit;
    const location = op ? opLocation(op) : { kind: "ir" as const, value: v.name };
    if (v.kind !== "const") throw new XbarcError("XB3004", `value %${v.name} is used before it is defined`, { location });
    if (!v.data) throw new XbarcError("XB6001", `constant @${v.name} has no data`, { location, hint: "pass the weights side file with --weights" });
    const override = overrides?.get(v.name);
    const t: Tensor = override
      ? asFloat64(v.type, override)
      : isFloatDType(v.type.dtype)
        ? asFloat64(v.type, readNumbers({ type: v.type, data: v.data }))
        : { type: v.type, data: v.data };
    env.set(v, t);
    return t;
  };
  const live = liveOps(m);
  const order = [...live].sort((a, b) => a - b);
  for (const i of order) {
    const op = m.ops[i]!;
    const operands = op.operands.map((v) => (v ? read(v, op) : null));
    const results = runOp(op, operands);
    op.results.forEach((r, j) => env.set(r, results[j]!));
    observe?.(op, operands, results);
  }
  const output = m.outputs[0]!;
  if (!env.has(output)) read(output);
  // a final softmax over the class axis: the cross-entropy is taken from its input (log-softmax), which is exact and stable
  const def = output.def;
  const headSoftmax = def && def.opcode === "softmax" && normalizeAxis(intAttr("softmax", def.attrs, "axis", -1), 2) === 1 && def.operands[0] ? m.ops.indexOf(def) : -1;
  const logits = headSoftmax >= 0 ? def!.operands[0]! : output;
  return { env, order, logits, headSoftmax };
}

/**
 * Forward pass of `module` (one input) on one batch in float64, returning the mean softmax cross-entropy against
 * `labels` and the top-1 count: the same loss computeGradients differentiates (for finite-difference checks and
 * sensitivity scores). The module is not changed.
 */
export function computeLoss(module: Module, input: Tensor, labels: Int32Array, options: LossOptions = {}): LossResult {
  const { inputValue, rows, classes } = checkSignature(module, input, labels);
  checkOverrides(module, options.constants);
  const fwd = runForward(module, inputValue, input, options.constants, options.observe);
  const { loss, correct } = softmaxCrossEntropyImpl(f64(fwd.env.get(fwd.logits)!), rows, classes, labels);
  return { loss, correct };
}

/** The float constants to differentiate: `wrt` (checked) or every float constant at a differentiable position of a live op. */
function selectConstants(m: Module, order: readonly number[], wrt: readonly string[] | undefined): Value[] {
  if (wrt) {
    return wrt.map((name) => {
      const c = m.constants.find((v) => v.name === name);
      if (!c || !isFloatDType(c.type.dtype)) {
        const floats = m.constants.filter((v) => isFloatDType(v.type.dtype)).map((v) => `@${v.name}`);
        throw new XbarcError("XB4002", `wrt: @${name} is not a float constant of module @${m.name}`, {
          location: { kind: "ir", value: name },
          hint: `the float constants are ${floats.join(", ") || "(none)"}`,
        });
      }
      return c;
    });
  }
  const found = new Set<Value>();
  for (const i of order) {
    const op = m.ops[i]!;
    op.operands.forEach((v, j) => {
      if (v && v.kind === "const" && isDifferentiableOperand(op, j)) found.add(v);
    });
  }
  // declaration order, so the map iterates like the module prints
  return m.constants.filter((c) => found.has(c));
}

/**
 * Forward + reverse pass of `module` (one input) on one batch `input` with integer `labels` (length = batch).
 * The loss is the mean cross-entropy of the output treated as logits [N, classes]; when the module ends in a
 * softmax over the classes, it is differentiated through that softmax (loss = −log p_label). Everything runs in
 * float64 whatever the module's dtype; the module is not changed. An op without a backward rule between a requested
 * constant and the loss is XB4004.
 */
export function computeGradients(module: Module, input: Tensor, labels: Int32Array, options: GradientOptions = {}): GradientResult {
  const m = module;
  const { inputValue, rows, classes } = checkSignature(m, input, labels);
  checkOverrides(m, options.constants);
  const fwd = runForward(m, inputValue, input, options.constants, undefined);
  const { loss, correct, dLogits } = softmaxCrossEntropyImpl(f64(fwd.env.get(fwd.logits)!), rows, classes, labels);
  const targets = selectConstants(m, fwd.order, options.wrt);

  // values that depend on a target through differentiable operands: only these need gradients
  const needsGrad = new Set<Value>(targets);
  for (const i of fwd.order) {
    const op = m.ops[i]!;
    if (op.operands.some((v, j) => v && needsGrad.has(v) && isDifferentiableOperand(op, j))) {
      for (const r of op.results) if (isFloatDType(r.type.dtype)) needsGrad.add(r);
    }
  }

  const grads = new Map<Value, Float64Array>();
  const accumulate = (v: Value, g: Float64Array): void => {
    const prev = grads.get(v);
    if (!prev) grads.set(v, g);
    else for (let k = 0; k < g.length; k++) prev[k] += g[k]!;
  };
  if (needsGrad.has(fwd.logits)) accumulate(fwd.logits, dLogits);

  for (let n = fwd.order.length - 1; n >= 0; n--) {
    const i = fwd.order[n]!;
    if (i === fwd.headSoftmax) continue;
    const op = m.ops[i]!;
    const result = op.results[0];
    const dy = result ? grads.get(result) : undefined;
    if (!dy) continue;
    // the result's gradient is complete: every user comes later in topological order and has been processed
    grads.delete(result!);
    const wants = op.operands.map((v, j) => !!v && needsGrad.has(v) && isDifferentiableOperand(op, j));
    if (!wants.some(Boolean)) continue;
    const rule = RULES[op.opcode];
    if (!rule) throw noRule(op);
    const operands = op.operands.map((v) => (v ? fwd.env.get(v)! : null));
    const results = op.results.map((r) => fwd.env.get(r)!);
    const dx = rule.backward({ op, operands, results, dy, wants });
    op.operands.forEach((v, j) => {
      const g = dx[j];
      if (v && wants[j] && g) accumulate(v, g);
    });
  }

  const gradients = new Map<string, Float64Array>();
  // a target that no gradient reached (e.g. behind a dead relu or off the loss path) gets zeros
  for (const c of targets) gradients.set(c.name, grads.get(c) ?? new Float64Array(numel(c.type.shape)));
  return { loss, correct, gradients };
}

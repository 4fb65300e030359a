/**
 * @fileoverview The op registry: one OpSpec per IR op (operands, attributes with defaults, result counts and
 * the shape rule). The op set and its semantics are the contract in briefs/ops.md (ONNX opset-13+ forms).
 */
import { XbarcError } from "../diagnostics/error.js";
import type { Attrs, AttrValue } from "../module.js";
import { readInts } from "../tensor.js";
import { formatType, isDType, isFloatDType, numel, type TensorType } from "../types.js";
import type { AttrSpec, InferContext, OperandSpec, OpSpec } from "./spec.js";
import {
  attrError,
  broadcastsTo,
  floatAttr,
  formatShape,
  intAttr,
  intsAttr,
  normalizeAxes,
  normalizeAxis,
  prodDims,
  readWindowParams,
  resolvePads,
  resolveReshape,
  resolveSlice,
  shapeError,
  stringAttr,
  tryBroadcastShapes,
  windowOutputShape,
} from "./shape-utils.js";

// ---------------------------------------------------------------------------------------------
// helpers for shape rules

/** The type of operand i, or a XB3006 error when it is absent (inferTypes checks counts first, so this is a guard). */
function operand(ctx: InferContext, i: number, opcode: string, name: string): TensorType {
  const t = ctx.operands[i];
  if (!t) throw new XbarcError("XB3006", `${opcode}: operand ${name} (#${i}) is missing`);
  return t;
}

function requireFloat(opcode: string, name: string, t: TensorType): void {
  if (!isFloatDType(t.dtype)) throw shapeError(opcode, `operand ${name} must be a float tensor (f16/f32/f64), found ${formatType(t)}`);
}

function requireSameDType(opcode: string, nameA: string, a: TensorType, nameB: string, b: TensorType): void {
  if (a.dtype !== b.dtype) throw shapeError(opcode, `operands ${nameA} and ${nameB} must have the same dtype, found ${formatType(a)} and ${formatType(b)}`);
}

function requireIntIndices(opcode: string, name: string, t: TensorType): void {
  if (t.dtype !== "i64" && t.dtype !== "i32") throw shapeError(opcode, `operand ${name} must be i64 (or i32), found ${formatType(t)}`);
}

function requireRank(opcode: string, name: string, t: TensorType, rank: number): void {
  if (t.shape.length !== rank) throw shapeError(opcode, `operand ${name} must have rank ${rank}, found ${formatType(t)}`);
}

/** Operands 0 and 1 (`nameA`, `nameB`) of a float op that computes in one dtype (conv, gemm, matmul, linear). */
function floatOperandPair(ctx: InferContext, opcode: string, nameA: string, nameB: string): [TensorType, TensorType] {
  const a = operand(ctx, 0, opcode, nameA);
  const b = operand(ctx, 1, opcode, nameB);
  requireFloat(opcode, nameA, a);
  requireSameDType(opcode, nameA, a, nameB, b);
  return [a, b];
}

/** Checks an optional bias b against x: same dtype, shape [n]; `note` explains n in the message. */
function requireBias(opcode: string, x: TensorType, b: TensorType | null | undefined, n: number, note = ""): void {
  if (!b) return;
  requireSameDType(opcode, "x", x, "b", b);
  if (b.shape.length !== 1 || b.shape[0] !== n) throw shapeError(opcode, `bias b must be [${n}]${note}, found ${formatType(b)}`);
}

/** Window ops (conv, pools) read x as [N, C, spatial...]. */
function requireSpatialInput(opcode: string, x: TensorType): void {
  if (x.shape.length < 3) throw shapeError(opcode, `input x must have rank ≥ 3 ([N, C, spatial...]), found ${formatType(x)}`);
}

/** The known value of operand i as integers, or undefined when it is not statically known. */
function knownInts(ctx: InferContext, i: number): number[] | undefined {
  const v = ctx.values[i];
  return v ? readInts(v) : undefined;
}

function isScalarLike(t: TensorType): boolean {
  return numel(t.shape) === 1 && t.shape.length <= 1;
}

function same(t: TensorType): TensorType[] {
  return [{ dtype: t.dtype, shape: [...t.shape] }];
}

const attr = (name: string, kind: AttrSpec["kind"], doc: string, def?: AttrValue): AttrSpec =>
  def === undefined ? { name, kind, doc } : { name, kind, doc, default: def };
const opd = (name: string, optional = false): OperandSpec => (optional ? { name, optional } : { name });

// ---------------------------------------------------------------------------------------------
// shape rules

function inferBinary(opcode: string) {
  return (ctx: InferContext): TensorType[] => {
    const a = operand(ctx, 0, opcode, "a");
    const b = operand(ctx, 1, opcode, "b");
    requireSameDType(opcode, "a", a, "b", b);
    const shape = tryBroadcastShapes(a.shape, b.shape);
    if (!shape) {
      throw shapeError(opcode, `shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be broadcast together`, "numpy broadcasting aligns trailing dims; each pair must be equal or one of them 1");
    }
    return [{ dtype: a.dtype, shape }];
  };
}

function inferUnary(opcode: string, floatOnly: boolean) {
  return (ctx: InferContext): TensorType[] => {
    const x = operand(ctx, 0, opcode, "x");
    if (floatOnly) requireFloat(opcode, "x", x);
    return same(x);
  };
}

function inferClip(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "clip", "x");
  for (const [i, name] of [[1, "min"], [2, "max"]] as const) {
    const t = ctx.operands[i];
    if (!t) continue;
    requireSameDType("clip", "x", x, name, t);
    if (!isScalarLike(t)) throw shapeError("clip", `operand ${name} must be a scalar (rank 0 or one element), found ${formatType(t)}`);
  }
  return same(x);
}

function inferDropout(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "dropout", "x");
  const ratio = ctx.operands[1];
  if (ratio && (!isFloatDType(ratio.dtype) || !isScalarLike(ratio))) throw shapeError("dropout", `operand ratio must be a float scalar, found ${formatType(ratio)}`);
  const mode = ctx.operands[2];
  if (mode && (mode.dtype !== "bool" || !isScalarLike(mode))) throw shapeError("dropout", `operand training_mode must be a bool scalar, found ${formatType(mode)}`);
  const out = same(x);
  if (ctx.numResults === 2) out.push({ dtype: "bool", shape: [...x.shape] });
  return out;
}

function inferConv(ctx: InferContext): TensorType[] {
  const [x, w] = floatOperandPair(ctx, "conv", "x", "w");
  requireSpatialInput("conv", x);
  if (w.shape.length !== x.shape.length) {
    throw shapeError("conv", `weight w must have the same rank as x (${x.shape.length}), found ${formatType(w)} for x ${formatType(x)}`);
  }
  const group = intAttr("conv", ctx.attrs, "group", 1);
  if (group < 1) throw attrError("conv", `group must be ≥ 1, found ${group}`);
  const [n, c] = x.shape as [number, number];
  const [m, cPerGroup] = w.shape as [number, number];
  if (c % group !== 0) throw shapeError("conv", `input channels ${c} are not divisible by group=${group}`);
  if (cPerGroup * group !== c) {
    throw shapeError("conv", `input x has ${c} channels but weight ${formatType(w)} expects ${cPerGroup}×group(${group}) = ${cPerGroup * group}`);
  }
  if (m % group !== 0) throw shapeError("conv", `output channels ${m} of weight ${formatType(w)} are not divisible by group=${group}`);
  requireBias("conv", x, ctx.operands[2], m, " (one per output channel)");
  const p = readWindowParams("conv", ctx.attrs, w.shape.slice(2));
  const spatial = windowOutputShape("conv", x.shape.slice(2), p);
  return [{ dtype: x.dtype, shape: [n, m, ...spatial] }];
}

function inferGemm(ctx: InferContext): TensorType[] {
  const [a, b] = floatOperandPair(ctx, "gemm", "a", "b");
  const c = ctx.operands[2];
  requireRank("gemm", "a", a, 2);
  requireRank("gemm", "b", b, 2);
  const transA = intAttr("gemm", ctx.attrs, "trans_a", 0);
  const transB = intAttr("gemm", ctx.attrs, "trans_b", 0);
  const [m, ka] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (ka !== kb) {
    throw shapeError("gemm", `inner dims differ: A' is [${m},${ka}] and B' is [${kb},${n}] (a ${formatType(a)} trans_a=${transA}, b ${formatType(b)} trans_b=${transB})`);
  }
  if (c) {
    requireSameDType("gemm", "a", a, "c", c);
    if (!broadcastsTo(c.shape, [m, n])) throw shapeError("gemm", `c ${formatType(c)} does not broadcast to the result [${m},${n}]`);
  }
  return [{ dtype: a.dtype, shape: [m, n] }];
}

/** numpy matmul result shape (1-D promotion, batch broadcasting). */
export function matmulShape(a: readonly number[], b: readonly number[]): number[] {
  if (a.length === 0 || b.length === 0) throw shapeError("matmul", "operands must have rank ≥ 1");
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const k1 = a2[a2.length - 1]!;
  const k2 = b2[b2.length - 2]!;
  if (k1 !== k2) throw shapeError("matmul", `inner dims differ: a ${formatShape(a)} has K=${k1}, b ${formatShape(b)} has K=${k2}`);
  const batch = tryBroadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  if (!batch) throw shapeError("matmul", `batch dims of ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together`);
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return out;
}

function inferMatmul(ctx: InferContext): TensorType[] {
  const [a, b] = floatOperandPair(ctx, "matmul", "a", "b");
  return [{ dtype: a.dtype, shape: matmulShape(a.shape, b.shape) }];
}

function inferLinear(ctx: InferContext): TensorType[] {
  const [x, w] = floatOperandPair(ctx, "linear", "x", "w");
  if (x.shape.length < 1) throw shapeError("linear", `input x must have rank ≥ 1, found ${formatType(x)}`);
  requireRank("linear", "w", w, 2);
  const k = x.shape[x.shape.length - 1]!;
  const [n, kw] = w.shape as [number, number];
  if (k !== kw) throw shapeError("linear", `input x ${formatType(x)} has K=${k} but weight w ${formatType(w)} ([N, K]) has K=${kw}`);
  requireBias("linear", x, ctx.operands[2], n);
  return [{ dtype: x.dtype, shape: [...x.shape.slice(0, -1), n] }];
}

function inferPool(opcode: "maxpool" | "avgpool") {
  return (ctx: InferContext): TensorType[] => {
    const x = operand(ctx, 0, opcode, "x");
    if (opcode === "avgpool") requireFloat(opcode, "x", x);
    requireSpatialInput(opcode, x);
    const kernel = intsAttr(opcode, ctx.attrs, "kernel_shape");
    const r = x.shape.length - 2;
    if (kernel.length !== r) throw attrError(opcode, `kernel_shape has ${kernel.length} values but x ${formatType(x)} has ${r} spatial dims`);
    const p = readWindowParams(opcode, ctx.attrs, kernel);
    const ceil = intAttr(opcode, ctx.attrs, "ceil_mode", 0) !== 0;
    if (opcode === "maxpool") {
      const order = intAttr(opcode, ctx.attrs, "storage_order", 0);
      if (order !== 0 && order !== 1) throw attrError(opcode, `storage_order must be 0 or 1, found ${order}`);
    }
    const shape = [x.shape[0]!, x.shape[1]!, ...windowOutputShape(opcode, x.shape.slice(2), p, ceil)];
    const out: TensorType[] = [{ dtype: x.dtype, shape }];
    if (opcode === "maxpool" && ctx.numResults === 2) out.push({ dtype: "i64", shape: [...shape] });
    return out;
  };
}

function inferGlobalAvgPool(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "globalavgpool", "x");
  requireFloat("globalavgpool", "x", x);
  requireSpatialInput("globalavgpool", x);
  return [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)] }];
}

function inferFlatten(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "flatten", "x");
  const rank = x.shape.length;
  const raw = intAttr("flatten", ctx.attrs, "axis", 1);
  const axis = raw < 0 ? raw + rank : raw;
  if (axis < 0 || axis > rank) throw attrError("flatten", `axis ${raw} is out of range [${-rank}, ${rank}] for ${formatType(x)}`);
  return [{ dtype: x.dtype, shape: [prodDims(x.shape, 0, axis), prodDims(x.shape, axis)] }];
}

function inferReshape(ctx: InferContext): TensorType[] | undefined {
  const x = operand(ctx, 0, "reshape", "x");
  const s = operand(ctx, 1, "reshape", "shape");
  requireIntIndices("reshape", "shape", s);
  requireRank("reshape", "shape", s, 1);
  const allowzero = intAttr("reshape", ctx.attrs, "allowzero", 0) !== 0;
  const target = knownInts(ctx, 1);
  if (!target) return undefined;
  return [{ dtype: x.dtype, shape: resolveReshape("reshape", x.shape, target, allowzero) }];
}

function inferTranspose(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "transpose", "x");
  const rank = x.shape.length;
  const perm = intsAttr("transpose", ctx.attrs, "perm", Array.from({ length: rank }, (_, i) => rank - 1 - i));
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
    throw attrError("transpose", `perm ${formatShape(perm)} is not a permutation of 0..${rank - 1} for ${formatType(x)}`);
  }
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
}

function inferConcat(ctx: InferContext): TensorType[] {
  if (ctx.operands.length === 0) throw new XbarcError("XB3006", "concat: needs at least one operand");
  const first = operand(ctx, 0, "concat", "xs[0]");
  const rank = first.shape.length;
  const raw = intAttr("concat", ctx.attrs, "axis");
  const axis = normalizeAxis(raw, rank);
  if (axis < 0) throw attrError("concat", `axis ${raw} is out of range for rank ${rank}`);
  const shape = [...first.shape];
  for (let i = 1; i < ctx.operands.length; i++) {
    const t = operand(ctx, i, "concat", `xs[${i}]`);
    requireSameDType("concat", "xs[0]", first, `xs[${i}]`, t);
    if (t.shape.length !== rank || t.shape.some((d, j) => j !== axis && d !== first.shape[j])) {
      throw shapeError("concat", `operand xs[${i}] ${formatType(t)} does not match xs[0] ${formatType(first)} outside axis ${axis}`);
    }
    shape[axis]! += t.shape[axis]!;
  }
  return [{ dtype: first.dtype, shape }];
}

function inferBatchnorm(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "batchnorm", "x");
  requireFloat("batchnorm", "x", x);
  if (x.shape.length < 2) throw shapeError("batchnorm", `input x must have rank ≥ 2 ([N, C, ...]), found ${formatType(x)}`);
  const c = x.shape[1]!;
  ["scale", "bias", "mean", "var"].forEach((name, i) => {
    const t = operand(ctx, i + 1, "batchnorm", name);
    if (!isFloatDType(t.dtype)) throw shapeError("batchnorm", `operand ${name} must be a float tensor, found ${formatType(t)}`);
    if (t.shape.length !== 1 || t.shape[0] !== c) throw shapeError("batchnorm", `operand ${name} must be [${c}] (one per channel of x ${formatType(x)}), found ${formatType(t)}`);
  });
  const trainingMode = intAttr("batchnorm", ctx.attrs, "training_mode", 0);
  if (trainingMode !== 0 && trainingMode !== 1) throw attrError("batchnorm", `training_mode must be 0 or 1, found ${trainingMode}`,
    "use 0 to normalise with the mean/var operands, 1 to normalise with the batch statistics");
  if (ctx.numResults === 1) return same(x);
  // ONNX: the running statistics exist only in training mode ("extra outputs are invalid" otherwise)
  if (trainingMode === 0) throw attrError("batchnorm", `running_mean and running_var results need training_mode=1, found training_mode=0 with ${ctx.numResults} results`,
    "give the op a single result, or set training_mode=1");
  const mean = operand(ctx, 3, "batchnorm", "mean");
  const variance = operand(ctx, 4, "batchnorm", "var");
  return [...same(x), ...same(mean), ...same(variance)];
}

function inferSoftmax(opcode: string) {
  return (ctx: InferContext): TensorType[] => {
    const x = operand(ctx, 0, opcode, "x");
    requireFloat(opcode, "x", x);
    const raw = intAttr(opcode, ctx.attrs, "axis", -1);
    if (normalizeAxis(raw, x.shape.length) < 0) throw attrError(opcode, `axis ${raw} is out of range for ${formatType(x)}`);
    return same(x);
  };
}

function inferSqueeze(ctx: InferContext): TensorType[] | undefined {
  const x = operand(ctx, 0, "squeeze", "x");
  const axesType = ctx.operands[1];
  if (!axesType) return [{ dtype: x.dtype, shape: x.shape.filter((d) => d !== 1) }];
  requireIntIndices("squeeze", "axes", axesType);
  const raw = knownInts(ctx, 1);
  if (!raw) return undefined;
  const axes = normalizeAxes("squeeze", raw, x.shape.length);
  for (const a of axes) if (x.shape[a] !== 1) throw shapeError("squeeze", `cannot squeeze axis ${a} of ${formatType(x)}: its size is ${x.shape[a]}, not 1`);
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
}

function inferUnsqueeze(ctx: InferContext): TensorType[] | undefined {
  const x = operand(ctx, 0, "unsqueeze", "x");
  requireIntIndices("unsqueeze", "axes", operand(ctx, 1, "unsqueeze", "axes"));
  const raw = knownInts(ctx, 1);
  if (!raw) return undefined;
  const rank = x.shape.length + raw.length;
  const axes = normalizeAxes("unsqueeze", raw, rank);
  const shape: number[] = [];
  let src = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[src++]!);
  return [{ dtype: x.dtype, shape }];
}

const PAD_MODES = ["constant", "reflect", "edge", "wrap"];

function inferPad(ctx: InferContext): TensorType[] | undefined {
  const x = operand(ctx, 0, "pad", "x");
  requireIntIndices("pad", "pads", operand(ctx, 1, "pad", "pads"));
  const mode = stringAttr("pad", ctx.attrs, "mode", "constant");
  if (!PAD_MODES.includes(mode)) throw attrError("pad", `mode "${mode}" is not one of ${PAD_MODES.join(", ")}`);
  const cv = ctx.operands[2];
  if (cv) {
    requireSameDType("pad", "x", x, "constant_value", cv);
    if (!isScalarLike(cv)) throw shapeError("pad", `constant_value must be a scalar, found ${formatType(cv)}`);
  }
  if (ctx.operands[3]) requireIntIndices("pad", "axes", ctx.operands[3]);
  const pads = knownInts(ctx, 1);
  const axes = ctx.operands[3] ? knownInts(ctx, 3) : undefined;
  if (!pads || (ctx.operands[3] && !axes)) return undefined;
  const rank = x.shape.length;
  const full = resolvePads("pad", rank, pads, axes);
  const shape = x.shape.map((d, i) => d + full[i]! + full[i + rank]!);
  if (shape.some((d) => d < 0)) throw shapeError("pad", `pads ${formatShape(pads)} crop ${formatType(x)} below size 0`);
  return [{ dtype: x.dtype, shape }];
}

/** Clamped [start, end) of Shape (ONNX opset 15): negatives count from the end, then clamp to [0, rank]. */
export function shapeRange(rank: number, start: number, end: number): [number, number] {
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return [clamp(start), clamp(end)];
}

function inferShape(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "shape", "x");
  const rank = x.shape.length;
  const [s, e] = shapeRange(rank, intAttr("shape", ctx.attrs, "start", 0), intAttr("shape", ctx.attrs, "end", rank));
  return [{ dtype: "i64", shape: [Math.max(0, e - s)] }];
}

function inferGather(ctx: InferContext): TensorType[] {
  const data = operand(ctx, 0, "gather", "data");
  const indices = operand(ctx, 1, "gather", "indices");
  requireIntIndices("gather", "indices", indices);
  const rank = data.shape.length;
  if (rank < 1) throw shapeError("gather", `data must have rank ≥ 1, found ${formatType(data)}`);
  const raw = intAttr("gather", ctx.attrs, "axis", 0);
  const axis = normalizeAxis(raw, rank);
  if (axis < 0) throw attrError("gather", `axis ${raw} is out of range for ${formatType(data)}`);
  return [{ dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)] }];
}

function inferSlice(ctx: InferContext): TensorType[] | undefined {
  const data = operand(ctx, 0, "slice", "data");
  const names = ["data", "starts", "ends", "axes", "steps"];
  for (let i = 1; i < 5; i++) {
    const t = ctx.operands[i];
    if (!t) continue;
    requireIntIndices("slice", names[i]!, t);
    requireRank("slice", names[i]!, t, 1);
  }
  const starts = knownInts(ctx, 1);
  const ends = knownInts(ctx, 2);
  const axes = ctx.operands[3] ? knownInts(ctx, 3) : undefined;
  const steps = ctx.operands[4] ? knownInts(ctx, 4) : undefined;
  if (!starts || !ends || (ctx.operands[3] && !axes) || (ctx.operands[4] && !steps)) return undefined;
  const dims = resolveSlice("slice", data.shape, starts, ends, axes, steps);
  return [{ dtype: data.dtype, shape: dims.map((d) => d.count) }];
}

function inferCast(ctx: InferContext): TensorType[] {
  const x = operand(ctx, 0, "cast", "x");
  const to = stringAttr("cast", ctx.attrs, "to");
  if (!isDType(to)) throw attrError("cast", `attribute to = "${to}" is not a dtype`, "use one of f16, f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, bool");
  return [{ dtype: to, shape: [...x.shape] }];
}

// ---------------------------------------------------------------------------------------------
// the table

const windowAttrs = (withKernel: boolean): AttrSpec[] => [
  ...(withKernel ? [attr("kernel_shape", "ints", "window size per spatial dim")] : []),
  attr("strides", "ints", "step per spatial dim (importer fills ones)"),
  attr("pads", "ints", "[begin_1..begin_r, end_1..end_r] explicit padding (importer resolves auto_pad, fills zeros)"),
  attr("dilations", "ints", "spacing of kernel taps per spatial dim (importer fills ones)"),
];

const specs: OpSpec[] = [
  ...(["add", "sub", "mul", "div"] as const).map((name): OpSpec => ({
    name,
    summary: `elementwise ${name} with numpy broadcasting; a and b share one dtype${name === "div" ? "; integer division truncates toward zero" : ""}`,
    operands: [opd("a"), opd("b")],
    attrs: [],
    results: [1],
    infer: inferBinary(name),
  })),
  { name: "relu", summary: "max(x, 0) elementwise", operands: [opd("x")], attrs: [], results: [1], infer: inferUnary("relu", false) },
  { name: "sigmoid", summary: "1/(1+exp(−x)) elementwise", operands: [opd("x")], attrs: [], results: [1], infer: inferUnary("sigmoid", true) },
  { name: "tanh", summary: "tanh(x) elementwise", operands: [opd("x")], attrs: [], results: [1], infer: inferUnary("tanh", true) },
  {
    name: "leakyrelu",
    summary: "x < 0 ? alpha·x : x elementwise",
    operands: [opd("x")],
    attrs: [attr("alpha", "float", "slope for negative inputs", 0.01)],
    results: [1],
    infer: inferUnary("leakyrelu", true),
  },
  {
    name: "clip",
    summary: "min(max(x, min), max) with scalar bounds of x's dtype; an absent bound is unbounded",
    operands: [opd("x"), opd("min", true), opd("max", true)],
    attrs: [],
    results: [1],
    infer: inferClip,
  },
  { name: "identity", summary: "y = x (a copy of the input)", operands: [opd("x")], attrs: [], results: [1], infer: inferUnary("identity", false) },
  {
    name: "dropout",
    summary: "inference dropout: y = x; optional 2nd result is an all-true bool mask",
    operands: [opd("x"), opd("ratio", true), opd("training_mode", true)],
    attrs: [attr("seed", "int", "random seed (unused at inference)", 0)],
    results: [1, 2],
    infer: inferDropout,
  },
  {
    name: "conv",
    summary: "N-d convolution: x [N,C,...], w [M,C/group,k...], b [M]; out_i = floor((in_i + pb_i + pe_i − dil_i·(k_i−1) − 1)/s_i) + 1",
    operands: [opd("x"), opd("w"), opd("b", true)],
    attrs: [...windowAttrs(false), attr("group", "int", "number of channel groups", 1)],
    results: [1],
    infer: inferConv,
  },
  {
    name: "gemm",
    summary: "Y = alpha·A'·B' + beta·C with A' = trans_a ? Aᵀ : A (2-D), C broadcast to [M,N]",
    operands: [opd("a"), opd("b"), opd("c", true)],
    attrs: [
      attr("alpha", "float", "scale of A'·B'", 1),
      attr("beta", "float", "scale of C", 1),
      attr("trans_a", "int", "1 to transpose A", 0),
      attr("trans_b", "int", "1 to transpose B", 0),
    ],
    results: [1],
    infer: inferGemm,
  },
  { name: "matmul", summary: "numpy matmul (1-D promotion, batch broadcasting)", operands: [opd("a"), opd("b")], attrs: [], results: [1], infer: inferMatmul },
  {
    name: "linear",
    summary: "y[..., n] = Σ_k x[..., k]·w[n, k] + b[n]; w [N, K] out-channel-major like conv",
    operands: [opd("x"), opd("w"), opd("b", true)],
    attrs: [],
    results: [1],
    infer: inferLinear,
  },
  {
    name: "maxpool",
    summary: "N-d max pooling; padded cells never win; optional 2nd result: i64 flat index of each max",
    operands: [opd("x")],
    attrs: [
      ...windowAttrs(true),
      attr("ceil_mode", "int", "1 to round output sizes up (a window starting in the end padding is dropped)", 0),
      attr("storage_order", "int", "indices: 0 row-major, 1 column-major over the spatial dims", 0),
    ],
    results: [1, 2],
    infer: inferPool("maxpool"),
  },
  {
    name: "avgpool",
    summary: "N-d average pooling; count_include_pad=0 divides by the non-pad cells of each window",
    operands: [opd("x")],
    attrs: [
      ...windowAttrs(true),
      attr("ceil_mode", "int", "1 to round output sizes up", 0),
      attr("count_include_pad", "int", "1 to count padded cells in the divisor", 0),
    ],
    results: [1],
    infer: inferPool("avgpool"),
  },
  { name: "globalavgpool", summary: "mean over all spatial dims, kept as size 1", operands: [opd("x")], attrs: [], results: [1], infer: inferGlobalAvgPool },
  {
    name: "flatten",
    summary: "reshape to [prod(d[0:axis]), prod(d[axis:])]",
    operands: [opd("x")],
    attrs: [attr("axis", "int", "first dim of the second group (negative counts from the end)", 1)],
    results: [1],
    infer: inferFlatten,
  },
  {
    name: "reshape",
    summary: "reshape to the i64 shape operand: 0 copies the input dim (unless allowzero), one −1 inferred",
    operands: [opd("x"), opd("shape")],
    attrs: [attr("allowzero", "int", "1 to make 0 mean an empty dim", 0)],
    results: [1],
    infer: inferReshape,
  },
  {
    name: "transpose",
    summary: "permute dims: out.shape[i] = x.shape[perm[i]]",
    operands: [opd("x")],
    attrs: [attr("perm", "ints", "permutation of the dims (importer fills the reversed order)")],
    results: [1],
    infer: inferTranspose,
  },
  {
    name: "concat",
    summary: "join tensors along one axis",
    operands: [{ name: "xs", variadic: true }],
    attrs: [attr("axis", "int", "axis to join along (negative counts from the end)")],
    results: [1],
    infer: inferConcat,
  },
  {
    name: "batchnorm",
    summary:
      "batch norm per channel (axis 1): y = scale·(x−mean)/sqrt(var+epsilon) + bias; training_mode=1 uses the batch mean and " +
      "population variance and may also return running_mean, running_var = stat·momentum + batch_stat·(1−momentum)",
    operands: [opd("x"), opd("scale"), opd("bias"), opd("mean"), opd("var")],
    attrs: [
      attr("epsilon", "float", "added to the variance", 1e-5),
      attr("training_mode", "int", "0: normalise with the mean/var operands; 1: with the batch statistics (ONNX BatchNormalization-15)", 0),
      attr("momentum", "float", "training mode: weight of the operand statistics in the running statistics", 0.9),
    ],
    results: [1, 3],
    infer: inferBatchnorm,
  },
  ...(["softmax", "logsoftmax"] as const).map((name): OpSpec => ({
    name,
    summary: `${name === "softmax" ? "exp(x)/Σexp(x)" : "x − log Σexp(x)"} along one axis (opset 13)`,
    operands: [opd("x")],
    attrs: [attr("axis", "int", "axis to normalise along (negative counts from the end)", -1)],
    results: [1],
    infer: inferSoftmax(name),
  })),
  {
    name: "squeeze",
    summary: "remove size-1 dims listed in axes (all of them when absent)",
    operands: [opd("x"), opd("axes", true)],
    attrs: [],
    results: [1],
    infer: inferSqueeze,
  },
  {
    name: "unsqueeze",
    summary: "insert size-1 dims at axes (relative to the output rank)",
    operands: [opd("x"), opd("axes")],
    attrs: [],
    results: [1],
    infer: inferUnsqueeze,
  },
  {
    name: "pad",
    summary: "pad by i64 pads [begins..., ends...] over axes (default all); negative pads crop",
    operands: [opd("x"), opd("pads"), opd("constant_value", true), opd("axes", true)],
    attrs: [attr("mode", "string", "constant, reflect, edge or wrap", "constant")],
    results: [1],
    infer: inferPad,
  },
  {
    name: "shape",
    summary: "i64 tensor of x's dims in [start, end), clamped (ONNX Shape-15)",
    operands: [opd("x")],
    attrs: [attr("start", "int", "first dim (negative counts from the end)", 0), attr("end", "int", "one past the last dim (importer fills the rank)")],
    results: [1],
    infer: inferShape,
  },
  {
    name: "gather",
    summary: "numpy take along axis; negative indices wrap",
    operands: [opd("data"), opd("indices")],
    attrs: [attr("axis", "int", "axis of data to index (negative counts from the end)", 0)],
    results: [1],
    infer: inferGather,
  },
  {
    name: "slice",
    summary: "ONNX Slice-13: starts/ends/axes/steps i64 operands, clamped, negative steps allowed",
    operands: [opd("data"), opd("starts"), opd("ends"), opd("axes", true), opd("steps", true)],
    attrs: [],
    results: [1],
    infer: inferSlice,
  },
  {
    name: "cast",
    summary: "convert elements to dtype `to` (float→int truncates toward zero, NaN→0, float→bool is x≠0)",
    operands: [opd("x")],
    attrs: [attr("to", "dtype", "target dtype")],
    results: [1],
    infer: inferCast,
  },
];

/** Every IR op by opcode. */
export const OP_SPECS: ReadonlyMap<string, OpSpec> = new Map(specs.map((s) => [s.name, s]));

/** The spec of an op, or undefined for an unknown opcode. */
export function getOpSpec(opcode: string): OpSpec | undefined {
  return OP_SPECS.get(opcode);
}

function requireSpec(opcode: string): OpSpec {
  const spec = OP_SPECS.get(opcode);
  if (!spec) {
    throw new XbarcError("XB3002", `unknown op "${opcode}"`, { hint: `known ops: ${[...OP_SPECS.keys()].join(", ")}` });
  }
  return spec;
}

/** Checks an operand count against a spec; returns a message when it is wrong. */
export function checkOperandCount(spec: OpSpec, operands: readonly unknown[]): string | undefined {
  const fixed = spec.operands.filter((o) => !o.variadic);
  const variadic = spec.operands.some((o) => o.variadic);
  const required = spec.operands.reduce((n, o, i) => (!o.optional ? i + 1 : n), 0);
  const max = variadic ? Infinity : spec.operands.length;
  if (operands.length < required) {
    return `${spec.name} needs ${variadic ? "at least " : ""}${required} operand${required === 1 ? "" : "s"} (${spec.operands.map((o) => o.name + (o.optional ? "?" : o.variadic ? "..." : "")).join(", ")}), found ${operands.length}`;
  }
  if (operands.length > max) return `${spec.name} takes at most ${max} operands (${fixed.map((o) => o.name).join(", ")}), found ${operands.length}`;
  return undefined;
}

/**
 * Result types of `opcode` under `ctx`; undefined when they depend on an operand value that is not known.
 * Throws XB3002 for an unknown op, XB3006 for a wrong operand/result count, XB3001/XB3003 from the shape rule.
 */
export function inferTypes(opcode: string, ctx: InferContext): TensorType[] | undefined {
  const spec = requireSpec(opcode);
  const bad = checkOperandCount(spec, ctx.operands);
  if (bad) throw new XbarcError("XB3006", bad);
  if (!spec.results.includes(ctx.numResults)) {
    throw new XbarcError("XB3006", `${opcode} has ${spec.results.join(" or ")} result${spec.results.length === 1 && spec.results[0] === 1 ? "" : "s"}, found ${ctx.numResults}`);
  }
  return spec.infer(ctx);
}

/**
 * `attrs` with every absent attribute that has a default filled in, in the spec's declared (printed) order;
 * attributes the spec does not know are kept after them. Operand-dependent defaults are left to the builder.
 */
export function withDefaults(opcode: string, attrs: Attrs): Attrs {
  const spec = requireSpec(opcode);
  const out: Attrs = {};
  for (const a of spec.attrs) {
    if (attrs[a.name] !== undefined) out[a.name] = attrs[a.name]!;
    else if (a.default !== undefined) out[a.name] = Array.isArray(a.default) ? [...a.default] : a.default;
  }
  for (const [k, v] of Object.entries(attrs)) if (!(k in out)) out[k] = v;
  return out;
}

/** True when `v` is a valid value of attribute kind `kind`. */
export function attrMatchesKind(kind: AttrSpec["kind"], v: AttrValue): boolean {
  switch (kind) {
    case "int": return typeof v === "number" && Number.isInteger(v);
    case "float": return typeof v === "number";
    case "ints": return Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x));
    case "floats": return Array.isArray(v) && v.every((x) => typeof x === "number");
    case "string": return typeof v === "string";
    case "dtype": return typeof v === "string" && isDType(v);
  }
}

/** @fileoverview The float reference interpreter: runOp executes one op on tensors, interpretModule runs a whole graph. */
import { XbarcError, type Location } from "../diagnostics/error.js";
import type { Module, Op, Value } from "../module.js";
import { inferTypes, shapeRange } from "../ops/registry.js";
import { floatAttr, intAttr, intsAttr, normalizeAxis, resolvePads, resolveSlice, stringAttr } from "../ops/shape-utils.js";
import { readInts, halfToFloat, type Tensor } from "../tensor.js";
import { formatType, numel, sameType, type DType, type TensorType, type TypedArray } from "../types.js";
import { batchNormImpl, batchNormTrainingImpl } from "./batchnorm.js";
import { castImpl } from "./cast.js";
import { floatData, isBigIntArray, storeFloat, type FloatArray, type NumberArray } from "./common.js";
import { convImpl, type ConvParams } from "./conv.js";
import { binaryImpl, clipImpl, leakyReluImpl, reluImpl, sigmoidImpl, tanhImpl, type BinaryKind } from "./elementwise.js";
import { gemmImpl, linearImpl, matmulImpl } from "./matmul.js";
import { avgPoolImpl, globalAvgPoolImpl, maxPoolImpl, type PoolParams } from "./pool.js";
import { concatImpl, gatherImpl, padImpl, sliceImpl, transposeImpl, type PadMode } from "./shape-ops.js";
import { softmaxImpl } from "./softmax.js";

/** A kernel: operands (null when absent) and inferred result types in, result tensors out. */
type Kernel = (op: Op, xs: readonly (Tensor | null)[], types: readonly TensorType[]) => Tensor[];

const tensor = (type: TensorType, data: TypedArray): Tensor => ({ type: { dtype: type.dtype, shape: [...type.shape] }, data });

/** Runs a float computation in compute precision and stores the result as `type` (f16 rounds back to half). */
const floatResult = (type: TensorType, data: FloatArray): Tensor => tensor(type, storeFloat(type.dtype, data));

const opt = (xs: readonly (Tensor | null)[], i: number): Tensor | null => xs[i] ?? null;

function binary(kind: BinaryKind): Kernel {
  return (_op, [a, b], [t]) => {
    if (a!.type.dtype === "f16") {
      return [floatResult(t!, binaryImpl(kind, floatData(a!), a!.type.shape, floatData(b!), b!.type.shape, t!.shape) as FloatArray)];
    }
    return [tensor(t!, binaryImpl(kind, a!.data, a!.type.shape, b!.data, b!.type.shape, t!.shape))];
  };
}

function floatUnary(f: (x: FloatArray, op: Op) => FloatArray): Kernel {
  return (op, [x], [t]) => [floatResult(t!, f(floatData(x!), op))];
}

/** The single element of a scalar tensor, as bigint for i64/u64 and number otherwise. */
function scalarOf(t: Tensor): number | bigint {
  if (t.type.dtype === "f16") return halfToFloat((t.data as Uint16Array)[0]!);
  return t.data[0]!;
}

/** A conv op's window attributes (spatial rank `rank`), with ONNX's defaults. */
export function getConvParams(op: Op, rank: number): ConvParams {
  return {
    strides: intsAttr("conv", op.attrs, "strides", new Array<number>(rank).fill(1)),
    pads: intsAttr("conv", op.attrs, "pads", new Array<number>(2 * rank).fill(0)),
    dilations: intsAttr("conv", op.attrs, "dilations", new Array<number>(rank).fill(1)),
    group: intAttr("conv", op.attrs, "group", 1),
  };
}

/** A maxpool/avgpool op's window attributes, with ONNX's defaults. */
export function getPoolParams(op: Op): PoolParams {
  const kernel = intsAttr(op.opcode, op.attrs, "kernel_shape");
  const r = kernel.length;
  return {
    kernel,
    strides: intsAttr(op.opcode, op.attrs, "strides", new Array<number>(r).fill(1)),
    pads: intsAttr(op.opcode, op.attrs, "pads", new Array<number>(2 * r).fill(0)),
    dilations: intsAttr(op.opcode, op.attrs, "dilations", new Array<number>(r).fill(1)),
    ceilMode: intAttr(op.opcode, op.attrs, "ceil_mode", 0) !== 0,
  };
}

/** Same data, new shape (reshape, flatten, squeeze, unsqueeze, identity): copied so results never alias operands. */
const copyAs: Kernel = (_op, [x], types) => [tensor(types[0]!, x!.data.slice())];

const KERNELS: Record<string, Kernel> = {
  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  relu: (_op, [x], [t]) => (x!.type.dtype === "f16" ? [floatResult(t!, reluImpl(floatData(x!)) as FloatArray)] : [tensor(t!, reluImpl(x!.data))]),
  sigmoid: floatUnary((x) => sigmoidImpl(x)),
  tanh: floatUnary((x) => tanhImpl(x)),
  leakyrelu: floatUnary((x, op) => leakyReluImpl(x, floatAttr("leakyrelu", op.attrs, "alpha", 0.01))),
  clip: (_op, xs, [t]) => {
    const x = xs[0]!;
    const lo = opt(xs, 1);
    const hi = opt(xs, 2);
    const l = lo ? scalarOf(lo) : undefined;
    const h = hi ? scalarOf(hi) : undefined;
    if (x.type.dtype === "f16") return [floatResult(t!, clipImpl(floatData(x), l, h) as FloatArray)];
    return [tensor(t!, clipImpl(x.data, l, h))];
  },
  identity: copyAs,
  dropout: (_op, [x], types) => {
    const out = [tensor(types[0]!, x!.data.slice())];
    if (types.length === 2) out.push(tensor(types[1]!, new Uint8Array(x!.data.length).fill(1)));
    return out;
  },
  conv: (op, xs, [t]) => {
    const x = xs[0]!;
    const w = xs[1]!;
    const b = opt(xs, 2);
    const { data } = convImpl(floatData(x), x.type.shape, floatData(w), w.type.shape, b ? floatData(b) : null, getConvParams(op, x.type.shape.length - 2));
    return [floatResult(t!, data)];
  },
  gemm: (op, xs, [t]) => {
    const [a, b] = xs as [Tensor, Tensor];
    const c = opt(xs, 2);
    const { data } = gemmImpl(
      floatData(a), a.type.shape, floatData(b), b.type.shape, c ? floatData(c) : null, c ? c.type.shape : null,
      floatAttr("gemm", op.attrs, "alpha", 1), floatAttr("gemm", op.attrs, "beta", 1),
      intAttr("gemm", op.attrs, "trans_a", 0) !== 0, intAttr("gemm", op.attrs, "trans_b", 0) !== 0,
    );
    return [floatResult(t!, data)];
  },
  matmul: (_op, [a, b], [t]) => [floatResult(t!, matmulImpl(floatData(a!), a!.type.shape, floatData(b!), b!.type.shape).data)],
  linear: (_op, xs, [t]) => {
    const [x, w] = xs as [Tensor, Tensor];
    const b = opt(xs, 2);
    return [floatResult(t!, linearImpl(floatData(x), x.type.shape, floatData(w), w.type.shape, b ? floatData(b) : null).data)];
  },
  maxpool: (op, [x], types) => {
    const p = getPoolParams(op);
    const withIndices = types.length === 2;
    const order = intAttr("maxpool", op.attrs, "storage_order", 0);
    const isF16 = x!.type.dtype === "f16";
    if (isBigIntArray(x!.data)) throw new Error(`maxpool does not support ${x!.type.dtype}`);
    const src = isF16 ? floatData(x!) : (x!.data as NumberArray);
    const res = maxPoolImpl(src, x!.type.shape, p, withIndices, order);
    const out = [isF16 ? floatResult(types[0]!, res.data as FloatArray) : tensor(types[0]!, res.data)];
    if (withIndices) out.push(tensor(types[1]!, res.indices!));
    return out;
  },
  avgpool: (op, [x], [t]) => [
    floatResult(t!, avgPoolImpl(floatData(x!), x!.type.shape, getPoolParams(op), intAttr("avgpool", op.attrs, "count_include_pad", 0) !== 0).data),
  ],
  globalavgpool: (_op, [x], [t]) => [floatResult(t!, globalAvgPoolImpl(floatData(x!), x!.type.shape).data)],
  flatten: copyAs,
  reshape: copyAs,
  squeeze: copyAs,
  unsqueeze: copyAs,
  transpose: (op, [x], [t]) => {
    const rank = x!.type.shape.length;
    const perm = intsAttr("transpose", op.attrs, "perm", Array.from({ length: rank }, (_, i) => rank - 1 - i));
    return [tensor(t!, transposeImpl(x!.data, x!.type.shape, perm).data)];
  },
  concat: (op, xs, [t]) => {
    const ts = xs as Tensor[];
    const axis = normalizeAxis(intAttr("concat", op.attrs, "axis"), ts[0]!.type.shape.length);
    return [tensor(t!, concatImpl(ts.map((x) => x.data), ts.map((x) => x.type.shape), axis).data)];
  },
  batchnorm: (op, xs, types) => {
    const [x, scale, bias, mean, variance] = xs as Tensor[];
    const eps = floatAttr("batchnorm", op.attrs, "epsilon", 1e-5);
    if (intAttr("batchnorm", op.attrs, "training_mode", 0) === 0) {
      return [floatResult(types[0]!, batchNormImpl(floatData(x!), x!.type.shape, floatData(scale!), floatData(bias!), floatData(mean!), floatData(variance!), eps))];
    }
    const momentum = floatAttr("batchnorm", op.attrs, "momentum", 0.9);
    const res = batchNormTrainingImpl(floatData(x!), x!.type.shape, floatData(scale!), floatData(bias!), floatData(mean!), floatData(variance!), eps, momentum);
    const out = [floatResult(types[0]!, res.y)];
    // the running statistics are optional results (ONNX outputs running_mean, running_var)
    if (types.length === 3) out.push(floatResult(types[1]!, res.runningMean), floatResult(types[2]!, res.runningVar));
    return out;
  },
  softmax: (op, [x], [t]) => {
    const axis = normalizeAxis(intAttr("softmax", op.attrs, "axis", -1), x!.type.shape.length);
    return [floatResult(t!, softmaxImpl(floatData(x!), x!.type.shape, axis, false))];
  },
  logsoftmax: (op, [x], [t]) => {
    const axis = normalizeAxis(intAttr("logsoftmax", op.attrs, "axis", -1), x!.type.shape.length);
    return [floatResult(t!, softmaxImpl(floatData(x!), x!.type.shape, axis, true))];
  },
  pad: (op, xs, [t]) => {
    const x = xs[0]!;
    const rank = x.type.shape.length;
    const axesT = opt(xs, 3);
    const full = resolvePads("pad", rank, readInts(xs[1]!), axesT ? readInts(axesT) : undefined);
    const cv = opt(xs, 2);
    const value = cv ? cv.data[0]! : isBigIntArray(x.data) ? 0n : 0;
    const mode = stringAttr("pad", op.attrs, "mode", "constant") as PadMode;
    return [tensor(t!, padImpl(x.data, x.type.shape, full, mode, value).data)];
  },
  shape: (op, [x], [t]) => {
    const dims = x!.type.shape;
    const [start] = shapeRange(dims.length, intAttr("shape", op.attrs, "start", 0), intAttr("shape", op.attrs, "end", dims.length));
    const out = new BigInt64Array(t!.shape[0]!);
    for (let i = 0; i < out.length; i++) out[i] = BigInt(dims[start + i]!);
    return [tensor(t!, out)];
  },
  gather: (op, [data, indices], [t]) => {
    const axis = normalizeAxis(intAttr("gather", op.attrs, "axis", 0), data!.type.shape.length);
    return [tensor(t!, gatherImpl(data!.data, data!.type.shape, axis, readInts(indices!), indices!.type.shape).data)];
  },
  slice: (_op, xs, [t]) => {
    const x = xs[0]!;
    const axes = opt(xs, 3);
    const steps = opt(xs, 4);
    const dims = resolveSlice("slice", x.type.shape, readInts(xs[1]!), readInts(xs[2]!), axes ? readInts(axes) : undefined, steps ? readInts(steps) : undefined);
    return [tensor(t!, sliceImpl(x.data, x.type.shape, dims).data)];
  },
  cast: (op, [x], [t]) => [tensor(t!, castImpl(x!.data, x!.type.dtype, stringAttr("cast", op.attrs, "to") as DType))],
};

/** Where an op sits, for diagnostics. */
export function opLocation(op: Op): Location {
  return { kind: "ir", loc: op.loc, value: op.results[0]?.name, op: op.opcode };
}

/** Re-raises `e` with the op's location (XbarcErrors keep their code; anything else becomes XB6002). */
function rethrowAt(e: unknown, op: Op): never {
  const name = op.results[0] ? `%${op.results[0].name}` : op.opcode;
  if (e instanceof XbarcError) {
    if (e.location) throw e;
    throw new XbarcError(e.code, `${name}: ${e.message}`, { location: opLocation(op), hint: e.hint, notes: e.notes, cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  throw new XbarcError("XB6002", `${name} = ${op.opcode} cannot be executed: ${message}`, { location: opLocation(op), cause: e });
}

/**
 * Executes one op on operand tensors (null for absent optional operands) and returns its results. Result types
 * come from the op's shape rule applied to the actual operands, so the op's declared types are not trusted.
 */
export function runOp(op: Op, operands: readonly (Tensor | null)[]): Tensor[] {
  const kernel = KERNELS[op.opcode];
  if (!kernel) {
    throw new XbarcError("XB3002", `unknown op "${op.opcode}"`, { location: opLocation(op) });
  }
  try {
    const types =
      inferTypes(op.opcode, {
        operands: operands.map((t) => t?.type ?? null),
        values: operands.map((t) => t ?? undefined),
        attrs: op.attrs,
        numResults: op.results.length,
      }) ?? op.results.map((r) => r.type);
    return kernel(op, operands, types);
  } catch (e) {
    rethrowAt(e, op);
  }
}

/** Options of interpretModule. */
export interface InterpretOptions {
  /** called after each op with its results (e.g. to collect calibration activations); do not mutate them */
  readonly observe?: (op: Op, results: readonly Tensor[]) => void;
}

/**
 * Runs a module on named input tensors and returns its outputs by name. Each input must match the module input's
 * dtype and shape (XB4002); a constant without data is XB6001. Intermediates are dropped once their last user ran.
 */
export function interpretModule(
  m: Module,
  inputs: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  options: InterpretOptions = {},
): Map<string, Tensor> {
  const given: ReadonlyMap<string, Tensor> = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
  const env = new Map<Value, Tensor>();
  const expected = m.inputs.map((v) => `%${v.name}: ${formatType(v.type)}`).join(", ");
  for (const v of m.inputs) {
    const t = given.get(v.name);
    if (!t) {
      throw new XbarcError("XB4002", `input %${v.name} is missing (expected ${formatType(v.type)})`, {
        location: { kind: "ir", value: v.name },
        hint: `the module's inputs are ${expected}`,
      });
    }
    if (!sameType(t.type, v.type) || t.data.length !== numel(v.type.shape)) {
      throw new XbarcError("XB4002", `input %${v.name}: expected ${formatType(v.type)}, found ${formatType(t.type)}${t.data.length !== numel(t.type.shape) ? ` with ${t.data.length} elements` : ""}`, {
        location: { kind: "ir", value: v.name },
        hint: "convert or reshape the input to the model's input type (the batch size is fixed at import)",
      });
    }
    env.set(v, t);
  }
  for (const name of given.keys()) {
    if (!m.inputs.some((v) => v.name === name)) {
      throw new XbarcError("XB4002", `"${name}" is not an input of module @${m.name}`, { hint: `the module's inputs are ${expected}` });
    }
  }
  // the last op reading each result value; outputs are never freed
  const lastUse = new Map<Value, number>();
  m.ops.forEach((op, i) => {
    for (const v of op.operands) if (v) lastUse.set(v, i);
  });
  const outputs = new Set(m.outputs);
  const read = (v: Value, op?: Op): Tensor => {
    const t = env.get(v);
    if (t) return t;
    if (v.kind === "const") {
      if (!v.data) {
        throw new XbarcError("XB6001", `constant @${v.name} has no data`, {
          location: op ? opLocation(op) : { kind: "ir", value: v.name },
          hint: "pass the weights side file with --weights",
        });
      }
      const c: Tensor = { type: v.type, data: v.data };
      env.set(v, c);
      return c;
    }
    throw new XbarcError("XB3004", `value %${v.name} is used before it is defined`, { location: op ? opLocation(op) : { kind: "ir", value: v.name } });
  };
  m.ops.forEach((op, i) => {
    const operands = op.operands.map((v) => (v ? read(v, op) : null));
    const results = runOp(op, operands);
    op.results.forEach((r, j) => env.set(r, results[j]!));
    options.observe?.(op, results);
    for (const v of op.operands) {
      if (v && v.kind === "result" && lastUse.get(v) === i && !outputs.has(v)) env.delete(v);
    }
  });
  const out = new Map<string, Tensor>();
  for (const v of m.outputs) out.set(v.name, read(v));
  return out;
}

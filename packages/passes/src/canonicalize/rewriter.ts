/** @fileoverview Shared plumbing for canonicalize's rewrites: use lists, constant access, op replacement that keeps value names. */
import {
  allocArray,
  isBigIntDType,
  isFloatDType,
  numel,
  readNumbers,
  tensorFromNumbers,
  type Module,
  type Op,
  type Tensor,
  type TensorType,
  type TypedArray,
  type Value,
} from "@xbarc/ir";
import type { PassStats } from "../pass.js";

/** The module being rewritten, with a use map that is rebuilt lazily after every edit. */
export class Rewriter {
  private users: Map<Value, Op[]> | undefined;
  private removed = new Set<Op>();

  constructor(
    readonly module: Module,
    readonly stats: PassStats,
  ) {}

  /** Must be called after any edit that changes operands, results or the op list. */
  invalidate(): void {
    this.users = undefined;
  }

  /** The ops still in the module, as a snapshot safe to iterate while editing. */
  liveOps(): Op[] {
    return [...this.module.ops];
  }

  /** True once `op` has been removed by this rewriter. */
  isRemoved(op: Op): boolean {
    return this.removed.has(op);
  }

  /** Ops using `v` (an op appears once per operand slot it uses `v` in). */
  usersOf(v: Value): readonly Op[] {
    this.users ??= this.module.getUsers();
    return this.users.get(v) ?? [];
  }

  isOutput(v: Value): boolean {
    return this.module.outputs.includes(v);
  }

  /** True when `op` is the only reader of `v` (in one operand slot) and `v` is not a module output. */
  isSoleUse(v: Value, op: Op): boolean {
    const users = this.usersOf(v);
    return users.length === 1 && users[0] === op && !this.isOutput(v);
  }

  /** True when `v` is read by nobody (ops or outputs). */
  isUnused(v: Value): boolean {
    return this.usersOf(v).length === 0 && !this.isOutput(v);
  }

  removeOp(op: Op): void {
    const i = this.module.ops.indexOf(op);
    if (i >= 0) this.module.ops.splice(i, 1);
    this.removed.add(op);
    this.invalidate();
  }

  /** Inserts `op` just before `anchor` (keeps the topological order when `op` only reads values defined before `anchor`). */
  insertBefore(anchor: Op, op: Op): void {
    const i = this.module.ops.indexOf(anchor);
    this.module.ops.splice(i < 0 ? this.module.ops.length : i, 0, op);
    this.invalidate();
  }

  /** Puts `next` where `prev` was. */
  replaceOp(prev: Op, next: Op): void {
    const i = this.module.ops.indexOf(prev);
    this.module.ops[i] = next;
    this.removed.add(prev);
    this.invalidate();
  }

  /**
   * Makes every reader of `from` read `to` instead, keeping module output names stable: when `from` is an
   * output, `to` (an op result that is not itself an output) takes over `from`'s name. Returns false, changing
   * nothing, when that is impossible (e.g. the output would become an input or a constant).
   * Call after the op defining `from` is removed, so the name is free.
   */
  forward(from: Value, to: Value): boolean {
    if (this.isOutput(from)) {
      if (to.kind !== "result" || this.isOutput(to)) return false;
      to.name = from.name;
    }
    this.module.replaceAllUses(from, to);
    this.invalidate();
    return true;
  }

  /** True when `forward(from, to)` would succeed. */
  canForward(from: Value, to: Value): boolean {
    return !this.isOutput(from) || (to.kind === "result" && !this.isOutput(to));
  }

  /** Adds a constant named `base` (or a fresh variant of it). */
  newConstant(base: string, t: Tensor): Value {
    const v = this.module.addConstant(this.module.freshName(base), { dtype: t.type.dtype, shape: [...t.type.shape] }, t.data);
    this.invalidate();
    return v;
  }

  /**
   * Sets operand `index` of `op` to a constant holding `t`. When the current operand is a constant read only
   * by `op`, it is updated in place so its name survives (`@fc1.weight` stays `@fc1.weight`); otherwise a
   * new constant named `base` is added and the old one is left to dead-code removal.
   */
  setConstantOperand(op: Op, index: number, t: Tensor, base: string): Value {
    const old = op.operands[index];
    if (old && old.kind === "const" && this.isSoleUse(old, op)) {
      old.type = { dtype: t.type.dtype, shape: [...t.type.shape] };
      old.data = t.data;
      return old;
    }
    const v = this.newConstant(base, t);
    while (op.operands.length <= index) op.operands.push(null);
    op.operands[index] = v;
    this.invalidate();
    return v;
  }
}

/** The tensor of a constant with data, or undefined (inputs, results, constants parsed without weights). */
export function constTensor(v: Value | null | undefined): Tensor | undefined {
  if (!v || v.kind !== "const" || v.data === undefined) return undefined;
  return { type: v.type, data: v.data };
}

/** True for a constant whose data is loaded. */
export function isConstWithData(v: Value | null | undefined): v is Value {
  return constTensor(v) !== undefined;
}

/** A float tensor's elements as doubles (f16 decoded). */
export function readFloats(t: Tensor): Float64Array {
  return readNumbers(t);
}

/** A tensor of `dtype` and `shape` holding `values` (rounded to the dtype as a cast would). */
export function makeTensor(type: TensorType, values: ArrayLike<number>): Tensor {
  return tensorFromNumbers(type.dtype, type.shape, values);
}

/** An i64 tensor of a shape list (reshape targets, folded `shape` results). */
export function makeI64(values: readonly number[]): Tensor {
  const data = allocArray("i64", values.length) as BigInt64Array;
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return { type: { dtype: "i64", shape: [values.length] }, data };
}

/** A tensor of `type` with every element set to one (bool true, 1, 1.0). */
export function makeOnes(type: TensorType): Tensor {
  const n = numel(type.shape);
  const data: TypedArray = allocArray(type.dtype, n);
  if (isBigIntDType(type.dtype)) (data as BigInt64Array).fill(1n);
  else if (type.dtype === "f16") (data as Uint16Array).fill(0x3c00);
  else (data as Float32Array).fill(1);
  return { type: { dtype: type.dtype, shape: [...type.shape] }, data };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export { isFloatDType };

/** The name for a bias derived from a weight's name: `conv1.weight` → `conv1.bias`, `W3` → `W3.bias`. */
export function biasNameFor(weight: Value | null | undefined, fallback: string): string {
  if (!weight) return `${fallback}.bias`;
  return weight.name.endsWith(".weight") ? `${weight.name.slice(0, -".weight".length)}.bias` : `${weight.name}.bias`;
}

/** @fileoverview The IR: a Module holds one graph of SSA Values (inputs, constants, op results) and Ops in topological order. */
import type { TensorType, TypedArray } from "./types.js";

/**
 * Attribute and annotation values are plain JSON-like data: numbers, strings, booleans, lists and
 * records. Keys keep insertion order, which is the printed order.
 */
export type AttrValue = number | string | boolean | readonly AttrValue[] | { readonly [key: string]: AttrValue };
export type Attrs = Record<string, AttrValue>;

/** `#kind{key=value, ...}`: what a pass decided about an op, checked against the kind's JSON schema. */
export interface Annotation {
  readonly kind: string;
  readonly data: Attrs;
}

export type ValueKind = "input" | "const" | "result";

/** An SSA value. Inputs and results print as `%name`, constants as `@name`. */
export class Value {
  /** set for `const` values; undefined when the text was parsed without its weights side file */
  data: TypedArray | undefined;
  /** the op defining a `result` value */
  def: Op | undefined;

  constructor(
    public name: string,
    public type: TensorType,
    public readonly kind: ValueKind,
  ) {}
}

/** One operation. Operands may be `null` for an absent optional operand (printed `none`). */
export class Op {
  annotations: Annotation[] = [];

  constructor(
    public opcode: string,
    public operands: (Value | null)[],
    public results: Value[],
    public attrs: Attrs = {},
    /** the ONNX node name this op came from: `loc("Conv_0")` */
    public loc?: string,
  ) {
    for (const r of results) r.def = this;
  }

  getAnnotation(kind: string): Annotation | undefined {
    return this.annotations.find((a) => a.kind === kind);
  }

  /** Adds or replaces the annotation of this kind. */
  setAnnotation(kind: string, data: Attrs): void {
    const i = this.annotations.findIndex((a) => a.kind === kind);
    if (i >= 0) this.annotations[i] = { kind, data };
    else this.annotations.push({ kind, data });
  }
}

/** A module: one graph with named inputs, constants, ops in topological order and outputs. */
export class Module {
  inputs: Value[] = [];
  /** constants in declaration order */
  constants: Value[] = [];
  ops: Op[] = [];
  outputs: Value[] = [];
  /** module-level facts: source file, producer, opset, batch size, ... */
  attrs: Attrs = {};

  constructor(public name: string) {}

  addInput(name: string, type: TensorType): Value {
    const v = new Value(name, type, "input");
    this.inputs.push(v);
    return v;
  }

  addConstant(name: string, type: TensorType, data: TypedArray | undefined): Value {
    const v = new Value(name, type, "const");
    v.data = data;
    this.constants.push(v);
    return v;
  }

  /** Appends an op whose results have the given names and types. */
  addOp(opcode: string, operands: (Value | null)[], results: { name: string; type: TensorType }[], attrs: Attrs = {}, loc?: string): Op {
    const op = new Op(opcode, operands, results.map((r) => new Value(r.name, r.type, "result")), attrs, loc);
    this.ops.push(op);
    return op;
  }

  /** Every use of `from` (operands and outputs) now refers to `to`. */
  replaceAllUses(from: Value, to: Value): void {
    for (const op of this.ops) {
      for (let i = 0; i < op.operands.length; i++) if (op.operands[i] === from) op.operands[i] = to;
    }
    for (let i = 0; i < this.outputs.length; i++) if (this.outputs[i] === from) this.outputs[i] = to;
  }

  /** Ops using each value, in op order. */
  getUsers(): Map<Value, Op[]> {
    const users = new Map<Value, Op[]>();
    for (const op of this.ops) {
      for (const v of op.operands) {
        if (!v) continue;
        const list = users.get(v);
        if (list) list.push(op);
        else users.set(v, [op]);
      }
    }
    return users;
  }

  /** Removes ops whose results are unused and constants nobody reads; returns how many were removed. */
  removeDeadCode(): number {
    let removed = 0;
    for (;;) {
      const live = new Set<Value>(this.outputs);
      for (const op of this.ops) for (const v of op.operands) if (v) live.add(v);
      const keep = this.ops.filter((op) => op.results.some((r) => live.has(r)));
      const constants = this.constants.filter((c) => live.has(c));
      const n = this.ops.length - keep.length + this.constants.length - constants.length;
      this.ops = keep;
      this.constants = constants;
      removed += n;
      if (n === 0) return removed;
    }
  }

  /** A name not yet used by any value, built from `base`. */
  freshName(base: string): string {
    const used = new Set<string>();
    for (const v of this.inputs) used.add(v.name);
    for (const v of this.constants) used.add(v.name);
    for (const op of this.ops) for (const r of op.results) used.add(r.name);
    if (!used.has(base)) return base;
    for (let i = 1; ; i++) if (!used.has(`${base}.${i}`)) return `${base}.${i}`;
  }
}

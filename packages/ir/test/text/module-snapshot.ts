/** @fileoverview A plain-data picture of a Module for structural comparison in tests (typed arrays by value). */
import type { Attrs, Module, TypedArray, Value } from "@xbarc/ir";

/** Typed-array contents as a plain array with the array kind, so toEqual compares values (Object.is: -0 ≠ 0, NaN = NaN). */
export function dataSnapshot(data: TypedArray | undefined): { kind: string; values: (number | bigint)[] } | undefined {
  return data ? { kind: data.constructor.name, values: Array.from(data as ArrayLike<number | bigint>) } : undefined;
}

function valueRef(v: Value | null): string | null {
  return v ? `${v.kind}:${v.name}` : null;
}

function valueDef(v: Value) {
  return { name: v.name, kind: v.kind, dtype: v.type.dtype, shape: [...v.type.shape] };
}

/** Attribute records with their key order made visible (toEqual alone ignores key order). */
function attrsSnapshot(a: Attrs): unknown {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === "object") return Object.keys(x).map((k) => [k, walk((x as Attrs)[k])]);
    return x;
  };
  return walk(a);
}

/** Everything a Module holds, as plain data. */
export function moduleSnapshot(m: Module, options: { withData?: boolean } = {}) {
  const withData = options.withData ?? true;
  return {
    name: m.name,
    attrs: attrsSnapshot(m.attrs),
    inputs: m.inputs.map(valueDef),
    constants: m.constants.map((c) => ({ ...valueDef(c), data: withData ? dataSnapshot(c.data) : undefined })),
    ops: m.ops.map((op) => ({
      opcode: op.opcode,
      operands: op.operands.map(valueRef),
      results: op.results.map(valueDef),
      resultDefsPointHere: op.results.every((r) => r.def === op),
      attrs: attrsSnapshot(op.attrs),
      loc: op.loc,
      annotations: op.annotations.map((a) => ({ kind: a.kind, data: attrsSnapshot(a.data) })),
    })),
    outputs: m.outputs.map(valueRef),
  };
}

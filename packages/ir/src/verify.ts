/**
 * @fileoverview The structural verifier (SSA, op signatures, attributes, result types from the shape rules, constant
 * data, annotation schemas) and constant propagation of statically known values.
 */
import { checkAnnotation } from "./annotations/registry.js";
import { XbarcError, type Location } from "./diagnostics/error.js";
import { runOp } from "./interpret/run.js";
import type { Module, Op, Value } from "./module.js";
import { attrMatchesKind, checkOperandCount, getOpSpec, OP_SPECS } from "./ops/registry.js";
import type { Tensor } from "./tensor.js";
import { allocArray, formatType, numel, sameType, type TensorType } from "./types.js";

/** `%x` for inputs and results, `@w` for constants, as the text form prints them. */
function ref(v: Value): string {
  return `${v.kind === "const" ? "@" : "%"}${v.name}`;
}

function locationOf(op: Op): Location {
  return { kind: "ir", loc: op.loc, value: op.results[0]?.name, op: op.opcode };
}

/** What an op is called in messages: `%y = conv` (or the bare opcode for an op without results). */
function opLabel(op: Op): string {
  return op.results.length ? `${op.results.map(ref).join(", ")} = ${op.opcode}` : op.opcode;
}

/** Options of computeKnownValues. */
export interface KnownValuesOptions {
  /** results with more elements than this are not evaluated (default 65536), so big weight transforms stay lazy */
  readonly maxElements?: number;
}

/**
 * Constant propagation: constants with data are known; an op whose operands are all known (or absent) and whose
 * results are small enough is evaluated with the interpreter; `shape` results are known from the static type.
 * Ops that fail to evaluate simply stay unknown (the verifier reports why).
 */
export function computeKnownValues(m: Module, options: KnownValuesOptions = {}): Map<Value, Tensor> {
  const maxElements = options.maxElements ?? 1 << 16;
  const known = new Map<Value, Tensor>();
  for (const c of m.constants) if (c.data && c.data.length === numel(c.type.shape)) known.set(c, { type: c.type, data: c.data });
  for (const op of m.ops) {
    if (!getOpSpec(op.opcode)) continue;
    if (op.results.some((r) => numel(r.type.shape) > maxElements)) continue;
    let operands: (Tensor | null)[];
    if (op.opcode === "shape") {
      // only the operand's static type matters: a placeholder without data stands in for it (the kernel reads the type)
      const x = op.operands[0];
      if (!x) continue;
      operands = [{ type: x.type, data: allocArray(x.type.dtype, 0) }];
    } else {
      const all = op.operands.map((v) => (v ? known.get(v) : null));
      if (all.some((t) => t === undefined)) continue;
      operands = all as (Tensor | null)[];
    }
    try {
      const results = runOp(op, operands);
      op.results.forEach((r, i) => {
        const t = results[i];
        if (t && sameType(t.type, r.type)) known.set(r, t);
      });
    } catch {
      // not evaluable: stays unknown
    }
  }
  return known;
}

/**
 * Checks a module and throws the first problem as an XbarcError located at the op (`{kind:"ir", loc, value, op}`):
 * names defined once (XB2003), operands defined before use (XB3004; XB2002 when never defined), known opcodes
 * (XB3002), operand/result counts (XB3006), attributes (XB3003), result types equal to the shape rule's (XB3001),
 * constant data sizes (XB3001), annotations against their schemas (XB3005/XB3007).
 */
export function verifyModule(m: Module): void {
  const names = new Map<string, Value>();
  const define = (v: Value, where: Location): void => {
    const prior = names.get(v.name);
    if (prior) {
      throw new XbarcError("XB2003", `value name "${v.name}" is defined twice (${ref(prior)} as ${prior.kind}, then ${ref(v)} as ${v.kind})`, {
        location: where,
        hint: "inputs, constants and op results share one namespace; rename one of them",
      });
    }
    names.set(v.name, v);
  };
  for (const v of m.inputs) {
    if (v.kind !== "input") throw new XbarcError("XB3001", `module input ${ref(v)} is a ${v.kind} value`, { location: { kind: "ir", value: v.name } });
    checkType(v, { kind: "ir", value: v.name });
    define(v, { kind: "ir", value: v.name });
  }
  for (const c of m.constants) {
    const where: Location = { kind: "ir", value: c.name };
    if (c.kind !== "const") throw new XbarcError("XB3001", `module constant ${ref(c)} is a ${c.kind} value`, { location: where });
    checkType(c, where);
    define(c, where);
    if (c.data) {
      const expected = allocArray(c.type.dtype, 0).constructor;
      if (c.data.constructor !== expected) {
        throw new XbarcError("XB3001", `constant ${ref(c)} : ${formatType(c.type)} stores its data in a ${c.data.constructor.name}, expected ${expected.name}`, { location: where });
      }
      if (c.data.length !== numel(c.type.shape)) {
        throw new XbarcError("XB3001", `constant ${ref(c)} has ${c.data.length} elements but its type ${formatType(c.type)} needs ${numel(c.type.shape)}`, {
          location: where,
          hint: "the weights side file or the initializer does not match the declared type",
        });
      }
    }
  }
  // every value of the module, to tell "used before defined" from "never defined"
  const allResults = new Set<Value>();
  for (const op of m.ops) for (const r of op.results) allResults.add(r);
  const available = new Set<Value>([...m.inputs, ...m.constants]);
  const known = computeKnownValues(m);

  for (const op of m.ops) {
    const where = locationOf(op);
    const label = opLabel(op);
    const spec = getOpSpec(op.opcode);
    if (!spec) {
      throw new XbarcError("XB3002", `${label}: unknown op "${op.opcode}"`, { location: where, hint: `known ops: ${[...OP_SPECS.keys()].join(", ")}` });
    }
    // operands
    const countProblem = checkOperandCount(spec, op.operands);
    if (countProblem) throw new XbarcError("XB3006", `${label}: ${countProblem}`, { location: where });
    op.operands.forEach((v, i) => {
      const opSpec = spec.operands[Math.min(i, spec.operands.length - 1)]!;
      if (v === null) {
        if (!opSpec.optional) throw new XbarcError("XB3006", `${label}: operand ${opSpec.name} (#${i}) is required but absent (none)`, { location: where });
        return;
      }
      if (available.has(v)) return;
      if (allResults.has(v)) {
        throw new XbarcError("XB3004", `${label}: operand ${opSpec.name} ${ref(v)} is used before it is defined`, {
          location: where,
          hint: "ops must be in topological order: move the op defining it earlier",
        });
      }
      throw new XbarcError("XB2002", `${label}: operand ${opSpec.name} ${ref(v)} is not defined in module @${m.name}`, { location: where });
    });
    // results
    if (!spec.results.includes(op.results.length)) {
      throw new XbarcError("XB3006", `${label}: ${op.opcode} has ${spec.results.join(" or ")} result(s), found ${op.results.length}`, { location: where });
    }
    for (const r of op.results) {
      if (r.kind !== "result" || r.def !== op) throw new XbarcError("XB3001", `${label}: result ${ref(r)} is not marked as defined by this op`, { location: where });
      checkType(r, where);
      define(r, where);
    }
    // attributes
    for (const a of spec.attrs) {
      const v = op.attrs[a.name];
      if (v === undefined) {
        if (a.default === undefined) {
          throw new XbarcError("XB3003", `${label}: required attribute ${a.name} (${a.kind}: ${a.doc}) is missing`, { location: where });
        }
        continue;
      }
      if (!attrMatchesKind(a.kind, v)) {
        throw new XbarcError("XB3003", `${label}: attribute ${a.name} must be ${kindDescription(a.kind)}, found ${JSON.stringify(v)}`, { location: where });
      }
    }
    for (const k of Object.keys(op.attrs)) {
      if (!spec.attrs.some((a) => a.name === k)) {
        throw new XbarcError("XB3003", `${label}: unknown attribute ${k}`, {
          location: where,
          hint: spec.attrs.length ? `${op.opcode} takes ${spec.attrs.map((a) => a.name).join(", ")}` : `${op.opcode} takes no attributes`,
        });
      }
    }
    // result types from the shape rule
    let inferred: TensorType[] | undefined;
    try {
      inferred = spec.infer({
        operands: op.operands.map((v) => v?.type ?? null),
        values: op.operands.map((v) => (v ? known.get(v) : undefined)),
        attrs: op.attrs,
        numResults: op.results.length,
      });
    } catch (e) {
      if (e instanceof XbarcError) throw new XbarcError(e.code, `${label}: ${e.message}`, { location: where, hint: e.hint, notes: e.notes, cause: e });
      throw e;
    }
    if (inferred) {
      op.results.forEach((r, i) => {
        const t = inferred![i]!;
        if (!sameType(t, r.type)) {
          throw new XbarcError("XB3001", `${label}: result ${ref(r)} has the wrong type: expected ${formatType(t)}, found ${formatType(r.type)}`, {
            location: where,
            hint: "the result type must be what the op's shape rule computes from its operands and attributes",
          });
        }
      });
    }
    for (const a of op.annotations) checkAnnotation(a, where);
    for (const r of op.results) available.add(r);
  }
  for (const v of m.outputs) {
    if (!available.has(v)) {
      throw new XbarcError("XB2002", `output ${ref(v)} is not defined in module @${m.name}`, { location: { kind: "ir", value: v.name } });
    }
  }
}

function kindDescription(kind: string): string {
  switch (kind) {
    case "int": return "an integer";
    case "float": return "a number";
    case "ints": return "a list of integers";
    case "floats": return "a list of numbers";
    case "string": return "a string";
    case "dtype": return "a dtype name (f32, i64, ...)";
    default: return kind;
  }
}

function checkType(v: Value, where: Location): void {
  if (!v.type.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new XbarcError("XB3001", `${ref(v)} has an invalid shape ${formatType(v.type)}: dims must be non-negative integers`, { location: where });
  }
}

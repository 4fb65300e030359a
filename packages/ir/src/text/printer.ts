/**
 * @fileoverview Module → IR text, the canonical form: one op per line, annotations on indented continuation
 * lines, names exactly as stored, numbers in their shortest round-tripping spelling.
 */
import { InternalError } from "../diagnostics/error.js";
import type { AttrValue, Attrs, Module, Op, Value } from "../module.js";
import { halfToFloat } from "../tensor.js";
import { formatType, numel, type TensorType, type TypedArray } from "../types.js";
import { formatNumber, formatNumberF16, formatNumberF32 } from "./numbers.js";
import { BARE_NAME, IDENTIFIER } from "./tokens.js";
import { WeightsWriter } from "./weights.js";

/** Constants with at most this many elements print their values inline; larger ones go by reference. */
export const INLINE_CONSTANT_LIMIT = 16;

/** Options of printModule. */
export interface PrintOptions {
  /** also lay out the data of large constants in a side file and print `= weights(offset, bytes, sha256)` */
  weights?: boolean;
}

/** `f32[1,6,28,28]`, scalar `f32[]`. */
export function printType(t: TensorType): string {
  return formatType(t);
}

/** A name after its sigil: bare when it is made of name characters, otherwise a JSON string. */
function printName(sigil: string, name: string): string {
  return BARE_NAME.test(name) ? sigil + name : sigil + JSON.stringify(name);
}

/** An identifier-like word (key, opcode, annotation kind), quoted when it is not an identifier. */
function printWord(word: string): string {
  return IDENTIFIER.test(word) ? word : JSON.stringify(word);
}

/** How a value is referred to: constants `@w`, inputs and results `%x`, quoted when needed. */
export function printValueRef(v: Value): string {
  return printName(v.kind === "const" ? "@" : "%", v.name);
}

/** An attribute or annotation value: numbers canonical, strings as JSON, lists `[a, b]`, records `{k=v}`. */
export function printAttrValue(v: AttrValue): string {
  switch (typeof v) {
    case "number": return formatNumber(v);
    case "string": return JSON.stringify(v);
    case "boolean": return v ? "true" : "false";
    case "object":
      if (v === null) break;
      // lists print compactly like types (`strides=[1,1]`), records spaced (`{a=1, b=2}`), as DESIGN.md shows them
      if (Array.isArray(v)) return `[${(v as readonly AttrValue[]).map(printAttrValue).join(",")}]`;
      return printRecord(v as Attrs);
  }
  throw new InternalError(`attribute value ${String(v)} of type ${typeof v} cannot be printed`);
}

/** `{key=value, ...}` in insertion order; `{}` when empty. */
export function printRecord(attrs: Attrs): string {
  const parts: string[] = [];
  for (const key of Object.keys(attrs)) parts.push(`${printWord(key)}=${printAttrValue(attrs[key]!)}`);
  return `{${parts.join(", ")}}`;
}

/** The elements of a small constant, flat row-major, each in its dtype's canonical spelling. */
function printInlineData(type: TensorType, data: TypedArray): string {
  const items: string[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    switch (type.dtype) {
      case "f16": items[i] = formatNumberF16(halfToFloat(x as number)); break;
      case "f32": items[i] = formatNumberF32(x as number); break;
      case "f64": items[i] = formatNumber(x as number); break;
      case "bool": items[i] = x ? "true" : "false"; break;
      default: items[i] = String(x);
    }
  }
  return `[${items.join(",")}]`;
}

function printConstant(c: Value, weights: WeightsWriter | undefined): string {
  const head = `  const ${printValueRef(c)} : ${printType(c.type)}`;
  if (!c.data) return head;
  if (numel(c.type.shape) <= INLINE_CONSTANT_LIMIT) return `${head} = ${printInlineData(c.type, c.data)}`;
  if (!weights) return head;
  const ref = weights.add(c.data);
  return `${head} = weights(offset=${ref.offset}, bytes=${ref.bytes}, sha256="${ref.sha256}")`;
}

function printOp(op: Op): string[] {
  if (op.results.length === 0) throw new InternalError(`op "${op.opcode}" has no results and cannot be printed`);
  let line = `  ${op.results.map(printValueRef).join(", ")} = ${printWord(op.opcode)}`;
  if (op.operands.length > 0) line += ` ${op.operands.map((v) => (v ? printValueRef(v) : "none")).join(", ")}`;
  if (Object.keys(op.attrs).length > 0) line += ` ${printRecord(op.attrs)}`;
  line += ` : ${op.results.map((r) => printType(r.type)).join(", ")}`;
  if (op.loc !== undefined) line += ` loc(${JSON.stringify(op.loc)})`;
  const lines = [line];
  // annotations stay in pipeline order so dumps of successive passes diff line by line
  for (const a of op.annotations) lines.push(`      #${printWord(a.kind)}${printRecord(a.data)}`);
  return lines;
}

/**
 * Prints a module in the canonical text form (ends with a newline). With `{ weights: true }` also returns
 * the side file holding the data of constants too large to print inline.
 */
export function printModule(m: Module, options: PrintOptions = {}): { text: string; weights?: Uint8Array } {
  const writer = options.weights ? new WeightsWriter() : undefined;
  const attrs = Object.keys(m.attrs).length > 0 ? ` attributes ${printRecord(m.attrs)}` : "";
  const lines = [`module ${printName("@", m.name)}${attrs} {`];
  for (const v of m.inputs) lines.push(`  input ${printValueRef(v)} : ${printType(v.type)}`);
  for (const c of m.constants) lines.push(printConstant(c, writer));
  for (const op of m.ops) lines.push(...printOp(op));
  lines.push(m.outputs.length > 0 ? `  output ${m.outputs.map(printValueRef).join(", ")}` : "  output");
  lines.push("}");
  const text = lines.join("\n") + "\n";
  return writer ? { text, weights: writer.finish() } : { text };
}

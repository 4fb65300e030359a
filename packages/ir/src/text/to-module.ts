/**
 * @fileoverview IR text → Module: lexing, parsing, syntax-error wording, then the CST walk that builds the
 * Module (the only place syntax meets semantics: names, dtypes, literals, weights side-file checks).
 */
import { EOF, type CstNode, type ILexingError, type IRecognitionException, type IToken } from "chevrotain";
import { XbarcError, type Location } from "../diagnostics/error.js";
import { Module, Op, Value, type AttrValue, type Attrs, type Annotation } from "../module.js";
import { floatToHalf } from "../tensor.js";
import { allocArray, DTYPE_BYTES, DTYPES, isDType, numel, viewBytes, type DType, type TensorType, type TypedArray } from "../types.js";
import { getParser } from "./parser.js";
import * as T from "./tokens.js";
import { createSyntaxError, SourceText } from "./source-text.js";
import { sha256Hex } from "./weights.js";

/** Options of parseModule. */
export interface ParseOptions {
  /** file name used in diagnostics (default `<input>`) */
  file?: string;
  /** the weights side file written with the text; without it, constants referring to it get no data */
  weights?: Uint8Array;
}

/** Brackets nested deeper than this are rejected up front, so recursion depth stays bounded. */
const MAX_NESTING = 200;

/** One syntax problem, before it becomes an XbarcError. */
interface SyntaxProblem {
  offset: number;
  line: number;
  column: number;
  length: number;
  message: string;
  hint?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Syntax errors

const NAME_HINT = 'names look like %x, @conv1.weight or, with any characters, %"my value"';

function describeFound(t: IToken): string {
  if (t.tokenType === EOF) return "end of file";
  const image = t.image.length > 40 ? `${t.image.slice(0, 40)}…` : t.image;
  return t.tokenType === T.StringLiteral ? `string ${image}` : `"${image}"`;
}

function lexProblem(e: ILexingError, text: string): SyntaxProblem {
  const ch = text[e.offset] ?? "";
  const base = { offset: e.offset, line: e.line ?? 1, column: e.column ?? 1, length: e.length };
  if (ch === '"') {
    return { ...base, message: "unterminated or malformed string literal", hint: 'strings are JSON strings: end them with " and escape \\ and " inside' };
  }
  if (ch === "%" || ch === "@") return { ...base, message: `expected a name after "${ch}"`, hint: NAME_HINT };
  if (ch === "#") return { ...base, message: 'expected an annotation kind after "#", like #quant{...}' };
  return { ...base, message: `unexpected character ${JSON.stringify(ch)}` };
}

/**
 * Inside a type, point at the whole partial type (`f32[1,6,28`) rather than at the token after it, which may
 * be on the next line: that is what the user has to fix.
 */
function partialTypeStart(tokens: IToken[], previous: IToken | undefined): IToken | undefined {
  if (!previous) return undefined;
  let i = tokens.indexOf(previous);
  if (i < 0) return undefined;
  while (i > 0 && (tokens[i]!.tokenType === T.NumberLiteral || tokens[i]!.tokenType === T.Comma || tokens[i]!.tokenType === T.LSquare)) i--;
  const start = tokens[i]!;
  const typeStarted = start.tokenType === T.Identifier && (start === previous || tokens[i + 1]?.tokenType === T.LSquare);
  return typeStarted && start.startLine === previous.startLine ? start : undefined;
}

function parseProblem(e: IRecognitionException, tokens: IToken[], src: SourceText): SyntaxProblem {
  const previous = (e as { previousToken?: IToken }).previousToken;
  const ruleStack = e.context?.ruleStack ?? [];
  const hint = ruleStack[ruleStack.length - 1] === "tensorType"
    ? `a type is an element type (${DTYPES.join(", ")}) and its dimensions, like f32[1,6,28,28]; a scalar is f32[]`
    : undefined;
  const typeStart = hint ? partialTypeStart(tokens, previous) : undefined;
  if (typeStart && previous) {
    const found = src.text.slice(typeStart.startOffset, previous.endOffset! + 1);
    const loc = src.span(typeStart, previous) as Extract<Location, { kind: "text" }>;
    return { offset: typeStart.startOffset, line: loc.line, column: loc.column, length: loc.length!, message: `${e.message}, found "${found}"`, hint };
  }
  const t = e.token;
  if (t.tokenType === EOF || t.startLine === undefined || Number.isNaN(t.startLine)) {
    // point just after the last real token: that is where something is missing
    const line = previous?.endLine ?? 1;
    const column = previous?.endColumn !== undefined && !Number.isNaN(previous.endColumn) ? previous.endColumn + 1 : 1;
    return { offset: src.text.length, line: Number.isNaN(line) ? 1 : line, column, length: 1, message: `${e.message}, found end of file`, hint };
  }
  const rule = ruleStack[ruleStack.length - 1];
  if (e.name === "NotAllInputParsedException") {
    const i = tokens.indexOf(t);
    const brace = i > 0 && tokens[i - 1]!.tokenType === T.RCurly ? tokens[i - 1]! : undefined;
    const where = brace ? `the module was closed by the "}" at ${brace.startLine}:${brace.startColumn}; is it a stray one?` : undefined;
    return { offset: t.startOffset, line: t.startLine, column: t.startColumn ?? 1, length: t.image.length, message: `${e.message}, found ${describeFound(t)}`, hint: where };
  }
  if (rule !== "moduleDecl" && previous && previous.endLine !== undefined && t.startLine > previous.endLine) {
    // the statement stopped short at the end of its line: point where the missing part belongs
    const column = (previous.endColumn ?? 0) + 1;
    return { offset: previous.endOffset! + 1, line: previous.endLine, column, length: 1, message: `${e.message}, found ${describeFound(t)} on line ${t.startLine}`, hint };
  }
  return { offset: t.startOffset, line: t.startLine, column: t.startColumn ?? 1, length: t.image.length, message: `${e.message}, found ${describeFound(t)}`, hint };
}

function throwSyntax(problems: SyntaxProblem[], src: SourceText): never {
  problems.sort((a, b) => a.offset - b.offset);
  const unique = problems.filter((p, i) => i === 0 || p.offset !== problems[i - 1]!.offset || p.message !== problems[i - 1]!.message);
  const [first, ...rest] = unique;
  const notes = rest.slice(0, 2).map((p) => `also at ${p.line}:${p.column}: ${p.message}`);
  throw createSyntaxError("XB2001", src.at(first!.line, first!.column, first!.length), first!.message, first!.hint, notes);
}

function checkNesting(tokens: IToken[]): SyntaxProblem | undefined {
  let depth = 0;
  for (const t of tokens) {
    const type = t.tokenType;
    if (type === T.LCurly || type === T.LSquare || type === T.LParen) {
      if (++depth > MAX_NESTING) {
        return { offset: t.startOffset, line: t.startLine ?? 1, column: t.startColumn ?? 1, length: 1, message: `expected at most ${MAX_NESTING} nested brackets, found more` };
      }
    } else if (type === T.RCurly || type === T.RSquare || type === T.RParen) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// CST access

function kids(node: CstNode, key: string): CstNode[] {
  return (node.children[key] ?? []) as CstNode[];
}

function toks(node: CstNode, key: string): IToken[] {
  return (node.children[key] ?? []) as IToken[];
}

function tok(node: CstNode, key: string): IToken {
  return toks(node, key)[0]!;
}

function kid(node: CstNode, key: string): CstNode {
  return kids(node, key)[0]!;
}

/** The single token of an alternation rule such as `operand` or `dataItem`. */
function onlyToken(node: CstNode): IToken {
  for (const key of Object.keys(node.children)) {
    const c = node.children[key]![0]!;
    if ("image" in c) return c;
  }
  throw new Error("unreachable: alternation without a token");
}

/** `%name` / `@name` / `#kind` → the name, decoding the JSON-quoted form. */
function nameOf(t: IToken): string {
  const rest = t.image.slice(1);
  return rest.startsWith('"') ? (JSON.parse(rest) as string) : rest;
}

function wordOf(t: IToken): string {
  return t.tokenType === T.StringLiteral ? (JSON.parse(t.image) as string) : t.image;
}

// ---------------------------------------------------------------------------------------------------------
// CST → Module

interface Definition {
  value: Value;
  token: IToken;
}

const INT_RANGES: Partial<Record<DType, [number, number]>> = {
  i8: [-128, 127], i16: [-32768, 32767], i32: [-2147483648, 2147483647],
  u8: [0, 255], u16: [0, 65535], u32: [0, 4294967295],
};
const BIGINT_RANGES: Partial<Record<DType, [bigint, bigint]>> = {
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};

class ModuleBuilder {
  private readonly defs = new Map<string, Definition>();
  /** the caller's side file, copied on first use */
  private ownWeights: Uint8Array | undefined;

  constructor(private readonly src: SourceText, private readonly weights: Uint8Array | undefined) {}

  private badLiteral(message: string, location: Location, hint?: string): XbarcError {
    return new XbarcError("XB2005", message, { location, hint });
  }

  build(root: CstNode): Module {
    const m = new Module(nameOf(tok(root, "AtName")));
    const attrRecord = kids(root, "record")[0];
    if (attrRecord) m.attrs = this.record(attrRecord);
    const statements = kids(root, "statement");

    // pass 1: every definition, so references may point forward (ordering is the verifier's business)
    const pendingOps: { node: CstNode; results: Value[] }[] = [];
    let outputNode: CstNode | undefined;
    for (const s of statements) {
      const [kind] = Object.keys(s.children);
      const node = kid(s, kind!);
      if (kind === "inputDecl") {
        m.inputs.push(this.define(tok(node, "PercentName"), this.type(kid(node, "tensorType")), "input"));
      } else if (kind === "constDecl") {
        const nameTok = tok(node, "AtName");
        const c = this.define(nameTok, this.type(kid(node, "tensorType")), "const");
        const init = kids(node, "constInit")[0];
        if (init) c.data = this.constData(c, init);
        m.constants.push(c);
      } else if (kind === "opDecl") {
        pendingOps.push({ node, results: this.opResults(node) });
      } else {
        if (outputNode) {
          throw new XbarcError("XB2001", 'expected one output statement, found a second "output"', {
            location: this.src.token(tok(node, "Kw_output")),
            hint: "list every output on one line: output %a, %b",
          });
        }
        outputNode = node;
      }
    }

    // pass 2: ops and outputs, with references resolved
    for (const { node, results } of pendingOps) m.ops.push(this.op(node, results));
    if (outputNode) m.outputs = kids(outputNode, "valueRef").map((r) => this.resolve(onlyToken(r)));
    return m;
  }

  private define(nameTok: IToken, type: TensorType, kind: Value["kind"]): Value {
    const name = nameOf(nameTok);
    const previous = this.defs.get(name);
    if (previous) {
      throw new XbarcError("XB2003", `value "${name}" is defined twice`, {
        location: this.src.token(nameTok),
        notes: [`first defined at ${previous.token.startLine}:${previous.token.startColumn}`],
        hint: "inputs, constants and op results share one namespace; rename one of them",
      });
    }
    const value = new Value(name, type, kind);
    this.defs.set(name, { value, token: nameTok });
    return value;
  }

  private resolve(t: IToken): Value {
    const name = nameOf(t);
    const def = this.defs.get(name)?.value;
    const wantsConst = t.tokenType === T.AtName;
    if (def && (def.kind === "const") === wantsConst) return def;
    const location = this.src.token(t);
    if (def) {
      const hint = def.kind === "const" ? `"${name}" is a constant: write @${t.image.slice(1)}` : `"${name}" is ${def.kind === "input" ? "an input" : "an op result"}: write %${t.image.slice(1)}`;
      throw new XbarcError("XB2002", `undefined ${wantsConst ? "constant" : "value"} ${t.image}`, { location, hint });
    }
    throw new XbarcError("XB2002", `undefined ${wantsConst ? "constant" : "value"} ${t.image}`, {
      location,
      hint: "define it with input, const or as an op result; names are case-sensitive",
    });
  }

  private type(node: CstNode): TensorType {
    const dtypeTok = tok(node, "Identifier");
    const dtype = dtypeTok.image;
    if (!isDType(dtype)) {
      throw this.badLiteral(`unknown element type "${dtype}"`, this.src.token(dtypeTok), `element types are ${DTYPES.join(", ")}`);
    }
    const shape = toks(node, "NumberLiteral").map((d) => {
      const n = Number(d.image);
      if (!/^[0-9]+$/.test(d.image) || !Number.isSafeInteger(n)) {
        throw this.badLiteral(`expected a dimension (a whole number ≥ 0), found "${d.image}"`, this.src.token(d));
      }
      return n;
    });
    return { dtype, shape };
  }

  private opResults(node: CstNode): Value[] {
    const names = toks(node, "PercentName");
    const types = kids(node, "tensorType");
    if (names.length !== types.length) {
      const first = tok(types[0]!, "Identifier");
      const last = toks(types[types.length - 1]!, "RSquare")[0] ?? first;
      throw new XbarcError("XB2001", `expected ${names.length} result type${names.length === 1 ? "" : "s"} (one per result name), found ${types.length}`, {
        location: this.src.span(first, last),
      });
    }
    return names.map((n, i) => this.define(n, this.type(types[i]!), "result"));
  }

  private op(node: CstNode, results: Value[]): Op {
    const opcode = wordOf(onlyToken(kid(node, "opcode")));
    const operands = kids(node, "operand").map((o) => {
      const t = onlyToken(o);
      return t.tokenType === T.None ? null : this.resolve(t);
    });
    const attrNode = kids(node, "record")[0];
    const locNode = kids(node, "locClause")[0];
    const loc = locNode ? (JSON.parse(tok(locNode, "StringLiteral").image) as string) : undefined;
    const op = new Op(opcode, operands, results, attrNode ? this.record(attrNode) : {}, loc);
    op.annotations = kids(node, "annotation").map((a): Annotation => ({ kind: nameOf(tok(a, "HashName")), data: this.record(kid(a, "record")) }));
    return op;
  }

  /** `{k=v, ...}` in order; keys are set as own properties even when named like `__proto__`. */
  private record(node: CstNode): Attrs {
    const out: Attrs = {};
    for (const e of kids(node, "entry")) {
      const keyTok = toks(e, "Word")[0] ?? tok(e, "StringLiteral");
      const key = wordOf(keyTok);
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        throw this.badLiteral(`key "${key}" is given twice`, this.src.token(keyTok), "each key may appear once in a {...} record");
      }
      const value = this.attrValue(kid(e, "attrValue"));
      // plain assignment to "__proto__" would set the prototype instead of adding a key
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  private attrValue(node: CstNode): AttrValue {
    const list = kids(node, "list")[0];
    if (list) return kids(list, "attrValue").map((v) => this.attrValue(v));
    const rec = kids(node, "record")[0];
    if (rec) return this.record(rec);
    const t = onlyToken(node);
    switch (t.tokenType) {
      case T.NumberLiteral: return Number(t.image);
      case T.NegInf: return -Infinity;
      case T.Inf: return Infinity;
      case T.NaN_: return NaN;
      case T.True: return true;
      case T.False: return false;
      default: return JSON.parse(t.image) as string;
    }
  }

  private constData(c: Value, init: CstNode): TypedArray | undefined {
    const list = kids(init, "dataList")[0];
    if (list) return this.inlineData(c, list);
    return this.weightsData(c, kid(init, "weightsRef"));
  }

  private inlineData(c: Value, list: CstNode): TypedArray {
    const { dtype, shape } = c.type;
    const items = kids(list, "dataItem").map(onlyToken);
    const n = numel(shape);
    if (items.length !== n) {
      throw this.badLiteral(
        `constant @${c.name} has type ${dtype}[${shape.join(",")}] (${n} element${n === 1 ? "" : "s"}), but its inline data has ${items.length} value${items.length === 1 ? "" : "s"}`,
        this.src.span(tok(list, "LSquare"), tok(list, "RSquare")),
        "inline data is a flat row-major list with one value per element",
      );
    }
    const data = allocArray(dtype, n);
    for (let i = 0; i < n; i++) this.storeElement(c, data, i, items[i]!);
    return data;
  }

  /** Parses one inline element for the constant's dtype, rejecting values it cannot hold exactly. */
  private storeElement(c: Value, data: TypedArray, i: number, t: IToken): void {
    const { dtype } = c.type;
    const fail = (what: string): never => {
      throw this.badLiteral(`element ${i} of constant @${c.name} (${dtype}) must be ${what}, found "${t.image}"`, this.src.token(t));
    };
    const type = t.tokenType;
    if (dtype === "bool") {
      if (type === T.True || (type === T.NumberLiteral && t.image === "1")) data[i] = 1;
      else if (type === T.False || (type === T.NumberLiteral && t.image === "0")) data[i] = 0;
      else fail("true or false");
      return;
    }
    if (type === T.True || type === T.False) fail(dtype.startsWith("f") ? "a number" : "an integer");
    if (dtype === "f16" || dtype === "f32" || dtype === "f64") {
      const x = type === T.NumberLiteral ? Number(t.image) : type === T.NaN_ ? NaN : type === T.Inf ? Infinity : -Infinity;
      if (dtype === "f16") data[i] = floatToHalf(x);
      else data[i] = x; // Float32Array stores round to nearest, as Math.fround
      return;
    }
    const bigRange = BIGINT_RANGES[dtype];
    if (bigRange) {
      if (type !== T.NumberLiteral || !/^-?[0-9]+$/.test(t.image)) fail("an integer");
      const v = BigInt(t.image);
      if (v < bigRange[0] || v > bigRange[1]) fail(`an integer in [${bigRange[0]}, ${bigRange[1]}]`);
      data[i] = v;
      return;
    }
    const [lo, hi] = INT_RANGES[dtype]!;
    const v = type === T.NumberLiteral ? Number(t.image) : NaN;
    if (!Number.isInteger(v) || v < lo || v > hi) fail(`an integer in [${lo}, ${hi}]`);
    data[i] = v;
  }

  /** `weights(offset, bytes, sha256)`: checked against the type, then read from the side file if there is one. */
  private weightsData(c: Value, node: CstNode): TypedArray | undefined {
    const kw = tok(node, "Kw_weights");
    const where = this.src.span(kw, tok(node, "RParen"));
    const fields = new Map<string, { value: AttrValue; token: IToken }>();
    for (const e of kids(node, "entry")) {
      const keyTok = toks(e, "Word")[0] ?? tok(e, "StringLiteral");
      const key = wordOf(keyTok);
      if (key !== "offset" && key !== "bytes" && key !== "sha256") {
        throw this.badLiteral(`unknown field "${key}" in weights(...) of constant @${c.name}`, this.src.token(keyTok), "write weights(offset=N, bytes=N, sha256=\"hex\")");
      }
      if (fields.has(key)) throw this.badLiteral(`field "${key}" is given twice in weights(...) of constant @${c.name}`, this.src.token(keyTok));
      fields.set(key, { value: this.attrValue(kid(e, "attrValue")), token: keyTok });
    }
    const count = (key: "offset" | "bytes"): number => {
      const f = fields.get(key);
      if (!f) throw this.badLiteral(`weights(...) of constant @${c.name} has no ${key}`, where, "write weights(offset=N, bytes=N, sha256=\"hex\")");
      if (typeof f.value !== "number" || !Number.isSafeInteger(f.value) || f.value < 0) {
        throw this.badLiteral(`${key} in weights(...) of constant @${c.name} must be a whole number ≥ 0`, this.src.token(f.token));
      }
      return f.value;
    };
    const offset = count("offset");
    const bytes = count("bytes");
    const digestField = fields.get("sha256");
    if (!digestField) throw this.badLiteral(`weights(...) of constant @${c.name} has no sha256`, where, "write weights(offset=N, bytes=N, sha256=\"hex\")");
    if (typeof digestField.value !== "string" || !/^[0-9a-f]{64}$/.test(digestField.value)) {
      throw this.badLiteral(`sha256 in weights(...) of constant @${c.name} must be 64 lowercase hex digits`, this.src.token(digestField.token));
    }
    const expectedBytes = numel(c.type.shape) * DTYPE_BYTES[c.type.dtype];
    if (bytes !== expectedBytes) {
      throw this.badLiteral(
        `constant @${c.name} of type ${c.type.dtype}[${c.type.shape.join(",")}] needs ${expectedBytes} bytes, but weights(...) says bytes=${bytes}`,
        this.src.token(fields.get("bytes")!.token),
      );
    }
    if (!this.weights) return undefined;
    const hint = "the weights file does not belong to this text: print the module again to write both together";
    if (offset + bytes > this.weights.byteLength) {
      throw new XbarcError("XB2004", `weights side file is too short for constant @${c.name}: offset=${offset} + bytes=${bytes} goes past its ${this.weights.byteLength} bytes`, {
        location: this.src.token(fields.get("offset")!.token),
        hint,
      });
    }
    // one copy of the whole side file, shared by the constants' views: the module never aliases the caller's
    // buffer, and a single allocation is far cheaper than one per constant on large models
    this.ownWeights ??= this.weights.slice();
    const payload = this.ownWeights.subarray(offset, offset + bytes);
    const digest = sha256Hex(payload);
    if (digest !== digestField.value) {
      throw new XbarcError("XB2004", `sha256 of constant @${c.name} in the weights side file is ${digest}, but the text says ${digestField.value}`, {
        location: this.src.token(digestField.token),
        hint,
      });
    }
    // offsets are 64-byte aligned in files we write; viewBytes copies only a hand-made misaligned payload
    return viewBytes(c.type.dtype, payload);
  }
}

/** Parses IR text into a Module. Throws XbarcError XB2001–XB2005 with a text location; never verifies. */
export function parseModule(text: string, options: ParseOptions = {}): Module {
  const src = new SourceText(text, options.file ?? "<input>");
  const lexed = T.irLexer.tokenize(text);
  const problems = lexed.errors.map((e) => lexProblem(e, text));
  // the parser recurses on nested brackets: refuse absurd nesting before it can overflow the stack
  const tooDeep = checkNesting(lexed.tokens);
  if (tooDeep) throwSyntax([...problems, tooDeep], src);
  const parser = getParser(lexed.tokens);
  const cst = parser.moduleDecl();
  for (const e of parser.errors) problems.push(parseProblem(e, lexed.tokens, src));
  if (problems.length > 0) throwSyntax(problems, src);
  return new ModuleBuilder(src, options.weights).build(cst);
}

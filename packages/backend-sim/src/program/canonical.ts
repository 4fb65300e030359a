/**
 * @fileoverview The canonical JSON of a program (object keys in PROGRAM_SCHEMA order, free-form records' keys sorted,
 * no whitespace) and the content hash over it; also the readable pretty form program files are written in.
 */
import { createHash } from "node:crypto";
import { XbarcError } from "@xbarc/ir";
import { PROGRAM_SCHEMA } from "./schema.js";
import type { Program } from "./types.js";

type Schema = { [key: string]: unknown };
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ROOT = PROGRAM_SCHEMA as unknown as Schema;

function resolveRef(schema: Schema): Schema {
  let s = schema;
  // only local references (#/$defs/x) occur in the program schema
  while (typeof s["$ref"] === "string") {
    const path = (s["$ref"] as string).replace(/^#\//, "").split("/");
    let target: unknown = ROOT;
    for (const part of path) target = (target as Schema)[part];
    s = target as Schema;
  }
  return s;
}

function propertiesOf(schema: Schema): Schema | undefined {
  return schema["properties"] as Schema | undefined;
}

/** The branch of a oneOf/anyOf whose `const` properties all match `value` (the discriminator: op, mode, model). */
function pickBranch(schema: Schema, value: { [key: string]: Json }): Schema | undefined {
  const branches = (schema["oneOf"] ?? schema["anyOf"]) as Schema[] | undefined;
  if (!branches) return undefined;
  for (const raw of branches) {
    const branch = resolveRef(raw);
    const props = propertiesOf(branch);
    if (!props) continue;
    const consts = Object.entries(props).filter(([, p]) => p && typeof p === "object" && "const" in (p as Schema));
    if (consts.length > 0 && consts.every(([k, p]) => value[k] === (p as Schema)["const"])) return branch;
  }
  return undefined;
}

function canonicalNumber(x: number, pointer: string): string {
  if (!Number.isFinite(x)) {
    throw new XbarcError("XB4001", `${pointer || "/"} is ${x}, which JSON cannot hold`, {
      location: { kind: "json", file: "<program>", pointer, schema: "program.schema.json" },
      hint: "every number of a program must be finite",
    });
  }
  return JSON.stringify(x); // shortest round-trip decimal; -0 prints as 0
}

/** Writes `value` canonically under `schema` (keys in schema order, then the rest sorted). */
function write(value: Json, schema: Schema, pointer: string, out: string[]): void {
  if (value === null || typeof value === "boolean") {
    out.push(String(value));
    return;
  }
  if (typeof value === "number") {
    out.push(canonicalNumber(value, pointer));
    return;
  }
  if (typeof value === "string") {
    out.push(JSON.stringify(value));
    return;
  }
  const s = resolveRef(schema);
  if (Array.isArray(value)) {
    const items = resolveRef((s["items"] as Schema | undefined) ?? {});
    out.push("[");
    value.forEach((v, i) => {
      if (i > 0) out.push(",");
      write(v, items, `${pointer}/${i}`, out);
    });
    out.push("]");
    return;
  }
  const branch = pickBranch(s, value);
  const declared = [...Object.keys(propertiesOf(s) ?? {}), ...Object.keys((branch && propertiesOf(branch)) ?? {})];
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  const known = [...new Set(declared)].filter((k) => keys.includes(k));
  // free-form records (op attributes) and anything the schema does not list: sorted by code point
  const rest = keys.filter((k) => !declared.includes(k)).sort();
  out.push("{");
  [...known, ...rest].forEach((k, i) => {
    if (i > 0) out.push(",");
    const child = ((branch && propertiesOf(branch)?.[k]) ?? propertiesOf(s)?.[k] ?? {}) as Schema;
    out.push(JSON.stringify(k), ":");
    write(value[k]!, child, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, out);
  });
  out.push("}");
}

/** The canonical JSON text of `value` (a program or any part of one, under `schema`, default the whole program's). */
export function canonicalJson(value: unknown, schema: object = PROGRAM_SCHEMA): string {
  const out: string[] = [];
  write(value as Json, schema as Schema, "", out);
  return out.join("");
}

/** sha256 (lowercase hex) of the canonical JSON of the program without its `hash` field. */
export function hashProgram(program: Omit<Program, "hash"> | Program): string {
  const { hash: _ignored, ...content } = program as Program;
  return createHash("sha256").update(canonicalJson(content)).digest("hex");
}

/** A copy of the program with keys in canonical order and the hash recomputed. */
export function sealProgram(program: Omit<Program, "hash"> | Program): Program {
  const hash = hashProgram(program);
  return JSON.parse(canonicalJson({ ...program, hash })) as Program;
}

/** One-line JSON with a space after each comma and colon (strings untouched). */
function inlineText(value: Json): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inlineText).join(", ")}]`;
  const entries = Object.entries(value);
  return entries.length === 0 ? "{}" : `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inlineText(v)}`).join(", ")} }`;
}

const isScalar = (v: Json): v is null | boolean | number | string => v === null || typeof v !== "object";

/** True when a value prints on one line: scalars, arrays of scalars, and small flat records. */
function isInline(value: Json, text: string): boolean {
  if (isScalar(value)) return true;
  if (Array.isArray(value)) return value.every(isScalar);
  const flat = Object.values(value).every((v) => isScalar(v) || (Array.isArray(v) && v.every(isScalar)));
  return flat && text.length <= 160;
}

function pretty(value: Json, indent: string, out: string[]): void {
  const inline = inlineText(value);
  if (isScalar(value) || isInline(value, inline)) {
    out.push(inline);
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    out.push("[\n");
    value.forEach((v, i) => {
      out.push(inner);
      pretty(v, inner, out);
      out.push(i < value.length - 1 ? ",\n" : "\n");
    });
    out.push(`${indent}]`);
    return;
  }
  const entries = Object.entries(value);
  out.push("{\n");
  entries.forEach(([k, v], i) => {
    out.push(`${inner}${JSON.stringify(k)}: `);
    pretty(v, inner, out);
    out.push(i < entries.length - 1 ? ",\n" : "\n");
  });
  out.push(`${indent}}`);
}

/**
 * The program file text: keys in canonical order, one field per line, arrays of numbers and small flat records
 * (schedule operations) on one line each. JSON.parse of it gives back the same program.
 */
export function printProgramJson(program: Program): string {
  const ordered = JSON.parse(canonicalJson(program)) as Json;
  const out: string[] = [];
  pretty(ordered, "", out);
  out.push("\n");
  return out.join("");
}

/**
 * @fileoverview The program as text assembly (`.xasm`): one statement per program part — header, model, compile,
 * device, input, outputs, then buffers, layers, tiles and the schedule, one line each (long fields on indented
 * continuation lines). parseProgramAsm(printProgramAsm(p)) deep-equals p, and printing that again gives the same text.
 */
import { canonicalJson } from "./canonical.js";
import { BARE_KEY, BARE_NAME, BARE_WORD, HEADER_KEYWORD, RESERVED_WORDS, STATEMENTS, type StatementSpec } from "./asm-syntax.js";
import type { Program } from "./types.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Lines are filled up to this many characters before wrapping onto an indented continuation line. */
const LINE_LIMIT = 110;
/** An entry longer than this (a long string, a record, the cells) always takes a continuation line of its own. */
const ENTRY_LIMIT = 72;
/** Indentation of continuation lines. */
const CONTINUATION = "    ";

/** `%name`, or `%"any name"` when it has characters a bare name cannot. */
export function printAsmName(name: string): string {
  return BARE_NAME.test(name) ? `%${name}` : `%${JSON.stringify(name)}`;
}

function printString(s: string): string {
  return BARE_WORD.test(s) && !RESERVED_WORDS.has(s) ? s : JSON.stringify(s);
}

function printKey(k: string): string {
  return BARE_KEY.test(k) && !RESERVED_WORDS.has(k) ? k : JSON.stringify(k);
}

/** A value in assembly syntax; `asName` prints strings (and strings in lists) as %names. */
export function printAsmValue(v: Json, asName = false): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return JSON.stringify(v);
  if (typeof v === "string") return asName ? printAsmName(v) : printString(v);
  if (Array.isArray(v)) return `[${v.map((x) => printAsmValue(x, asName)).join(", ")}]`;
  return `{${Object.entries(v).map(([k, x]) => `${printKey(k)}=${printAsmValue(x)}`).join(", ")}}`;
}

/**
 * One statement: keyword, positional value, then key=value entries filling lines of up to LINE_LIMIT characters;
 * an entry longer than ENTRY_LIMIT gets a continuation line of its own. The layout depends only on the values, so
 * printing the same program twice gives the same text.
 */
function printStatement(keyword: string, spec: StatementSpec, value: { [key: string]: Json } | Json[], skip: readonly string[] = []): string {
  if (Array.isArray(value)) return `${keyword} ${printAsmValue(value, spec.names.includes("*"))}`;
  const lines: string[] = [];
  let line = keyword;
  if (spec.positional !== undefined) line += ` ${printAsmValue(value[spec.positional]!, spec.names.includes(spec.positional))}`;
  const own: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === spec.positional || skip.includes(k)) continue;
    const text = `${printKey(k)}=${printAsmValue(v, spec.names.includes(k))}`;
    if (text.length > ENTRY_LIMIT) {
      own.push(`${CONTINUATION}${text}`);
    } else if (line.length + 1 + text.length > LINE_LIMIT) {
      lines.push(line);
      line = `${CONTINUATION}${text}`;
    } else {
      line += ` ${text}`;
    }
  }
  lines.push(line, ...own);
  return lines.join("\n");
}

/**
 * Prints a program as assembly. The program is read in canonical key order first, so any key order prints the
 * same text. Header comments (`//`) are ignored by the parser.
 */
export function printProgramAsm(program: Program): string {
  const p = JSON.parse(canonicalJson(program)) as { [key: string]: Json } & {
    buffers: { [key: string]: Json }[]; layers: { [key: string]: Json }[]; tiles: { [key: string]: Json }[]; schedule: { [key: string]: Json }[];
  };
  const st = (kw: string) => STATEMENTS[kw]!;
  const device = p["device"] as { [key: string]: Json };
  const model = p["model"] as { [key: string]: Json };
  const lines: string[] = [
    `// xbarc program assembly · model ${String(model["name"])} · device ${String(device["name"])}`,
    "// statements: keyword [positional] key=value ...; %name is a buffer or layer; cells are base64 of u8 [rows_used, cols_used]",
    printStatement(HEADER_KEYWORD, st(HEADER_KEYWORD), { version: p["version"]!, hash: p["hash"]! }),
    printStatement("model", st("model"), model),
    printStatement("compile", st("compile"), p["compile"] as { [key: string]: Json }),
    printStatement("device", st("device"), device),
    printStatement("input", st("input"), p["input"] as { [key: string]: Json }),
    printStatement("outputs", st("outputs"), p["outputs"] as Json[]),
    "",
    `// buffers (${p.buffers.length})`,
    ...p.buffers.map((b) => printStatement("buffer", st("buffer"), b)),
    "",
    `// layers (${p.layers.length})`,
    ...p.layers.map((l) => printStatement("layer", st("layer"), l)),
    "",
    `// tiles (${p.tiles.length})`,
    ...p.tiles.map((t) => printStatement("tile", st("tile"), t)),
    "",
    `// schedule (${p.schedule.length} operations)`,
    ...p.schedule.map((op) => printStatement(String(op["op"]), st(String(op["op"])), op, ["op"])),
  ];
  return `${lines.join("\n")}\n`;
}

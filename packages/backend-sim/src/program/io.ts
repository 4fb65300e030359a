/**
 * @fileoverview Reading program files: `.xbar.json` (JSON) or `.xasm` (assembly), checked (schema, hash, semantics);
 * problems in an .xasm point at its line and column, problems in JSON name the JSON pointer.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { isXbarcError, XbarcError } from "@xbarc/ir";
import { parseProgramAsmWithLocations } from "./asm-parser.js";
import { checkProgram, type CheckProgramOptions } from "./check.js";
import type { Program } from "./types.js";

/** How a program file is written. */
export type ProgramFileFormat = "json" | "asm";

/** `.xasm` is assembly; anything else is JSON, unless its first word is the assembly header. */
export function getProgramFileFormat(path: string, text?: string): ProgramFileFormat {
  if (extname(path).toLowerCase() === ".xasm") return "asm";
  if (extname(path).toLowerCase() === ".json") return "json";
  const head = (text ?? "").replace(/^(\s*\/\/[^\n]*\n)*\s*/, "");
  return head.startsWith("xbarc-program") ? "asm" : "json";
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    throw new XbarcError("XB4001", `cannot read the program ${path}: ${errno === "ENOENT" ? "no such file" : errno === "EISDIR" ? "it is a directory" : (e as Error).message}`, {
      location: { kind: "file", file: path }, hint: "pass the file written by `xbarc compile -o` (or its --asm)", cause: e,
    });
  }
}

/**
 * Parses program text (JSON or assembly) and checks it. In assembly, an error found by the checks (a JSON pointer)
 * is re-pointed at the statement or field of the text it came from.
 */
export function parseProgramText(text: string, file: string, format: ProgramFileFormat = getProgramFileFormat(file, text), options: CheckProgramOptions = {}): Program {
  if (format === "json") {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new XbarcError("XB4001", `/ is not valid JSON: ${(e as Error).message}`, {
        location: { kind: "json", file, pointer: "", schema: "program.schema.json" },
        hint: "a program is the JSON file `xbarc compile -o` writes, or its .xasm assembly",
        cause: e,
      });
    }
    return checkProgram(json, file, options);
  }
  const parsed = parseProgramAsmWithLocations(text, file);
  try {
    return checkProgram(parsed.program, file, options);
  } catch (e) {
    if (!isXbarcError(e) || e.location?.kind !== "json") throw e;
    const at = parsed.locate(e.location.pointer);
    if (!at) throw e;
    throw new XbarcError(e.code, `${e.message} (at ${e.location.pointer || "/"})`, { location: at, notes: e.notes, ...(e.hint !== undefined ? { hint: e.hint } : {}), cause: e });
  }
}

/** Reads and checks a program file (.xbar.json or .xasm). Throws XB4001/XB6004/XB6005/XB6006 naming what is wrong. */
export function loadProgram(path: string, options: CheckProgramOptions = {}): Program {
  const text = readText(path);
  return parseProgramText(text, path, getProgramFileFormat(path, text), options);
}

/**
 * @fileoverview Checking a program document: the JSON schema (errors name the JSON pointer), the content hash (a
 * program changed after compile is refused), and the semantics a schema cannot state — cell arrays of the right size
 * with levels the device has, tiles inside their crossbars, schedule references to tiles and buffers that exist,
 * and every buffer written before it is read.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { getLevels, getPhysicalGroups, XbarcError } from "@xbarc/ir";
import { hashProgram } from "./canonical.js";
import { PROGRAM_SCHEMA } from "./schema.js";
import { PROGRAM_FORMAT, PROGRAM_VERSION, type Program, type ProgramTile, type ScheduleOp } from "./types.js";

/** Options of checkProgram. */
export interface CheckProgramOptions {
  /** refuse a program whose content does not match its hash (default true; false lets a changed program be inspected) */
  readonly verifyHash?: boolean;
}

const SCHEMA_FILE = "program.schema.json";

let validator: ValidateFunction | undefined;

/** The compiled schema validator (built once: compiling the schema is the slow part). */
function getValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, discriminator: true }).compile(PROGRAM_SCHEMA);
  return validator;
}

function schemaError(file: string, pointer: string, message: string, hint?: string): XbarcError {
  return new XbarcError("XB4001", `${pointer || "/"} ${message}`, {
    location: { kind: "json", file, pointer, schema: SCHEMA_FILE },
    hint: hint ?? "the program does not have the structure xbarc writes; recompile it (`xbarc program schema` prints the schema)",
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The most useful ajv error, as a pointer and a message: the deepest one, with a missing field named by its own pointer. */
function describeSchemaError(errors: readonly ErrorObject[]): { pointer: string; message: string } {
  const ranked = [...errors]
    .filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf" && e.keyword !== "if")
    .sort((a, b) => b.instancePath.length - a.instancePath.length);
  const e = ranked[0] ?? errors[0]!;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { pointer: `${e.instancePath}/${escapePointer(String(params["missingProperty"]))}`, message: "is missing (a required field)" };
    case "additionalProperties":
      return { pointer: `${e.instancePath}/${escapePointer(String(params["additionalProperty"]))}`, message: "is not a field of this object" };
    case "enum":
      return { pointer: e.instancePath, message: `must be one of ${(params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "const":
      return { pointer: e.instancePath, message: `must be ${JSON.stringify(params["allowedValue"])}` };
    case "discriminator":
      return { pointer: `${e.instancePath}/${escapePointer(String(params["tag"]))}`, message: e.message ?? "names no known kind" };
    default:
      return { pointer: e.instancePath, message: e.message ?? "is invalid" };
  }
}

/**
 * Checks `json` against PROGRAM_SCHEMA and returns it typed. Throws XB4001 with the JSON pointer of the first
 * problem (a missing field is named by its own pointer, e.g. /tiles/3/cells).
 */
export function checkProgramSchema(json: unknown, file = "<program>"): Program {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw schemaError(file, "", "must be a JSON object (an xbarc program)");
  const doc = json as Record<string, unknown>;
  if (doc["format"] !== PROGRAM_FORMAT) {
    throw schemaError(file, "/format", `must be "${PROGRAM_FORMAT}", found ${JSON.stringify(doc["format"])}: this is not an xbarc program`, "pass a file written by `xbarc compile`");
  }
  if (doc["version"] !== PROGRAM_VERSION) {
    throw schemaError(file, "/version", `is ${JSON.stringify(doc["version"])}, but this xbarc reads program version ${PROGRAM_VERSION}`, "recompile the model with this xbarc");
  }
  const validate = getValidator();
  if (!validate(json)) {
    const { pointer, message } = describeSchemaError(validate.errors ?? []);
    throw schemaError(file, pointer, message);
  }
  return json as Program;
}

/**
 * Checks a program document: schema (XB4001 with the JSON pointer), content hash (XB6004), semantics (XB6005).
 * Returns the program typed. `verifyHash: false` skips the hash (to inspect a program changed by hand).
 */
export function checkProgram(json: unknown, file = "<program>", options: CheckProgramOptions = {}): Program {
  const program = checkProgramSchema(json, file);
  if (options.verifyHash !== false) {
    const actual = hashProgram(program);
    if (actual !== program.hash) {
      throw new XbarcError("XB6004", "program content does not match its hash: it was changed after compile (recompile, or use --no-verify-hash to inspect)", {
        location: { kind: "json", file, pointer: "/hash", schema: SCHEMA_FILE },
        notes: [`hash in the file: ${program.hash}`, `hash of the content: ${actual}`],
        hint: "recompile the model with `xbarc compile`; a program is never edited by hand",
      });
    }
  }
  checkProgramSemantics(program, file);
  return program;
}

/** Decodes a base64 string exactly (RFC 4648 with padding); undefined when it is not canonical base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, "base64");
  // Buffer.from skips characters it does not know: re-encoding shows whether anything was skipped
  if (bytes.toString("base64") !== text) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The cell levels of a tile, row-major [rows_used, cols_used] (the program's encoding). */
export function getTileCells(tile: ProgramTile): Uint8Array {
  const cells = decodeBase64(tile.cells);
  if (!cells) throw new XbarcError("XB6005", `tile ${tile.id} (layer ${tile.layer}): cells is not base64`, { hint: "recompile the model" });
  return cells;
}

/** Where a semantic problem is: a JSON pointer into the program. */
function semanticError(file: string, pointer: string, message: string, hint = "recompile the model with `xbarc compile`; a program is never edited by hand"): XbarcError {
  return new XbarcError("XB6005", message, { location: { kind: "json", file, pointer, schema: SCHEMA_FILE }, hint });
}

/**
 * The checks a schema cannot express (XB6005 naming the tile, layer, buffer or schedule entry): cell arrays of
 * rows_used × cols_used bytes with every level below the device's level count; tiles inside their crossbar, not
 * overlapping, with the sizes their layer's matrix gives; schedule references to existing layers, tiles and buffers,
 * every tile programmed before its first MVM, every buffer written before it is read.
 */
export function checkProgramSemantics(program: Program, file = "<program>"): void {
  const { device } = program;
  const levels = getLevels(device.cell).length;
  const R = device.crossbar.rows;
  const C = device.crossbar.cols;

  const buffers = new Map<string, Program["buffers"][number]>();
  program.buffers.forEach((b, i) => {
    if (buffers.has(b.name)) throw semanticError(file, `/buffers/${i}/name`, `buffer "${b.name}" is declared twice`);
    if (b.role === "constant" && b.data === undefined) throw semanticError(file, `/buffers/${i}/data`, `constant buffer "${b.name}" has no data`);
    buffers.set(b.name, b);
  });
  const input = buffers.get(program.input.name);
  if (!input || input.role !== "input") throw semanticError(file, "/input/name", `the input "${program.input.name}" is not a buffer with role "input"`);
  program.outputs.forEach((o, i) => {
    if (!buffers.has(o)) throw semanticError(file, `/outputs/${i}`, `output "${o}" names no buffer`);
  });

  const layers = new Map<string, Program["layers"][number]>();
  program.layers.forEach((l, i) => {
    if (layers.has(l.name)) throw semanticError(file, `/layers/${i}/name`, `layer "${l.name}" is declared twice`);
    layers.set(l.name, l);
    for (const field of ["input", "output"] as const) {
      if (!buffers.has(l[field])) throw semanticError(file, `/layers/${i}/${field}`, `layer "${l.name}": ${field} "${l[field]}" names no buffer`);
    }
    l.tiles.forEach((id, k) => {
      const t = program.tiles[id];
      if (!t || t.layer !== l.name) throw semanticError(file, `/layers/${i}/tiles/${k}`, `layer "${l.name}" lists tile ${id}, which ${t ? `belongs to layer "${t.layer}"` : "does not exist"}`);
    });
    const expected = l.matrix.groups * l.grid[0]! * l.grid[1]!;
    if (l.tiles.length !== expected) throw semanticError(file, `/layers/${i}/tiles`, `layer "${l.name}" has ${l.tiles.length} tiles, but its grid [${l.grid.join(",")}] × ${l.matrix.groups} group(s) needs ${expected}`);
  });

  // tiles: sizes, cell states, placement
  const byXbar = new Map<number, ProgramTile[]>();
  program.tiles.forEach((t, i) => {
    const at = `/tiles/${i}`;
    const name = `tile ${t.id} (layer ${t.layer})`;
    if (t.id !== i) throw semanticError(file, `${at}/id`, `tile at index ${i} has id ${t.id}; tile ids are their positions`);
    const layer = layers.get(t.layer);
    if (!layer) throw semanticError(file, `${at}/layer`, `${name}: no such layer`);
    if (layer.tiles[t.index] !== t.id) throw semanticError(file, `${at}/index`, `${name}: index ${t.index} does not list this tile in its layer`);
    if (t.rows_used !== t.rows + (t.bias_row ? 1 : 0)) throw semanticError(file, `${at}/rows_used`, `${name}: rows_used ${t.rows_used} is not rows ${t.rows}${t.bias_row ? " + the bias row" : ""}`);
    if (t.cols_used !== t.cols * t.phys_cols_per_weight_col + t.offset_cols) {
      throw semanticError(file, `${at}/cols_used`, `${name}: cols_used ${t.cols_used} is not cols ${t.cols} × ${t.phys_cols_per_weight_col} + ${t.offset_cols} offset columns`);
    }
    // a compacted layer's tiles hold the physical matrix: at most as many rows and columns as the matrix
    if (t.row0 + t.rows > layer.matrix.rows || t.col0 + t.cols > layer.matrix.cols || t.group >= layer.matrix.groups) {
      throw semanticError(file, at, `${name}: rows [${t.row0}, ${t.row0 + t.rows}) and columns [${t.col0}, ${t.col0 + t.cols}) of group ${t.group} lie outside the layer's ${layer.matrix.rows}×${layer.matrix.cols} matrix (${layer.matrix.groups} group(s))`);
    }
    if (t.xbar_row + t.rows_used > R || t.xbar_col + t.cols_used > C) {
      throw semanticError(file, at, `${name}: ${t.rows_used}×${t.cols_used} cells at (${t.xbar_row}, ${t.xbar_col}) do not fit a ${R}×${C} crossbar`);
    }
    const cells = decodeBase64(t.cells);
    if (!cells) throw semanticError(file, `${at}/cells`, `${name}: cells is not base64 (RFC 4648 with padding)`);
    if (cells.length !== t.rows_used * t.cols_used) {
      throw semanticError(file, `${at}/cells`, `${name}: cells hold ${cells.length} bytes, but rows_used × cols_used = ${t.rows_used} × ${t.cols_used} = ${t.rows_used * t.cols_used}`);
    }
    for (let k = 0; k < cells.length; k++) {
      if (cells[k]! >= levels) {
        const r = Math.floor(k / t.cols_used);
        throw semanticError(file, `${at}/cells`, `${name}: cell (row ${r}, column ${k - r * t.cols_used}) has level ${cells[k]}, but device ${device.name} has ${levels} levels (0..${levels - 1})`);
      }
    }
    const on = byXbar.get(t.xbar) ?? [];
    for (const o of on) {
      const rowsOverlap = t.xbar_row < o.xbar_row + o.rows_used && o.xbar_row < t.xbar_row + t.rows_used;
      const colsOverlap = t.xbar_col < o.xbar_col + o.cols_used && o.xbar_col < t.xbar_col + t.cols_used;
      if (rowsOverlap && colsOverlap) throw semanticError(file, at, `${name} overlaps tile ${o.id} on crossbar ${t.xbar}`);
    }
    on.push(t);
    byXbar.set(t.xbar, on);
  });
  program.tiles.forEach((t, i) => {
    if (!layers.get(t.layer)!.tiles.includes(t.id)) throw semanticError(file, `/tiles/${i}/layer`, `tile ${t.id} names layer "${t.layer}", which does not list it`);
  });
  program.layers.forEach((l, i) => checkLayerMaps(program, l, `/layers/${i}`, file));

  checkSchedule(program, file, buffers, layers);
}

/** ceil(log2 n), 0 for n ≤ 1. */
function ceilLog2(n: number): number {
  let bits = 0;
  while (2 ** bits < n) bits++;
  return bits;
}

/**
 * A layer's row_map, col_map and col_sign against its tiles (XB6005 naming the field): each map has one entry per
 * matrix row or column, maps onto exactly the physical rows (columns) its tiles hold, every physical one used; a
 * sign is ±1 and +1 on each physical column's first column (whose weights the cells hold); the input steps cover
 * the widest merged row's sum: T = ceil((bits + ceil(log2 k)) / dac_bits). Without maps, the tiles hold the matrix.
 */
function checkLayerMaps(program: Program, l: Program["layers"][number], at: string, file: string): void {
  const tiles = l.tiles.map((id) => program.tiles[id]!);
  const physRows = tiles.filter((t) => t.group === 0 && t.col_tile === 0).reduce((n, t) => n + t.rows, 0);
  const physCols = tiles.filter((t) => t.group === 0 && t.row_tile === 0).reduce((n, t) => n + t.cols, 0);
  const what = (kind: string, n: number, phys: number): string => `layer "${l.name}": ${kind} does not map the ${n} matrix ${kind === "row_map" ? "rows" : "columns"} onto the ${phys} physical ones its tiles hold, each used`;
  let largest = 1;
  if (l.row_map !== undefined) {
    const groups = l.row_map.length === l.matrix.rows ? getPhysicalGroups(l.row_map, physRows) : undefined;
    if (!groups) throw semanticError(file, `${at}/row_map`, what("row_map", l.matrix.rows, physRows));
    largest = Math.max(1, groups.largest);
  } else if (physRows !== l.matrix.rows && tiles.length > 0) {
    throw semanticError(file, `${at}/tiles`, `layer "${l.name}": its tiles hold ${physRows} rows of its ${l.matrix.rows}-row matrix, and it has no row_map`);
  }
  if (l.col_map !== undefined) {
    const groups = l.col_map.length === l.matrix.cols ? getPhysicalGroups(l.col_map, physCols) : undefined;
    if (!groups) throw semanticError(file, `${at}/col_map`, what("col_map", l.matrix.cols, physCols));
    if (l.col_sign !== undefined) {
      if (l.col_sign.length !== l.matrix.cols) throw semanticError(file, `${at}/col_sign`, `layer "${l.name}": col_sign has ${l.col_sign.length} entries, not one per matrix column (${l.matrix.cols})`);
      for (let q = 0; q < groups.count; q++) {
        const first = groups.members[groups.starts[q]!]!;
        if (l.col_sign[first] !== 1) throw semanticError(file, `${at}/col_sign/${first}`, `layer "${l.name}": column ${first} is the first of physical column ${q}, whose cells hold its weights, so its sign must be +1`);
      }
    }
  } else if (l.col_sign !== undefined) {
    throw semanticError(file, `${at}/col_sign`, `layer "${l.name}": col_sign without col_map`);
  } else if (physCols !== l.matrix.cols && tiles.length > 0) {
    throw semanticError(file, `${at}/tiles`, `layer "${l.name}": its tiles hold ${physCols} columns of its ${l.matrix.cols}-column matrix, and it has no col_map`);
  }
  const input = l.formats.input;
  const steps = Math.ceil((input.bits + ceilLog2(largest)) / input.dac_bits);
  if (input.steps !== steps) {
    throw semanticError(file, `${at}/formats/input/steps`, `layer "${l.name}": ${input.steps} input steps, but ${input.bits}-bit inputs${largest > 1 ? ` summed over up to ${largest} merged rows` : ""} need ${steps} steps of ${input.dac_bits} bit(s)`);
  }
  program.schedule.forEach((op, k) => {
    if ((op.op === "mvm" || op.op === "shift-add") && op.layer === l.name && op.steps !== steps) {
      throw semanticError(file, `/schedule/${k}/steps`, `schedule entry ${k} (${op.op}): ${op.steps} steps for layer "${l.name}", whose inputs need ${steps}`);
    }
  });
}

function checkSchedule(
  program: Program, file: string,
  buffers: ReadonlyMap<string, Program["buffers"][number]>, layers: ReadonlyMap<string, Program["layers"][number]>,
): void {
  const programmed = new Set<number>();
  // the input and constants hold data before the schedule starts
  const written = new Set(program.buffers.filter((b) => b.role === "input" || b.role === "constant").map((b) => b.name));
  program.schedule.forEach((op: ScheduleOp, i) => {
    const at = `/schedule/${i}`;
    const what = `schedule entry ${i} (${op.op})`;
    const buffer = (name: string, field: string): void => {
      if (!buffers.has(name)) throw semanticError(file, `${at}/${field}`, `${what}: ${field} "${name}" names no buffer`);
    };
    const read = (name: string, field: string): void => {
      buffer(name, field);
      if (!written.has(name)) throw semanticError(file, `${at}/${field}`, `${what}: reads buffer "${name}" before anything writes it`);
    };
    const write = (name: string, field: string): void => {
      buffer(name, field);
      written.add(name);
    };
    const layerOf = (name: string): void => {
      if (!layers.has(name)) throw semanticError(file, `${at}/layer`, `${what}: layer "${name}" does not exist`);
    };
    const tileOf = (id: number, layer: string | undefined, field = "tile"): void => {
      const t = program.tiles[id];
      if (!t) throw semanticError(file, `${at}/${field}`, `${what}: tile ${id} does not exist (the program has ${program.tiles.length})`);
      if (layer !== undefined && t.layer !== layer) throw semanticError(file, `${at}/${field}`, `${what}: tile ${id} belongs to layer "${t.layer}", not "${layer}"`);
    };
    switch (op.op) {
      case "program":
        tileOf(op.tile, undefined);
        programmed.add(op.tile);
        break;
      case "quantize":
        layerOf(op.layer);
        read(op.from, "from");
        write(op.to, "to");
        break;
      case "mvm":
        layerOf(op.layer);
        tileOf(op.tile, op.layer);
        if (!programmed.has(op.tile)) throw semanticError(file, `${at}/tile`, `${what}: tile ${op.tile} is read before a program entry writes its cells`);
        read(op.from, "from");
        break;
      case "adc":
      case "shift-add":
      case "truncate":
        layerOf(op.layer);
        tileOf(op.tile, op.layer);
        break;
      case "accumulate":
        layerOf(op.layer);
        op.tiles.forEach((t, k) => tileOf(t, op.layer, `tiles/${k}`));
        write(op.to, "to");
        break;
      case "bias":
        layerOf(op.layer);
        read(op.to, "to");
        break;
      case "move":
        read(op.from, "from");
        write(op.to, "to");
        break;
      default:
        op.inputs.forEach((b, k) => {
          if (b !== null) read(b, `inputs/${k}`);
        });
        op.outputs.forEach((b, k) => write(b, `outputs/${k}`));
    }
  });
  program.outputs.forEach((o, i) => {
    if (!written.has(o)) throw semanticError(file, `/outputs/${i}`, `output "${o}" is never written by the schedule`);
  });
}

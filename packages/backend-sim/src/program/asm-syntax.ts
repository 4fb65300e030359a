/**
 * @fileoverview The program assembly's statement table, shared by the printer and the parser: which keyword starts
 * which part of the program, which field a statement takes positionally, and which fields hold buffer or layer
 * names (printed `%name`). Every other field is written `key=value` with the JSON field's own name.
 */

/** The part of the program document a statement fills. */
export type AsmSection = "header" | "model" | "compile" | "device" | "input" | "outputs" | "buffers" | "layers" | "tiles" | "schedule";

/** How one statement maps onto a JSON object. */
export interface StatementSpec {
  readonly section: AsmSection;
  /** the field written right after the keyword (`tile 3 ...`, `buffer %x ...`); "*" is the whole value (`outputs [...]`) */
  readonly positional?: string;
  /** fields whose strings (or lists of strings) are names, printed %name */
  readonly names: readonly string[];
}

/** The header statement's keyword: it stands for `format: "xbarc-program"`. */
export const HEADER_KEYWORD = "xbarc-program";

/** Schedule operations, by their `op`. */
export const SCHEDULE_OPS = [
  "program", "quantize", "mvm", "adc", "shift-add", "truncate", "accumulate", "bias", "move", "activation", "pool", "reshape", "digital",
] as const;

const scheduleNames = ["layer", "from", "to", "inputs", "outputs"] as const;

/** Every statement keyword. Singletons first, in the order the printer writes them; then the arrays. */
export const STATEMENTS: Readonly<Record<string, StatementSpec>> = {
  [HEADER_KEYWORD]: { section: "header", names: [] },
  model: { section: "model", names: [] },
  compile: { section: "compile", names: [] },
  device: { section: "device", names: [] },
  input: { section: "input", positional: "name", names: ["name"] },
  outputs: { section: "outputs", positional: "*", names: ["*"] },
  buffer: { section: "buffers", positional: "name", names: ["name"] },
  layer: { section: "layers", positional: "name", names: ["name", "input", "output"] },
  tile: { section: "tiles", positional: "id", names: ["layer"] },
  ...Object.fromEntries(SCHEDULE_OPS.map((op) => [op, { section: "schedule", names: scheduleNames } satisfies StatementSpec])),
};

/** Sections that hold one object (a second statement for them is an error). */
export const SINGLE_SECTIONS: ReadonlySet<AsmSection> = new Set(["header", "model", "compile", "device", "input", "outputs"]);

/** A name printed bare after `%` (value and buffer names like /c1/Conv_output_0 or c1.weight); others are %"quoted". */
export const BARE_NAME = /^[A-Za-z0-9_.$:/-]+$/;
/** A string printed without quotes (enum values like offset-column, f32): an identifier that may hold . and - */
export const BARE_WORD = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** A key printed without quotes. */
export const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Words that are values, never bare strings. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(["true", "false", "null"]);

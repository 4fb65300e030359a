/**
 * @fileoverview Pipelines: the default pass order (one readable constant), the pipeline string
 * `canonicalize,prune{budget=0.01},quantize{select="output-error"}` (chevrotain grammar, canonical printer),
 * and building a pipeline: resolving pass names, validating options with ajv, checking requires/provides.
 */
import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from "chevrotain";
import { Ajv, type ValidateFunction } from "ajv";
import { XbarcError, type Location } from "@xbarc/ir";
import type { AnnotationKind, AnyPass, OptionValue, PassOptions } from "./pass.js";
import { getPass, listPasses } from "./registry.js";

/** One step of a pipeline: a pass name and the options written for it (defaults not filled). */
export interface PipelineStep {
  /** the pass's kebab-case name */
  readonly pass: string;
  /** options as written; absent keys take the pass's schema defaults */
  readonly options: PassOptions;
}

/** A step whose pass was found and whose options were validated and filled with defaults. */
export interface ResolvedStep {
  readonly pass: AnyPass;
  /** options as written (what the canonical pipeline string shows) */
  readonly written: PassOptions;
  /** options after ajv filled the defaults (what run() receives) */
  readonly options: PassOptions;
}

/** A pipeline ready to run. */
export interface BuiltPipeline {
  readonly steps: readonly ResolvedStep[];
  /** the canonical pipeline string, as dump headers and reproducers show it */
  readonly text: string;
}

/**
 * The default pipeline, in order. Each step says why it sits where it does.
 * Later stages (prune, quantize, assign-levels, tile, bit-slice, place-truncation) append here.
 */
export const defaultPipeline: readonly PipelineStep[] = [
  // first: every later pass expects hardware-facing ops (conv/linear with constant weights and
  // BatchNorm already folded in), static shapes resolved and no identity/dropout/shape plumbing left
  { pass: "canonicalize", options: {} },
];

/**
 * The pipeline `xbarc compile` runs before emitting a crossbar program, in order, each step saying why it sits where
 * it does. Prune is not in it yet: it goes between canonicalize and quantize once pruning lands.
 */
export const compilePipeline: readonly PipelineStep[] = [
  // hardware-facing ops first: conv/linear with constant weights, BatchNorm folded in, static shapes
  { pass: "canonicalize", options: {} },
  // (prune belongs here, before quantize: the codebook should be fitted to the surviving weights only)
  // bit-sliced crossbars compute on integers: 8-bit fixed-point weights w_int·2^-W_FL (Diware et al., ICCAD 2024, §2.2.1)
  { pass: "quantize", options: { quantizer: "fixed-point", bits: 8 } },
  // cell states need the codes (#quant) and the device's levels; analog layers are programmed from them
  { pass: "assign-levels", options: {} },
  // tile sizes count physical columns, S = ceil(W_WL / cell_bits) per weight column, so W_WL (#quant) comes first
  { pass: "tile", options: {} },
  // slicing follows the tiles: only tiled layers are sliced, and tile sizes already count every slice
  { pass: "bit-slice", options: {} },
  // the window depends on rows per tile (log2 R, eq. 4) and on the formats bit-slice recorded; it may re-slice a layer
  { pass: "place-truncation", options: {} },
];

// ---------------------------------------------------------------------------------------------
// Grammar. Tokens are ordered: keywords before the identifier they would otherwise match.

const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /\s+/, group: Lexer.SKIPPED });
const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_-]*/, label: "a pass or option name" });
const True = createToken({ name: "True", pattern: /true/, longer_alt: Identifier });
const False = createToken({ name: "False", pattern: /false/, longer_alt: Identifier });
const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/, label: "a number" });
const StringLiteral = createToken({ name: "StringLiteral", label: 'a "string"', pattern: /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/ });
const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });
const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });
const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "'{'" });
const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "'}'" });
const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "'['" });
const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "']'" });

const allTokens: TokenType[] = [
  WhiteSpace, True, False, Identifier, NumberLiteral, StringLiteral, Comma, Equals, LBrace, RBrace, LBracket, RBracket,
];
const pipelineLexer = new Lexer(allTokens, { positionTracking: "onlyOffset", ensureOptimizations: false });

/** A parsed step with the offsets of its pieces, so later checks can point at the right column. */
interface ParsedStep {
  pass: string;
  passToken: IToken;
  options: { key: string; keyToken: IToken; value: OptionValue }[];
}

class PipelineParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { recoveryEnabled: false });
    this.performSelfAnalysis();
  }

  readonly pipeline = this.RULE("pipeline", (): ParsedStep[] => {
    const steps: ParsedStep[] = [];
    this.OPTION(() => {
      steps.push(this.SUBRULE(this.step));
      this.MANY(() => {
        this.CONSUME(Comma);
        steps.push(this.SUBRULE2(this.step));
      });
    });
    return steps;
  });

  private readonly step = this.RULE("step", (): ParsedStep => {
    const passToken = this.CONSUME(Identifier);
    const options: ParsedStep["options"] = [];
    this.OPTION(() => {
      this.CONSUME(LBrace);
      this.MANY_SEP({
        SEP: Comma,
        DEF: () => {
          const keyToken = this.CONSUME2(Identifier);
          this.CONSUME(Equals);
          const value = this.SUBRULE(this.value);
          options.push({ key: keyToken.image, keyToken, value });
        },
      });
      this.CONSUME(RBrace);
    });
    return { pass: passToken.image, passToken, options };
  });

  private readonly value = this.RULE("value", (): OptionValue => {
    return this.OR([
      {
        ALT: () => {
          const image = this.CONSUME(NumberLiteral).image;
          return this.ACTION(() => Number(image));
        },
      },
      {
        ALT: () => {
          const image = this.CONSUME(StringLiteral).image;
          // semantic actions must not run while chevrotain records the grammar
          return this.ACTION(() => JSON.parse(image) as string);
        },
      },
      { ALT: () => (this.CONSUME(True), true) },
      { ALT: () => (this.CONSUME(False), false) },
      // bare words are strings: `select=output-error` reads like `select="output-error"`
      { ALT: () => this.CONSUME3(Identifier).image },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  private readonly list = this.RULE("list", (): OptionValue[] => {
    const items: OptionValue[] = [];
    this.CONSUME(LBracket);
    this.MANY_SEP({ SEP: Comma, DEF: () => items.push(this.SUBRULE(this.value)) });
    this.CONSUME(RBracket);
    return items;
  });
}

const parser = new PipelineParser();

function textLocation(text: string, offset: number, length = 1): Location {
  return { kind: "text", file: "<pipeline>", line: 1, column: offset + 1, length: Math.max(1, length), source: text };
}

function knownPassNames(): string {
  return listPasses().map((p) => p.name).join(", ") || "(none)";
}

function parseSteps(text: string): ParsedStep[] {
  const lexed = pipelineLexer.tokenize(text);
  if (lexed.errors.length > 0) {
    const e = lexed.errors[0]!;
    throw new XbarcError("XB5001", `pipeline string: unexpected character ${JSON.stringify(text.substr(e.offset, 1))} at column ${e.offset + 1}`, {
      location: textLocation(text, e.offset, e.length),
      hint: 'write passes as name{key=value,...} separated by commas, e.g. canonicalize,prune{budget=0.01}; quote strings with "',
    });
  }
  parser.input = lexed.tokens;
  const steps = parser.pipeline();
  if (parser.errors.length > 0) {
    const e = parser.errors[0]!;
    const tok = e.token;
    const offset = Number.isFinite(tok.startOffset) ? tok.startOffset : text.length;
    const found = tok.image ? `"${tok.image}"` : "the end of the string";
    throw new XbarcError("XB5001", `pipeline string: unexpected ${found} at column ${offset + 1}`, {
      location: textLocation(text, offset, tok.image?.length ?? 1),
      notes: [e.message],
      hint: 'write passes as name{key=value,...} separated by commas, e.g. canonicalize,prune{budget=0.01}; values are numbers, "strings", true/false or [lists]',
    });
  }
  return steps;
}

/** A step as written, with the offsets of the pass name and each option key in the pipeline string. */
interface LocatedStep {
  step: PipelineStep;
  offset?: number;
  optionOffsets?: Map<string, number>;
}

function parseLocatedSteps(text: string): LocatedStep[] {
  return parseSteps(text).map((s) => {
    const options: PassOptions = {};
    const optionOffsets = new Map<string, number>();
    for (const o of s.options) {
      if (Object.prototype.hasOwnProperty.call(options, o.key)) {
        throw new XbarcError("XB5002", `pass "${s.pass}": option "${o.key}" is given twice`, {
          location: textLocation(text, o.keyToken.startOffset, o.key.length),
          hint: "give each option once",
        });
      }
      options[o.key] = o.value;
      optionOffsets.set(o.key, o.keyToken.startOffset);
    }
    return { step: { pass: s.pass, options }, offset: s.passToken.startOffset, optionOffsets };
  });
}

/** Parses a pipeline string into steps (no pass lookup). Throws XB5001 with a column on a syntax error, XB5002 on a repeated option. */
export function parsePipeline(text: string): PipelineStep[] {
  return parseLocatedSteps(text).map((s) => s.step);
}

function printValue(v: OptionValue): string {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new XbarcError("XB5002", `option value ${v} cannot be written in a pipeline string`);
    return String(v); // shortest decimal that reads back to the same double
  }
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return `[${v.map(printValue).join(",")}]`;
}

/**
 * The canonical pipeline string: no spaces, strings quoted, options in the order the pass's schema
 * declares them (then any others in written order). parsePipeline(printPipeline(s)) equals s.
 */
export function printPipeline(steps: readonly PipelineStep[]): string {
  return steps
    .map((s) => {
      const keys = Object.keys(s.options);
      if (keys.length === 0) return s.pass;
      const declared = Object.keys((getPass(s.pass)?.options as { properties?: object } | undefined)?.properties ?? {});
      const ordered = [...declared.filter((k) => keys.includes(k)), ...keys.filter((k) => !declared.includes(k))];
      return `${s.pass}{${ordered.map((k) => `${k}=${printValue(s.options[k]!)}`).join(",")}}`;
    })
    .join(",");
}

// ---------------------------------------------------------------------------------------------
// Options: ajv validates and fills defaults, once per pass schema.

const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true });
const validators = new WeakMap<object, ValidateFunction>();

function validatorFor(pass: AnyPass): ValidateFunction {
  let v = validators.get(pass.options);
  if (!v) {
    v = ajv.compile(pass.options);
    validators.set(pass.options, v);
  }
  return v;
}

/**
 * Validates `written` against the pass's option schema and returns a copy with defaults filled.
 * Throws XB5002 naming the pass and the option (unknown option, wrong type, out of range).
 */
export function resolveOptions(
  pass: AnyPass,
  written: PassOptions,
  locate: (option?: string) => Location | undefined = () => undefined,
): PassOptions {
  const declared = (pass.options as { properties?: Record<string, unknown> }).properties ?? {};
  for (const key of Object.keys(written)) {
    if (!Object.prototype.hasOwnProperty.call(declared, key)) {
      const known = Object.keys(declared);
      throw new XbarcError("XB5002", `pass "${pass.name}" has no option "${key}"`, {
        location: locate(key),
        hint: known.length ? `options of ${pass.name}: ${known.join(", ")}` : `${pass.name} takes no options`,
      });
    }
  }
  const filled = structuredClone(written) as PassOptions;
  const validate = validatorFor(pass);
  if (!validate(filled)) {
    const e = validate.errors![0]!;
    const option = e.instancePath.split("/")[1] ?? (e.params as { missingProperty?: string }).missingProperty ?? "";
    const schema = (declared[option] ?? {}) as { description?: string };
    throw new XbarcError("XB5002", `pass "${pass.name}": option "${option}"${e.instancePath.slice(option.length + 1)} ${e.message ?? "is invalid"}`, {
      location: locate(option || undefined),
      hint: schema.description ? `${option}: ${schema.description}` : `see \`xbarc passes ${pass.name}\``,
    });
  }
  return filled;
}

// ---------------------------------------------------------------------------------------------
// Building: look passes up, fill options, check annotation order.

/**
 * Resolves a pipeline (a string or steps) against the registry: unknown pass → XB5001 listing the
 * known ones; bad option → XB5002; a pass whose `requires` nothing earlier `provides` (and the input
 * module does not already carry, see `available`) → XB5001, before anything runs.
 */
export function buildPipeline(pipeline: string | readonly PipelineStep[], available: Iterable<AnnotationKind> = []): BuiltPipeline {
  const text = typeof pipeline === "string" ? pipeline : undefined;
  const parsed: LocatedStep[] =
    text === undefined ? (pipeline as readonly PipelineStep[]).map((step) => ({ step })) : parseLocatedSteps(text);

  const have = new Set<AnnotationKind>(available);
  const steps: ResolvedStep[] = [];
  for (const { step, offset, optionOffsets } of parsed) {
    const at = (o: number | undefined, len: number): Location | undefined =>
      text !== undefined && o !== undefined ? textLocation(text, o, len) : undefined;
    const pass = getPass(step.pass);
    if (!pass) {
      throw new XbarcError("XB5001", `unknown pass "${step.pass}"`, {
        location: at(offset, step.pass.length),
        hint: `known passes: ${knownPassNames()}`,
      });
    }
    const options = resolveOptions(pass, step.options, (option) => {
      const o = option === undefined ? undefined : optionOffsets?.get(option);
      return o === undefined ? at(offset, step.pass.length) : at(o, option!.length);
    });
    for (const kind of pass.requires) {
      if (!have.has(kind)) {
        const providers = listPasses().filter((p) => p.provides.includes(kind)).map((p) => p.name);
        throw new XbarcError("XB5001", `pass "${pass.name}" needs #${kind} annotations, but no earlier pass in the pipeline provides them`, {
          location: at(offset, step.pass.length),
          hint: providers.length
            ? `put ${providers.join(" or ")} before ${pass.name}`
            : `no registered pass provides #${kind}; the input module must already carry it`,
        });
      }
    }
    for (const kind of pass.provides) have.add(kind);
    steps.push({ pass, written: step.options, options });
  }
  return { steps, text: printPipeline(steps.map((s) => ({ pass: s.pass.name, options: s.written }))) };
}

/** @fileoverview Shared command-line options and their value parsers (declared once, used by every command). */
import { InvalidArgumentError, Option } from "commander";
import { listPasses } from "@xbarc/passes";
import { parseVariation, type VariationOverride } from "./config.js";

/** Parses a whole number ≥ `min` (commander reports a bad value as a usage error, exit 2). */
export function parseInteger(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${value}" is not a whole number.`);
    if (n < min) throw new InvalidArgumentError(`must be at least ${min}, got ${n}.`);
    return n;
  };
}

/** Parses a finite number; fractions like `1/255` are accepted because preprocessing constants are written that way. */
export function parseNumber(value: string): number {
  const fraction = /^\s*([+-]?[\d.eE+-]+)\s*\/\s*([\d.eE+-]+)\s*$/.exec(value);
  const n = fraction ? Number(fraction[1]) / Number(fraction[2]) : value.trim() === "" ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
}

/** Parses a non-zero number (a divisor). */
export function parseNonZero(value: string): number {
  const n = parseNumber(value);
  if (n === 0) throw new InvalidArgumentError("must not be 0 (it divides).");
  return n;
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--json`: one JSON document on stdout; errors as `{error: {...}}` JSON on stderr. */
export function jsonOption(): Option {
  return new Option("--json", "print one JSON document on stdout instead of text (errors as JSON on stderr)");
}

/** `--batch N`: the size given to the ONNX model's symbolic batch dimension. */
export function batchOption(fallback?: string): Option {
  return new Option("--batch <n>", `batch size for a model whose first input dimension is symbolic (N)${fallback ? `; default: ${fallback}` : ""}`).argParser(parseInteger(1));
}

/** `--weights FILE`: the IR weights side file (written by import/opt, read for .xir inputs). */
export function weightsReadOption(): Option {
  return new Option("--weights <file>", "weights side file of an .xir input (needed when its constants say weights(...) and their data is used)");
}

/** `-o, --output FILE`. */
export function outputOption(what: string): Option {
  return new Option("-o, --output <file>", `write ${what} to this file instead of stdout (written whole or not at all)`);
}

/** `--seed N`: the run's seed; each pass derives its own random stream from it. */
export function seedOption(): Option {
  return new Option("--seed <n>", "seed of the run; a pass's random stream derives from it and the pass name").argParser(parseInteger(0)).default(0);
}

/** `--device <name|file>`: a built-in device profile or a profile JSON file (declared once for opt, eval-weights, ...). */
export function deviceOption(): Option {
  return new Option("--device <name|file>", "the device: a built-in profile (see `xbarc devices`) or a device profile JSON file, which may extend a built-in");
}

/** Parses `none`, `lognormal:0.5`, `gaussian:0.1`, `truncated-gaussian:0.1[:bound]` (a usage error otherwise). */
export function parseVariationArg(value: string): VariationOverride {
  try {
    return parseVariation(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** `--variation <model:sigma>`: replaces the device profile's variation model and σ. */
export function variationOption(): Option {
  return new Option("--variation <model:sigma>", "replace the device's variation: none, lognormal:<σ> (g·e^θ, θ~N(0,σ)), gaussian:<σ> or truncated-gaussian:<σ>[:<bound in σ>] (σ a fraction of the level); level_sigma is dropped, stuck-at rates stay").argParser(parseVariationArg);
}

/** `--config <file.json>`: settings file; flags on the command line take precedence over it. */
export function configOption(): Option {
  return new Option("--config <file.json>", "settings file (device, variation, quantizer, metric, bits, candidates, layers, calibration, mc, seed); command-line flags take precedence over it, it over the built-in defaults");
}

/** `--scale <s>`: first step of the preprocessing x' = (x·scale − mean)/std; `pixelNote` says what a raw pixel holds. */
export function scaleOption(pixelNote = ""): Option {
  return new Option("--scale <s>", `preprocessing x' = (x·scale − mean)/std: multiply the raw pixel${pixelNote} by this first; fractions like 1/255 are accepted`).argParser(parseNumber).default(1 / 255, "1/255");
}

/** `--mean <m>`: subtracted after scaling. */
export function meanOption(): Option {
  return new Option("--mean <m>", "subtracted after scaling").argParser(parseNumber).default(0);
}

/** `--std <d>`: divides last (never 0). */
export function stdOption(): Option {
  return new Option("--std <d>", "divides last").argParser(parseNonZero).default(1);
}

/** The parsed flags that eval-float and eval-weights share: the evaluated images, their preprocessing, the weights file. */
export interface EvalImageFlags {
  images: string;
  labels: string;
  offset: number;
  limit?: number;
  batchSize: number;
  scale: number;
  mean: number;
  std: number;
  weights?: string;
}

/** Those flags as the evaluation APIs' options (a flag the user left out stays absent, so the API default applies). */
export function evalImageSettings(opts: EvalImageFlags): {
  images: string; labels: string; offset: number; limit?: number; batchSize: number;
  preprocessing: { scale: number; mean: number; std: number }; weights?: string;
} {
  return {
    images: opts.images,
    labels: opts.labels,
    offset: opts.offset,
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    batchSize: opts.batchSize,
    preprocessing: { scale: opts.scale, mean: opts.mean, std: opts.std },
    ...(opts.weights !== undefined ? { weights: opts.weights } : {}),
  };
}

/** `all`, `changed`, `failure`, or a comma list of pass names (and `import`, `failure`). */
export function parseDumpAfter(value: string): "all" | "changed" | "failure" | string[] {
  if (value === "all" || value === "changed" || value === "failure") return value;
  const names = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const known = new Set(["import", "failure", ...listPasses().map((p) => p.name)]);
  const unknown = names.filter((n) => !known.has(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`unknown pass ${unknown.map((n) => `"${n}"`).join(", ") || "(empty list)"}; use all, changed, failure or pass names among: ${[...known].join(", ")}.`);
  }
  return names;
}

/**
 * @fileoverview Run configuration: the `--config` JSON file (schema checked with ajv, errors with the JSON pointer),
 * device resolution (`--device <name|file>`), the `--variation model:sigma` override, and the precedence
 * CLI flag > config file > built-in default.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Ajv } from "ajv";
import {
  getBuiltinProfile, listBuiltinProfiles, resolveDeviceProfile, XbarcError,
  type DeviceProfile, type VariationSpec,
} from "@xbarc/ir";

/** Quantizer selection metrics (the quantize pass's `metric` option). */
export const QUANTIZE_METRICS = ["weight-mse", "variation", "output-error"] as const;

/** A calibration slice of a labelled image file. */
export interface CalibrationConfig {
  /** image file (IDX, .npy or CSV); relative paths in a config file are relative to that file */
  images: string;
  /** label file */
  labels: string;
  /** first image (default 0) */
  offset?: number;
  /** how many images (default DEFAULT_CALIBRATION_LIMIT) */
  limit?: number;
}

/** What a `--config` file may set. Every field is optional; command-line flags override it. */
export interface XbarcConfig {
  /** a built-in profile name or a profile file (relative to the config file) */
  device?: string;
  /** `model:sigma` (e.g. "lognormal:0.5") or "none": replaces the device's variation */
  variation?: string;
  /** `auto` or a quantizer name, for every layer without an override */
  quantizer?: string;
  /** how `auto` scores candidates */
  metric?: (typeof QUANTIZE_METRICS)[number];
  /** codebook bits for quantizers that choose their size (kmeans, spectral, fixed-point) */
  bits?: number;
  /** the quantizers `auto` chooses among */
  candidates?: string[];
  /** per-layer quantizer: layer name → quantizer name */
  layers?: Record<string, string>;
  /** calibration images for the output-error metric */
  calibration?: CalibrationConfig;
  /** Monte Carlo runs */
  mc?: number;
  /** seed of the run */
  seed?: number;
}

/** The published schema of a config file (`$schema` may name it). */
export const CONFIG_SCHEMA = {
  $id: "https://xbarc.dev/schemas/config.schema.json",
  title: "xbarc run configuration",
  description: "Settings for eval-weights (and later compile): device, quantization and calibration. Command-line flags override every field.",
  type: "object",
  additionalProperties: false,
  properties: {
    $schema: { type: "string" },
    device: { type: "string", minLength: 1, description: "built-in profile name, or a device profile JSON file relative to this file" },
    variation: { type: "string", pattern: "^(none|(lognormal|gaussian|truncated-gaussian):[^:]+(:[^:]+)?)$", description: "model:sigma[:truncate] or none; replaces the device's variation" },
    quantizer: { type: "string", minLength: 1, description: "auto, or a quantizer name (see `xbarc passes quantize`)" },
    metric: { enum: [...QUANTIZE_METRICS], description: "how auto scores candidate quantizers" },
    bits: { type: "integer", minimum: 1, maximum: 16, description: "codebook bits for kmeans, spectral and fixed-point" },
    candidates: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, description: "quantizers auto chooses among" },
    layers: { type: "object", additionalProperties: { type: "string", minLength: 1 }, description: "layer name → quantizer name" },
    calibration: {
      type: "object",
      additionalProperties: false,
      required: ["images", "labels"],
      properties: {
        images: { type: "string", minLength: 1 },
        labels: { type: "string", minLength: 1 },
        offset: { type: "integer", minimum: 0 },
        limit: { type: "integer", minimum: 1 },
      },
    },
    mc: { type: "integer", minimum: 1, description: "Monte Carlo runs" },
    seed: { type: "integer", minimum: 0, description: "seed of the run" },
  },
} as const;

const validateConfig = new Ajv({ allErrors: true, strict: false }).compile(CONFIG_SCHEMA);

function configError(file: string, pointer: string, message: string, hint?: string): XbarcError {
  return new XbarcError("XB4001", `${pointer || "/"} ${message}`, {
    location: { kind: "json", file, pointer, schema: "config.schema.json" },
    ...(hint !== undefined ? { hint } : {}),
  });
}

function readJsonFile(path: string, what: string, schema: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    throw new XbarcError("XB4001", `cannot read the ${what} ${path}: ${errno === "ENOENT" ? "no such file" : errno === "EISDIR" ? "it is a directory" : (e as Error).message}`, {
      location: { kind: "json", file: path, pointer: "", schema }, hint: `check the path of the ${what}`, cause: e,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new XbarcError("XB4001", `/ is not valid JSON: ${(e as Error).message}`, {
      location: { kind: "json", file: path, pointer: "", schema }, hint: `fix the JSON syntax of the ${what}`, cause: e,
    });
  }
}

/**
 * Reads and checks a config file. Errors are XB4001 naming the file and the JSON pointer of the offending field;
 * relative paths inside (device file, calibration images) are made relative to the config file's directory.
 */
export function loadConfig(path: string): XbarcConfig {
  const doc = readJsonFile(path, "config file", "config.schema.json");
  if (!validateConfig(doc)) {
    // the deepest error is the most specific one
    const e = [...validateConfig.errors!].sort((a, b) => b.instancePath.length - a.instancePath.length)[0]!;
    const detail = e.keyword === "additionalProperties" ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
      : e.keyword === "enum" ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}`
      : e.keyword === "pattern" ? ' (write "model:sigma", e.g. "lognormal:0.5", or "none")' : "";
    throw configError(path, e.instancePath, `${e.message ?? "is invalid"}${detail}`, "see CONFIG_SCHEMA (config.schema.json) for the fields a config file may hold");
  }
  const config = doc as XbarcConfig & { $schema?: string };
  delete config.$schema;
  const base = dirname(path);
  if (config.variation !== undefined) {
    try {
      parseVariation(config.variation);
    } catch (e) {
      throw configError(path, "/variation", (e as Error).message);
    }
  }
  if (config.device !== undefined && getBuiltinProfile(config.device) === undefined) config.device = resolve(base, config.device);
  if (config.calibration) {
    config.calibration.images = resolve(base, config.calibration.images);
    config.calibration.labels = resolve(base, config.calibration.labels);
  }
  return config;
}

/**
 * Resolves `--device`: a built-in profile name, else a JSON profile file (which may `extends` a built-in).
 * A bad file is XB4001 with its JSON pointer; a name that is neither is XB7001 listing the built-ins.
 */
export function loadDeviceProfile(spec: string): DeviceProfile {
  const builtin = getBuiltinProfile(spec);
  if (builtin) return builtin;
  if (!existsSync(spec) || !statSync(spec).isFile()) {
    throw new XbarcError("XB7001", `--device ${spec}: no built-in profile has this name and no such file exists`, {
      hint: `built-in profiles: ${listBuiltinProfiles().map((p) => p.name).join(", ")} (see \`xbarc devices\`), or a device profile JSON file`,
    });
  }
  return resolveDeviceProfile(readJsonFile(spec, "device profile", "device-profile.schema.json"), spec);
}

/** A `--variation` override: replaces the profile's variation model and σ. */
export interface VariationOverride {
  model: VariationSpec["model"];
  sigma: number;
  /** truncated-gaussian only: the bound in σ */
  truncate?: number;
}

/**
 * Parses `none`, `lognormal:0.5`, `gaussian:0.1` or `truncated-gaussian:0.1[:1]` (σ, then the truncation bound in σ).
 * Throws an Error saying what is expected.
 */
export function parseVariation(text: string): VariationOverride {
  const parts = text.trim().split(":");
  const model = parts[0] as VariationSpec["model"];
  if (model === "none" && parts.length === 1) return { model: "none", sigma: 0 };
  const models = ["lognormal", "gaussian", "truncated-gaussian"];
  if (!models.includes(model) || parts.length < 2 || parts.length > (model === "truncated-gaussian" ? 3 : 2)) {
    throw new Error(`"${text}" is not a variation: write none, lognormal:<sigma>, gaussian:<sigma> or truncated-gaussian:<sigma>[:<bound in sigma>]`);
  }
  const sigma = Number(parts[1]);
  if (parts[1]!.trim() === "" || !Number.isFinite(sigma) || sigma < 0) throw new Error(`"${text}": sigma must be a number ≥ 0, found "${parts[1]}"`);
  if (parts.length === 3) {
    const truncate = Number(parts[2]);
    if (parts[2]!.trim() === "" || !Number.isFinite(truncate) || truncate <= 0) throw new Error(`"${text}": the truncation bound must be a number > 0, found "${parts[2]}"`);
    return { model, sigma, truncate };
  }
  return { model, sigma };
}

/** Short form of a variation spec, e.g. "lognormal σ=0.5" or "none". */
export function formatVariation(v: VariationSpec): string {
  if (v.model === "none" || (v.sigma === 0 && !v.level_sigma)) {
    const faults = v.stuck_at_on > 0 || v.stuck_at_off > 0 ? ` (stuck-at on ${v.stuck_at_on}, off ${v.stuck_at_off})` : "";
    return `none${faults}`;
  }
  const sigma = v.level_sigma ? `σ per level [${v.level_sigma.join(",")}]` : `σ=${v.sigma}`;
  const bound = v.model === "truncated-gaussian" && v.truncate !== undefined ? ` cut at ±${v.truncate}σ` : "";
  const faults = v.stuck_at_on > 0 || v.stuck_at_off > 0 ? `, stuck-at on ${v.stuck_at_on} off ${v.stuck_at_off}` : "";
  return `${v.model} ${sigma}${bound}${faults}`;
}

/**
 * The profile with its variation model and σ replaced (level_sigma dropped: one σ now holds for every level).
 * Stuck-at rates and read noise stay as the profile says.
 */
export function withVariation(profile: DeviceProfile, v: VariationOverride): DeviceProfile {
  const { level_sigma: _dropped, truncate: oldTruncate, ...rest } = profile.variation;
  const truncate = v.truncate ?? (v.model === "truncated-gaussian" ? oldTruncate : undefined);
  return {
    ...profile,
    variation: { ...rest, model: v.model, sigma: v.sigma, ...(truncate !== undefined ? { truncate } : {}) },
  };
}

/**
 * Picks each setting by precedence: a flag given on the command line, else the config file's value, else the
 * built-in default. `fromCli` holds only the flags the user actually typed.
 */
export function pickSetting<T>(fromCli: T | undefined, fromConfig: T | undefined, fallback: T): T;
export function pickSetting<T>(fromCli: T | undefined, fromConfig: T | undefined): T | undefined;
export function pickSetting<T>(fromCli: T | undefined, fromConfig: T | undefined, fallback?: T): T | undefined {
  return fromCli !== undefined ? fromCli : fromConfig !== undefined ? fromConfig : fallback;
}

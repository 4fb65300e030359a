/** @fileoverview The Pass interface (data + one run function) and what a pass sees while it runs: rng, diagnostics, stats. */
import type { JSONSchemaType } from "ajv";
import type { DeviceProfile, DiagnosticCode, Location, Module, Rng, Tensor } from "@xbarc/ir";

/** An annotation kind such as "quant" (written `#quant{...}` in the IR text). */
export type AnnotationKind = string;

/** A value an option may take in a pipeline string: `budget=0.01`, `select="output-error"`, `xbar=[128,128]`. */
export type OptionValue = number | string | boolean | readonly OptionValue[];

/** Options of one pass as plain data, before or after ajv filled the defaults. */
export type PassOptions = Record<string, OptionValue>;

/**
 * A pass, declared as data plus one function (MLIR's `.td` record). Its options arrive as arguments;
 * a pass never reads files, globals or the environment.
 */
export interface Pass<Options = PassOptions> {
  /** kebab-case; used on the CLI, in pipeline strings and in dump file names */
  readonly name: string;
  /** one line, shown by `xbarc passes` */
  readonly summary: string;
  /** why and when, with a small before/after IR example (like MLIR pass descriptions) */
  readonly description: string;
  /** JSON schema (type "object") with a default for every property; ajv validates and fills options before run() */
  readonly options: JSONSchemaType<Options>;
  /** annotation kinds this pass reads; an earlier pass (or the input module) must provide them */
  readonly requires: readonly AnnotationKind[];
  /** annotation kinds this pass writes */
  readonly provides: readonly AnnotationKind[];
  /** Transforms `module` in place; `changed` must be false only when the printed IR is unchanged. */
  run(module: Module, options: Options, ctx: PassContext): PassResult;
}

/**
 * A pass with its option type erased, as the registry and pipelines hold it. Sound because run() only ever
 * receives options that the pass's own schema validated and filled.
 */
export interface AnyPass {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  /** the pass's JSON schema for its options */
  readonly options: object;
  readonly requires: readonly AnnotationKind[];
  readonly provides: readonly AnnotationKind[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  run(module: Module, options: any, ctx: PassContext): PassResult;
}

/** What run() reports back to the manager. */
export interface PassResult {
  /** false promises the manager that the module prints exactly as before (checked in tests) */
  changed: boolean;
}

/**
 * What a pass sees besides the module. Later stages add optional fields here (device profile,
 * calibration set); a pass must not rely on anything that is not in this object.
 */
export interface PassContext {
  /** the pass's own random stream, derived from the run's seed and the pass name: stable per pass */
  readonly rng: Rng;
  /** warnings and remarks; errors are thrown as XbarcError */
  readonly diag: DiagnosticSink;
  /** MLIR-style named counters ("folded-constants": 3), printed by `--stats` */
  readonly stats: PassStats;
  /** the run's seed (already folded into `rng`; recorded so reports can name it) */
  readonly seed: number;
  /** the target device, already schema-checked; passes that need one throw XB5003 when it is absent */
  readonly device?: DeviceProfile;
  /** labelled calibration inputs, already fitted to the model's input; never the evaluation set */
  readonly calibration?: CalibrationSet;
}

/** Calibration data handed to passes (the CLI reads and fits the files; a pass never reads one). */
export interface CalibrationSet {
  /** what the images are, for annotations and reports (e.g. "t10k[0:256]") */
  readonly name: string;
  /** batches of model inputs, each mapping input name → tensor */
  readonly batches: readonly ReadonlyMap<string, Tensor>[];
  /** one label per image, in batch order (padding excluded) */
  readonly labels: Int32Array;
  /** images per batch actually used (the last batch may be padded) */
  readonly counts: readonly number[];
}

/** A warning or remark emitted by a pass. */
export interface Diagnostic {
  /** "warning" for something the user should look at, "remark" for information */
  readonly severity: "warning" | "remark";
  /** the pass that emitted it (filled by the manager) */
  readonly pass: string;
  readonly message: string;
  readonly code?: DiagnosticCode;
  readonly location?: Location;
  readonly hint?: string;
}

/** Collects warnings and remarks, dropping exact duplicates at the same location (as AssemblyScript does). */
export class DiagnosticSink {
  /** everything emitted so far, in order */
  readonly items: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly passName: string) {}

  /** Something the user should look at; compilation continues. */
  warn(message: string, init: { code?: DiagnosticCode; location?: Location; hint?: string } = {}): void {
    this.push({ severity: "warning", pass: this.passName, message, ...init });
  }

  /** Information about a decision the pass took. */
  remark(message: string, init: { code?: DiagnosticCode; location?: Location; hint?: string } = {}): void {
    this.push({ severity: "remark", pass: this.passName, message, ...init });
  }

  private push(d: Diagnostic): void {
    const key = JSON.stringify([d.severity, d.code, d.message, d.location]);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(d);
  }
}

/** Named counters of one pass run. */
export class PassStats {
  private readonly counts = new Map<string, number>();

  /** Adds `by` (default 1) to the counter `name` (kebab-case, e.g. "folded-constants"). */
  add(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  /** The counter's value, 0 when never incremented. */
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** All counters, in the order they were first incremented. */
  toRecord(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** The seeded random streams live in @xbarc/ir (backend-sim samples device variation with them); re-exported here unchanged. */
export { createRng, Rng } from "@xbarc/ir";

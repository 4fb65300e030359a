/**
 * @fileoverview `xbarc compile`: an ONNX model (or .xir) through the compile pipeline for a device, then emitted as a
 * crossbar program (.xbar.json, optionally also .xasm), with the resource summary. `compileModel` is the API behind it.
 */
import { basename, resolve as resolvePath } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { XbarcError, type DeviceProfile, type Module, type Tensor } from "@xbarc/ir";
import {
  applyPruneMasks, compareCrossbars, compilePipeline, copyModule, countCrossbars, countCalibrationCorrect, getCrossbarCount, getTruncationEvaluator,
  printPipeline, registerTruncationEvaluator, runPipeline, DEFAULT_PRUNE_BUDGET, MERGE_MODES, PRUNE_RULES,
  type CalibrationSet, type MergeMode, type CrossbarComparison, type PipelineStep, type PipelineStepResult, type PassOptions, type PruneRule,
} from "@xbarc/passes";
import {
  checkProgramInputs, createTruncationEvaluator, emitProgram, fitImages, formatProgramSummary, getInputFit, loadImageSet, loadLabels, printProgramAsm, printProgramJson, summarizeProgram,
  type Preprocessing, type Program, type ProgramSummary,
} from "@xbarc/backend-sim";
import { loadModel, runPasses } from "../api.js";
import { loadConfig, loadDeviceProfile, parseVariation, pickSetting, withVariation, type CalibrationConfig, type VariationOverride, type XbarcConfig } from "../config.js";
import type { CliContext } from "../context.js";
import {
  batchOption, configOption, deviceOption, jsonOption, meanOption, parseInteger, scaleOption, seedOption, stdOption, variationOption, weightsReadOption,
  parseDumpAfter, parseNumber,
} from "../options.js";
import { dumpWriter, printJson, writeOutputs } from "../output.js";

/** Calibration images taken when --calib-images is given without --calib-limit. */
export const DEFAULT_COMPILE_CALIBRATION_LIMIT = 256;

/** Options of compileModel (already merged: command line > config file > defaults). */
export interface CompileModelOptions {
  /** an .onnx model or an .xir file */
  model: string;
  /** weights side file of an .xir model */
  weights?: string;
  /** a built-in profile name, a profile file, or a resolved profile */
  device: string | DeviceProfile;
  /** replaces the device's variation (used by place-truncation's Algorithm 1 hardware accuracy) */
  variation?: VariationOverride;
  /** a pipeline string replacing the compile pipeline (quantizer settings below are then ignored) */
  pipeline?: string;
  /** quantize options over the compile pipeline's fixed-point 8-bit default */
  quantizer?: string;
  bits?: number;
  metric?: string;
  candidates?: string[];
  layers?: Record<string, string>;
  /** calibration images for quantize's output-error metric and place-truncation's Algorithm 1 */
  calibration?: CalibrationConfig;
  /** x' = (x·scale − mean)/std, recorded in the program; defaults scale 1/255, mean 0, std 1 */
  preprocessing?: Partial<Preprocessing>;
  /** the run's seed (default 0) */
  seed?: number;
  /** size of a symbolic batch dimension (default 1): images per program run */
  batch?: number;
  /** per-pass snapshots, as `xbarc opt` writes them */
  dumpAfter?: "all" | "changed" | "failure" | string[];
  onDump?: (fileName: string, text: string) => void;
  /** insert prune{...} between canonicalize and quantize and report crossbars and accuracy before/after */
  prune?: PruneSettings;
  /** held-back evaluation images for the prune report (must not overlap the calibration images) */
  evaluation?: CalibrationConfig;
  /** the tile pass's compaction and merging of rows and columns (tile{merge=...}); default: the pass's, or "zeros" with prune */
  merge?: MergeMode;
}

/** What `--prune` asks for. */
export interface PruneSettings {
  rule: PruneRule;
  /** accuracy points on the calibration set; default: 1 for sensitivity and crossbar, none for magnitude */
  budget?: number;
  /** magnitude: fraction of each layer's weights set to 0 */
  sparsity?: number;
  /** progressive rules: sparsity added per step */
  step?: number;
}

/** Float-model top-1 accuracy before and after pruning on one image set. */
export interface AccuracyChange {
  before: number;
  after: number;
  /** images evaluated */
  images: number;
}

/** The prune report of `xbarc compile --prune` (`prune` in --json). */
export interface PruneReport {
  rule: PruneRule;
  /** the budget used (accuracy points), or null (magnitude without one) */
  budget: number | null;
  /** the calibration set the pass saw, e.g. "t10k-images-idx3-ubyte.gz[0:1000]", or null */
  calibration: string | null;
  /** the held-back evaluation set (never seen by the pass), when given */
  evaluation?: string;
  /** crossbar units of the compiled program vs the same compile without prune, total and per layer */
  crossbars: CrossbarComparison;
  /** float-model accuracy (reference interpreter) before and after pruning */
  accuracy: { calibration?: AccuracyChange; evaluation?: AccuracyChange };
}

/** What compileModel produced. */
export interface CompileModelResult {
  program: Program;
  summary: ProgramSummary;
  /** the canonical pipeline string that ran */
  pipeline: string;
  steps: PipelineStepResult[];
  /** what the user should know about this compile (a pass left out, an assumed input range) */
  notes: string[];
  /** with `prune`: crossbars and accuracy before/after */
  prune?: PruneReport;
}

/** The compile pipeline with the caller's quantize settings and the input range of the preprocessing. */
function buildCompileSteps(options: CompileModelOptions, preprocessing: Preprocessing, notes: string[]): PipelineStep[] {
  const steps: PipelineStep[] = [];
  for (const step of compilePipeline) {
    const opts: Record<string, unknown> = { ...step.options };
    if (step.pass === "quantize" && options.prune) steps.push(getPruneStep(options));
    if (step.pass === "quantize") {
      if (options.quantizer !== undefined) opts["quantizer"] = options.quantizer;
      if (options.bits !== undefined) opts["bits"] = options.bits;
      if (options.metric !== undefined) opts["metric"] = options.metric;
      if (options.candidates !== undefined) opts["candidates"] = options.candidates;
      if (options.layers !== undefined && Object.keys(options.layers).length > 0) {
        opts["layers"] = Object.entries(options.layers).map(([layer, q]) => `${layer}=${q}`);
      }
    }
    if (step.pass === "tile" && (options.merge !== undefined || options.prune)) {
      // pruned rows and columns free crossbar cells only when the tile pass drops all-zero ones (exact)
      opts["merge"] = options.merge ?? "zeros";
      if (options.merge === undefined) notes.push('--prune: tile{merge="zeros"} so that all-zero matrix rows and columns take no crossbar cells');
    }
    if (step.pass === "place-truncation" && !options.calibration) {
      // without calibration images the window follows the input's range: x·scale is taken to lie in [0, 1]
      const lo = (0 - preprocessing.mean) / preprocessing.std;
      const hi = (1 - preprocessing.mean) / preprocessing.std;
      const range = [Math.min(lo, hi), Math.max(lo, hi)];
      if (range[0] !== 0 || range[1] !== 1) {
        opts["input_range"] = range;
        notes.push(`no calibration images: the input range [${range.map((x) => x.toPrecision(4)).join(", ")}] assumes raw·scale lies in [0, 1]`);
      }
    }
    steps.push({ pass: step.pass, options: opts as PassOptions });
  }
  return steps;
}

/**
 * The prune step of `--prune`: rule and budget as given; the crossbar rule counts crossbars for the weight word length
 * quantize will use (fixed-point `bits`, default 8; another quantizer stores one weight per cell, 0).
 */
function getPruneStep(options: CompileModelOptions): PipelineStep {
  const p = options.prune!;
  const fixedPoint = options.quantizer === undefined || options.quantizer === "fixed-point";
  return {
    pass: "prune",
    options: {
      rule: p.rule,
      ...(p.budget !== undefined ? { budget: p.budget } : {}),
      ...(p.sparsity !== undefined ? { sparsity: p.sparsity } : {}),
      ...(p.step !== undefined ? { step: p.step } : {}),
      ...(p.rule === "crossbar" ? { weight_bits: fixedPoint ? options.bits ?? 8 : 0 } : {}),
    },
  };
}

/** Throws XB7001 when evaluation and calibration images are the same file and their ranges overlap. */
function checkDisjoint(calibration: CalibrationConfig | undefined, evaluation: CalibrationConfig, calibrationCount: number, evaluationCount: number): void {
  if (!calibration || resolvePath(calibration.images) !== resolvePath(evaluation.images)) return;
  const c0 = calibration.offset ?? 0;
  const e0 = evaluation.offset ?? 0;
  const c1 = c0 + calibrationCount;
  const e1 = e0 + evaluationCount;
  if (c0 < e1 && e0 < c1) {
    throw new XbarcError("XB7001", `the evaluation images ${basename(evaluation.images)}[${e0}:${e1}] overlap the calibration images [${c0}:${c1}] of the same file: pruning would be judged on images it was tuned on`, {
      hint: `choose disjoint ranges, e.g. --calib-offset 0 --calib-limit ${Math.min(c1 - c0, e0) || 1000} and --eval-offset ${Math.max(e0, c1)}`,
    });
  }
}

/** Top-1 accuracy of a float module on a labelled set. */
function getAccuracy(module: Module, set: CalibrationSet): number {
  const n = set.counts.reduce((a, b) => a + b, 0);
  return n ? countCalibrationCorrect(module, set) / n : 0;
}

/** Calibration batches fitted to the module's input, as passes receive them. */
function loadCalibration(cfg: CalibrationConfig, inputName: string, inputType: Tensor["type"], pre: Preprocessing, defaultLimit: number = DEFAULT_COMPILE_CALIBRATION_LIMIT): CalibrationSet {
  const images = loadImageSet(cfg.images);
  const labels = loadLabels(cfg.labels);
  if (labels.length !== images.count) {
    throw new XbarcError("XB7002", `${images.file} holds ${images.count} images but ${cfg.labels} holds ${labels.length} labels`, {
      location: { kind: "file", file: cfg.labels }, hint: "pass the label file that belongs to these images",
    });
  }
  const offset = cfg.offset ?? 0;
  if (offset >= images.count) {
    throw new XbarcError("XB7001", `--calib-offset ${offset} is past the last image (${images.file} holds ${images.count})`, { hint: `use an offset below ${images.count}` });
  }
  const count = Math.min(cfg.limit ?? defaultLimit, images.count - offset);
  const fit = getInputFit(images, inputType, inputName);
  const batches: Map<string, Tensor>[] = [];
  const counts: number[] = [];
  for (let done = 0; done < count; done += fit.batch) {
    const n = Math.min(fit.batch, count - done);
    batches.push(new Map([[inputName, fitImages(images, inputType, pre, offset + done, n, inputName)]]));
    counts.push(n);
  }
  return { name: `${basename(cfg.images)}[${offset}:${offset + count}]`, batches, labels: labels.slice(offset, offset + count), counts };
}

/**
 * Compiles a model for a device: loads it, runs the compile pipeline (canonicalize, quantize{fixed-point, 8 bits},
 * assign-levels, tile, bit-slice, place-truncation) and emits the crossbar program. Throws XbarcError on bad input.
 */
export function compileModel(options: CompileModelOptions): CompileModelResult {
  let device = typeof options.device === "string" ? loadDeviceProfile(options.device) : options.device;
  if (options.variation) device = withVariation(device, options.variation);
  const pre: Preprocessing = {
    scale: options.preprocessing?.scale ?? 1 / 255,
    mean: options.preprocessing?.mean ?? 0,
    std: options.preprocessing?.std ?? 1,
  };
  const seed = options.seed ?? 0;
  const notes: string[] = [];
  const module = loadModel(options.model, { ...(options.batch !== undefined ? { batch: options.batch } : {}), ...(options.weights !== undefined ? { weights: options.weights } : {}) });
  checkProgramInputs(module, options.model);
  const input = module.inputs[0]!;
  const calibration = options.calibration ? loadCalibration(options.calibration, input.name, input.type, pre) : undefined;
  if (options.prune && options.pipeline !== undefined) {
    throw new XbarcError("XB7001", "--prune inserts prune into the compile pipeline, but --pipeline replaces the pipeline", { hint: "drop --pipeline, or write prune{rule=...} into the pipeline string yourself (no prune report then)" });
  }
  if (options.evaluation && !options.prune) {
    throw new XbarcError("XB7001", "--eval-images is read by the prune report only", { hint: "add --prune <rule>, or measure accuracy with `xbarc eval-float` / `xbarc run`" });
  }
  // the evaluation set: all images from its offset unless limited; never handed to a pass
  const evaluation = options.evaluation ? loadCalibration(options.evaluation, input.name, input.type, pre, Number.MAX_SAFE_INTEGER) : undefined;
  if (evaluation) checkDisjoint(options.calibration, options.evaluation!, calibration?.labels.length ?? 0, evaluation.labels.length);
  // the unpruned float model, canonicalized like the compile does it: the "before" of the prune report
  let unpruned: Module | undefined;
  if (options.prune) {
    unpruned = copyModule(module);
    runPipeline(unpruned, [{ pass: "canonicalize", options: compilePipeline.find((s) => s.pass === "canonicalize")?.options ?? {} }], { seed });
  }
  const steps = options.pipeline ?? buildCompileSteps(options, pre, notes);
  // place-truncation's Algorithm 1 scores candidates with the fixed-point reference, which lives in backend-sim
  if (calibration && !getTruncationEvaluator()) registerTruncationEvaluator(createTruncationEvaluator());
  const result = runPasses(module, typeof steps === "string" ? steps : printPipeline(steps), {
    device,
    seed,
    modelName: basename(options.model),
    ...(calibration ? { calibration } : {}),
    ...(options.dumpAfter !== undefined && options.onDump ? { dumpAfter: options.dumpAfter, onDump: options.onDump } : {}),
  });
  const program = emitProgram(module, { device, pipeline: result.pipeline, seed, preprocessing: pre, modelName: module.name, source: basename(options.model) });
  if (program.compile.truncation !== "place-truncation" && program.layers.some((l) => l.formats.trunc)) {
    notes.push(`truncation windows: ${program.compile.truncation} (layers without #trunc keep every accumulator bit)`);
  }
  const prune = options.prune && typeof steps !== "string" ? getPruneReport(options.prune, module, unpruned!, steps, device, seed, calibration, evaluation) : undefined;
  return { program, summary: summarizeProgram(program), pipeline: result.pipeline, steps: result.steps, notes, ...(prune ? { prune } : {}) };
}

/**
 * Crossbars and float accuracy before and after pruning: "after" crossbars are the compiled module's #tiles; "before"
 * runs the same steps after prune, up to tile, on the unpruned copy. The pruned float model is the unpruned copy with
 * the #prune masks applied (the compiled module's weights are quantized by then).
 */
function getPruneReport(
  settings: PruneSettings, compiled: Module, unpruned: Module, steps: readonly PipelineStep[], device: DeviceProfile, seed: number,
  calibration: CalibrationSet | undefined, evaluation: CalibrationSet | undefined,
): PruneReport {
  const at = steps.findIndex((s) => s.pass === "prune");
  const tileAt = steps.findIndex((s) => s.pass === "tile");
  const pruneStep = compiled.ops.find((op) => op.getAnnotation("prune"))?.getAnnotation("prune")?.data;
  const after = getCrossbarCount(compiled);
  const before = tileAt > at ? countCrossbars(unpruned, steps.slice(at + 1, tileAt + 1), device, calibration, seed) : after;
  const pruned = copyModule(unpruned);
  applyPruneMasks(pruned, compiled);
  const change = (set: CalibrationSet): AccuracyChange => ({ before: getAccuracy(unpruned, set), after: getAccuracy(pruned, set), images: set.labels.length });
  const budget = settings.budget ?? (settings.rule === "magnitude" ? undefined : DEFAULT_PRUNE_BUDGET);
  return {
    rule: settings.rule,
    budget: typeof pruneStep?.budget === "number" ? pruneStep.budget : budget ?? null,
    calibration: calibration?.name ?? null,
    ...(evaluation ? { evaluation: evaluation.name } : {}),
    crossbars: compareCrossbars(before, after),
    accuracy: {
      ...(calibration ? { calibration: change(calibration) } : {}),
      ...(evaluation ? { evaluation: change(evaluation) } : {}),
    },
  };
}

/** The prune report as the text table compile prints. */
export function formatPruneReport(report: PruneReport): string {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  const lines = [
    `prune: rule ${report.rule}, budget ${report.budget === null ? "none" : `${report.budget} points`}, calibration ${report.calibration ?? "none"}` +
      `${report.evaluation ? `, evaluation ${report.evaluation} (held back)` : ""}`,
    `  ${"layer".padEnd(28)} ${"crossbars before".padStart(16)} ${"after".padStart(6)}`,
    ...report.crossbars.per_layer.map((l) => `  ${l.layer.padEnd(28)} ${String(l.before).padStart(16)} ${String(l.after).padStart(6)}`),
    `  ${"total".padEnd(28)} ${String(report.crossbars.before).padStart(16)} ${String(report.crossbars.after).padStart(6)}  (${pct(report.crossbars.saved)} saved)`,
  ];
  for (const [what, acc] of Object.entries(report.accuracy) as [string, AccuracyChange][]) {
    lines.push(`  float accuracy on ${what} (${acc.images} images): ${pct(acc.before)} → ${pct(acc.after)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The parsed compile flags (those of addCompileSettingOptions, plus compile's own). */
export interface CompileCliOptions {
  output: string;
  asm?: string;
  device?: string;
  variation?: VariationOverride;
  config?: string;
  pipeline?: string;
  calibImages?: string;
  calibLabels?: string;
  calibOffset?: number;
  calibLimit?: number;
  scale: number;
  mean: number;
  std: number;
  seed: number;
  batch?: number;
  weights?: string;
  dumpAfter?: "all" | "changed" | "failure" | string[];
  dumpDir: string;
  json?: boolean;
  prune?: PruneRule;
  pruneBudget?: number;
  pruneSparsity?: number;
  pruneStep?: number;
  merge?: MergeMode;
  evalImages?: string;
  evalLabels?: string;
  evalOffset?: number;
  evalLimit?: number;
}

/** Parses a fraction in [0, 1] (commander reports a bad value as a usage error). */
function parseFraction(value: string): number {
  const n = parseNumber(value);
  if (n < 0 || n > 1) throw new InvalidArgumentError(`must lie in [0, 1], got ${n}.`);
  return n;
}

/** Parses a number ≥ 0. */
function parseNonNegative(value: string): number {
  const n = parseNumber(value);
  if (n < 0) throw new InvalidArgumentError(`must be at least 0, got ${n}.`);
  return n;
}

/** The prune settings and evaluation set of compile's --prune and --eval-* flags (usage errors for stray ones). */
function getPruneAndMergeSettings(opts: CompileCliOptions): Pick<CompileModelOptions, "prune" | "evaluation" | "merge"> {
  if (opts.prune === undefined) {
    const stray = (["pruneBudget", "pruneSparsity", "pruneStep"] as const).find((k) => opts[k] !== undefined);
    if (stray) throw new XbarcError("XB7001", `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --prune <rule>`, { hint: `add --prune ${PRUNE_RULES.join("|")}` });
  }
  if (opts.pruneSparsity !== undefined && opts.prune !== "magnitude") {
    throw new XbarcError("XB7001", `--prune-sparsity is the magnitude rule's target; --prune ${opts.prune} chooses its own sparsity`, { hint: "use --prune magnitude, or drop --prune-sparsity (sensitivity and crossbar stop at --prune-budget)" });
  }
  if ((opts.evalImages === undefined) !== (opts.evalLabels === undefined)) {
    throw new XbarcError("XB7001", `evaluation needs both images and labels: ${opts.evalImages === undefined ? "--eval-images" : "--eval-labels"} is missing`, { hint: "pass --eval-images and --eval-labels together" });
  }
  return {
    ...(opts.merge !== undefined ? { merge: opts.merge } : {}),
    ...(opts.prune !== undefined ? {
      prune: {
        rule: opts.prune,
        ...(opts.pruneBudget !== undefined ? { budget: opts.pruneBudget } : {}),
        ...(opts.pruneSparsity !== undefined ? { sparsity: opts.pruneSparsity } : {}),
        ...(opts.pruneStep !== undefined ? { step: opts.pruneStep } : {}),
      },
    } : {}),
    ...(opts.evalImages !== undefined ? {
      evaluation: {
        images: opts.evalImages, labels: opts.evalLabels!,
        ...(opts.evalOffset !== undefined ? { offset: opts.evalOffset } : {}),
        ...(opts.evalLimit !== undefined ? { limit: opts.evalLimit } : {}),
      },
    } : {}),
  };
}

/** Merges flags typed on the command line over the config file over the defaults. */
export function mergeCompileSettings(opts: CompileCliOptions, config: XbarcConfig, typed: (key: keyof CompileCliOptions) => boolean): Omit<CompileModelOptions, "model" | "onDump"> {
  const cli = <K extends keyof CompileCliOptions>(key: K): CompileCliOptions[K] | undefined => (typed(key) ? opts[key] : undefined);
  const device = pickSetting(cli("device"), config.device);
  if (device === undefined) {
    throw new XbarcError("XB7001", "no device: pass --device <name|file> or set \"device\" in the --config file", { hint: "run `xbarc devices` for the built-in profiles" });
  }
  const variation = pickSetting<VariationOverride | string>(cli("variation"), config.variation);
  const calibImages = pickSetting(cli("calibImages"), config.calibration?.images);
  const calibLabels = pickSetting(cli("calibLabels"), config.calibration?.labels);
  let calibration: CalibrationConfig | undefined;
  if (calibImages !== undefined || calibLabels !== undefined) {
    if (calibImages === undefined || calibLabels === undefined) {
      throw new XbarcError("XB7001", `calibration needs both images and labels: ${calibImages === undefined ? "--calib-images" : "--calib-labels"} is missing`, { hint: "pass --calib-images and --calib-labels together" });
    }
    const offset = pickSetting(cli("calibOffset"), config.calibration?.offset);
    const limit = pickSetting(cli("calibLimit"), config.calibration?.limit);
    calibration = { images: calibImages, labels: calibLabels, ...(offset !== undefined ? { offset } : {}), ...(limit !== undefined ? { limit } : {}) };
  }
  return {
    device,
    ...(variation !== undefined ? { variation: typeof variation === "string" ? parseVariation(variation) : variation } : {}),
    ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
    ...(config.quantizer !== undefined ? { quantizer: config.quantizer } : {}),
    ...(config.bits !== undefined ? { bits: config.bits } : {}),
    ...(config.metric !== undefined ? { metric: config.metric } : {}),
    ...(config.candidates !== undefined ? { candidates: config.candidates } : {}),
    ...(config.layers !== undefined ? { layers: config.layers } : {}),
    ...(calibration ? { calibration } : {}),
    preprocessing: { scale: opts.scale, mean: opts.mean, std: opts.std },
    seed: pickSetting(cli("seed"), config.seed, 0),
    ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
    ...(opts.weights !== undefined ? { weights: opts.weights } : {}),
    ...(opts.dumpAfter !== undefined ? { dumpAfter: opts.dumpAfter } : {}),
  };
}

/** Declares the flags mergeCompileSettings reads (shared by compile and eval). */
export function addCompileSettingOptions(command: Command): Command {
  return command
    .addOption(deviceOption())
    .addOption(variationOption())
    .addOption(configOption())
    .option("--pipeline <pipeline>", "replace the compile pipeline (a pipeline string, see `xbarc passes`); the config's quantizer settings are then ignored")
    .option("--calib-images <file>", "calibration images (IDX, .npy or CSV): activation ranges and place-truncation's Algorithm 1")
    .option("--calib-labels <file>", "calibration labels")
    .addOption(new Option("--calib-offset <n>", "first calibration image (default 0)").argParser(parseInteger(0)))
    .addOption(new Option("--calib-limit <n>", `number of calibration images (default ${DEFAULT_COMPILE_CALIBRATION_LIMIT})`).argParser(parseInteger(1)))
    .addOption(scaleOption())
    .addOption(meanOption())
    .addOption(stdOption())
    .addOption(seedOption())
    .addOption(batchOption("1 when the model's batch is symbolic: images per program run"))
    .addOption(weightsReadOption());
}

/** Registers `xbarc compile <model> --device <d> -o <prog.xbar.json>`. */
export function registerCompile(program: Command, ctx: CliContext): void {
  const command = program
    .command("compile")
    .description("Compile a model for a crossbar device into a self-contained program (JSON, optionally also text assembly) and report its resources.")
    .argument("<model>", "an .onnx model or an .xir file (with --weights)")
    .requiredOption("-o, --output <prog.xbar.json>", "the program file (JSON; written whole or not at all)")
    .option("--asm <out.xasm>", "also write the program as text assembly");
  addCompileSettingOptions(command)
    .addOption(new Option("--dump-after <when>", "write an IR snapshot after: all, changed, failure, or a comma list of passes (import = the input)").argParser(parseDumpAfter))
    .option("--dump-dir <dir>", "directory for the snapshots NN-<pass>.xir (created when missing)", "dumps")
    .addOption(new Option("--prune <rule>", "prune before quantize and report crossbars and accuracy before/after: magnitude, sensitivity or crossbar").choices([...PRUNE_RULES]))
    .addOption(new Option("--prune-budget <points>", `calibration accuracy points pruning may lose (default ${DEFAULT_PRUNE_BUDGET} for sensitivity and crossbar; magnitude: none)`).argParser(parseNonNegative))
    .addOption(new Option("--prune-sparsity <f>", "magnitude: fraction of each layer's weights set to 0 (default 0.5)").argParser(parseFraction))
    .addOption(new Option("--prune-step <f>", "progressive rules: sparsity added per step (default 0.05)").argParser(parseFraction))
    .addOption(new Option("--merge <mode>", "rows and columns sharing crossbar cells (tile{merge}): none, zeros (drop all-zero rows/columns), columns, rows, all (+ sign-equal columns); default none, zeros with --prune").choices([...MERGE_MODES]))
    .option("--eval-images <file>", "held-back images for the prune report's accuracy (never seen by the passes; must not overlap the calibration images)")
    .option("--eval-labels <file>", "labels of --eval-images")
    .addOption(new Option("--eval-offset <n>", "first evaluation image (default 0)").argParser(parseInteger(0)))
    .addOption(new Option("--eval-limit <n>", "number of evaluation images (default: all from the offset on)").argParser(parseInteger(1)))
    .addOption(jsonOption())
    .addHelpText("after", `
Pipeline (packages/passes/src/pipeline.ts, compilePipeline), then emission:
  ${printPipeline(compilePipeline)}
prune is not in it yet by default: --prune <rule> inserts prune{rule=...} between canonicalize and quantize. The config file's
quantizer, bits, metric, candidates and layers replace quantize's options; --pipeline replaces the whole pipeline.
Without calibration images, place-truncation derives each layer's input range from the model input's range, taken
as the preprocessing of raw·scale ∈ [0, 1]: [(0 − mean)/std, (1 − mean)/std].

The program records the device profile, the preprocessing x' = (x·scale − mean)/std and the model input, so
running it needs only images. Its "hash" (sha256 of the canonical content) makes any later change detectable:
check it with \`xbarc program check\`, summarize it with \`xbarc program show\`.
Precedence: flags on the command line > the --config file > built-in defaults (seed 0, calibration limit ${DEFAULT_COMPILE_CALIBRATION_LIMIT}).

Pruning (Ma et al., Integrated Circuits and Systems 2(4), 2025; \`xbarc passes prune\` has the exact algorithm):
  magnitude    zero each layer's smallest |w| to --prune-sparsity (no calibration needed unless --prune-budget)
  sensitivity  progressive: raise each layer's sparsity by --prune-step, lowest Taylor saliency |w·dL/dw| first,
               re-scored on the calibration images after every step, until the accuracy drop leaves --prune-budget
  crossbar     structured: remove whole matrix rows (inputs) / columns (output channels) so whole crossbars go
sensitivity and crossbar need --calib-images/--calib-labels. The report (text and "prune" in --json) gives crossbar
units before/after per layer and the float accuracy before/after on the calibration images and, with
--eval-images/--eval-labels, on held-back images; both sets are named, and slices of one file must not overlap.

Examples:
  $ xbarc compile fixtures/models/trained/lenet5.onnx --device isaac -o lenet5.xbar.json --asm lenet5.xasm
  $ xbarc compile fixtures/models/trained/lenet5.onnx --device isaac-32.json -o lenet5-32.xbar.json --json
      (isaac-32.json: {"extends": "isaac", "name": "isaac-32", "crossbar": {"rows": 32, "cols": 32}})
  $ xbarc compile fixtures/models/trained/lenet5.onnx --device isaac -o lenet5.xbar.json \\
      --calib-images fixtures/mnist/t10k-images-idx3-ubyte.gz --calib-labels fixtures/mnist/t10k-labels-idx1-ubyte.gz \\
      --calib-limit 256 --dump-after all --dump-dir dumps/
  $ xbarc compile fixtures/models/trained/mlp784-32-10-relu.onnx --device isaac-32.json -o mlp.xbar.json \\
      --calib-images fixtures/mnist/t10k-images-idx3-ubyte.gz --calib-labels fixtures/mnist/t10k-labels-idx1-ubyte.gz \\
      --calib-limit 1000 --prune sensitivity --prune-budget 1 \\
      --eval-images fixtures/mnist/t10k-images-idx3-ubyte.gz --eval-labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --eval-offset 8000`)
    .action((model: string, opts: CompileCliOptions, cmd: Command) => {
      const config = opts.config !== undefined ? loadConfig(opts.config) : {};
      const settings = { ...mergeCompileSettings(opts, config, (key) => cmd.getOptionValueSource(key) === "cli"), ...getPruneAndMergeSettings(opts) };
      const dumps = dumpWriter(opts.dumpDir);
      const result = compileModel({ ...settings, model, onDump: dumps.onDump });
      // the program and its assembly appear together or not at all
      writeOutputs((out) => {
        out.add(opts.output, printProgramJson(result.program));
        if (opts.asm !== undefined) out.add(opts.asm, printProgramAsm(result.program));
      });
      if (opts.json) {
        printJson(ctx.io, {
          model,
          device: result.program.device.name,
          pipeline: result.pipeline,
          seed: result.program.compile.seed,
          truncation: result.program.compile.truncation,
          hash: result.program.hash,
          outputs: { program: resolvePath(opts.output), ...(opts.asm !== undefined ? { asm: resolvePath(opts.asm) } : {}) },
          dumps: dumps.paths,
          notes: result.notes,
          summary: result.summary,
          ...(result.prune ? { prune: result.prune } : {}),
        });
        return;
      }
      for (const n of result.notes) ctx.io.writeErr(`note: ${n}\n`);
      ctx.io.writeOut(formatProgramSummary(result.summary));
      if (result.prune) ctx.io.writeOut(formatPruneReport(result.prune));
      ctx.io.writeOut(`wrote ${opts.output}${opts.asm !== undefined ? ` and ${opts.asm}` : ""} (pipeline ${result.pipeline} · seed ${result.program.compile.seed})\n`);
    });
}

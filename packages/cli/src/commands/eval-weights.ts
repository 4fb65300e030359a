/**
 * @fileoverview `xbarc eval-weights`: quantize for a device, map to cell states, and report accuracy as float, on an
 * ideal device, and over Monte Carlo instances of the device's variation (weight-level evaluation).
 */
import { basename } from "node:path";
import { Option, type Command } from "commander";
import { XbarcError } from "@xbarc/ir";
import { DEFAULT_EVAL_BATCH } from "../api.js";
import { loadConfig, parseVariation, pickSetting, QUANTIZE_METRICS, type CalibrationConfig, type VariationOverride, type XbarcConfig } from "../config.js";
import type { CliContext } from "../context.js";
import { DEFAULT_CALIBRATION_LIMIT, DEFAULT_MC_RUNS, DEFAULT_QUANTIZER, evalWeights, type EvalWeightsOptions, type EvalWeightsReport } from "../eval-weights.js";
import {
  collect, configOption, deviceOption, evalImageSettings, jsonOption, meanOption, parseInteger, scaleOption, stdOption, variationOption,
  weightsReadOption, type EvalImageFlags,
} from "../options.js";
import { printJson, Progress } from "../output.js";
import { formatTable } from "./devices.js";

interface EvalWeightsCliOptions extends EvalImageFlags {
  device?: string;
  variation?: VariationOverride;
  config?: string;
  quantizer?: string;
  metric?: (typeof QUANTIZE_METRICS)[number];
  bits?: number;
  candidates?: string;
  layer?: string[];
  calibImages?: string;
  calibLabels?: string;
  calibOffset?: number;
  calibLimit?: number;
  mc: number;
  seed: number;
  workers?: number;
  json?: boolean;
}

/** `name=quantizer` pairs from repeated --layer flags. */
function parseLayerFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.lastIndexOf("=");
    if (eq <= 0 || eq === v.length - 1) {
      throw new XbarcError("XB7001", `--layer ${v}: expected <layer>=<quantizer>, e.g. --layer fc1=mes-caq`, { hint: "layer names are the op results printed by `xbarc opt --passes canonicalize`" });
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/**
 * The settings of one run: each from the command line when the user typed the flag, else from the config file,
 * else the built-in default. `typed(key)` says whether a flag came from the command line (not from its default).
 */
export function mergeEvalWeightsSettings(
  opts: EvalWeightsCliOptions, config: XbarcConfig, typed: (key: keyof EvalWeightsCliOptions) => boolean,
): Omit<EvalWeightsOptions, "model" | "images" | "labels" | "onProgress"> & { device: string } {
  const cli = <K extends keyof EvalWeightsCliOptions>(key: K): EvalWeightsCliOptions[K] | undefined => (typed(key) ? opts[key] : undefined);
  const device = pickSetting(cli("device"), config.device);
  if (device === undefined) {
    throw new XbarcError("XB7001", "no device: pass --device <name|file> or set \"device\" in the --config file", { hint: "run `xbarc devices` for the built-in profiles" });
  }
  // a config's variation string was checked by loadConfig
  const variation = pickSetting<VariationOverride | string>(cli("variation"), config.variation);
  const candidates = cli("candidates")?.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const layers = { ...(config.layers ?? {}), ...parseLayerFlags(cli("layer") ?? []) };
  // calibration merges field by field: a flag replaces only its own field of the config's calibration
  const calibImages = pickSetting(cli("calibImages"), config.calibration?.images);
  const calibLabels = pickSetting(cli("calibLabels"), config.calibration?.labels);
  let calibration: CalibrationConfig | undefined;
  if (calibImages !== undefined || calibLabels !== undefined) {
    if (calibImages === undefined || calibLabels === undefined) {
      throw new XbarcError("XB7001", `calibration needs both images and labels: ${calibImages === undefined ? "--calib-images" : "--calib-labels"} is missing`, { hint: "pass --calib-images and --calib-labels together (they may name the same file as --images with a disjoint range)" });
    }
    const offset = pickSetting(cli("calibOffset"), config.calibration?.offset);
    const limit = pickSetting(cli("calibLimit"), config.calibration?.limit);
    calibration = { images: calibImages, labels: calibLabels, ...(offset !== undefined ? { offset } : {}), ...(limit !== undefined ? { limit } : {}) };
  }
  const metric = pickSetting(cli("metric"), config.metric);
  const bits = pickSetting(cli("bits"), config.bits);
  const pickedCandidates = pickSetting(candidates, config.candidates);
  return {
    device,
    ...(variation !== undefined ? { variation: typeof variation === "string" ? parseVariation(variation) : variation } : {}),
    quantizer: pickSetting(cli("quantizer"), config.quantizer, DEFAULT_QUANTIZER),
    ...(metric !== undefined ? { metric } : {}),
    ...(bits !== undefined ? { bits } : {}),
    ...(pickedCandidates !== undefined ? { candidates: pickedCandidates } : {}),
    ...(Object.keys(layers).length > 0 ? { layers } : {}),
    ...(calibration ? { calibration } : {}),
    mc: pickSetting(cli("mc"), config.mc, DEFAULT_MC_RUNS),
    seed: pickSetting(cli("seed"), config.seed, 0),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const sci = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : "-");

/** The human-readable report. */
export function formatEvalWeightsReport(r: EvalWeightsReport): string {
  const mc = r.montecarlo;
  const range = (offset: number, count: number): string => `[${offset}:${offset + count}]`;
  const lines = [
    `model:        ${r.model}`,
    `device:       ${r.device.name} (${r.device.levels} levels, ${r.device.map}); variation ${r.device.variation}`,
    ...r.notes.map((n) => `              ${n}`),
    `pipeline:     ${r.pipeline} · seed ${r.seed}`,
    `images:       ${r.images.count} of ${basename(r.images.file)} ${range(r.images.offset, r.images.count)} (labels ${basename(r.images.labels)})`,
    `calibration:  ${r.calibration ? `${r.calibration.count} of ${basename(r.calibration.file)} ${range(r.calibration.offset, r.calibration.count)}` : "none"}`,
    `float:        ${pct(r.float.accuracy)} (${r.float.correct}/${r.images.count})`,
    `ideal device: ${pct(r.ideal.accuracy)} (${r.ideal.correct}/${r.images.count}) quantized, nominal conductances`,
    `monte carlo:  mean ${pct(mc.mean)}, std ${pct(mc.std)}, min ${pct(mc.min)}, max ${pct(mc.max)} over ${mc.runs} runs (${mc.workers} worker${mc.workers === 1 ? "" : "s"})`,
    "layers:",
  ];
  const table = formatTable(
    ["layer", "weight", "quantizer", "metric", "codes", "err", "mse", "map", "map_err"],
    r.layers.map((l) => [l.layer, l.weight, `${l.quantizer}${l.override ? " (override)" : ""}`, l.metric, String(l.codes), sci(l.err), sci(l.mse), l.map, sci(l.map_err)]),
  );
  const s = r.seconds;
  return `${lines.join("\n")}\n${table.split("\n").filter((x) => x).map((x) => `  ${x}`).join("\n")}\n` +
    `time:         ${s.total.toFixed(2)} s (float ${s.float.toFixed(2)}, passes ${s.pipeline.toFixed(2)}, ideal ${s.ideal.toFixed(2)}, monte carlo ${s.montecarlo.toFixed(2)})\n`;
}

/** Registers `xbarc eval-weights <model> --device ... --images ... --labels ...`. */
export function registerEvalWeights(program: Command, ctx: CliContext): void {
  program
    .command("eval-weights")
    .description("Quantize a model for a device, map it to cell states, and measure accuracy: float, ideal device, and Monte Carlo runs of the device's variation as effective weights.")
    .argument("<model>", "an .onnx model or an .xir file (with --weights)")
    .addOption(deviceOption())
    .addOption(variationOption())
    .addOption(configOption())
    .addOption(new Option("--quantizer <name>", "auto (score every candidate per layer) or a quantizer name (see `xbarc passes quantize`)").default(DEFAULT_QUANTIZER))
    .addOption(new Option("--metric <metric>", "how auto scores candidates (default: the quantize pass's)").choices([...QUANTIZE_METRICS]))
    .addOption(new Option("--bits <n>", "codebook bits for quantizers that choose their size (kmeans, spectral, fixed-point)").argParser(parseInteger(1)))
    .addOption(new Option("--candidates <list>", "comma list of quantizers auto chooses among (default: the quantize pass's)"))
    .addOption(new Option("--layer <layer=quantizer>", "per-layer quantizer, repeatable; a layer is its result name, weight constant or loc (e.g. fc1.weight=mes-caq); overrides the config's entry for that layer").argParser(collect))
    .requiredOption("--images <file>", "evaluation images: IDX, .npy or CSV (as eval-float)")
    .requiredOption("--labels <file>", "evaluation labels: IDX, .npy or CSV")
    .addOption(new Option("--offset <n>", "first evaluation image").argParser(parseInteger(0)).default(0))
    .addOption(new Option("--limit <n>", "number of evaluation images (default: all from --offset on)").argParser(parseInteger(1)))
    .option("--calib-images <file>", "calibration images (for --metric output-error); may be the --images file with a disjoint range")
    .option("--calib-labels <file>", "calibration labels")
    .addOption(new Option("--calib-offset <n>", "first calibration image (default 0)").argParser(parseInteger(0)))
    .addOption(new Option("--calib-limit <n>", `number of calibration images (default ${DEFAULT_CALIBRATION_LIMIT})`).argParser(parseInteger(1)))
    .addOption(new Option("--mc <n>", "Monte Carlo runs (sampled device instances)").argParser(parseInteger(1)).default(DEFAULT_MC_RUNS))
    .addOption(new Option("--seed <n>", "seed: fixes the quantizers' initialisations and every Monte Carlo instance").argParser(parseInteger(0)).default(0))
    .addOption(new Option("--workers <n>", "worker threads for the Monte Carlo runs (default: the number of cores; 0 = main thread); results do not depend on it").argParser(parseInteger(0)))
    .addOption(new Option("--batch-size <n>", "images per interpreter run when the model's batch is symbolic").argParser(parseInteger(1)).default(DEFAULT_EVAL_BATCH))
    .addOption(scaleOption())
    .addOption(meanOption())
    .addOption(stdOption())
    .addOption(weightsReadOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Precedence: a flag given on the command line wins over the --config file, which wins over the built-in defaults
(device: none, required; quantizer auto; mc ${DEFAULT_MC_RUNS}; seed 0; calibration limit ${DEFAULT_CALIBRATION_LIMIT}).

Pipeline: canonicalize,quantize{...},assign-levels with the device; then three accuracies on the same images:
  float        the model as trained (equals eval-float on the same slice)
  ideal device the quantized weights as the cell states give them with nominal conductances
  monte carlo  per run, every cell's conductance sampled (variation, stuck-at faults) and mapped back to weights;
               mean, std (n−1), min and max over the runs. Read noise acts per read: not modelled at weight level.
Calibration images must not overlap the evaluation images when both come from the same file.

Config file (JSON; relative paths are relative to it):
  { "device": "exp-a3", "variation": "lognormal:0.5", "quantizer": "auto", "metric": "output-error",
    "layers": { "fc2.weight": "uniform" },      (a layer is named by its result, its weight constant or its loc)
    "calibration": { "images": "t10k-images-idx3-ubyte.gz", "labels": "t10k-labels-idx1-ubyte.gz", "offset": 0, "limit": 256 } }

Examples:
  $ xbarc eval-weights fixtures/models/trained/mlp784-32-10-relu.onnx --device exp-a3 --quantizer mes-caq \\
      --images fixtures/mnist/t10k-images-idx3-ubyte.gz --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --offset 8000 --limit 2000
  $ xbarc eval-weights fixtures/models/trained/lenet5.onnx --device pow-a2 --variation lognormal:0.5 --mc 20 --seed 1 \\
      --images fixtures/mnist/t10k-images-idx3-ubyte.gz --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --offset 8000 \\
      --metric output-error --calib-images fixtures/mnist/t10k-images-idx3-ubyte.gz \\
      --calib-labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --calib-limit 256 --json`)
    .action(async (model: string, opts: EvalWeightsCliOptions, cmd: Command) => {
      const config = opts.config !== undefined ? loadConfig(opts.config) : {};
      const settings = mergeEvalWeightsSettings(opts, config, (key) => cmd.getOptionValueSource(key) === "cli");
      const progress = new Progress(ctx.io, ctx.io.isTTY && !opts.json);
      const report = await evalWeights({
        ...settings,
        model,
        ...evalImageSettings(opts),
        onProgress: (stage, done, total) => progress.update(done, total, stage === "float" ? "float images" : "monte carlo runs"),
      });
      progress.done();
      if (opts.json) {
        printJson(ctx.io, report);
        return;
      }
      ctx.io.writeOut(formatEvalWeightsReport(report));
    });
}

/**
 * @fileoverview `xbarc run <prog>`: simulate a compiled crossbar program on labelled images — Monte Carlo instances
 * of its device (or the ideal device with --ideal) — and report accuracy statistics beside the fixed-point baseline,
 * with the program's timing and energy per image.
 */
import { basename } from "node:path";
import { Option, type Command } from "commander";
import {
  correctOperationsPerJoule, estimateEnergy, estimateTiming, fitProgramImages, loadImageSet, loadLabels, loadProgram, ProgramEvaluator,
  runProgramMonteCarlo, type EnergyEstimate, type Program, type TimingEstimate,
} from "@xbarc/backend-sim";
import { XbarcError } from "@xbarc/ir";
import { formatVariation, withVariation, type VariationOverride } from "../config.js";
import type { CliContext } from "../context.js";
import { jsonOption, parseInteger, parseVariationArg } from "../options.js";
import { printJson, Progress } from "../output.js";
import { formatTable } from "./devices.js";

/** Options of simulateLoadedProgram: the images and how to simulate them. */
export interface SimulateImagesOptions {
  images: string;
  labels: string;
  /** first image (default 0) */
  offset?: number;
  /** images from offset on (default: all) */
  limit?: number;
  /** Monte Carlo runs (default 1); ignored with ideal */
  mc?: number;
  /** seed of the Monte Carlo instances (default 0) */
  seed?: number;
  /** worker threads (default: available parallelism, at most mc); 0 = this thread */
  workers?: number;
  /** the ideal device (every cell on its level, lossless ADCs) instead of sampled instances */
  ideal?: boolean;
  /** replaces the program device's variation when sampling instances (the program itself is unchanged) */
  variation?: VariationOverride;
  /** called as runs finish */
  onProgress?: (done: number, total: number) => void;
}

/** Options of runProgramFile. */
export interface RunProgramOptions extends SimulateImagesOptions {
  /** a program file: .xbar.json or .xasm (its hash is verified) */
  program: string;
}

/** The float baseline: the ONNX model in the float reference interpreter on the same images. */
export interface FloatBaseline {
  correct: number;
  accuracy: number;
}

/** Accuracy statistics over the runs. */
export interface RunAccuracy {
  runs: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  p5: number;
  p50: number;
  p95: number;
  /** correct images of each run, by run index */
  correct: number[];
}

/** What runProgramFile (or simulateLoadedProgram) measured. */
export interface RunProgramReport {
  /** the program file, or the model a program was compiled from in memory */
  program: string;
  model: string;
  device: string;
  hash: string;
  images: { file: string; labels: string; offset: number; count: number };
  mode: "ideal" | "monte-carlo";
  seed: number;
  /** the variation the instances were sampled with when it replaced the device's (e.g. "lognormal σ=0.1"), else null */
  variation: string | null;
  /** worker threads used (0: this thread) */
  workers: number;
  accuracy: RunAccuracy;
  /**
   * The fixed-point baseline. The program does not carry the module, so runFixedPoint cannot run on it: the baseline is
   * the ideal-device simulation with lossless ADCs, which equals runFixedPoint bit for bit (tested).
   */
  baseline: { kind: "fixed-point (ideal device, lossless ADCs)"; correct: number; accuracy: number };
  /** the float baseline; null from a program file, which does not carry the ONNX model */
  float: FloatBaseline | null;
  timing: TimingEstimate;
  energy: EnergyEstimate;
  /** correct operations per joule at the mean accuracy (Diware et al. 2024 §5), GOP/J */
  correct_gops_per_joule: number;
  seconds: { total: number; baseline: number; runs: number };
}

/**
 * Loads and checks a program (hash verified), fits the images with its recorded preprocessing, and measures accuracy
 * over Monte Carlo instances (or the ideal device) beside the fixed-point baseline. Throws XbarcError on bad input.
 */
export async function runProgramFile(options: RunProgramOptions): Promise<RunProgramReport> {
  const start = performance.now();
  return simulateLoadedProgram(loadProgram(options.program), { ...options, source: options.program, start });
}

/**
 * Fits the images with the program's recorded preprocessing and measures accuracy over Monte Carlo instances (or the
 * ideal device) beside the fixed-point baseline (and `float` when the caller measured it), with timing and energy.
 * `source` names the program in the report; `start` (performance.now()) is when the caller's work began.
 */
export async function simulateLoadedProgram(
  program: Program,
  options: SimulateImagesOptions & { source: string; float?: FloatBaseline; start?: number },
): Promise<RunProgramReport> {
  const start = options.start ?? performance.now();
  const images = loadImageSet(options.images);
  const labels = loadLabels(options.labels);
  if (labels.length !== images.count) {
    throw new XbarcError("XB7002", `${images.file} holds ${images.count} images but ${options.labels} holds ${labels.length} labels`, {
      location: { kind: "file", file: options.labels }, hint: "pass the label file that belongs to these images",
    });
  }
  const offset = options.offset ?? 0;
  if (offset >= images.count) {
    throw new XbarcError("XB7001", `--offset ${offset} is past the last image (${images.file} holds ${images.count})`, { hint: `use an offset below ${images.count}` });
  }
  const count = Math.min(options.limit ?? images.count - offset, images.count - offset);
  const data = fitProgramImages(program, images, labels, offset, count);
  const seed = options.seed ?? 0;
  const ideal = options.ideal === true;
  const runs = ideal ? 1 : options.mc ?? 1;
  // the ideal device has no variation to replace
  const variation = options.variation && !ideal ? withVariation(program.device, options.variation).variation : undefined;

  let baselineSeconds = 0;
  let baselineCorrect = 0;
  const baseline = (): void => {
    const t0 = performance.now();
    baselineCorrect = new ProgramEvaluator({ program, data, seed }).evaluateIdeal(true);
    baselineSeconds = (performance.now() - t0) / 1000;
  };
  let accuracy: RunAccuracy;
  let workers = 0;
  const t0 = performance.now();
  if (ideal) {
    baseline();
    options.onProgress?.(1, 1);
    const a = count === 0 ? 0 : baselineCorrect / count;
    accuracy = { runs: 1, mean: a, std: 0, min: a, max: a, p5: a, p50: a, p95: a, correct: [baselineCorrect] };
  } else {
    // the baseline runs in this thread while the workers simulate the instances
    const pending = runProgramMonteCarlo({
      program, data, runs, seed, ...(variation ? { variation } : {}), ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    let r;
    try {
      baseline();
    } finally {
      r = await pending;
    }
    workers = r.workers;
    accuracy = { runs, mean: r.mean, std: r.std, min: r.min, max: r.max, p5: r.p5, p50: r.p50, p95: r.p95, correct: r.correct };
  }
  const runsSeconds = (performance.now() - t0) / 1000;
  const energy = estimateEnergy(program);
  return {
    program: options.source, model: program.model.name, device: program.device.name, hash: program.hash,
    images: { file: options.images, labels: options.labels, offset, count },
    mode: ideal ? "ideal" : "monte-carlo", seed, variation: variation ? formatVariation(variation) : null, workers, accuracy,
    baseline: { kind: "fixed-point (ideal device, lossless ADCs)", correct: baselineCorrect, accuracy: count === 0 ? 0 : baselineCorrect / count },
    float: options.float ?? null,
    timing: estimateTiming(program),
    energy,
    correct_gops_per_joule: energy.totalPj > 0 ? correctOperationsPerJoule(accuracy.mean, energy) : 0,
    seconds: { total: (performance.now() - start) / 1000, baseline: baselineSeconds, runs: runsSeconds },
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The human-readable report. */
export function formatRunReport(r: RunProgramReport): string {
  const a = r.accuracy;
  const t = r.timing;
  const e = r.energy;
  const lines = [
    r.float === null
      ? `program:      ${r.program} (model ${r.model} on ${r.device}; hash ${r.hash.slice(0, 12)}… verified)`
      : `program:      compiled in memory from ${r.program} (model ${r.model} on ${r.device}; hash ${r.hash.slice(0, 12)}…)`,
    `images:       ${r.images.count} of ${basename(r.images.file)} [${r.images.offset}:${r.images.offset + r.images.count}] (labels ${basename(r.images.labels)})`,
    r.float === null
      ? `float:        n/a (a program does not carry the ONNX model; see eval-float)`
      : `float:        ${pct(r.float.accuracy)} (${r.float.correct}/${r.images.count}) — the ONNX model in the float reference interpreter`,
    `fixed-point:  ${pct(r.baseline.accuracy)} (${r.baseline.correct}/${r.images.count}) — ideal device with lossless ADCs, bit-exact with the fixed-point reference`,
    r.mode === "ideal"
      ? `ideal device: ${pct(a.mean)} (${a.correct[0]}/${r.images.count}) every cell on its level, lossless ADCs`
      : `monte carlo:  mean ${pct(a.mean)}, std ${pct(a.std)}, min ${pct(a.min)}, max ${pct(a.max)}, p5 ${pct(a.p5)}, p50 ${pct(a.p50)}, p95 ${pct(a.p95)} ` +
        `over ${a.runs} run${a.runs === 1 ? "" : "s"} (seed ${r.seed}, ${r.workers} worker${r.workers === 1 ? "" : "s"}${r.variation !== null ? `; variation ${r.variation}` : ""})`,
    `latency:      ${(t.latencyNs / 1000).toFixed(2)} µs per image (${t.cyclesAtAdcClock} cycles at the ADC clock); throughput ${t.throughputImagesPerS.toFixed(0)} images/s pipelined; utilization ${pct(t.utilization)}`,
    `energy:       ${(e.totalPj / 1e3).toFixed(2)} nJ per image; ${e.operations} operations; ${r.correct_gops_per_joule.toFixed(1)} correct GOP/J; area ${(e.areaUm2.total / 1e6).toFixed(3)} mm²`,
    "layers:",
  ];
  const table = formatTable(
    ["layer", "tiles", "steps", "time_ns", "util", "energy_pj"],
    t.perLayer.map((l, i) => [l.layer, String(l.tiles), String(l.steps), l.layerNs.toFixed(1), pct(l.utilization), (e.perLayer[i]?.totalPj ?? 0).toFixed(1)]),
  );
  const s = r.seconds;
  return `${lines.join("\n")}\n${table.split("\n").filter((x) => x).map((x) => `  ${x}`).join("\n")}\n` +
    `time:         ${s.total.toFixed(2)} s (baseline ${s.baseline.toFixed(2)}, runs ${s.runs.toFixed(2)})\n`;
}

interface RunCliOptions {
  images: string;
  labels: string;
  offset: number;
  limit?: number;
  mc: number;
  seed: number;
  workers?: number;
  ideal?: boolean;
  variation?: VariationOverride;
  json?: boolean;
}

/** Registers `xbarc run <prog> --images F --labels F ...`. */
export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command("run")
    .description("Simulate a compiled crossbar program on labelled images: accuracy over Monte Carlo instances of its device (or the ideal device), beside the fixed-point baseline, with latency, throughput and energy per image.")
    .argument("<prog>", "a program: .xbar.json (JSON) or .xasm (text assembly); its content hash is verified")
    .requiredOption("--images <file>", "images: IDX, .npy or CSV; fitted to the program's input with its recorded preprocessing")
    .requiredOption("--labels <file>", "labels: IDX, .npy or CSV")
    .addOption(new Option("--offset <n>", "first image").argParser(parseInteger(0)).default(0))
    .addOption(new Option("--limit <n>", "number of images (default: all from --offset on)").argParser(parseInteger(1)))
    .addOption(new Option("--mc <n>", "Monte Carlo runs: sampled device instances (variation, stuck-at faults, read noise)").argParser(parseInteger(1)).default(1))
    .addOption(new Option("--seed <n>", "seed: instance r draws from (seed, r) only").argParser(parseInteger(0)).default(0))
    .addOption(new Option("--workers <n>", "worker threads for the runs (default: the number of cores; 0 = main thread); results do not depend on it").argParser(parseInteger(0)))
    .option("--ideal", "the ideal device (every cell on its level) with lossless ADCs instead of sampled instances")
    .addOption(new Option("--variation <model:sigma>", "sample the instances with this variation instead of the program device's (recorded in the report): none, lognormal:<σ>, gaussian:<σ> or truncated-gaussian:<σ>[:<bound in σ>]; stuck-at rates stay").argParser(parseVariationArg))
    .addOption(jsonOption())
    .addHelpText("after", `
Each run samples every cell of every tile (the device's variation and stuck-at faults, seeded by --seed and the run
index) and simulates the program on every image: bit-serial inputs, column sums, ADCs with the device's bits,
shift-and-add, truncation, bias and post-ops. The fixed-point baseline is the ideal device with lossless ADCs, which
equals the fixed-point reference bit for bit (the program does not carry the module, nor the float model).

Examples:
  $ xbarc compile fixtures/models/trained/lenet5.onnx --device isaac -o lenet5.xbar.json
  $ xbarc run lenet5.xbar.json --images fixtures/mnist/t10k-images-idx3-ubyte.gz \\
      --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --offset 8000 --ideal
  $ xbarc run lenet5.xbar.json --images fixtures/mnist/t10k-images-idx3-ubyte.gz \\
      --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --offset 8000 --mc 20 --seed 1 --workers 2 --json
  $ xbarc run lenet5.xbar.json --images fixtures/mnist/t10k-images-idx3-ubyte.gz \
      --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --offset 8000 --limit 300 --mc 8 --variation lognormal:0.3`)
    .action(async (file: string, opts: RunCliOptions) => {
      const progress = new Progress(ctx.io, ctx.io.isTTY && !opts.json);
      const report = await runProgramFile({
        program: file, images: opts.images, labels: opts.labels, offset: opts.offset, mc: opts.mc, seed: opts.seed,
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        ...(opts.ideal ? { ideal: true } : {}),
        ...(opts.variation ? { variation: opts.variation } : {}),
        onProgress: (done, total) => progress.update(done, total, "monte carlo runs"),
      });
      progress.done();
      if (opts.json) {
        printJson(ctx.io, report);
        return;
      }
      ctx.io.writeOut(formatRunReport(report));
    });
}

/**
 * @fileoverview `xbarc eval <model.onnx> --device <d>`: compile in memory and simulate in one step — the float
 * baseline (eval-float on the same images) beside the fixed-point one, Monte Carlo accuracy, latency and energy.
 */
import { Option, type Command } from "commander";
import { evalFloat } from "../api.js";
import { loadConfig } from "../config.js";
import type { CliContext } from "../context.js";
import { jsonOption, parseInteger } from "../options.js";
import { printJson, Progress } from "../output.js";
import { addCompileSettingOptions, compileModel, mergeCompileSettings, type CompileCliOptions, type CompileModelOptions } from "./compile.js";
import { formatRunReport, simulateLoadedProgram, type RunProgramReport, type SimulateImagesOptions } from "./run.js";

/** Options of evalModel: how to compile (as compileModel) and what to simulate (as runProgramFile). */
export interface EvalModelOptions extends Omit<SimulateImagesOptions, "variation" | "seed"> {
  /** compileModel's options; its seed seeds the Monte Carlo instances too, its variation is the device's */
  compile: CompileModelOptions;
}

/** What evalModel measured: runProgramFile's report (with the float baseline) and the compile's notes. */
export interface EvalModelReport extends RunProgramReport {
  pipeline: string;
  notes: string[];
}

/**
 * Compiles a model for a device in memory, measures the float reference interpreter on the same images (with the
 * compile's preprocessing) and simulates the program as runProgramFile does. Throws XbarcError on bad input.
 */
export async function evalModel(options: EvalModelOptions): Promise<EvalModelReport> {
  const start = performance.now();
  const compiled = compileModel(options.compile);
  const { program } = compiled;
  const float = evalFloat({
    model: options.compile.model,
    images: options.images,
    labels: options.labels,
    offset: options.offset ?? 0,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    preprocessing: program.input.preprocessing,
    ...(options.compile.weights !== undefined ? { weights: options.compile.weights } : {}),
  });
  const report = await simulateLoadedProgram(program, {
    ...options, seed: options.compile.seed ?? 0, source: options.compile.model, float: { correct: float.correct, accuracy: float.accuracy }, start,
  });
  return { ...report, pipeline: compiled.pipeline, notes: compiled.notes };
}

interface EvalCliOptions extends CompileCliOptions {
  images: string;
  labels: string;
  offset: number;
  limit?: number;
  mc?: number;
  workers?: number;
  ideal?: boolean;
}

/** Registers `xbarc eval <model> --device <d> --images F --labels F ...`. */
export function registerEval(program: Command, ctx: CliContext): void {
  const command = program
    .command("eval")
    .description("Compile a model for a device in memory and simulate it on labelled images: the float and fixed-point baselines beside Monte Carlo accuracy over device instances, with latency, throughput and energy per image.")
    .argument("<model>", "an .onnx model or an .xir file (with --weights)");
  addCompileSettingOptions(command)
    .requiredOption("--images <file>", "evaluation images: IDX, .npy or CSV; fitted with the compile's preprocessing")
    .requiredOption("--labels <file>", "evaluation labels: IDX, .npy or CSV")
    .addOption(new Option("--offset <n>", "first evaluation image").argParser(parseInteger(0)).default(0))
    .addOption(new Option("--limit <n>", "number of evaluation images (default: all from --offset on)").argParser(parseInteger(1)))
    .addOption(new Option("--mc <n>", "Monte Carlo runs: sampled device instances (default: the config's mc, else 1)").argParser(parseInteger(1)))
    .addOption(new Option("--workers <n>", "worker threads for the runs (default: the number of cores; 0 = main thread); results do not depend on it").argParser(parseInteger(0)))
    .option("--ideal", "the ideal device (every cell on its level) with lossless ADCs instead of sampled instances")
    .addOption(jsonOption())
    .addHelpText("after", `
eval = compile (same flags, same defaults, nothing written) + run on the program, plus the float baseline: the model
in the float reference interpreter on the same images with the same preprocessing. --seed seeds both the compile
and the Monte Carlo instances; --variation replaces the device's variation for the compile and the runs alike.

Examples:
  $ xbarc eval fixtures/models/trained/lenet5.onnx --device isaac \\
      --images fixtures/mnist/t10k-images-idx3-ubyte.gz --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz \\
      --offset 8000 --limit 300 --ideal
  $ xbarc eval fixtures/models/trained/mlp784-32-10-relu.onnx --device rram-4bit --variation lognormal:0.2 \\
      --calib-images fixtures/mnist/t10k-images-idx3-ubyte.gz --calib-labels fixtures/mnist/t10k-labels-idx1-ubyte.gz \\
      --images fixtures/mnist/t10k-images-idx3-ubyte.gz --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz \\
      --offset 8000 --limit 300 --mc 8 --seed 1 --json`)
    .action(async (model: string, opts: EvalCliOptions, cmd: Command) => {
      const config = opts.config !== undefined ? loadConfig(opts.config) : {};
      const settings = mergeCompileSettings(opts, config, (key) => cmd.getOptionValueSource(key) === "cli");
      const progress = new Progress(ctx.io, ctx.io.isTTY && !opts.json);
      const report = await evalModel({
        compile: { ...settings, model },
        images: opts.images, labels: opts.labels, offset: opts.offset,
        mc: opts.mc ?? config.mc ?? 1,
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        ...(opts.ideal ? { ideal: true } : {}),
        onProgress: (done, total) => progress.update(done, total, "monte carlo runs"),
      });
      progress.done();
      if (opts.json) {
        printJson(ctx.io, report);
        return;
      }
      for (const n of report.notes) ctx.io.writeErr(`note: ${n}\n`);
      ctx.io.writeOut(formatRunReport(report));
    });
}

/** @fileoverview `xbarc eval-float`: top-1 accuracy of the float reference interpreter on a labelled image set. */
import { basename } from "node:path";
import { Option, type Command } from "commander";
import { DEFAULT_EVAL_BATCH, evalFloat, readIndexFile } from "../api.js";
import type { CliContext } from "../context.js";
import { evalImageSettings, jsonOption, meanOption, parseInteger, scaleOption, stdOption, weightsReadOption, type EvalImageFlags } from "../options.js";
import { printJson, Progress } from "../output.js";

interface EvalFloatCliOptions extends EvalImageFlags {
  indices?: string;
  json?: boolean;
}

/** Registers `xbarc eval-float <model> --images ... --labels ...`. */
export function registerEvalFloat(program: Command, ctx: CliContext): void {
  program
    .command("eval-float")
    .description("Measure top-1 accuracy of a model run by the float reference interpreter (after canonicalize) on labelled images.")
    .argument("<model>", "an .onnx model or an .xir file (with --weights)")
    .requiredOption("--images <file>", "images: IDX (MNIST t10k-images-idx3-ubyte[.gz]), .npy [N,H,W]/[N,D]/[N,C,H,W]/[N,H,W,C], or CSV rows of pixels then label")
    .requiredOption("--labels <file>", "labels: IDX (t10k-labels-idx1-ubyte[.gz]), .npy [N] integers, or the same CSV (last column)")
    .option("--indices <file.json>", "evaluate only these 0-based images: a JSON array, or an object with one array (e.g. fixtures/digits/test_split.json); --offset/--limit then apply to the list")
    .addOption(new Option("--offset <n>", "first image to evaluate").argParser(parseInteger(0)).default(0))
    .addOption(new Option("--limit <n>", "number of images to evaluate (default: all from --offset on)").argParser(parseInteger(1)))
    .addOption(new Option("--batch-size <n>", "images per interpreter run when the model's batch is symbolic (a fixed batch is used as is, the last batch zero-padded)").argParser(parseInteger(1)).default(DEFAULT_EVAL_BATCH))
    .addOption(scaleOption(" (0..255 for MNIST)"))
    .addOption(meanOption())
    .addOption(stdOption())
    .addOption(weightsReadOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Preprocessing: x' = (x·scale − mean)/std, defaults scale=1/255, mean=0, std=1 (MNIST bytes → [0,1]).
  PyTorch "MNIST normalisation": --mean 0.1307 --std 0.3081; raw pixels: --scale 1.

Images are fitted to the model's first input: [B,784], [B,1,28,28], [B,28,28,1], 3 channels (grey replicated),
or no batch axis ([1,28,28], [28,28], [784]); the class is the argmax over the last axis of the first output.

Examples:
  $ xbarc eval-float fixtures/models/trained/lenet5.onnx \\
      --images fixtures/mnist/t10k-images-idx3-ubyte.gz --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --offset 8000
  $ xbarc eval-float fixtures/models/trained/digits-mlp64-32-10.onnx \\
      --images fixtures/digits/digits.csv.gz --labels fixtures/digits/digits.csv.gz --scale 1/16 \\
      --indices fixtures/digits/test_split.json --json`)
    .action((model: string, opts: EvalFloatCliOptions) => {
      const progress = new Progress(ctx.io, ctx.io.isTTY && !opts.json);
      const report = evalFloat({
        model,
        ...evalImageSettings(opts),
        ...(opts.indices !== undefined ? { indices: readIndexFile(opts.indices) } : {}),
        onProgress: (done, total) => progress.update(done, total, "images"),
      });
      progress.done();
      if (opts.json) {
        printJson(ctx.io, report);
        return;
      }
      const p = report.preprocessing;
      const range = `[${report.offset}:${report.offset + report.images}]${report.indices !== null ? ` of the ${report.indices} listed by --indices` : ""}`;
      ctx.io.writeOut(
        `model:         ${report.model}\n` +
        `images:        ${report.images} of ${basename(report.imagesFile)}: ${range} (labels ${basename(report.labelsFile)})\n` +
        `preprocessing: x' = (x·${Number(p.scale.toPrecision(6))} − ${p.mean})/${p.std}\n` +
        `accuracy:      ${(report.accuracy * 100).toFixed(2)}% (${report.correct}/${report.images} correct)\n` +
        `speed:         ${report.imagesPerSecond.toFixed(0)} images/s (${report.seconds.toFixed(2)} s, batch ${report.batchSize})\n`,
      );
    });
}

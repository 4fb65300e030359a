/** @fileoverview `xbarc opt`: run a pass pipeline on an .xir or .onnx file, with per-pass dumps (the mlir-opt of xbarc). */
import { basename } from "node:path";
import { Option, type Command } from "commander";
import { printModule, XbarcError } from "@xbarc/ir";
import { loadModel, runPasses } from "../api.js";
import { irHeader, type CliContext } from "../context.js";
import { loadDeviceProfile, withVariation, type VariationOverride } from "../config.js";
import { batchOption, deviceOption, jsonOption, outputOption, parseDumpAfter, seedOption, variationOption, weightsReadOption } from "../options.js";
import { dumpWriter, printJson, writeOutputs } from "../output.js";

interface OptOptions {
  passes?: string;
  pipeline?: string;
  output?: string;
  weights?: string;
  weightsOut?: string;
  dumpAfter?: "all" | "changed" | "failure" | string[];
  dumpDir: string;
  batch?: number;
  seed: number;
  device?: string;
  variation?: VariationOverride;
  json?: boolean;
}

/** Registers `xbarc opt <in.xir|model.onnx> --passes <pipeline>`. */
export function registerOpt(program: Command, ctx: CliContext): void {
  program
    .command("opt")
    .description("Run a pipeline of passes on an IR file (.xir) or an ONNX model and print the resulting IR.")
    .argument("<input>", "an .xir file (IR text) or an .onnx model; chosen by extension")
    .addOption(new Option("-p, --passes <pipeline>", 'the pipeline string, e.g. "canonicalize" (see `xbarc passes`)'))
    .addOption(new Option("--pipeline <pipeline>", "same as --passes (the spelling used in reproducer headers)").hideHelp())
    .addOption(outputOption("the IR after the pipeline"))
    .addOption(weightsReadOption())
    .option("--weights-out <file>", "also write the result's constants to this weights side file (like import --weights)")
    .addOption(new Option("--dump-after <when>", "write a snapshot after: all, changed (printed IR differs), failure (the IR before a failing pass), or a comma list of passes (import = the input)").argParser(parseDumpAfter))
    .option("--dump-dir <dir>", "directory for the snapshots NN-<pass>.xir (created when missing)", "dumps")
    .addOption(batchOption("the model's own size, or 1 when it is symbolic; .onnx inputs only"))
    .addOption(seedOption())
    .addOption(deviceOption())
    .addOption(variationOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc opt fixtures/models/trained/lenet5.onnx --passes canonicalize -o lenet5.canon.xir
  $ xbarc opt lenet5.xir --weights lenet5.weights --passes canonicalize --dump-after all --dump-dir out/
    (writes out/00-import.xir and out/01-canonicalize.xir; each parses back with \`xbarc ir check\`)
  $ xbarc opt fixtures/models/trained/mlp784-32-10-relu.onnx --passes canonicalize,quantize,assign-levels --device exp-a3 \\
      --dump-after all --dump-dir out/
    (passes that need a device — quantize, assign-levels — take it from --device; --variation overrides its variation)

A failing pass with --dump-after failure (or all) leaves NN-<pass>.failed.xir: the IR before that pass and the
command that reproduces the failure.`)
    .action((input: string, opts: OptOptions) => {
      const pipeline = opts.passes ?? opts.pipeline;
      if (pipeline === undefined) {
        throw new XbarcError("XB7001", "missing the pipeline: pass --passes <pipeline>, e.g. --passes canonicalize", {
          hint: "run `xbarc passes` to list the passes",
        });
      }
      let device = opts.device !== undefined ? loadDeviceProfile(opts.device) : undefined;
      if (device && opts.variation) device = withVariation(device, opts.variation);
      const module = loadModel(input, { batch: opts.batch, weights: opts.weights });
      const dumps = dumpWriter(opts.dumpDir);
      const result = runPasses(module, pipeline, {
        ...(opts.dumpAfter !== undefined ? { dumpAfter: opts.dumpAfter, onDump: dumps.onDump } : {}),
        seed: opts.seed,
        modelName: basename(input),
        ...(device ? { device } : {}),
      });
      const printed = printModule(module, { weights: opts.weightsOut !== undefined });
      const text = irHeader(basename(input), "after opt", result.pipeline, opts.seed) + printed.text;
      writeOutputs((out) => {
        if (opts.output !== undefined) out.add(opts.output, text);
        if (opts.weightsOut !== undefined) out.add(opts.weightsOut, printed.weights ?? new Uint8Array());
      });
      if (opts.json) {
        printJson(ctx.io, {
          input,
          pipeline: result.pipeline,
          seed: opts.seed,
          steps: result.steps,
          dumps: dumps.paths,
          output: opts.output ?? null,
          ...(opts.output === undefined ? { text } : {}),
        });
      } else if (opts.output === undefined) {
        ctx.io.writeOut(text);
      }
    });
}

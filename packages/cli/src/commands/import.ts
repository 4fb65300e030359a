/** @fileoverview `xbarc import`: ONNX → IR text (stdout or -o), optionally with the weights side file. */
import { basename } from "node:path";
import type { Command } from "commander";
import { printModule } from "@xbarc/ir";
import { importModel } from "../api.js";
import { irHeader, type CliContext } from "../context.js";
import { batchOption, jsonOption, outputOption } from "../options.js";
import { printJson, writeOutputs } from "../output.js";

interface ImportOptions {
  output?: string;
  batch?: number;
  weights?: string;
  json?: boolean;
}

/** Registers `xbarc import <model.onnx>`. */
export function registerImport(program: Command, ctx: CliContext): void {
  program
    .command("import")
    .description("Import an ONNX model and print its IR text (the 00-import snapshot of every pipeline).")
    .argument("<model.onnx>", "the ONNX model file")
    .addOption(outputOption("the IR text"))
    .addOption(batchOption("the model's own size, or 1 when it is symbolic"))
    .option("--weights <file>", "also write the constants' bytes to this side file and reference them from the text as weights(offset, bytes, sha256); without it, large constants print without data")
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc import fixtures/models/trained/lenet5.onnx | head
  $ xbarc import fixtures/models/trained/lenet5.onnx -o lenet5.xir --weights lenet5.weights
  $ xbarc infer lenet5.xir --weights lenet5.weights --input x.pb --output-dir out/

Constants with at most 16 elements are printed inline; larger ones need --weights to keep their data.`)
    .action((model: string, opts: ImportOptions) => {
      const module = importModel(model, { batch: opts.batch });
      const printed = printModule(module, { weights: opts.weights !== undefined });
      const header = irHeader(basename(model), "after 00-import") + (opts.weights ? `// weights: ${basename(opts.weights)}\n` : "");
      const text = header + printed.text;
      writeOutputs((out) => {
        if (opts.weights !== undefined) out.add(opts.weights, printed.weights ?? new Uint8Array());
        if (opts.output !== undefined) out.add(opts.output, text);
      });
      if (opts.json) {
        printJson(ctx.io, {
          model,
          module: module.name,
          inputs: module.inputs.map((v) => ({ name: v.name, type: v.type })),
          outputs: module.outputs.map((v) => ({ name: v.name, type: v.type })),
          constants: module.constants.length,
          ops: module.ops.length,
          output: opts.output ?? null,
          weights: opts.weights ?? null,
          weightsBytes: printed.weights?.length ?? 0,
          ...(opts.output === undefined ? { text } : {}),
        });
      } else if (opts.output === undefined) {
        ctx.io.writeOut(text);
      }
    });
}

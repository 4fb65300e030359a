/** @fileoverview `xbarc ir check` (parse + verify) and `xbarc ir parse` (print the canonical text back). */
import type { Command } from "commander";
import { printModule, verifyModule, type Module } from "@xbarc/ir";
import { parseIrFile } from "../api.js";
import type { CliContext } from "../context.js";
import { jsonOption, outputOption, weightsReadOption } from "../options.js";
import { printJson, writeOutputs } from "../output.js";

interface IrOptions {
  weights?: string;
  output?: string;
  json?: boolean;
}

function summary(file: string, m: Module): Record<string, unknown> {
  return {
    file,
    ok: true,
    module: m.name,
    inputs: m.inputs.map((v) => ({ name: v.name, type: v.type })),
    outputs: m.outputs.map((v) => v.name),
    constants: m.constants.length,
    ops: m.ops.length,
    constantsWithoutData: m.constants.filter((c) => c.data === undefined).length,
  };
}

/** Registers `xbarc ir <check|parse>`. */
export function registerIr(program: Command, ctx: CliContext): void {
  const ir = program
    .command("ir")
    .description("Work with IR text files (.xir): check them, or print them back in canonical form.")
    .addHelpText("after", `
Examples:
  $ xbarc ir check dumps/01-canonicalize.xir
  $ xbarc ir parse model.xir --weights model.weights -o model.canonical.xir`);

  ir.command("check")
    .description("Parse and verify an IR file; exit 0 when it is valid, else print the diagnostic (file:line:col and a caret).")
    .argument("<file.xir>", "the IR text file")
    .addOption(weightsReadOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Example:
  $ xbarc ir check out/01-canonicalize.xir && echo valid

Without --weights, constants written as weights(...) are checked for type only; with it, their bytes are
checked against the recorded length and sha256.`)
    .action((file: string, opts: IrOptions) => {
      const m = parseIrFile(file, opts.weights);
      verifyModule(m);
      if (opts.json) printJson(ctx.io, summary(file, m));
      else {
        ctx.io.writeOut(`${file}: ok: module @${m.name}, ${m.inputs.length} input(s), ${m.constants.length} constant(s), ${m.ops.length} op(s), ${m.outputs.length} output(s)\n`);
      }
    });

  ir.command("parse")
    .description("Parse and verify an IR file and print it in canonical form (print ∘ parse is the identity on canonical text).")
    .argument("<file.xir>", "the IR text file")
    .addOption(weightsReadOption())
    .addOption(outputOption("the canonical text"))
    .addOption(jsonOption())
    .addHelpText("after", `
Example:
  $ xbarc ir parse dumps/01-canonicalize.xir | diff - <(grep -v '^//' dumps/01-canonicalize.xir)`)
    .action((file: string, opts: IrOptions) => {
      const m = parseIrFile(file, opts.weights);
      verifyModule(m);
      // with the side file, weights(...) references print again exactly as read (same constants, same order)
      const { text } = printModule(m, { weights: opts.weights !== undefined });
      if (opts.output !== undefined) writeOutputs((out) => out.add(opts.output!, text));
      if (opts.json) printJson(ctx.io, { ...summary(file, m), output: opts.output ?? null, ...(opts.output === undefined ? { text } : {}) });
      else if (opts.output === undefined) ctx.io.writeOut(text);
    });
}

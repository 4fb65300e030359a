/** @fileoverview Builds the `xbarc` command tree (commander) and runs it: parse, dispatch, map failures to exit codes. */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import type { CliContext } from "./context.js";
import { registerCompile } from "./commands/compile.js";
import { registerDeviceShow } from "./commands/device-show.js";
import { registerDevices } from "./commands/devices.js";
import { registerEval } from "./commands/eval.js";
import { registerEvalFloat } from "./commands/eval-float.js";
import { registerEvalWeights } from "./commands/eval-weights.js";
import { registerImport } from "./commands/import.js";
import { registerInfer } from "./commands/infer.js";
import { registerIr } from "./commands/ir.js";
import { registerOpt } from "./commands/opt.js";
import { registerPasses } from "./commands/passes.js";
import { registerProgram } from "./commands/program.js";
import { registerRun } from "./commands/run.js";
import { EXIT, processIo, reportError, type Io } from "./output.js";

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** The whole command tree. Usage errors go to `usageErr`, so main() can print them as text or JSON. */
export function createProgram(ctx: CliContext, usageErr: (text: string) => void): Command {
  const program = new Command("xbarc");
  // settings before .command(): subcommands inherit them (exitOverride, output, help hint)
  program
    .description("Compile ONNX models to ReRAM crossbar programs: import, optimise, inspect IR, run and evaluate models.")
    .version(packageVersion(), "-V, --version", "print the xbarc version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.writeOut(s),
      writeErr: usageErr,
      // usage errors carry the catalogue code like every other diagnostic
      outputError: (s, write) => write(s.replace(/^error: /, "error XB7001: ")),
    })
    .showSuggestionAfterError(true)
    .addHelpText("after", `
Exit codes: 0 success, 1 bad input (a diagnostic XBnnnn), 2 bad command line, 3 internal error (a bug).
Every command takes --json (one JSON document on stdout; errors as JSON on stderr) and --help.

Start here:
  $ xbarc import fixtures/models/trained/lenet5.onnx | head
  $ xbarc eval-float fixtures/models/trained/lenet5.onnx --images fixtures/mnist/t10k-images-idx3-ubyte.gz \\
      --labels fixtures/mnist/t10k-labels-idx1-ubyte.gz --offset 8000`);
  registerImport(program, ctx);
  registerOpt(program, ctx);
  registerIr(program, ctx);
  registerInfer(program, ctx);
  registerEvalFloat(program, ctx);
  registerEvalWeights(program, ctx);
  registerDevices(program, ctx);
  registerDeviceShow(program, ctx);
  registerPasses(program, ctx);
  registerCompile(program, ctx);
  registerProgram(program, ctx);
  registerRun(program, ctx);
  registerEval(program, ctx);
  // each command's usage error ends with the exact help command to run
  const hint = (cmd: Command, path: string): void => {
    cmd.showHelpAfterError(`(run '${path} --help' for usage)`);
    for (const sub of cmd.commands) hint(sub, `${path} ${sub.name()}`);
  };
  hint(program, "xbarc");
  return program;
}

/** commander's exit for --help, `help <command>` and --version is a success (exitCode 0); anything else it reports is a usage error. */
function commanderExitCode(e: CommanderError): number {
  return e.exitCode === 0 ? EXIT.ok : EXIT.usageError;
}

/**
 * Runs the CLI on `argv` (as process.argv: node, script, args...) and returns the exit code; never calls
 * process.exit, so output streams drain. Usage errors are collected and printed once, as text or as JSON.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const json = argv.slice(2).includes("--json");
  let usage = "";
  const program = createProgram({ io }, (s) => {
    usage += s;
  });
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      const code = commanderExitCode(e);
      if (code !== EXIT.ok && json) {
        const message = e.message.replace(/^error: /, "");
        const help = /\(run '([^']+)' for usage\)/.exec(usage)?.[1] ?? "xbarc --help";
        io.writeErr(`${JSON.stringify({ error: { code: "XB7001", message, location: null, hint: `run '${help}' for usage` } })}\n`);
      } else {
        io.writeErr(usage);
      }
      return code;
    }
    return reportError(io, e, json);
  }
}

/**
 * @fileoverview `xbarc program check|show|convert|schema`: verify a compiled program (schema, content hash,
 * semantics), summarize its resources, convert between JSON and text assembly, print the published schema.
 */
import { extname, resolve as resolvePath } from "node:path";
import { Option, type Command } from "commander";
import {
  formatProgramSummary, loadProgram, PROGRAM_SCHEMA, printProgramAsm, printProgramJson, summarizeProgram, type Program,
} from "@xbarc/backend-sim";
import type { CliContext } from "../context.js";
import { jsonOption } from "../options.js";
import { printJson, writeFileAtomic } from "../output.js";

interface ProgramReadOptions {
  /** commander's --no-verify-hash sets this false */
  verifyHash: boolean;
  json?: boolean;
}

function verifyHashOption(): Option {
  return new Option("--no-verify-hash", "accept a program whose content no longer matches its hash (to inspect one changed after compile)");
}

/** Registers `xbarc program <check|show|convert|schema>`. */
export function registerProgram(program: Command, ctx: CliContext): void {
  const group = program
    .command("program")
    .description("Work with compiled crossbar programs (.xbar.json or .xasm): check, show, convert, schema.")
    .addHelpText("after", `
Examples:
  $ xbarc program check lenet5.xbar.json
  $ xbarc program show lenet5.xasm
  $ xbarc program convert lenet5.xbar.json -o lenet5.xasm`);

  group
    .command("check")
    .description("Check a program: its JSON schema, its content hash (a change after compile is refused), and its semantics (cell arrays, level indices, tile placement, schedule references). Exit 0 when valid, 1 with a diagnostic otherwise.")
    .argument("<prog>", "a program: .xbar.json (JSON) or .xasm (text assembly)")
    .addOption(verifyHashOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc program check lenet5.xbar.json
  $ xbarc program check lenet5.xasm --json`)
    .action((file: string, opts: ProgramReadOptions) => {
      const p = loadProgram(file, { verifyHash: opts.verifyHash });
      const verified = opts.verifyHash;
      if (opts.json) {
        printJson(ctx.io, {
          file, valid: true, hash: p.hash, hash_verified: verified, model: p.model.name, device: p.device.name,
          layers: p.layers.length, tiles: p.tiles.length, schedule: p.schedule.length,
        });
        return;
      }
      ctx.io.writeOut(`${file}: valid program for model ${p.model.name} on ${p.device.name}: ${p.layers.length} layer(s), ${p.tiles.length} tile(s), ` +
        `${p.schedule.length} scheduled operations; hash ${p.hash} ${verified ? "verified" : "NOT verified (--no-verify-hash)"}\n`);
    });

  group
    .command("show")
    .description("Summarize a program's resources: per layer and in total, tiles, crossbars, cells used, utilization, lossless ADC tiles, crossbar reads and ADC conversions per image.")
    .argument("<prog>", "a program: .xbar.json (JSON) or .xasm (text assembly)")
    .addOption(verifyHashOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc program show lenet5.xbar.json
  $ xbarc program show lenet5.xasm --json`)
    .action((file: string, opts: ProgramReadOptions) => {
      const p = loadProgram(file, { verifyHash: opts.verifyHash });
      const summary = summarizeProgram(p);
      if (opts.json) {
        printJson(ctx.io, { file, pipeline: p.compile.pipeline, seed: p.compile.seed, truncation: p.compile.truncation, ...summary });
        return;
      }
      ctx.io.writeOut(formatProgramSummary(summary));
      ctx.io.writeOut(`pipeline ${p.compile.pipeline} · seed ${p.compile.seed} · truncation ${p.compile.truncation}\n`);
    });

  group
    .command("convert")
    .description("Convert a program between JSON (.xbar.json) and text assembly (.xasm), chosen by the output's extension; the content and hash stay the same.")
    .argument("<prog>", "a program: .xbar.json or .xasm")
    .requiredOption("-o, --output <file>", "the converted program: .xasm for assembly, anything else for JSON (written whole or not at all)")
    .addOption(verifyHashOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc program convert lenet5.xbar.json -o lenet5.xasm
  $ xbarc program convert lenet5.xasm -o lenet5.xbar.json --json`)
    .action((file: string, opts: ProgramReadOptions & { output: string }) => {
      const p: Program = loadProgram(file, { verifyHash: opts.verifyHash });
      const asm = extname(opts.output).toLowerCase() === ".xasm";
      writeFileAtomic(opts.output, asm ? printProgramAsm(p) : printProgramJson(p));
      if (opts.json) printJson(ctx.io, { input: file, output: resolvePath(opts.output), format: asm ? "asm" : "json", hash: p.hash });
      else ctx.io.writeOut(`wrote ${opts.output} (${asm ? "assembly" : "JSON"}, hash ${p.hash})\n`);
    });

  group
    .command("schema")
    .description("Print the published JSON schema of a program (program.schema.json), which also fixes the key order the content hash uses.")
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc program schema > program.schema.json`)
    .action(() => {
      printJson(ctx.io, PROGRAM_SCHEMA);
    });
}

/** @fileoverview `xbarc passes [name]`: list the passes, or describe one (summary, options with defaults, description). */
import type { Command } from "commander";
import { XbarcError } from "@xbarc/ir";
import { getPass, listPasses } from "@xbarc/passes";
import type { CliContext } from "../context.js";
import { jsonOption } from "../options.js";
import { printJson } from "../output.js";

interface PassesOptions {
  json?: boolean;
}

interface OptionDoc {
  name: string;
  type: string;
  default: unknown;
  description: string;
}

/** The options of a pass, read from its JSON schema. */
function optionDocs(schema: unknown): OptionDoc[] {
  const properties = ((schema ?? {}) as { properties?: Record<string, { type?: unknown; default?: unknown; description?: string; enum?: unknown[] }> }).properties ?? {};
  return Object.entries(properties).map(([name, p]) => ({
    name,
    type: p.enum ? p.enum.map((v) => JSON.stringify(v)).join("|") : Array.isArray(p.type) ? p.type.join("|") : String(p.type ?? "any"),
    default: p.default,
    description: p.description ?? "",
  }));
}

/** Registers `xbarc passes [name]`. */
export function registerPasses(program: Command, ctx: CliContext): void {
  program
    .command("passes")
    .description("List the passes, or describe one: what it does, its options and their defaults.")
    .argument("[name]", "a pass name, e.g. canonicalize")
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc passes
  $ xbarc passes canonicalize

Options go in the pipeline string: --passes 'canonicalize,prune{budget=0.01}'.`)
    .action((name: string | undefined, opts: PassesOptions) => {
      if (name === undefined) {
        const passes = listPasses();
        if (opts.json) {
          printJson(ctx.io, passes.map((p) => ({ name: p.name, summary: p.summary, options: optionDocs(p.options) })));
          return;
        }
        const width = Math.max(...passes.map((p) => p.name.length), 4);
        for (const p of passes) ctx.io.writeOut(`${p.name.padEnd(width)}  ${p.summary}\n`);
        return;
      }
      const pass = getPass(name);
      if (!pass) {
        throw new XbarcError("XB5001", `unknown pass "${name}"`, { hint: `known passes: ${listPasses().map((p) => p.name).join(", ")}` });
      }
      const options = optionDocs(pass.options);
      if (opts.json) {
        printJson(ctx.io, { name: pass.name, summary: pass.summary, options, requires: pass.requires, provides: pass.provides, description: pass.description });
        return;
      }
      const lines = [`${pass.name}: ${pass.summary}`, ""];
      lines.push("options:");
      if (options.length === 0) lines.push("  (none)");
      for (const o of options) lines.push(`  ${o.name} (${o.type}, default ${JSON.stringify(o.default)})${o.description ? `: ${o.description}` : ""}`);
      if (pass.requires.length > 0) lines.push(`requires: ${pass.requires.map((k) => `#${k}`).join(", ")}`);
      if (pass.provides.length > 0) lines.push(`provides: ${pass.provides.map((k) => `#${k}`).join(", ")}`);
      lines.push("", pass.description.trimEnd());
      ctx.io.writeOut(`${lines.join("\n")}\n`);
    });
}

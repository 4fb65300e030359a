/** @fileoverview `xbarc devices`: a table of the built-in device profiles. */
import type { Command } from "commander";
import { getLevels, listBuiltinProfiles, type DeviceProfile } from "@xbarc/ir";
import { formatVariation } from "../config.js";
import type { CliContext } from "../context.js";
import { jsonOption } from "../options.js";
import { printJson } from "../output.js";

/** One row of the table. */
export interface DeviceSummary {
  name: string;
  /** conductance levels per cell */
  levels: number;
  /** level model: listed, linear, power, exponential, ... */
  model: string;
  /** signed mapping */
  map: string;
  /** crossbar rows x cols */
  crossbar: string;
  adc_bits: number;
  dac_bits: number;
  variation: string;
  description: string;
}

/** The table row of a profile. */
export function summarizeDevice(p: DeviceProfile): DeviceSummary {
  return {
    name: p.name,
    levels: getLevels(p.cell).length,
    model: p.cell.levels.model,
    map: p.mapping.signed,
    crossbar: `${p.crossbar.rows}x${p.crossbar.cols}`,
    adc_bits: p.crossbar.adc_bits,
    dac_bits: p.crossbar.dac_bits,
    variation: formatVariation(p.variation),
    description: p.description,
  };
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((s, c) => (c === cells.length - 1 ? s : s.padEnd(widths[c]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** Registers `xbarc devices`. */
export function registerDevices(program: Command, ctx: CliContext): void {
  program
    .command("devices")
    .description("List the built-in device profiles: levels, level model, signed mapping, crossbar, converters, variation.")
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc devices
  $ xbarc device show exp-a3          (one profile in full, with its levels in siemens)
  $ xbarc eval-weights model.onnx --device exp-a3 ...`)
    .action((opts: { json?: boolean }) => {
      const rows = listBuiltinProfiles().map(summarizeDevice);
      if (opts.json) {
        printJson(ctx.io, rows);
        return;
      }
      ctx.io.writeOut(formatTable(
        ["name", "levels", "model", "map", "crossbar", "adc/dac", "variation", "description"],
        rows.map((r) => [r.name, String(r.levels), r.model, r.map, r.crossbar, `${r.adc_bits}/${r.dac_bits}`, r.variation, r.description]),
      ));
    });
}

/** @fileoverview `xbarc device show <name|file>`: one device profile resolved (extends applied), with its levels in siemens. */
import type { Command } from "commander";
import { getLevels, type DeviceProfile } from "@xbarc/ir";
import { formatVariation, loadDeviceProfile } from "../config.js";
import type { CliContext } from "../context.js";
import { jsonOption } from "../options.js";
import { printJson } from "../output.js";

/** A resolved profile with what follows from it. */
export interface ResolvedDevice {
  profile: DeviceProfile;
  /** conductance of each level, siemens, increasing */
  levels: number[];
  /** highest level / lowest level */
  dynamic_range: number;
}

/** The profile with its levels and dynamic range. */
export function describeDevice(profile: DeviceProfile): ResolvedDevice {
  const levels = Array.from(getLevels(profile.cell));
  return { profile, levels, dynamic_range: levels[levels.length - 1]! / levels[0]! };
}

const siemens = (g: number): string => `${Number((g * 1e6).toPrecision(6))} µS`;

/** Registers `xbarc device show`. */
export function registerDeviceShow(program: Command, ctx: CliContext): void {
  const device = program
    .command("device")
    .description("Inspect a device profile (see also `xbarc devices`).")
    .addHelpText("after", `
Examples:
  $ xbarc device show exp-a3
  $ xbarc device show my-device.json --json`);
  device
    .command("show")
    .description("Print a device profile resolved (a built-in, or a JSON file with `extends` applied), with its levels in siemens and its dynamic range.")
    .argument("<device>", "a built-in profile name (see `xbarc devices`) or a device profile JSON file")
    .addOption(jsonOption())
    .addHelpText("after", `
A profile file may extend a built-in and override fields; objects merge, scalars, arrays and cell.levels are replaced:
  { "extends": "exp-a3", "name": "exp-a3-noisy", "variation": { "model": "lognormal", "sigma": 0.5 } }
A file that does not match the schema is rejected with XB4001 naming the JSON pointer of the bad field.

Examples:
  $ xbarc device show isaac
  $ xbarc device show my-device.json --json`)
    .action((spec: string, opts: { json?: boolean }) => {
      const resolved = describeDevice(loadDeviceProfile(spec));
      if (opts.json) {
        printJson(ctx.io, resolved);
        return;
      }
      const p = resolved.profile;
      const c = p.crossbar;
      const levelModel = p.cell.levels;
      const modelParams = Object.entries(levelModel).filter(([k]) => k !== "model" && k !== "values").map(([k, v]) => `${k}=${v}`).join(", ");
      ctx.io.writeOut(
        `name:          ${p.name}\n` +
        `description:   ${p.description}\n` +
        `cell:          ${p.cell.bits} bits, ${resolved.levels.length} levels (${levelModel.model}${modelParams ? `, ${modelParams}` : ""}), g_min ${siemens(p.cell.g_min)}, g_max ${siemens(p.cell.g_max)}\n` +
        `levels:        ${resolved.levels.map(siemens).join(", ")}\n` +
        `dynamic range: ${Number(resolved.dynamic_range.toPrecision(4))}x (top level / bottom level)\n` +
        `variation:     ${formatVariation(p.variation)}; read noise ${p.variation.read_noise}\n` +
        `mapping:       ${p.mapping.signed} signed weights, bias ${p.mapping.bias === "row" ? "in a crossbar row" : "added digitally"}\n` +
        `crossbar:      ${c.rows}x${c.cols}, DAC ${c.dac_bits} bits, ADC ${c.adc_bits} bits, ${c.cols_per_adc} columns per ADC\n` +
        `timing:        read ${p.timing.read_ns} ns, ADC ${p.timing.adc_ns} ns, shift-add ${p.timing.shift_add_ns} ns, write ${p.timing.write_ns} ns\n` +
        `energy:        array read ${p.energy.array_read_pj} pJ, ADC ${p.energy.adc_pj} pJ, DAC ${p.energy.dac_pj} pJ, shift-add ${p.energy.shift_add_pj} pJ, buffer ${p.energy.buffer_pj_per_byte} pJ/B\n` +
        `area:          array ${p.area.array_um2} µm², ADC ${p.area.adc_um2} µm², DAC ${p.area.dac_um2} µm², shift-add ${p.area.shift_add_um2} µm²\n` +
        `source:        ${p.source}\n`,
      );
    });
}

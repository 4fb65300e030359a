/** @fileoverview Built-in device profiles. Each cites where its numbers come from. */
import type { DeviceProfile, LevelSpec } from "./profile.js";

const ISAAC_SOURCE =
  "Shafiee et al., ISAAC, ISCA 2016, Table 6 (per IMA: 8 arrays 128x128 2-bit cells 2.4 mW / 0.0002 mm2; " +
  "8 ADCs 8-bit 1.28 GS/s 16 mW / 0.0096 mm2; 8x128 1-bit DACs 4 mW / 0.00017 mm2; 4 S+A 0.2 mW / 0.00024 mm2; " +
  "100 ns crossbar read). Per-operation figures derived: ADC 2 mW / 1.28 GS/s = 1.5625 pJ; array 0.3 mW x 100 ns = 30 pJ; " +
  "DAC 3.9 uW x 100 ns = 0.00039 pJ; S+A 0.05 mW / 1.28 GHz = 0.039 pJ. Conductance range (1 uS..100 uS), write time " +
  "and buffer energy per byte (1 pJ/B) are assumptions of xbarc, not from ISAAC.";

/** ISAAC-derived crossbar, converters, timing, energy and area, shared by the built-ins. */
const isaac: DeviceProfile = {
  name: "isaac",
  description: "ISAAC-style crossbar: 128x128, 2-bit cells, 1-bit DAC, 8-bit ADC at 1.28 GS/s, 100 ns read, offset-column signed weights",
  source: ISAAC_SOURCE,
  cell: { bits: 2, levels: { model: "linear", count: 4 }, g_min: 1e-6, g_max: 1e-4 },
  variation: { model: "none", sigma: 0, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 },
  mapping: { signed: "offset-column", bias: "digital" },
  crossbar: { rows: 128, cols: 128, dac_bits: 1, adc_bits: 8, cols_per_adc: 128 },
  timing: { read_ns: 100, adc_ns: 0.78125, shift_add_ns: 0.78125, write_ns: 100 },
  energy: { array_read_pj: 30, adc_pj: 1.5625, dac_pj: 0.00039, shift_add_pj: 0.039, buffer_pj_per_byte: 1 },
  area: { array_um2: 25, adc_um2: 1200, dac_um2: 0.166, shift_add_um2: 60 },
};

const HUANG = "Huang, Xu, Wang, Hu, Fang, Micromachines 13:667 (2022), eqs. 9-10 and Table 1; 3-bit (8-level) cells on a differential pair";

/** A seed-001-style 3-bit differential device with the given level model, on ISAAC's crossbar. */
function huangDevice(name: string, levels: LevelSpec, what: string): DeviceProfile {
  return {
    ...isaac,
    name,
    description: `8-level non-linear cell (${what}) on a differential pair, ISAAC crossbar`,
    source: `${HUANG}. Crossbar, converters, timing, energy: ${ISAAC_SOURCE}`,
    cell: { bits: 3, levels, g_min: 1e-6, g_max: 1e-4 },
    mapping: { signed: "differential", bias: "digital" },
  };
}

/** A generic `bits`-bit RRAM cell: 2^bits evenly spaced levels over 1..100 uS, log-normal sigma 0.1, differential pair. */
function genericRram(bits: number): DeviceProfile {
  const count = 2 ** bits;
  return {
    ...isaac,
    name: `rram-${bits}bit`,
    description: `generic ${bits}-bit (${count}-level) RRAM cell, evenly spaced levels, 100x range, log-normal variation sigma = 0.1`,
    source: `Level count and log-normal model after Huang et al. 2022 (eq. 11); sigma = 0.1 is an xbarc default. ${ISAAC_SOURCE}`,
    cell: { bits, levels: { model: "linear", count }, g_min: 1e-6, g_max: 1e-4 },
    variation: { model: "lognormal", sigma: 0.1, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 },
    mapping: { signed: "differential", bias: "digital" },
  };
}

const halawani: DeviceProfile = {
  ...isaac,
  name: "halawani-16l-10x",
  description: "16 evenly spaced levels in a ~10x dynamic range (110..900 ohm), 10% truncated-Gaussian variation per level, offset column, bias row",
  source:
    "Halawani, Mohammad, Saleh, IEEE Access, 'Design Exploration of ReRAM-Based Crossbar for AI Inference': Goff = 1/900 S, " +
    "Gon = 1/110 S, truncated Gaussian with sigma = var x level, truncated at +-var x level (appendix code), 16 QLs, shift column and bias row. " +
    `Crossbar, converters, timing, energy: ${ISAAC_SOURCE}`,
  cell: { bits: 4, levels: { model: "linear", count: 16 }, g_min: 1 / 900, g_max: 1 / 110 },
  variation: { model: "truncated-gaussian", sigma: 0.1, truncate: 1, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 },
  mapping: { signed: "offset-column", bias: "row" },
};

export const BUILTIN_PROFILES: readonly DeviceProfile[] = [
  isaac,
  huangDevice("lin-dev0.1", { model: "deviated-linear", count: 8, delta: 0.1 }, "deviated linear, delta = 0.1"),
  huangDevice("pow-a1.41", { model: "power", count: 8, a: Math.SQRT2 }, "power, a = sqrt 2"),
  huangDevice("pow-a2", { model: "power", count: 8, a: 2 }, "power, a = 2"),
  huangDevice("pow-a3", { model: "power", count: 8, a: 3 }, "power, a = 3"),
  huangDevice("exp-a1.41", { model: "exponential", count: 8, a: Math.SQRT2 }, "exponential, a = sqrt 2"),
  huangDevice("exp-a2", { model: "exponential", count: 8, a: 2 }, "exponential, a = 2"),
  huangDevice("exp-a3", { model: "exponential", count: 8, a: 3 }, "exponential, a = 3"),
  ...[0.1, 0.3, 0.5, 0.7, 1].map((s) =>
    huangDevice(`eexp-s${s}`, { model: "e-exponential", count: 8, s }, `e-exponential, s = ${s}`)),
  genericRram(3),
  genericRram(4),
  halawani,
];

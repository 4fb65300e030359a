/** @fileoverview Energy per image and per layer, chip area per component, and correct operations per joule of a crossbar program, from the device profile's energy and area fields. */
import { XbarcError, numel } from "@xbarc/ir";
import type { Program } from "../program/types.js";
import { summarizeProgram } from "../program/summary.js";
import { adcsPerArray } from "./timing.js";

/**
 * The energy rule (picojoules per image; device profile `energy`; counts from summarizeProgram, not recounted):
 * - array: every crossbar read (one tile, one input step, one output position) costs array_read_pj;
 * - ADC: every conversion (a used column of a tile per read) costs adc_pj;
 * - DAC: every read drives the tile's rows_used rows, dac_pj each;
 * - shift-add: one shift-and-add per conversion, shift_add_pj each;
 * - buffer: each layer reads its input values and writes its output values once per image through the tile buffer,
 *   A_WL/8 bytes per value (the layer's input width, for outputs too), buffer_pj_per_byte per byte; im2col re-reads
 *   are assumed served by the input registers, not the buffer.
 * Area (µm², profile `area`): every distinct crossbar array used; per array ceil(C / min(cols_per_adc, C)) ADCs, one
 * shift-and-add unit per ADC (ISAAC's organisation, our assumption), and one DAC per row.
 */

/** One layer's energy per image, picojoules. */
export interface LayerEnergy {
  layer: string;
  arrayPj: number;
  adcPj: number;
  dacPj: number;
  shiftAddPj: number;
  bufferPj: number;
  totalPj: number;
}

/** Chip area per component, µm². */
export interface AreaEstimate {
  arrays: number;
  adcs: number;
  dacs: number;
  shiftAdd: number;
  total: number;
}

/** A program's energy per image and its area. */
export interface EnergyEstimate {
  perLayer: LayerEnergy[];
  /** Σ of the layers, picojoules per image */
  totalPj: number;
  /** operations per image: 2 × the multiply-accumulates of the weight layers */
  operations: number;
  areaUm2: AreaEstimate;
}

/** Estimates energy per image (per layer and in total), operations and area of a program (the rule above). */
export function estimateEnergy(program: Program): EnergyEstimate {
  const e = program.device.energy;
  const a = program.device.area;
  const summary = summarizeProgram(program);
  const batch = program.input.batch;
  let operations = 0;
  const perLayer = program.layers.map((layer, i): LayerEnergy => {
    const s = summary.layers[i]!;
    const stepsPerTile = s.tiles ? s.mvm_steps / s.tiles : 0;
    const rowDrives = layer.tiles.reduce((sum, id) => sum + program.tiles[id]!.rows_used, 0) * stepsPerTile;
    const bytesPerValue = layer.formats.input.bits / 8;
    const values = (numel(layer.input_shape) + numel(layer.output_shape)) / batch;
    // each output value is one dot product over the group's matrix rows
    operations += 2 * (numel(layer.output_shape) / batch) * layer.matrix.rows;
    const arrayPj = s.mvm_steps * e.array_read_pj;
    const adcPj = s.adc_conversions * e.adc_pj;
    const dacPj = rowDrives * e.dac_pj;
    const shiftAddPj = s.adc_conversions * e.shift_add_pj;
    const bufferPj = values * bytesPerValue * e.buffer_pj_per_byte;
    return { layer: layer.name, arrayPj, adcPj, dacPj, shiftAddPj, bufferPj, totalPj: arrayPj + adcPj + dacPj + shiftAddPj + bufferPj };
  });
  const arraysUsed = summary.total.crossbars;
  const adcs = arraysUsed * adcsPerArray(program);
  const area = {
    arrays: arraysUsed * a.array_um2,
    adcs: adcs * a.adc_um2,
    dacs: arraysUsed * program.device.crossbar.rows * a.dac_um2,
    shiftAdd: adcs * a.shift_add_um2,
  };
  return {
    perLayer,
    totalPj: perLayer.reduce((sum, l) => sum + l.totalPj, 0),
    operations,
    areaUm2: { ...area, total: area.arrays + area.adcs + area.dacs + area.shiftAdd },
  };
}

/**
 * Correct operations per unit energy (Diware et al., ICCAD 2024, §5): accuracy × operations / energy, in GOP/J.
 * `accuracy` is a fraction in [0, 1]; `energy` is per image (operations and totalPj of estimateEnergy).
 */
export function correctOperationsPerJoule(accuracy: number, energy: Pick<EnergyEstimate, "operations" | "totalPj">): number {
  if (!(accuracy >= 0 && accuracy <= 1)) {
    throw new XbarcError("XB7001", `correct operations per joule: accuracy ${accuracy} is not a fraction in [0, 1]`, { hint: "pass the accuracy as a fraction (0.98, not 98)" });
  }
  if (!(energy.totalPj > 0)) {
    throw new XbarcError("XB7001", `correct operations per joule: energy per image ${energy.totalPj} pJ is not positive`, { hint: "estimate the energy of a program with at least one weight layer (estimateEnergy)" });
  }
  return (accuracy * energy.operations) / (energy.totalPj * 1e-12) / 1e9;
}

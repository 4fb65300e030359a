/**
 * @fileoverview One Monte Carlo instance of a program's crossbars (sim spec, "Functional"): the value every physical
 * cell of every tile holds, in units of one level step, sampled from the profile's variation and stuck-at faults with
 * a stream fixed by (seed, run); and the read-noise stream of that instance.
 */
import { createRng, getLevels, type Rng, type VariationSpec } from "@xbarc/ir";
import { createCellSampler, sampleConductances } from "../device/sample.js";
import { createCellValueModel } from "../fixed-point/variation.js";
import { getTileCells } from "../program/check.js";
import type { Program } from "../program/types.js";

/** The cell values of every tile of a program for one instance, and how its column reads are disturbed. */
export interface SimInstance {
  /** per tile (by id), row-major [rows_used, cols_used]: the cell's value in level steps (ideal: its level index) */
  readonly cellValues: readonly Float64Array[];
  /** every cell value is an integer (the ideal device, or faults only on a linear device): reads are exact */
  readonly integerCells: boolean;
  /** σ of the read noise of one column read, in level steps per row (0: no read noise) */
  readonly readNoisePerRow: number;
  /** the read-noise stream (present when readNoisePerRow > 0) */
  readonly noiseRng?: Rng;
}

/** The ideal instance of each program, built once: the kernels cache what they pack per instance. */
const idealInstances = new WeakMap<Program, SimInstance>();

/** The ideal device: every cell holds exactly its level index; no read noise. */
export function getIdealInstance(program: Program): SimInstance {
  let instance = idealInstances.get(program);
  if (!instance) {
    instance = { cellValues: program.tiles.map((t) => Float64Array.from(getTileCells(t))), integerCells: true, readNoisePerRow: 0 };
    idealInstances.set(program, instance);
  }
  return instance;
}

/**
 * Samples instance `run` of `program` under `seed` (the profile's variation, or `variation` in its place). A cell
 * programmed to level k holds k + (g − g_k)/Δg level steps, g its sampled conductance and Δg the step between level 0
 * and level 2^cell_bits − 1: the level-0 baseline g_min cancels against the G− column or the offset column, so only
 * the deviation is read (the same cell model as the fixed-point reference's variation sampling). Tile t draws from
 * its own stream `sim/run-<run>/tile-<t>`, so an instance never depends on how runs are spread over workers.
 * Read noise (variation.read_noise, a fraction of g_max per driven row) is drawn from `sim/run-<run>/read-noise`.
 */
export function sampleProgramInstance(program: Program, seed: number, run: number, variation: VariationSpec = program.device.variation): SimInstance {
  const device = program.device;
  const sampler = createCellSampler(getLevels(device.cell), variation);
  const model = createCellValueModel(device, sampler);
  let integerCells = true;
  const cellValues = program.tiles.map((t) => {
    const levels = getTileCells(t);
    const g = sampleConductances(sampler, levels, createRng(seed, `sim/run-${run}/tile-${t.id}`));
    for (let i = 0; i < g.length; i++) {
      const k = levels[i]!;
      let v = k + (g[i]! - model.nominal[k]!) / model.step;
      // a cell stuck exactly on a level of a linear device lands on an integer up to float rounding: snap it there
      const near = Math.round(v);
      if (Math.abs(v - near) < 1e-9) v = near;
      g[i] = v;
      if (!Number.isInteger(v)) integerCells = false;
    }
    return g;
  });
  const readNoisePerRow = variation.read_noise > 0 ? (variation.read_noise * device.cell.g_max) / model.step : 0;
  return {
    cellValues, integerCells, readNoisePerRow,
    ...(readNoisePerRow > 0 ? { noiseRng: createRng(seed, `sim/run-${run}/read-noise`) } : {}),
  };
}

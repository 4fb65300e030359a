/**
 * @fileoverview The prune report: crossbar units per layer and in total, read from the tile pass's `#tiles` (the plan
 * the program is emitted from), before and after pruning; and the helpers that rebuild the pruned float model
 * (copy a module, apply the `#prune` masks) so accuracy before/after can be measured outside the pass.
 */
import { parseModule, printModule, type DeviceProfile, type Module } from "@xbarc/ir";
import type { CalibrationSet } from "../pass.js";
import { runPipeline } from "../manager.js";
import type { PipelineStep } from "../pipeline.js";
import { getModuleTilePlan } from "../tile/index.js";
import { getWeightOps } from "../quantize/index.js";

/** Crossbars of one layer. */
export interface LayerCrossbars {
  /** the layer's result name */
  readonly layer: string;
  /** crossbars holding at least one of its tiles */
  readonly crossbars: number;
  readonly tiles: number;
}

/** Crossbars of a tiled module. */
export interface CrossbarCount {
  /** physical crossbars of the whole plan (packed crossbars shared by layers count once) */
  readonly total: number;
  readonly layers: readonly LayerCrossbars[];
}

/** One row of the before/after table. */
export interface LayerCrossbarChange {
  readonly layer: string;
  readonly before: number;
  readonly after: number;
}

/** Crossbar units before and after pruning, total and per layer. */
export interface CrossbarComparison {
  readonly before: number;
  readonly after: number;
  /** (before − after) / before */
  readonly saved: number;
  readonly per_layer: readonly LayerCrossbarChange[];
}

/** A deep copy of a module, weights included, through the text form (print → parse is exact). */
export function copyModule(module: Module): Module {
  const printed = printModule(module, { weights: true });
  return parseModule(printed.text, printed.weights ? { weights: printed.weights } : {});
}

/** Crossbars per layer from the module's `#tiles` (the tile pass's plan, as the emitter reads it). */
export function getCrossbarCount(module: Module): CrossbarCount {
  const { ops, plan } = getModuleTilePlan(module);
  const layers = ops.map((op, i): LayerCrossbars => {
    const tiles = plan.layers[i]!.tiles;
    return { layer: op.results[0]!.name, crossbars: new Set(tiles.map((t) => t.xbar)).size, tiles: tiles.length };
  });
  return { total: plan.crossbars, layers };
}

/**
 * Crossbars of `module` after running `steps` (e.g. the compile pipeline's quantize..tile) on a copy of it: the same
 * passes and planner the compile uses, so a "before" count is comparable with the compiled module's `#tiles`.
 */
export function countCrossbars(module: Module, steps: readonly PipelineStep[], device: DeviceProfile, calibration?: CalibrationSet, seed = 0): CrossbarCount {
  const copy = copyModule(module);
  runPipeline(copy, steps, { device, seed, ...(calibration ? { calibration } : {}) });
  return getCrossbarCount(copy);
}

/** The before/after table: layers matched by name, in the order of `after`. */
export function compareCrossbars(before: CrossbarCount, after: CrossbarCount): CrossbarComparison {
  const old = new Map(before.layers.map((l) => [l.layer, l.crossbars]));
  return {
    before: before.total,
    after: after.total,
    saved: before.total > 0 ? (before.total - after.total) / before.total : 0,
    per_layer: after.layers.map((l) => ({ layer: l.layer, before: old.get(l.layer) ?? 0, after: l.crossbars })),
  };
}

/**
 * Zeroes in `target` every weight that `source`'s `#prune` masks mark (layers matched by weight name); returns the
 * number of weights zeroed. Turns an unpruned copy into the float model the prune pass produced, e.g. after the
 * rest of the pipeline has replaced `source`'s weights by quantized ones.
 */
export function applyPruneMasks(target: Module, source: Module): number {
  const weights = new Map(getWeightOps(target).map((op) => [op.operands[1]!.name, op.operands[1]!]));
  let zeroed = 0;
  for (const op of source.ops) {
    const maskName = op.getAnnotation("prune")?.data.mask;
    if (typeof maskName !== "string") continue;
    const mask = source.constants.find((c) => c.name === maskName)?.data;
    const weight = weights.get(op.operands[1]!.name);
    if (!mask || !weight?.data || weight.data.length !== mask.length) {
      throw new Error(`applyPruneMasks: layer ${op.results[0]!.name}: mask @${maskName} or weight @${op.operands[1]!.name} is missing or of another size`);
    }
    const w = weight.data as Float32Array | Float64Array;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i]) {
        w[i] = 0;
        zeroed++;
      }
    }
  }
  return zeroed;
}

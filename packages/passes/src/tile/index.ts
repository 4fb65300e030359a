/**
 * @fileoverview The tile pass: lay every quantized conv/linear layer's weight matrix onto the device's crossbars
 * (linear directly, conv via im2col, groups one after the other), split rows and columns into tiles, optionally
 * pack small tiles into shared crossbars, and record `#tiles` per layer with crossbar and cell totals in stats.
 */
import { XbarcError, type Module, type Op } from "@xbarc/ir";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { getWeightOps } from "../quantize/index.js";
import "./annotation.js";
import { getLayerMatrix, getOpLocation, type LayerMatrix } from "./layer.js";
import { getTilePlanFromAnnotations, getTilesAnnotation, planTiles, type TilePlan, type TilesAnnotationData } from "./plan.js";

export interface TileOptions {
  /** pack tiles of small layers block-diagonally into shared crossbars (first fit) instead of one crossbar per tile */
  pack: boolean;
}

export const tile: Pass<TileOptions> = {
  name: "tile",
  summary: "lay each layer's weight matrix onto crossbars (im2col for conv), split into row and column tiles, report crossbars and utilization",
  description: `Maps every quantized conv and linear layer onto crossbars of the device's rows × cols.
The matrix of a layer has one row per input (linear: K; conv: C_in/group·k_h·k_w in im2col order c, kh, kw)
and one column per output channel (linear: N; conv: C_out/group); groups are separate matrices.
Each output column takes P = S·(2 if differential) physical columns: S = ceil(W_WL/cell_bits) weight slices
for a fixed-point layer (W_WL read from its #quant codebook), S = 1 for a layer quantized onto analog levels.
Rows are split into row tiles of at most R rows (their partial sums are added digitally); columns into column
tiles of whole output columns, so that a tile's physical columns, plus S for the offset column on an
offset-column device, fit in C. A "row" bias takes one row of the first row tile.
Without pack every tile has a crossbar of its own; with pack=true tiles are placed first fit into the first
crossbar with free rows and free columns (block-diagonal, never sharing a row or a column), and #tiles lists
each tile's crossbar (xbar_ids) and corner (xbar_rows, xbar_cols).
Stats: tiled-layers, tiles, crossbars, cells-used, cells-available (= crossbars·R·C).

Example (device isaac: 128×128, 2-bit cells, offset column; 8-bit fixed-point weights, S = 4):
  before:
    %y = linear %x, @f5.weight, @f5.bias : f32[1,120]
        #quant{scheme="fixed-point", codes=256, ...}
  after:
    %y = linear %x, @f5.weight, @f5.bias : f32[1,120]
        #quant{scheme="fixed-point", codes=256, ...}
        #tiles{xbar=[128,128], grid=[4,4], tiles=16, rows_used=[128,128,128,16], cols_used=[128,128,128,112], phys_cols_per_weight_col=4, offset_cols=4, groups=1, cells=..., util=...}`,
  options: {
    type: "object",
    additionalProperties: false,
    required: [],
    properties: {
      pack: { type: "boolean", default: false },
    },
  } as Pass<TileOptions>["options"],
  requires: ["quant"],
  provides: ["tiles"],
  run(module: Module, options: TileOptions, ctx: PassContext): PassResult {
    const device = ctx.device;
    if (!device) throw new XbarcError("XB5003", "tile needs a device profile", { hint: "pass --device <name|file> (see `xbarc devices`)" });
    const ops: Op[] = [];
    const layers: LayerMatrix[] = [];
    for (const op of getWeightOps(module)) {
      if (!op.getAnnotation("quant")) {
        // quantize leaves a weight shared by two layers on the first one only; this one has nothing to program
        ctx.diag.warn(`layer ${op.results[0]!.name} has no #quant and is not tiled`, {
          location: getOpLocation(op),
          hint: "run quantize before tile; a layer sharing another layer's weight is not quantized twice",
        });
        continue;
      }
      ops.push(op);
      layers.push(getLayerMatrix(module, op, device));
    }
    const xbar = { rows: device.crossbar.rows, cols: device.crossbar.cols };
    const plan = planTiles(layers, xbar, { pack: options.pack });
    let changed = false;
    let cells = 0;
    let tiles = 0;
    ops.forEach((op, i) => {
      const layer = plan.layers[i]!;
      const data = getTilesAnnotation(plan, layer, layers[i]!.groups, layers[i]!.biasRow);
      const old = op.getAnnotation("tiles");
      if (!old || JSON.stringify(old.data) !== JSON.stringify(data)) {
        op.setAnnotation("tiles", data);
        changed = true;
      }
      cells += layer.cells;
      tiles += layer.tiles.length;
      ctx.diag.remark(`layer ${op.results[0]!.name}: ${layer.tiles.length} tile(s) (grid ${layer.grid[0]}×${layer.grid[1]}` +
        `${layers[i]!.groups > 1 ? ` × ${layers[i]!.groups} groups` : ""}), ${layer.cells} cells, utilization ${layer.util.toFixed(3)}`, { location: getOpLocation(op) });
    });
    const available = plan.crossbars * xbar.rows * xbar.cols;
    ctx.stats.add("tiled-layers", ops.length);
    ctx.stats.add("tiles", tiles);
    ctx.stats.add("crossbars", plan.crossbars);
    ctx.stats.add("cells-used", cells);
    ctx.stats.add("cells-available", available);
    if (ops.length) {
      ctx.diag.remark(`total: ${tiles} tile(s) on ${plan.crossbars} crossbar(s) of ${xbar.rows}×${xbar.cols}, ${cells} of ${available} cells used ` +
        `(utilization ${(available ? cells / available : 0).toFixed(3)})${options.pack ? ", packed" : ""}`);
    }
    return { changed };
  },
};

/**
 * The tile plan recorded in a module's `#tiles` annotations, with the layers' ops in the same order: what the
 * program emitter lays out (it follows the dump, not a re-run of the planner).
 */
export function getModuleTilePlan(module: Module): { ops: Op[]; plan: TilePlan } {
  const ops = getWeightOps(module).filter((op) => op.getAnnotation("tiles"));
  const plan = getTilePlanFromAnnotations(ops.map((op) => op.getAnnotation("tiles")!.data as unknown as TilesAnnotationData));
  return { ops, plan };
}

export { planTiles, getTilePlanFromAnnotations, getTilesAnnotation } from "./plan.js";
export type { PlannedTile, LayerTiles, TilePlan, XbarShape, PlanTilesOptions, TilesAnnotationData } from "./plan.js";
export { getLayerMatrix, getFixedPointFormat, getIntegerWeights, type LayerMatrix, type FixedPointFormat } from "./layer.js";
export { TILES_ANNOTATION_SCHEMA } from "./annotation.js";

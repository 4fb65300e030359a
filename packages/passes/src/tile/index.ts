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
import { DEFAULT_MERGE_MODE, MERGE_MODES, type MergeMode } from "./merge.js";
import { getTilePlanFromAnnotations, getTilesAnnotation, planTiles, type TilePlan, type TilesAnnotationData } from "./plan.js";

export interface TileOptions {
  /** pack tiles of small layers block-diagonally into shared crossbars (first fit) instead of one crossbar per tile */
  pack: boolean;
  /** how far to compact each layer's matrix: drop zero rows/columns, merge identical (or sign-equal) ones */
  merge: MergeMode;
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
Stats: tiled-layers, tiles, crossbars, cells-used, cells-available (= crossbars·R·C), and with compaction
crossbars-uncompacted, rows-dropped, rows-merged, cols-dropped, cols-merged.

Compaction and merging (merge=, Ma, Jiang, Liu, Du, Ma, Du, Integrated Circuits and Systems 2(4), 2025), on
fixed-point layers from the integer weights (#quant codes), on analog-level layers (kmeans, spectral, uniform,
em-variation, mes-caq: one weight per cell or cell pair) from each weight's code and cell states (see below);
each mode includes the previous one:
  none     nothing (the matrix as it is)
  zeros    all-zero matrix rows take no crossbar row; all-zero columns (with no bias on a bias row) take no
           column, their outputs are 0 plus the digital bias
  columns  (recommended) columns with identical integer vectors (and equal bias on a bias row) share one physical
           column whose output is fanned out to every member's channel
  rows     rows with identical integer vectors over all columns share one physical row driven with the sum of
           the members' inputs: the layer's DAC steps grow to ceil((A_WL + ceil(log2 k))/dac_bits), k the
           largest merge
  all      on a differential device, columns equal up to sign share one column pair; the negated member's output
           is computed with G+ and G- swapped, i.e. the exact integer negated before the truncation window
Maps are shared by a conv's groups (one grid for all groups): a row or column is dropped or merged only when it is
zero or equal in every group. The bias row never merges. A layer always keeps at least one row and one column.
#tiles then records row_map (per original row its physical row, -1 dropped), col_map (per original column its
physical column, -1 dropped), col_sign (only with a sign merge) and uncompacted={rows, cols, tiles, cells};
grid, rows_used, cols_used and the tiles describe the physical matrix.
Exactness, against the uncompacted program on the ideal device with lossless ADCs:
  zero rows        exact in integers; the row tiles' partition of the original rows changes, so the per-row-tile
                   truncation window sees other partial sums: results are unchanged whenever that window is
                   inactive (one row tile, or the full window / no partial sum with bits below D_L or above O_RWL)
  zero columns     exact (the output is 0 + bias either way); on a real device the dropped cells' noise is gone
  identical cols   exact, even under truncation (same row partition, same partial sums)
  sign-equal cols  exact: the negation is applied to the exact accumulator before the window; negating after
                   floor(acc/2^D_L) would differ by one LSB whenever acc is not a multiple of 2^D_L
  identical rows   exact in integers with the extra DAC steps; row partition as for zero rows; a lossy ADC sees
                   the same per-read bound R(2^db-1)(2^cb-1) but other column sums, so its clipping changes
  device variation a merged row or column is one set of cells: its members' errors are correlated, not independent
Analog-level layers compare, per weight, its code (#quant codes) together with its cell states (#cells plus/minus,
or the code's #quant code_levels before assign-levels): equal (code, G+, G-) means equal programmed conductances.
  zero weight      codebook value exactly 0 whose states realise exactly 0 (scale*(g[G+] - g[G-]) + offset = 0).
                   Clustering rarely keeps 0 as a code of its own (the cluster holding the pruned zeros has a nonzero
                   centroid) and an offset-column device's offset makes the 0 code realise a nonzero value, so
                   pruned rows usually merge ("rows") rather than drop
  sign-equal cols  differential device with #quant offset 0 only: every weight of one column has the codebook value
                   exactly negated and the states swapped (G+ <-> G-) of the other's, so its realised value is the
                   exact negation; any nonzero offset (added digitally) rules it out
  exactness        on the ideal device every drop and merge is exact: the dropped weights realise 0, a merged
                   member's cells are its physical row's/column's (negated for a sign merge), and the bias stays
                   digital (an analog layer's bias row is left at level 0, so a bias never pins a column). Merged
                   rows are driven with the sum of their inputs (ceil(log2 k) more input bits, as for fixed point);
                   the sum reaches the read-out ADC, whose lossy conversion and the device's variation (members share
                   one set of cells: correlated errors) then act on different column currents. The simulator does
                   not run analog-level layers (XB6002); their programs carry the maps and pass \`xbarc program check\`.
Default "none" (programs of existing pipelines stay byte-identical); "columns" is the recommended setting: zero
rows/columns and identical columns cost nothing and are exact on the ideal device, while identical rows cost input
steps (latency and DAC/ADC energy of the whole layer) and sign merges need a differential device, so both stay opt-in.

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
      merge: { type: "string", enum: [...MERGE_MODES], default: DEFAULT_MERGE_MODE },
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
      layers.push(getLayerMatrix(module, op, device, { merge: options.merge }));
    }
    const xbar = { rows: device.crossbar.rows, cols: device.crossbar.cols };
    const plan = planTiles(layers, xbar, { pack: options.pack });
    const compacted = layers.some((l) => l.compaction);
    // the saving: the same plan without compaction (packing depends on every tile, so it is planned again)
    const uncompactedPlan = compacted ? planTiles(layers.map(({ compaction, ...l }) => (compaction ? { ...l, rows: compaction.origRows, cols: compaction.origCols } : l)), xbar, { pack: options.pack }) : plan;
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
      const c = layer.compaction;
      let saving = "";
      if (c) {
        const counts = compactionCounts(c.rowMap, c.rows);
        const colCounts = compactionCounts(c.colMap, c.cols);
        ctx.stats.add("rows-dropped", counts.dropped);
        ctx.stats.add("rows-merged", counts.merged);
        ctx.stats.add("cols-dropped", colCounts.dropped);
        ctx.stats.add("cols-merged", colCounts.merged);
        saving = `; compacted ${c.origRows}×${c.origCols} → ${c.rows}×${c.cols} (${counts.dropped} zero and ${counts.merged} merged row(s), ` +
          `${colCounts.dropped} zero and ${colCounts.merged} merged column(s)), ${layer.uncompacted!.tiles} → ${layer.tiles.length} tile(s)`;
      }
      ctx.diag.remark(`layer ${op.results[0]!.name}: ${layer.tiles.length} tile(s) (grid ${layer.grid[0]}×${layer.grid[1]}` +
        `${layers[i]!.groups > 1 ? ` × ${layers[i]!.groups} groups` : ""}), ${layer.cells} cells, utilization ${layer.util.toFixed(3)}${saving}`, { location: getOpLocation(op) });
    });
    const available = plan.crossbars * xbar.rows * xbar.cols;
    ctx.stats.add("tiled-layers", ops.length);
    ctx.stats.add("tiles", tiles);
    ctx.stats.add("crossbars", plan.crossbars);
    if (compacted) ctx.stats.add("crossbars-uncompacted", uncompactedPlan.crossbars);
    ctx.stats.add("cells-used", cells);
    ctx.stats.add("cells-available", available);
    if (ops.length) {
      ctx.diag.remark(`total: ${tiles} tile(s) on ${plan.crossbars} crossbar(s) of ${xbar.rows}×${xbar.cols}, ${cells} of ${available} cells used ` +
        `(utilization ${(available ? cells / available : 0).toFixed(3)})${options.pack ? ", packed" : ""}` +
        `${compacted ? `; ${uncompactedPlan.crossbars} crossbar(s) without compaction (merge="${options.merge}")` : ""}`);
    }
    return { changed };
  },
};

/** Originals dropped (map −1) and merged into another's physical index, of one compaction map. */
function compactionCounts(map: Int32Array, physical: number): { dropped: number; merged: number } {
  let dropped = 0;
  for (const p of map) if (p < 0) dropped++;
  return { dropped, merged: map.length - dropped - physical };
}

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
export type { PlannedTile, LayerTiles, TilePlan, XbarShape, PlanTilesOptions, TilesAnnotationData, UncompactedCounts } from "./plan.js";
export { getLayerMatrix, getFixedPointFormat, getIntegerWeights, getAnalogWeightKeys, type LayerMatrix, type LayerMatrixOptions, type FixedPointFormat } from "./layer.js";
export { compactMatrix, isIdentityCompaction, DEFAULT_MERGE_MODE, MERGE_MODES, type MergeMode, type MatrixCompaction, type CompactOptions } from "./merge.js";
export { TILES_ANNOTATION_SCHEMA } from "./annotation.js";

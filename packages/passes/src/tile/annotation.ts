/** @fileoverview The `#tiles` annotation: how a layer's weight matrices lie on crossbars, and what they use. */
import { registerAnnotationKind } from "@xbarc/ir";

const count = { type: "integer", minimum: 0 } as const;
const counts = { type: "array", items: count } as const;

export const TILES_ANNOTATION_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["xbar", "grid", "tiles", "rows_used", "cols_used", "phys_cols_per_weight_col", "offset_cols", "groups", "cells", "util"],
  properties: {
    /** crossbar size [R, C], cells */
    xbar: { type: "array", items: { type: "integer", minimum: 1 }, minItems: 2, maxItems: 2 },
    /** [row tiles, column tiles] per group; row tiles' partial sums are added digitally */
    grid: { type: "array", items: count, minItems: 2, maxItems: 2 },
    /** tiles of the layer: groups · row tiles · column tiles */
    tiles: count,
    /** crossbar rows used by each row tile (the bias row, in the first, counts) */
    rows_used: counts,
    /** crossbar columns used by each column tile (offset columns count) */
    cols_used: counts,
    /** physical columns per weight-matrix column: S · (2 if differential else 1) */
    phys_cols_per_weight_col: { type: "integer", minimum: 1 },
    /** physical columns of the offset column in every tile (S with an offset column, else 0) */
    offset_cols: count,
    /** independent matrices (conv group) */
    groups: { type: "integer", minimum: 1 },
    /** cells used by all tiles */
    cells: count,
    /** cells / (tiles · R · C) */
    util: { type: "number", minimum: 0, maximum: 1 },
    /** the first row tile holds the bias on its last used row (profile bias "row") */
    bias_row: { type: "boolean" },
    /** with pack=true: the physical crossbar of each tile, in tile order */
    xbar_ids: counts,
    /** with pack=true: each tile's first row on its crossbar */
    xbar_rows: counts,
    /** with pack=true: each tile's first column on its crossbar */
    xbar_cols: counts,
    /** compacted layers: per original matrix row its physical row, −1 when dropped (merged rows share one) */
    row_map: { type: "array", items: { type: "integer", minimum: -1 } },
    /** compacted layers: per original matrix column its physical column, −1 when dropped (output computed digitally) */
    col_map: { type: "array", items: { type: "integer", minimum: -1 } },
    /** sign merges: per original column +1, or −1 when it is its physical column negated */
    col_sign: { type: "array", items: { enum: [1, -1] } },
    /** compacted layers: the original matrix and what it would take uncompacted */
    uncompacted: {
      type: "object",
      additionalProperties: false,
      required: ["rows", "cols", "tiles", "cells"],
      properties: { rows: count, cols: count, tiles: count, cells: count },
    },
  },
} as const;

registerAnnotationKind("tiles", TILES_ANNOTATION_SCHEMA);

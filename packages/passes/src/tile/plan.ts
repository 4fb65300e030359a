/**
 * @fileoverview Tile planning as a pure function: split each layer's weight matrices into crossbar-sized tiles
 * (rows: partial sums added digitally; columns: whole logical columns with all their slices) and place every tile
 * on a physical crossbar, one per tile or packed block-diagonally. Also rebuilds the plan from `#tiles` annotations.
 */
import { XbarcError, getCrossbarTiles, type AttrValue, type CrossbarTile, type CrossbarTilesFields } from "@xbarc/ir";
import type { LayerMatrix } from "./layer.js";
import type { MatrixCompaction } from "./merge.js";

/** A crossbar array's size in cells. */
export interface XbarShape {
  readonly rows: number;
  readonly cols: number;
}

/**
 * One tile: the rectangle of one group's weight matrix it holds and where it sits. Physical layout inside the tile
 * (what the emitter programs): weight row r of the rectangle is tile row r; the bias row, when present, is tile row
 * `rows` (after the weight rows). Logical column j of the rectangle takes tile columns [j·P, (j+1)·P), P =
 * physColsPerWeightCol: slice s at j·P + s (differential: G+ slices at j·P + s, G− slices at j·P + S + s).
 * The offset column, when present, takes the last S tile columns [cols·P, cols·P + S), slice s at cols·P + s.
 */
export type PlannedTile = CrossbarTile;

/** One layer's tiles and the figures `#tiles` records. */
export interface LayerTiles {
  /** [row tiles, column tiles] per group */
  readonly grid: readonly [number, number];
  /** crossbar rows used by each row tile (the bias row counts) */
  readonly rowsUsed: readonly number[];
  /** crossbar columns used by each column tile (offset columns count) */
  readonly colsUsed: readonly number[];
  /** P = S·(2 if differential else 1) */
  readonly physColsPerWeightCol: number;
  /** physical offset columns per tile */
  readonly offsetCols: number;
  /** every tile, groups first, then row tiles, then column tiles */
  readonly tiles: readonly PlannedTile[];
  /** cells used by all tiles (Σ physRows·physCols) */
  readonly cells: number;
  /** cells / (tiles · R · C) */
  readonly util: number;
  /** compacted layers: the maps from the original matrix to the tiled (physical) one */
  readonly compaction?: MatrixCompaction;
  /** compacted layers: the original matrix's rows and columns, and the tiles and cells it would take uncompacted */
  readonly uncompacted?: UncompactedCounts;
}

/** What a compacted layer would take without compaction (Ma et al. 2025 count the crossbar unit as the resource). */
export interface UncompactedCounts {
  readonly rows: number;
  readonly cols: number;
  readonly tiles: number;
  readonly cells: number;
}

/** The whole model's tiles. */
export interface TilePlan {
  readonly xbar: XbarShape;
  /** one entry per layer, in the order given */
  readonly layers: readonly LayerTiles[];
  /** physical crossbars used */
  readonly crossbars: number;
  /** whether small tiles were packed into shared crossbars */
  readonly packed: boolean;
}

/** Options of `planTiles`. */
export interface PlanTilesOptions {
  /** pack tiles block-diagonally into shared crossbars (first fit); default false: one crossbar per tile */
  readonly pack?: boolean;
}

/** Splits `total` items into chunks of at most `first` then `rest` each, greedily. */
function chunks(total: number, first: number, rest: number): number[] {
  const out: number[] = [];
  let left = total;
  let cap = first;
  while (left > 0) {
    const n = Math.min(left, cap);
    out.push(n);
    left -= n;
    cap = rest;
  }
  return out;
}

/** Tiles of one layer, placed at crossbar 0 (placement is done by the caller). */
function splitLayer(layer: LayerMatrix, xbar: XbarShape): Omit<LayerTiles, "tiles"> & { tiles: PlannedTile[] } {
  const split = splitMatrix(layer, xbar);
  const c = layer.compaction;
  if (!c) return split;
  const full = splitMatrix({ ...layer, rows: c.origRows, cols: c.origCols }, xbar);
  return { ...split, compaction: c, uncompacted: { rows: c.origRows, cols: c.origCols, tiles: full.tiles.length, cells: full.cells } };
}

/** Tiles of one layer's (physical) matrix, placed at crossbar 0. */
function splitMatrix(layer: LayerMatrix, xbar: XbarShape): Omit<LayerTiles, "tiles"> & { tiles: PlannedTile[] } {
  const { rows: R, cols: C } = xbar;
  const S = layer.slices;
  const P = S * (layer.differential ? 2 : 1);
  // Halawani et al.: the offset column holds the constant shift, sliced like the weights, once per tile
  const offsetCols = layer.offsetColumn ? S : 0;
  const perTile = Math.floor((C - offsetCols) / P);
  if (perTile < 1) {
    throw new XbarcError("XB5003", `layer ${layer.name}: one output column needs ${P + offsetCols} physical columns (${S} slice(s)${layer.differential ? " × 2 for G+/G−" : ""}${offsetCols ? ` + ${offsetCols} offset` : ""}), but the crossbar has ${C}`, {
      hint: "use a device with more columns, more bits per cell, or fewer weight bits",
      location: layer.location,
    });
  }
  const bias = layer.biasRow ? 1 : 0;
  if (R - bias < 1) {
    throw new XbarcError("XB5003", `layer ${layer.name}: the crossbar has ${R} row(s), too few for a weight row and the bias row`, {
      hint: "use a device with more rows, or bias \"digital\"",
      location: layer.location,
    });
  }
  // row tiles: partial sums are added digitally; the first row tile gives one row to the bias
  const rowChunks = layer.rows > 0 ? chunks(layer.rows, R - bias, R) : [];
  // column tiles: whole logical columns (all slices together), never split across tiles
  const colChunks = layer.cols > 0 ? chunks(layer.cols, perTile, perTile) : [];
  const rowsUsed = rowChunks.map((n, i) => n + (i === 0 ? bias : 0));
  const colsUsed = colChunks.map((n) => n * P + offsetCols);
  const tiles: PlannedTile[] = [];
  let cells = 0;
  for (let g = 0; g < layer.groups; g++) {
    let row0 = 0;
    rowChunks.forEach((rows, rt) => {
      let col0 = 0;
      colChunks.forEach((cols, ct) => {
        const t: PlannedTile = {
          index: tiles.length,
          group: g,
          rowTile: rt,
          colTile: ct,
          row0,
          rows,
          col0,
          cols,
          biasRow: bias === 1 && rt === 0,
          physRows: rowsUsed[rt]!,
          physCols: colsUsed[ct]!,
          offsetCols,
          xbar: 0,
          xbarRow: 0,
          xbarCol: 0,
        };
        tiles.push(t);
        cells += t.physRows * t.physCols;
        col0 += cols;
      });
      row0 += rows;
    });
  }
  return {
    grid: [rowChunks.length, colChunks.length],
    rowsUsed,
    colsUsed,
    physColsPerWeightCol: P,
    offsetCols,
    tiles,
    cells,
    util: tiles.length ? cells / (tiles.length * R * C) : 0,
  };
}

/**
 * Plans every layer's tiles on crossbars of `xbar` cells (Diware et al., ICCAD 2024, §2.2: row tiles produce
 * partial sums added digitally; Ma et al. 2025: the crossbar unit is the resource counted).
 * Without packing each tile gets its own crossbar, numbered in layer order. With `pack`, tiles are placed first
 * fit, in layer order, into the first crossbar with room below and to the right of everything already there: every
 * tile has rows and columns of its own (a block-diagonal placement), so no input row drives two tiles' columns.
 */
export function planTiles(layers: readonly LayerMatrix[], xbar: XbarShape, options: PlanTilesOptions = {}): TilePlan {
  const pack = options.pack ?? false;
  const split = layers.map((l) => splitLayer(l, xbar));
  // per open crossbar, the first free row and column (the block-diagonal cursor)
  const freeRow: number[] = [];
  const freeCol: number[] = [];
  const placed = split.map((layer) => {
    const tiles = layer.tiles.map((t): PlannedTile => {
      let id = -1;
      if (pack) {
        for (let x = 0; x < freeRow.length; x++) {
          if (freeRow[x]! + t.physRows <= xbar.rows && freeCol[x]! + t.physCols <= xbar.cols) {
            id = x;
            break;
          }
        }
      }
      if (id < 0) {
        id = freeRow.length;
        freeRow.push(0);
        freeCol.push(0);
      }
      const at = { ...t, xbar: id, xbarRow: freeRow[id]!, xbarCol: freeCol[id]! };
      freeRow[id]! += t.physRows;
      freeCol[id]! += t.physCols;
      return at;
    });
    return { ...layer, tiles };
  });
  return { xbar, layers: placed, crossbars: freeRow.length, packed: pack };
}

/** The `#tiles` annotation of one planned layer (spec keys; xbar_ids/xbar_rows/xbar_cols only when packed). */
export function getTilesAnnotation(plan: TilePlan, layer: LayerTiles, groups: number, biasRow: boolean): Record<string, AttrValue> {
  return {
    xbar: [plan.xbar.rows, plan.xbar.cols],
    grid: [...layer.grid],
    tiles: layer.tiles.length,
    rows_used: [...layer.rowsUsed],
    cols_used: [...layer.colsUsed],
    phys_cols_per_weight_col: layer.physColsPerWeightCol,
    offset_cols: layer.offsetCols,
    groups,
    cells: layer.cells,
    util: layer.util,
    ...(biasRow ? { bias_row: true } : {}),
    ...(layer.compaction ? compactionFields(layer.compaction, layer.uncompacted!) : {}),
    ...(plan.packed
      ? { xbar_ids: layer.tiles.map((t) => t.xbar), xbar_rows: layer.tiles.map((t) => t.xbarRow), xbar_cols: layer.tiles.map((t) => t.xbarCol) }
      : {}),
  };
}

/** The #tiles keys of a compacted layer: row_map, col_map, col_sign (only with a sign merge) and uncompacted. */
function compactionFields(c: MatrixCompaction, before: UncompactedCounts): Record<string, AttrValue> {
  return {
    row_map: [...c.rowMap],
    col_map: [...c.colMap],
    ...(c.colSign.some((s) => s !== 1) ? { col_sign: [...c.colSign] } : {}),
    uncompacted: { rows: before.rows, cols: before.cols, tiles: before.tiles, cells: before.cells },
  };
}

/** The compaction recorded in #tiles fields, or undefined when the layer has none (checks nothing: the program checks). */
function getCompactionFromAnnotation(a: TilesAnnotationData): MatrixCompaction | undefined {
  if (!a.row_map || !a.col_map) return undefined;
  const count = (map: readonly number[]): number => map.reduce((m, p) => Math.max(m, p + 1), 0);
  return {
    origRows: a.row_map.length,
    origCols: a.col_map.length,
    rowMap: Int32Array.from(a.row_map),
    colMap: Int32Array.from(a.col_map),
    colSign: a.col_sign ? Int8Array.from(a.col_sign) : new Int8Array(a.col_map.length).fill(1),
    rows: count(a.row_map),
    cols: count(a.col_map),
  };
}

/** What `getTilePlanFromAnnotations` needs from one `#tiles` annotation (its printed keys). */
export interface TilesAnnotationData extends CrossbarTilesFields {
  readonly xbar: readonly number[];
  readonly cells: number;
  readonly util: number;
  readonly uncompacted?: UncompactedCounts;
}

/**
 * Rebuilds the plan from the layers' `#tiles` annotations, in op order — what the program emitter reads, so the
 * program follows the dump rather than a re-run of the planner. Unpacked layers' tiles are numbered on
 * consecutive crossbars in op order (as `planTiles` numbers them); packed layers carry their crossbar ids.
 */
export function getTilePlanFromAnnotations(annotations: readonly TilesAnnotationData[]): TilePlan {
  if (annotations.length === 0) return { xbar: { rows: 0, cols: 0 }, layers: [], crossbars: 0, packed: false };
  const xbar = { rows: annotations[0]!.xbar[0]!, cols: annotations[0]!.xbar[1]! };
  const packed = annotations.some((a) => a.xbar_ids !== undefined);
  let next = 0;
  let crossbars = 0;
  const layers = annotations.map((a): LayerTiles => {
    const [rowTiles, colTiles] = a.grid as [number, number];
    const layout = getCrossbarTiles(a, next);
    next = layout.nextXbar;
    for (const t of layout.tiles) crossbars = Math.max(crossbars, t.xbar + 1);
    const compaction = getCompactionFromAnnotation(a);
    return {
      grid: [rowTiles, colTiles],
      rowsUsed: a.rows_used,
      colsUsed: a.cols_used,
      physColsPerWeightCol: a.phys_cols_per_weight_col,
      offsetCols: a.offset_cols,
      tiles: layout.tiles,
      cells: a.cells,
      util: a.util,
      ...(compaction && a.uncompacted ? { compaction, uncompacted: { ...a.uncompacted } } : {}),
    };
  });
  return { xbar, layers, crossbars, packed };
}

/**
 * @fileoverview Where each weight layer's tiles sit, read back from the `#tiles` annotations (the tile pass's dump is
 * the contract; no pass code is imported): the rectangle of the weight matrix each tile holds and its crossbar.
 */
import { XbarcError, type Op } from "@xbarc/ir";

/** One tile of a layer, as `#tiles` records it (the tile pass's PlannedTile, by its annotation). */
export interface TilePlacement {
  /** index within the layer: (group·row_tiles + row_tile)·col_tiles + col_tile */
  readonly index: number;
  readonly group: number;
  readonly rowTile: number;
  readonly colTile: number;
  /** weight-matrix rows [row0, row0 + rows) of the group */
  readonly row0: number;
  readonly rows: number;
  /** weight-matrix columns [col0, col0 + cols) of the group */
  readonly col0: number;
  readonly cols: number;
  /** tile row `rows` holds the layer's bias */
  readonly biasRow: boolean;
  /** crossbar rows used (bias row included) */
  readonly physRows: number;
  /** crossbar columns used (offset columns included) */
  readonly physCols: number;
  /** P = S · (2 if differential) */
  readonly physColsPerWeightCol: number;
  /** physical offset columns at the end of the tile */
  readonly offsetCols: number;
  /** the crossbar (0-based over the whole model) and the tile's top-left cell on it */
  readonly xbar: number;
  readonly xbarRow: number;
  readonly xbarCol: number;
}

/** One layer's tiles. */
export interface LayerPlacement {
  readonly op: Op;
  /** [row tiles, column tiles] per group */
  readonly grid: [number, number];
  readonly groups: number;
  readonly tiles: TilePlacement[];
}

/** The `#tiles` fields read here (spec keys; xbar_ids/xbar_rows/xbar_cols only when packed). */
interface TilesFields {
  xbar: number[];
  grid: number[];
  tiles: number;
  rows_used: number[];
  cols_used: number[];
  phys_cols_per_weight_col: number;
  offset_cols: number;
  groups: number;
  bias_row?: boolean;
  xbar_ids?: number[];
  xbar_rows?: number[];
  xbar_cols?: number[];
}

function layerError(op: Op, message: string, hint: string): XbarcError {
  return new XbarcError("XB6007", `layer %${op.results[0]!.name}: ${message}`, {
    location: { kind: "ir", loc: op.loc, value: op.results[0]!.name, op: op.opcode },
    hint,
  });
}

/**
 * The placement of every layer in `ops` (module order), from their `#tiles`. Unpacked layers' tiles take consecutive
 * crossbars in op order, as the tile pass numbers them; packed layers carry their crossbar ids and corners.
 * Throws XB6007 naming the layer when an annotation does not describe whole tiles.
 */
export function getTilePlacements(ops: readonly Op[], xbar: { rows: number; cols: number }): LayerPlacement[] {
  let next = 0;
  return ops.map((op) => {
    const a = op.getAnnotation("tiles")!.data as unknown as TilesFields;
    if (a.xbar[0] !== xbar.rows || a.xbar[1] !== xbar.cols) {
      throw layerError(op, `#tiles was planned for ${a.xbar[0]}×${a.xbar[1]} crossbars, but the device has ${xbar.rows}×${xbar.cols}`,
        "compile with the same --device the tile pass ran with");
    }
    const [rowTiles, colTiles] = a.grid as [number, number];
    const P = a.phys_cols_per_weight_col;
    const bias = a.bias_row ? 1 : 0;
    if (a.rows_used.length !== rowTiles || a.cols_used.length !== colTiles || a.tiles !== a.groups * rowTiles * colTiles) {
      throw layerError(op, `#tiles grid=[${a.grid.join(",")}] does not match rows_used, cols_used or tiles=${a.tiles}`, "re-run the tile pass");
    }
    const tiles: TilePlacement[] = [];
    for (let g = 0; g < a.groups; g++) {
      let row0 = 0;
      for (let rt = 0; rt < rowTiles; rt++) {
        const rows = a.rows_used[rt]! - (rt === 0 ? bias : 0);
        let col0 = 0;
        for (let ct = 0; ct < colTiles; ct++) {
          const cols = (a.cols_used[ct]! - a.offset_cols) / P;
          if (!Number.isInteger(cols)) throw layerError(op, `#tiles cols_used[${ct}]=${a.cols_used[ct]} is not whole weight columns of ${P} physical columns plus ${a.offset_cols} offset columns`, "re-run the tile pass");
          const index = tiles.length;
          tiles.push({
            index, group: g, rowTile: rt, colTile: ct, row0, rows, col0, cols,
            biasRow: bias === 1 && rt === 0,
            physRows: a.rows_used[rt]!,
            physCols: a.cols_used[ct]!,
            physColsPerWeightCol: P,
            offsetCols: a.offset_cols,
            xbar: a.xbar_ids ? a.xbar_ids[index]! : next++,
            xbarRow: a.xbar_rows ? a.xbar_rows[index]! : 0,
            xbarCol: a.xbar_cols ? a.xbar_cols[index]! : 0,
          });
          col0 += cols;
        }
        row0 += rows;
      }
    }
    return { op, grid: [rowTiles, colTiles], groups: a.groups, tiles };
  });
}

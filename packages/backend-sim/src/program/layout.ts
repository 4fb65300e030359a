/**
 * @fileoverview Where each weight layer's tiles sit, read back from the `#tiles` annotations (the tile pass's dump is
 * the contract; no pass code is imported): the rectangle of the weight matrix each tile holds and its crossbar.
 */
import { XbarcError, getCrossbarTiles, getPhysicalGroups, numel, type CrossbarTile, type CrossbarTilesFields, type Op, type PhysicalGroups } from "@xbarc/ir";

/** One tile of a layer, as `#tiles` records it (the tile pass's PlannedTile, by its annotation). */
export interface TilePlacement extends CrossbarTile {
  /** P = S · (2 if differential) */
  readonly physColsPerWeightCol: number;
}

/** One layer's tiles. */
export interface LayerPlacement {
  readonly op: Op;
  /** [row tiles, column tiles] per group */
  readonly grid: [number, number];
  readonly groups: number;
  readonly tiles: TilePlacement[];
  /** compacted layers (#tiles row_map): the original rows behind every physical row */
  readonly rowGroups?: PhysicalGroups;
  /** compacted layers (#tiles col_map): the original columns behind every physical column, and their signs */
  readonly colGroups?: PhysicalGroups;
  readonly rowMap?: readonly number[];
  readonly colMap?: readonly number[];
  readonly colSign?: readonly number[];
}

/** The `#tiles` fields read here (spec keys; xbar_ids/xbar_rows/xbar_cols only when packed). */
interface TilesFields extends CrossbarTilesFields {
  xbar: number[];
  tiles: number;
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
    if (a.rows_used.length !== rowTiles || a.cols_used.length !== colTiles || a.tiles !== a.groups * rowTiles * colTiles) {
      throw layerError(op, `#tiles grid=[${a.grid.join(",")}] does not match rows_used, cols_used or tiles=${a.tiles}`, "re-run the tile pass");
    }
    const layout = getCrossbarTiles(a, next, (ct, cols) => {
      if (!Number.isInteger(cols)) throw layerError(op, `#tiles cols_used[${ct}]=${a.cols_used[ct]} is not whole weight columns of ${P} physical columns plus ${a.offset_cols} offset columns`, "re-run the tile pass");
    });
    next = layout.nextXbar;
    const tiles: TilePlacement[] = layout.tiles.map((t) => ({ ...t, physColsPerWeightCol: P }));
    const placement: LayerPlacement = { op, grid: [rowTiles, colTiles], groups: a.groups, tiles };
    if (a.row_map === undefined && a.col_map === undefined && a.col_sign === undefined) return placement;
    // a compacted layer: the tiles cover the physical matrix, the maps say which original rows and columns it holds
    const wShape = op.operands[1]!.type.shape;
    const mRows = numel(wShape.slice(1));
    const mCols = wShape[0]! / a.groups;
    const physRows = tiles.filter((t) => t.group === 0 && t.colTile === 0).reduce((n, t) => n + t.rows, 0);
    const physCols = tiles.filter((t) => t.group === 0 && t.rowTile === 0).reduce((n, t) => n + t.cols, 0);
    const rowMap = a.row_map ?? Array.from({ length: mRows }, (_, i) => i);
    const colMap = a.col_map ?? Array.from({ length: mCols }, (_, i) => i);
    const rowGroups = rowMap.length === mRows ? getPhysicalGroups(rowMap, physRows) : undefined;
    if (!rowGroups) throw layerError(op, `#tiles row_map (${rowMap.length} entries) is not a map of the ${mRows} matrix rows onto the ${physRows} physical rows the tiles hold`, "re-run the tile pass");
    const colGroups = colMap.length === mCols ? getPhysicalGroups(colMap, physCols) : undefined;
    if (!colGroups) throw layerError(op, `#tiles col_map (${colMap.length} entries) is not a map of the ${mCols} matrix columns onto the ${physCols} physical columns the tiles hold`, "re-run the tile pass");
    if (a.col_sign !== undefined && (a.col_sign.length !== mCols || a.col_sign.some((s) => s !== 1 && s !== -1))) {
      throw layerError(op, `#tiles col_sign must hold +1 or -1 for each of the ${mCols} matrix columns`, "re-run the tile pass");
    }
    return {
      ...placement, rowGroups, colGroups, rowMap: [...rowMap], colMap: [...colMap],
      ...(a.col_sign !== undefined ? { colSign: [...a.col_sign] } : {}),
    };
  });
}

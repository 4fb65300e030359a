/**
 * @fileoverview Where each weight layer's tiles sit, read back from the `#tiles` annotations (the tile pass's dump is
 * the contract; no pass code is imported): the rectangle of the weight matrix each tile holds and its crossbar.
 */
import { XbarcError, getCrossbarTiles, type CrossbarTile, type CrossbarTilesFields, type Op } from "@xbarc/ir";

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
    return { op, grid: [rowTiles, colTiles], groups: a.groups, tiles };
  });
}

/**
 * @fileoverview The physical layout of weight tiles on crossbars as the `#tiles` annotation records it, shared by
 * the tile pass (which rebuilds its plan from the dump) and the program emitter (which cannot import the passes).
 */

/**
 * One tile: the rectangle of one group's weight matrix it holds and where it sits on its crossbar. Weight row r of
 * the rectangle is tile row r; the bias row, when present, is tile row `rows`. Logical column j takes tile columns
 * [j·P, (j+1)·P), P = phys_cols_per_weight_col; the offset columns, when present, are the last ones of the tile.
 */
export interface CrossbarTile {
  /** tile index within its layer: (group·row_tiles + rowTile)·col_tiles + colTile */
  readonly index: number;
  readonly group: number;
  readonly rowTile: number;
  readonly colTile: number;
  /** first weight-matrix row (within the group) and how many */
  readonly row0: number;
  readonly rows: number;
  /** first weight-matrix column (within the group) and how many; output channel = group·cols + column */
  readonly col0: number;
  readonly cols: number;
  /** this tile holds the layer's bias row (tile row `rows`) */
  readonly biasRow: boolean;
  /** crossbar rows used: rows + (biasRow ? 1 : 0) */
  readonly physRows: number;
  /** crossbar columns used: cols·P + offsetCols */
  readonly physCols: number;
  /** physical columns of the offset column (S when the device uses one, else 0) */
  readonly offsetCols: number;
  /** the physical crossbar the tile lives on (0-based over the whole model) */
  readonly xbar: number;
  /** the tile's top-left cell on that crossbar */
  readonly xbarRow: number;
  readonly xbarCol: number;
}

/** The `#tiles` fields the tile layout is rebuilt from (its printed keys; xbar_ids/xbar_rows/xbar_cols only when packed). */
export interface CrossbarTilesFields {
  readonly grid: readonly number[];
  readonly rows_used: readonly number[];
  readonly cols_used: readonly number[];
  readonly phys_cols_per_weight_col: number;
  readonly offset_cols: number;
  readonly groups: number;
  readonly bias_row?: boolean;
  readonly xbar_ids?: readonly number[];
  readonly xbar_rows?: readonly number[];
  readonly xbar_cols?: readonly number[];
  /** compacted layers: per original matrix row, its physical row (−1: all zero, dropped); merged rows share one */
  readonly row_map?: readonly number[];
  /** compacted layers: per original matrix column, its physical column (−1: all zero, output computed digitally) */
  readonly col_map?: readonly number[];
  /** sign-merged columns: per original column, +1 or −1 (original = sign · physical column); absent when all +1 */
  readonly col_sign?: readonly number[];
}

/**
 * A many-to-one map (original index → physical index, −1 dropped) inverted into lists: the original indices of
 * physical index p are `members[starts[p] .. starts[p + 1])`, ascending. `count` physical indices.
 */
export interface PhysicalGroups {
  readonly count: number;
  readonly starts: Int32Array;
  readonly members: Int32Array;
  /** the largest number of originals sharing one physical index (1 when nothing is merged, 0 when count is 0) */
  readonly largest: number;
}

/**
 * The original indices behind every physical index of `map` (row_map or col_map of #tiles), or undefined when
 * the map is not a map onto [0, count): a value below −1 or ≥ count, or a physical index no original maps to.
 */
export function getPhysicalGroups(map: ArrayLike<number>, count: number): PhysicalGroups | undefined {
  const sizes = new Int32Array(count);
  for (let i = 0; i < map.length; i++) {
    const p = map[i]!;
    if (!Number.isInteger(p) || p < -1 || p >= count) return undefined;
    if (p >= 0) sizes[p]!++;
  }
  const starts = new Int32Array(count + 1);
  let largest = 0;
  for (let p = 0; p < count; p++) {
    if (sizes[p] === 0) return undefined;
    starts[p + 1] = starts[p]! + sizes[p]!;
    largest = Math.max(largest, sizes[p]!);
  }
  const members = new Int32Array(starts[count]!);
  const fill = starts.slice(0, count);
  for (let i = 0; i < map.length; i++) {
    const p = map[i]!;
    if (p >= 0) members[fill[p]!++] = i;
  }
  return { count, starts, members, largest };
}

/**
 * Every tile of one layer from its `#tiles` fields, groups first, then row tiles, then column tiles. Unpacked tiles
 * take consecutive crossbars from `nextXbar`; packed ones carry their ids and corners. `checkCols` sees each column
 * tile's weight-column count (fractional when the annotation is inconsistent) and may throw.
 */
export function getCrossbarTiles(
  fields: CrossbarTilesFields,
  nextXbar: number,
  checkCols?: (colTile: number, cols: number) => void,
): { tiles: CrossbarTile[]; nextXbar: number } {
  const [rowTiles, colTiles] = fields.grid as [number, number];
  const P = fields.phys_cols_per_weight_col;
  const bias = fields.bias_row ? 1 : 0;
  let next = nextXbar;
  const tiles: CrossbarTile[] = [];
  for (let g = 0; g < fields.groups; g++) {
    let row0 = 0;
    for (let rt = 0; rt < rowTiles; rt++) {
      // the first row tile gives one of its rows to the bias
      const rows = fields.rows_used[rt]! - (rt === 0 ? bias : 0);
      let col0 = 0;
      for (let ct = 0; ct < colTiles; ct++) {
        const cols = (fields.cols_used[ct]! - fields.offset_cols) / P;
        checkCols?.(ct, cols);
        const index = tiles.length;
        tiles.push({
          index, group: g, rowTile: rt, colTile: ct, row0, rows, col0, cols,
          biasRow: bias === 1 && rt === 0,
          physRows: fields.rows_used[rt]!,
          physCols: fields.cols_used[ct]!,
          offsetCols: fields.offset_cols,
          xbar: fields.xbar_ids ? fields.xbar_ids[index]! : next++,
          xbarRow: fields.xbar_rows ? fields.xbar_rows[index]! : 0,
          xbarCol: fields.xbar_cols ? fields.xbar_cols[index]! : 0,
        });
        col0 += cols;
      }
      row0 += rows;
    }
  }
  return { tiles, nextXbar: next };
}

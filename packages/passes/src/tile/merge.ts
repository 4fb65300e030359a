/**
 * @fileoverview Crossbar compaction and weight merging (Ma, Jiang, Liu, Du, Ma, Du, "A Resource-Efficient Weight
 * Quantization and Mapping Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems", Integrated
 * Circuits and Systems 2(4), 2025): all-zero matrix rows and columns take no cells, and rows or columns whose integer
 * weight vectors are identical (or, on differential devices, equal up to sign) share one physical row or column.
 */

/**
 * How far the tile pass compacts a layer's matrix, each level including the previous one:
 * "none" nothing; "zeros" drops all-zero rows and columns; "columns" also merges identical columns (one physical
 * column fanned out to several outputs); "rows" also merges identical rows (their inputs summed before the DAC,
 * which needs ceil(log2 k) more input steps for a k-row merge); "all" also merges columns equal up to sign on a
 * differential device (the copy's G+/G− roles swap: its output is the negated accumulator).
 */
export type MergeMode = "none" | "zeros" | "columns" | "rows" | "all";

/** The merge modes, weakest first. */
export const MERGE_MODES: readonly MergeMode[] = ["none", "zeros", "columns", "rows", "all"];

/**
 * The tile pass's default (and getLayerMatrix's): "none" for now, so that existing programs stay byte-identical —
 * the bundled trained models already have all-zero rows and columns, and the CLI's and program tests' expected
 * figures were written for uncompacted tiles. "columns" is the recommended setting (zero compaction and identical
 * columns cost nothing and are exact on the ideal device): `tile{merge="columns"}`.
 */
export const DEFAULT_MERGE_MODE: MergeMode = "none";

/** The physical matrix of a compacted layer and how it maps back to the original one. */
export interface MatrixCompaction {
  /** rows and columns of the original (per group) matrix */
  readonly origRows: number;
  readonly origCols: number;
  /** per original row: its physical row, or −1 when dropped (zero in every group and column) */
  readonly rowMap: Int32Array;
  /** per original column: its physical column, or −1 when dropped (zero, and no bias on a bias row) */
  readonly colMap: Int32Array;
  /** per original column: +1, or −1 when it is the negation of its physical column ("all" mode only) */
  readonly colSign: Int8Array;
  /** physical rows and columns */
  readonly rows: number;
  readonly cols: number;
}

/** What compactMatrix needs besides the integer weights. */
export interface CompactOptions {
  /** rows and columns of one group's matrix, and groups */
  readonly rows: number;
  readonly cols: number;
  readonly groups: number;
  readonly mode: MergeMode;
  /** the device pairs G+/G− columns: a column's negation costs nothing (sign merges need it) */
  readonly differential: boolean;
  /** the bias sits on a bias row: columns carry their bias value, so only equal biases merge and a nonzero bias keeps a column */
  readonly biasRow: boolean;
  /** the layer's bias per output channel (groups · cols), when it has one */
  readonly bias?: ArrayLike<number>;
}

/** FNV-1a over 32-bit integers: a quick key, always confirmed by comparing the vectors. */
function hashInts(read: (i: number) => number, length: number, sign: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) {
    h ^= (read(i) * sign) | 0;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Assigns physical indices to `count` vectors of `length` elements read by `read(v, i)`: zero vectors get −1 (when
 * `dropZeros`), equal ones (when `merge`) share the index of the first of them, and equal-up-to-sign ones (when
 * `signMerge` allows both) too, with sign −1. Physical indices follow the first member's original order, so with
 * nothing dropped or merged the map is the identity. At least one physical index is kept (the last vector when all
 * are zero), so that a layer never loses every row or column.
 */
function assign(
  count: number, length: number, read: (v: number, i: number) => number,
  dropZeros: boolean, merge: boolean, signMerge: (v: number) => boolean,
): { map: Int32Array; sign: Int8Array; physical: number } {
  const map = new Int32Array(count).fill(-1);
  const sign = new Int8Array(count).fill(1);
  const buckets = new Map<number, number[]>();
  const firstNonzero = (v: number): number => {
    for (let i = 0; i < length; i++) if (read(v, i) !== 0) return Math.sign(read(v, i));
    return 0;
  };
  const equal = (a: number, b: number, s: number): boolean => {
    for (let i = 0; i < length; i++) if (read(a, i) !== s * read(b, i)) return false;
    return true;
  };
  let physical = 0;
  for (let v = 0; v < count; v++) {
    const lead = firstNonzero(v);
    if (dropZeros && lead === 0 && !(physical === 0 && v === count - 1)) continue;
    if (merge) {
      // sign merges hash vectors normalised to a positive first nonzero element; equality is always checked in full
      const s = signMerge(v) && lead < 0 ? -1 : 1;
      const key = hashInts((i) => read(v, i), length, s);
      const bucket = buckets.get(key);
      const rep = bucket?.find((u) => equal(v, u, 1) || (signMerge(v) && signMerge(u) && equal(v, u, -1)));
      if (rep !== undefined) {
        map[v] = map[rep]!;
        sign[v] = equal(v, rep, 1) ? 1 : -1;
        continue;
      }
      if (bucket) bucket.push(v);
      else buckets.set(key, [v]);
    }
    map[v] = physical++;
  }
  return { map, sign, physical };
}

/**
 * The compaction of one layer's integer weights `wInt` (the IR's out-channel-major layout: matrix (r, c) of group g
 * is element (g·cols + c)·rows + r). Row and column maps are shared by all groups (the tile grid is the same for
 * every group): a row is dropped or merged only when it is zero, or identical, in every group, and likewise a column.
 * The bias row is not part of the matrix: it is never dropped or merged; on a bias row a column's bias (compared as
 * the float it is quantized from) is part of its vector, and a column with a bias is never sign-merged.
 */
export function compactMatrix(wInt: ArrayLike<number>, options: CompactOptions): MatrixCompaction {
  const { rows, cols, groups, mode } = options;
  const level = MERGE_MODES.indexOf(mode);
  const bias = options.biasRow && options.bias ? options.bias : undefined;
  const weightLength = groups * rows;
  // a row's vector: every group's every column; a column's: every group's every row, then its biases on a bias row
  const rowRead = (r: number, i: number): number => wInt[i * rows + r]!;
  const colRead = (c: number, i: number): number => {
    if (i >= weightLength) return bias![(i - weightLength) * cols + c]!;
    const g = Math.floor(i / rows);
    return wInt[(g * cols + c) * rows + (i - g * rows)]!;
  };
  const colHasBias = (c: number): boolean => {
    if (!bias) return false;
    for (let g = 0; g < groups; g++) if (bias[g * cols + c] !== 0) return true;
    return false;
  };
  const rowAssign = assign(rows, groups * cols, rowRead, level >= 1, level >= 3, () => false);
  const signMerges = level >= 4 && options.differential;
  const colAssign = assign(cols, weightLength + (bias ? groups : 0), colRead, level >= 1, level >= 2, (c) => signMerges && !colHasBias(c));
  return {
    origRows: rows,
    origCols: cols,
    rowMap: rowAssign.map,
    colMap: colAssign.map,
    colSign: colAssign.sign,
    rows: rowAssign.physical,
    cols: colAssign.physical,
  };
}

/** True when the compaction changes nothing (every row and column its own physical one, all signs +1). */
export function isIdentityCompaction(c: MatrixCompaction): boolean {
  if (c.rows !== c.origRows || c.cols !== c.origCols) return false;
  for (let i = 0; i < c.rowMap.length; i++) if (c.rowMap[i] !== i) return false;
  for (let i = 0; i < c.colMap.length; i++) if (c.colMap[i] !== i || c.colSign[i] !== 1) return false;
  return true;
}

/**
 * @fileoverview The truncation window of a crossbar layer (Diware, Yaldagard, Bishnoi, "Hardware-Aware Quantization
 * for Accurate Memristor-Based Neural Networks", ICCAD 2024, §3.4, eqs. 1–4), the row tiles it is computed per, and
 * the ADC width a lossless conversion needs. Pure arithmetic on integers.
 */

/** ceil(log2 R) for R ≥ 1 (0 for R ≤ 1): the carry bits a sum of R terms adds. */
export function ceilLog2(r: number): number {
  let bits = 0;
  while (2 ** bits < r) bits++;
  return bits;
}

/**
 * Crossbar rows used by each row tile of a `matrixRows`-row weight matrix on crossbars of `xbarRows` rows, as the tile
 * pass splits it: greedy tiles of at most `xbarRows` rows, the first giving one row to the bias when `biasRow`
 * (the bias row counts as used). Place-truncation reads `#tiles.rows_used` when tile ran; this is the same rule.
 */
export function getRowTilesUsed(matrixRows: number, xbarRows: number, biasRow: boolean): number[] {
  const bias = biasRow ? 1 : 0;
  const out: number[] = [];
  let left = matrixRows;
  let cap = xbarRows - bias;
  if (cap < 1) throw new RangeError(`getRowTilesUsed: a crossbar of ${xbarRows} row(s) has no room for weights beside the bias row`);
  while (left > 0) {
    const n = Math.min(left, cap);
    out.push(n + (out.length === 0 ? bias : 0));
    left -= n;
    cap = xbarRows;
  }
  return out;
}

/** What the window of one layer depends on. */
export interface WindowInputs {
  /** A_WL: input word length, bits */
  readonly aBits: number;
  /** W_WL: weight word length, bits */
  readonly wBits: number;
  /** W_FL: weight fraction length, bits */
  readonly wFl: number;
  /** crossbar rows used by each row tile (R of eq. 1, per tile) */
  readonly rowsUsed: readonly number[];
  /** O_RWL: bits to keep (the next layer's input word length; default A_WL) */
  readonly keepBits: number;
}

/** A layer's truncation window: the same kept bits [keep[0], keep[1]) of every row tile's accumulator. */
export interface TruncationWindow {
  /** O_WL per row tile: full accumulator width A_WL + W_WL + ceil(log2 R) (eq. 1) */
  readonly oWl: number[];
  /** O_RWL: bits kept */
  readonly oRwl: number;
  /** D_L: low bits dropped (eq. 3 with D_L = W_FL) */
  readonly dL: number;
  /** D_H per row tile: high bits dropped, O_WL − O_RWL − D_L (= W_WL + log2 R − W_FL, eq. 4, when O_RWL = A_WL) */
  readonly dH: number[];
  /** kept bits [lo, hi) = [D_L, O_WL − D_H), identical for every row tile */
  readonly keep: [number, number];
  /** true when W_FL put the window partly outside the accumulator and D_L was clamped into it */
  readonly clamped: boolean;
}

/**
 * The window of Diware et al., §3.4: O_WL = A_WL + W_WL + ceil(log2 R) (eq. 1), keep O_RWL bits, D_L = W_FL and
 * D_H = O_WL − O_RWL − D_L (eq. 3; eq. 4 when O_RWL = A_WL). D_L is shared by every row tile, since their partial
 * sums are added in one fraction length; D_H differs with R. When W_FL < 0 or W_FL > min O_WL − O_RWL, the window
 * would leave the accumulator; D_L is then clamped so that the kept bits lie inside every tile's accumulator.
 * O_RWL never exceeds the narrowest tile's O_WL.
 */
export function getTruncationWindow(w: WindowInputs): TruncationWindow {
  const oWl = w.rowsUsed.map((r) => w.aBits + w.wBits + ceilLog2(r));
  const narrowest = oWl.length ? Math.min(...oWl) : w.aBits + w.wBits;
  const oRwl = Math.min(w.keepBits, narrowest);
  const dL = Math.min(Math.max(w.wFl, 0), narrowest - oRwl);
  return { oWl, oRwl, dL, dH: oWl.map((o) => o - oRwl - dL), keep: [dL, dL + oRwl], clamped: dL !== w.wFl };
}

/**
 * Bits an ADC needs to convert a column of R rows without loss: the largest column sum is R·(2^dac_bits − 1)·
 * (2^cell_bits − 1) (xbarc crossbar spec, "ADC"), so ceil(log2(that + 1)).
 */
export function getLosslessAdcBits(rows: number, dacBits: number, cellBits: number): number {
  return ceilLog2(rows * (2 ** dacBits - 1) * (2 ** cellBits - 1) + 1);
}

/**
 * @fileoverview Bit-slicing integer weights onto multi-bit cells (Diware, Yaldagard, Bishnoi, "Hardware-Aware
 * Quantization for Accurate Memristor-Based Neural Networks", ICCAD 2024, §2.2.2): a W_WL-bit weight spans
 * S = ceil(W_WL / cell_bits) cells, slice s holding bits [s·cb, (s+1)·cb). Signed weights by the profile's mapping:
 * differential magnitude slices (P = max(w, 0) on G+, N = max(−w, 0) on G−) or an unsigned offset u = w + 2^(W_WL−1)
 * with the offset column (Halawani et al., IEEE Access) subtracting 2^(W_WL−1) digitally.
 */
import { XbarcError } from "@xbarc/ir";

/** How signed integer weights become unsigned slices. */
export type SliceScheme = "differential-magnitude" | "offset-unsigned";

/** Every slice scheme, in the order `#slice{scheme=...}` documents them. */
export const SLICE_SCHEMES: readonly SliceScheme[] = ["differential-magnitude", "offset-unsigned"];

/** A layer's weights as slices. Slice-major: slice s of weight i is at `s·count + i` (s = 0 least significant). */
export interface WeightSlices {
  readonly scheme: SliceScheme;
  /** W_WL, bits */
  readonly wBits: number;
  /** bits per cell */
  readonly cellBits: number;
  /** S = ceil(W_WL / cell_bits) */
  readonly slices: number;
  /** weights sliced */
  readonly count: number;
  /** differential: the slices of P = max(w, 0) (G+ columns); offset-unsigned: the slices of u = w + offset */
  readonly pos: Uint8Array;
  /** differential: the slices of N = max(−w, 0) (G− columns); absent for offset-unsigned */
  readonly neg?: Uint8Array;
  /** offset-unsigned: 2^(W_WL−1), held by the offset column and subtracted digitally; 0 for differential */
  readonly offset: number;
}

/** Largest cell width a u8 slice holds. */
const MAX_CELL_BITS = 8;
/** Largest word length sliced (the fixed-point quantizer stops at 16; shifts stay exact well below 2^31). */
const MAX_W_BITS = 24;

/** S = ceil(W_WL / cell_bits) (Diware et al., ICCAD 2024, §2.2.2). */
export function getSliceCount(wBits: number, cellBits: number): number {
  return Math.ceil(wBits / cellBits);
}

function checkWidths(wBits: number, cellBits: number): void {
  if (!Number.isInteger(cellBits) || cellBits < 1 || cellBits > MAX_CELL_BITS) {
    throw new XbarcError("XB5003", `bit-slice: cell_bits=${cellBits} is outside 1..${MAX_CELL_BITS}`, { hint: "use a device whose cell stores 1 to 8 bits" });
  }
  if (!Number.isInteger(wBits) || wBits < 1 || wBits > MAX_W_BITS) {
    throw new XbarcError("XB5003", `bit-slice: weight word length ${wBits} is outside 1..${MAX_W_BITS}`, { hint: "quantize the weights to at most 16 bits" });
  }
}

/**
 * Splits W_WL-bit two's-complement integers into S slices of `cellBits` bits each. Throws XB5003 when a weight lies
 * outside [−2^(W_WL−1), 2^(W_WL−1) − 1].
 */
export function sliceWeights(wInt: Int32Array, wBits: number, cellBits: number, scheme: SliceScheme): WeightSlices {
  checkWidths(wBits, cellBits);
  const S = getSliceCount(wBits, cellBits);
  const n = wInt.length;
  const half = 2 ** (wBits - 1);
  const mask = (1 << cellBits) - 1;
  const pos = new Uint8Array(S * n);
  const neg = scheme === "differential-magnitude" ? new Uint8Array(S * n) : undefined;
  for (let i = 0; i < n; i++) {
    const w = wInt[i]!;
    if (w < -half || w >= half) {
      throw new XbarcError("XB5003", `bit-slice: weight ${i} is ${w}, outside the ${wBits}-bit range [${-half}, ${half - 1}]`, {
        hint: "the integer weights must come from a fixed-point codebook of the same word length",
      });
    }
    // differential: magnitudes (< 2^W_WL, even for −2^(W_WL−1)); offset: u = w + 2^(W_WL−1) ∈ [0, 2^W_WL)
    const p = neg ? Math.max(w, 0) : w + half;
    const m = neg ? Math.max(-w, 0) : 0;
    for (let s = 0; s < S; s++) {
      const shift = s * cellBits;
      pos[s * n + i] = (p >>> shift) & mask;
      if (neg) neg[s * n + i] = (m >>> shift) & mask;
    }
  }
  return { scheme, wBits, cellBits, slices: S, count: n, pos, ...(neg ? { neg } : {}), offset: neg ? 0 : half };
}

/**
 * The integer weights the slices stand for: Σ_s 2^(s·cb)·(pos_s − neg_s) (differential) or
 * Σ_s 2^(s·cb)·pos_s − offset (offset-unsigned) — the shift-and-add the hardware does.
 */
export function unsliceWeights(slices: WeightSlices): Int32Array {
  const { count: n, slices: S, cellBits, pos, neg, offset } = slices;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let w = -offset;
    for (let s = 0; s < S; s++) {
      const weight = 2 ** (s * cellBits);
      w += weight * (pos[s * n + i]! - (neg ? neg[s * n + i]! : 0));
    }
    out[i] = w;
  }
  return out;
}

/** The slices of the offset column's constant 2^(W_WL−1) (offset-unsigned), slice s at index s. */
export function getOffsetColumnSlices(wBits: number, cellBits: number): Uint8Array {
  checkWidths(wBits, cellBits);
  const S = getSliceCount(wBits, cellBits);
  const half = 2 ** (wBits - 1);
  const mask = (1 << cellBits) - 1;
  const out = new Uint8Array(S);
  for (let s = 0; s < S; s++) out[s] = (half >>> (s * cellBits)) & mask;
  return out;
}

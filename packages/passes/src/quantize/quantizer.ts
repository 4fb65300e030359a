/**
 * @fileoverview The one interface every quantizer implements: fit a codebook to a layer's weights on a device's
 * state space, and give each weight a code. The quantize pass picks a quantizer per layer; assign-levels programs
 * the chosen states.
 */
import type { StateSpace } from "./states.js";

/** What a quantizer may use besides the weights. */
export interface QuantizeContext {
  /** the states one weight can take on the device */
  readonly states: StateSpace;
  /** a deterministic stream for initialisations (k-means++ seeding, ...) */
  readonly random: () => number;
  /** codebook size for quantizers that choose it freely (kmeans, spectral, fixed-point: 2^bits) */
  readonly bits: number;
}

/**
 * A layer's quantization. Weight i is quantized to `codebook[codes[i]]`; code c is programmed as state
 * `state[c]` of the StateSpace, whose nominal effective value is `scale·delta[state[c]] + offset`.
 * For device-aware quantizers (mes-caq, em-variation) the codebook equals those nominal values; for
 * device-oblivious ones (uniform LQ on a non-linear device, fixed-point, kmeans) it may not, and the
 * difference is the mapping error that assign-levels reports.
 */
export interface QuantResult {
  /** representative values, weight units, increasing */
  readonly codebook: Float64Array;
  /** per weight, index into codebook (row-major weight order) */
  readonly codes: Int32Array;
  /** per code, the index of the StateSpace state that realizes it */
  readonly state: Int32Array;
  /** weight units per siemens of conductance difference */
  readonly scale: number;
  /** weight-units offset added digitally (Σx·offset), e.g. MES-CAQ's eq. 4 centring, w_min for an offset column */
  readonly offset: number;
}

export interface Quantizer {
  /** kebab-case, as in `--quantizer` and `#quant{scheme=...}` */
  readonly name: string;
  /** one line for `xbarc passes quantize` */
  readonly summary: string;
  /** the paper this follows, as a citation */
  readonly cite: string;
  fit(weights: Float32Array, ctx: QuantizeContext): QuantResult;
}

/**
 * numpy's searchsorted on an increasing array: the first index whose value is ≥ x ("left": the count of values
 * below x) or > x ("right": the count of values ≤ x, so a value equal to x counts as below).
 */
export function searchSorted(sorted: Float64Array, x: number, side: "left" | "right"): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid]!;
    if (v < x || (side === "right" && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the value in a sorted array nearest to x (ties to the lower). */
export function nearestIndex(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(x - sorted[lo]!) <= Math.abs(sorted[hi]! - x) ? lo : hi;
}

/** Gives every weight the nearest codebook value (minimum error substitution). */
export function assignNearest(weights: Float32Array, codebook: Float64Array): Int32Array {
  const codes = new Int32Array(weights.length);
  for (let i = 0; i < weights.length; i++) codes[i] = nearestIndex(codebook, weights[i]!);
  return codes;
}

/** Nominal effective value of each code on the device: scale·delta[state] + offset. */
export function realizedValues(result: QuantResult, states: StateSpace): Float64Array {
  const out = new Float64Array(result.state.length);
  for (let c = 0; c < out.length; c++) out[c] = result.scale * states.delta[result.state[c]!]! + result.offset;
  return out;
}

/**
 * Maps a codebook chosen without regard to the device onto its states: the codebook's range is stretched over the
 * state range (differential: symmetric, offset 0; offset column: min at the lowest level), then each code takes
 * the state whose nominal value is nearest. Used by the value-space quantizers (fixed-point, kmeans, spectral).
 */
export function mapCodebookToStates(codebook: Float64Array, states: StateSpace): { state: Int32Array; scale: number; offset: number } {
  const { delta } = states;
  const top = delta[delta.length - 1]!;
  const lo = codebook[0]!;
  const hi = codebook[codebook.length - 1]!;
  let scale: number;
  let offset: number;
  if (states.signed === "differential") {
    const amax = Math.max(Math.abs(lo), Math.abs(hi));
    offset = 0;
    scale = amax > 0 && top > 0 ? amax / top : 1;
  } else {
    offset = lo;
    scale = hi > lo && top > 0 ? (hi - lo) / top : 1;
  }
  const state = new Int32Array(codebook.length);
  for (let c = 0; c < codebook.length; c++) state[c] = nearestIndex(delta, (codebook[c]! - offset) / scale);
  return { state, scale, offset };
}

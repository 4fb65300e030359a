/**
 * @fileoverview The integer arithmetic of a bit-sliced crossbar layer as small pure typed-array kernels (xbarc crossbar
 * spec; Diware, Yaldagard, Bishnoi, "Hardware-Aware Quantization for Accurate Memristor-Based Neural Networks",
 * ICCAD 2024, §3.4): activation quantization, the truncation window, requantization and per-row-tile accumulation.
 * Integers are held in Float64Array: every value stays below 2^53, where float64 arithmetic on integers is exact.
 * The simulator reuses these kernels, so the two agree bit for bit.
 */

/** Largest integer magnitude float64 holds exactly; accumulators must stay below it. */
export const EXACT_INTEGER_LIMIT = 2 ** 53;

/** 1.5·2^52: for |x| < 2^51, (x + ROUND_MAGIC) − ROUND_MAGIC is x rounded to an integer, ties to even (IEEE default rounding). */
const ROUND_MAGIC = 6755399441055744;

/** Round half to even (banker's rounding), exact for any float64; +0, never −0. */
export function roundHalfEven(x: number): number {
  // the hot case in two adds (a −0 comes out +0, as below)
  if (Math.abs(x) < 2 ** 51) return x + ROUND_MAGIC - ROUND_MAGIC;
  const r = Math.round(x); // rounds halves toward +∞
  // a tie rounded up to an odd integer goes down to the even one instead; + 0 turns −0 into 0
  return (r - x === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

/** [lo, hi] of a `bits`-bit integer: unsigned [0, 2^bits − 1], signed two's complement [−2^(bits−1), 2^(bits−1) − 1]. */
export function getIntegerRange(bits: number, signed: boolean): [number, number] {
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/**
 * x_int = clamp(round_half_even(x · 2^fl), lo, hi) for a (bits, fl) activation format (crossbar spec, "Fixed-point
 * formats"). Writes into `out` (default: a new array) and returns it.
 */
export function quantizeActivationsImpl(x: ArrayLike<number>, fl: number, bits: number, signed: boolean, out = new Float64Array(x.length)): Float64Array {
  const [lo, hi] = getIntegerRange(bits, signed);
  const scale = 2 ** fl;
  for (let i = 0; i < x.length; i++) {
    const q = roundHalfEven(x[i]! * scale);
    out[i] = q < lo ? lo : q > hi ? hi : q;
  }
  return out;
}

/**
 * Requantizes integers of fraction length `flFrom` to a (bits, flTo) format: clamp(round_half_even(v · 2^(flTo −
 * flFrom))). Exact: multiplying by a power of two never rounds below 2^53.
 */
export function requantizeImpl(v: ArrayLike<number>, flFrom: number, flTo: number, bits: number, signed: boolean, out = new Float64Array(v.length)): Float64Array {
  return quantizeActivationsImpl(v, flTo - flFrom, bits, signed, out);
}

/** Widest two's-complement wrap that can change an integer below 2^53 (EXACT_INTEGER_LIMIT); wider windows keep every one. */
export const WIDEST_WRAP = 53;

/** Two's-complement wrap of an integer to `bits` bits: the value the low `bits` bits hold, read as signed. */
export function wrapSigned(v: number, bits: number): number {
  if (bits > WIDEST_WRAP) return v + 0;
  const m = 2 ** bits;
  let r = v % m; // exact for integers below 2^53; same sign as v
  if (r < 0) r += m;
  // + 0 turns the −0 of a negative multiple of m into 0
  return (r >= m / 2 ? r - m : r) + 0;
}

/**
 * The truncation window applied to a row tile's accumulators, in place (Diware et al., ICCAD 2024, §3.4, eqs. 2–4):
 * drop D_L low bits by an arithmetic shift, floor(acc / 2^D_L), then drop the high bits by two's-complement wrap to
 * O_RWL bits. When a value fits, the dropped high bits are sign extension and nothing is lost; when it does not, the
 * wrap is what the hardware does. A negative D_L shifts left (the window starts below the accumulator's bit 0).
 */
export function truncateWindowImpl(acc: Float64Array, dL: number, oRwl: number): Float64Array {
  const down = 2 ** -dL;
  if (oRwl > WIDEST_WRAP) {
    // every integer below 2^53 fits such a window: nothing is dropped (and r + m would round, or be ∞)
    for (let i = 0; i < acc.length; i++) acc[i] = Math.floor(acc[i]! * down) + 0;
    return acc;
  }
  const m = 2 ** oRwl;
  const half = m / 2;
  for (let i = 0; i < acc.length; i++) {
    let r = Math.floor(acc[i]! * down) % m;
    if (r < 0) r += m;
    acc[i] = (r >= half ? r - m : r) + 0;
  }
  return acc;
}

/** Rounds every accumulator to the nearest integer (half to even): what the ADC reads when weights carry device variation. */
export function roundAccumulatorsImpl(acc: Float64Array): Float64Array {
  for (let i = 0; i < acc.length; i++) acc[i] = roundHalfEven(acc[i]!);
  return acc;
}

/** out[i] += a[i] for every i (row-tile partial sums, added digitally in a wide integer). */
export function addInPlaceImpl(out: Float64Array, a: Float64Array): Float64Array {
  for (let i = 0; i < out.length; i++) out[i]! += a[i]!;
  return out;
}

/**
 * Adds a per-channel integer to an [N, M, P] tensor (M channels, P positions per channel): the digital bias, or the
 * signed-input correction of the offset encoding.
 */
export function addPerChannelImpl(y: Float64Array, perChannel: ArrayLike<number>, channels: number, positions: number): Float64Array {
  const n = channels * positions === 0 ? 0 : y.length / (channels * positions);
  for (let b = 0; b < n; b++) {
    for (let m = 0; m < channels; m++) {
      const add = perChannel[m]!;
      if (add === 0) continue;
      const base = (b * channels + m) * positions;
      for (let p = 0; p < positions; p++) y[base + p]! += add;
    }
  }
  return y;
}

/**
 * b_int = round_half_even(b · 2^fl) per channel: the digital bias in the fraction length of the kept accumulator
 * (crossbar spec, "Bias").
 */
export function quantizeBiasImpl(bias: ArrayLike<number>, fl: number): Float64Array {
  const out = new Float64Array(bias.length);
  const scale = 2 ** fl;
  for (let i = 0; i < bias.length; i++) out[i] = roundHalfEven(bias[i]! * scale);
  return out;
}

/**
 * Largest |Σ_r x[r]·w[r,c]| possible over every column of a row tile when |x| ≤ xMax: xMax · max_c Σ_r |w[r, c]|.
 * `w` is out-channel-major [cols, rowLength]; the tile covers rows [r0, r1) of each column.
 */
export function getAccumulatorBound(w: ArrayLike<number>, cols: number, rowLength: number, r0: number, r1: number, xMax: number): number {
  let worst = 0;
  for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let r = r0; r < r1; r++) s += Math.abs(w[c * rowLength + r]!);
    if (s > worst) worst = s;
  }
  return worst * xMax;
}

/** Ceil(log2 R) for R ≥ 1: the carry bits an R-term sum adds (Diware et al., eq. 1 takes log2 R of a power-of-two R). */
export function ceilLog2(r: number): number {
  if (r <= 1) return 0;
  let bits = 0;
  while (2 ** bits < r) bits++;
  return bits;
}

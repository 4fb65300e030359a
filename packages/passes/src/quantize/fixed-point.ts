/**
 * @fileoverview Fixed-point (WL, FL) weights: Diware, Yaldagard, Bishnoi, "Hardware-Aware Quantization for Accurate
 * Memristor-Based Neural Networks", ICCAD 2024, §2.2.1 (a WL-bit two's-complement integer with FL fraction bits).
 * The codebook is every representable value k·2^−FL, k ∈ [−2^(WL−1), 2^(WL−1) − 1]; the device states come from
 * `mapCodebookToStates` (the format knows nothing of the device; bit-slicing spreads the integer over cells).
 */
import { XbarcError } from "@xbarc/ir";
import { mapCodebookToStates, type QuantizeContext, type QuantResult, type Quantizer } from "./quantizer.js";

/** Options of `createFixedPoint`. */
export interface FixedPointOptions {
  /** fraction length W_FL, fixed for every layer (Diware et al. explore it with Algorithm 1); default: chosen per layer */
  readonly fl?: number;
}

/** Word lengths this quantizer accepts: below 2 bits no signed value but 0 and −1 remains; above 16 the codebook is 2^WL long. */
const MIN_WL = 2;
const MAX_WL = 16;

/** Round half away from zero, so |round(x)| depends on |x| only (the rule below relies on it). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * The fraction length for a layer whose largest |w| is `maxAbs`: the largest FL such that maxAbs·2^FL rounds to at
 * most 2^(WL−1) − 1, i.e. no weight saturates. This is FL = WL − 1 − ceil(log2 max|w|), lowered by one when the
 * largest weight would round past the top code (e.g. max|w| = 0.5 with WL = 8: FL 8 would need code 128).
 * Using the symmetric bound makes the rule idempotent: the quantized weights get the same FL again.
 * An all-zero layer gets FL = WL − 1 (range [−1, 1)).
 */
export function chooseFractionLength(maxAbs: number, wl: number): number {
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return wl - 1;
  const top = 2 ** (wl - 1) - 1;
  const fits = (fl: number) => Math.round(maxAbs * 2 ** fl) <= top;
  let fl = wl - 1 - Math.ceil(Math.log2(maxAbs));
  // log2 is exact enough that each loop runs at most once; the loops only guard the boundary cases
  while (!fits(fl)) fl--;
  while (fits(fl + 1)) fl++;
  return fl;
}

/** Quantizes to (WL = ctx.bits, FL) fixed point: round to nearest (half away from zero), saturating at the ends. */
function fitFixedPoint(weights: Float32Array, ctx: QuantizeContext, options: FixedPointOptions): QuantResult {
  const wl = ctx.bits;
  if (!Number.isInteger(wl) || wl < MIN_WL || wl > MAX_WL) {
    throw new XbarcError("XB5002", `fixed-point: word length bits=${wl} is outside ${MIN_WL}..${MAX_WL}`, {
      hint: `give the quantize pass bits between ${MIN_WL} and ${MAX_WL} for the fixed-point quantizer`,
    });
  }
  if (options.fl !== undefined && !Number.isInteger(options.fl)) {
    throw new XbarcError("XB5002", `fixed-point: fraction length fl=${options.fl} is not an integer`, { hint: "give fl as a whole number of bits, e.g. fl=9" });
  }
  let maxAbs = 0;
  for (let i = 0; i < weights.length; i++) maxAbs = Math.max(maxAbs, Math.abs(weights[i]!));
  const fl = options.fl ?? chooseFractionLength(maxAbs, wl);

  const half = 2 ** (wl - 1);
  const lsb = 2 ** -fl;
  const codebook = new Float64Array(2 * half);
  for (let c = 0; c < codebook.length; c++) codebook[c] = (c - half) * lsb;
  // Diware et al. §2.2.1: upscale by 2^FL, keep the integer, clip to the WL-bit range. We round rather than
  // truncate (half the worst-case error; the representable set is the same).
  const codes = new Int32Array(weights.length);
  const up = 2 ** fl;
  for (let i = 0; i < weights.length; i++) {
    const k = roundHalfAway(weights[i]! * up);
    codes[i] = Math.min(half - 1, Math.max(-half, k)) + half;
  }
  return { codebook, codes, ...mapCodebookToStates(codebook, ctx.states) };
}

/** A fixed-point quantizer; with `fl` every layer uses that fraction length, else it is chosen per layer. */
export function createFixedPoint(options: FixedPointOptions = {}): Quantizer {
  return {
    name: "fixed-point",
    summary: options.fl === undefined
      ? "fixed-point (WL=bits, FL): every representable k*2^-FL, FL the largest that fits the layer's max |w|; round to nearest, saturate"
      : `fixed-point (WL=bits, FL=${options.fl}): every representable k*2^-${options.fl}; round to nearest, saturate`,
    cite: "Diware, Yaldagard, Bishnoi, \"Hardware-Aware Quantization for Accurate Memristor-Based Neural Networks\", ICCAD 2024, §2.2.1",
    fit: (weights, ctx) => fitFixedPoint(weights, ctx, options),
  };
}

/** Fixed point with FL chosen per layer. */
export const fixedPointQuantizer: Quantizer = createFixedPoint();


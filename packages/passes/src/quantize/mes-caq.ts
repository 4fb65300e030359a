/**
 * @fileoverview MES-CAQ: conductance-aware quantization by minimum error substitution (Huang, Xu, Wang, Hu, Fang,
 * "Conductance-Aware Quantization Based on Minimum Error Substitution…", Micromachines 13:667, 2022, Algorithm 1,
 * eqs. 4–8). Also the small helpers the other quantizers share (layer range, the one-value layer).
 */
import { assignNearest, type QuantizeContext, type QuantResult, type Quantizer } from "./quantizer.js";
import type { StateSpace } from "./states.js";

/** The smallest and largest weight of a layer; an empty layer counts as [0, 0]. */
export function getWeightRange(weights: Float32Array): { min: number; max: number } {
  if (weights.length === 0) return { min: 0, max: 0 };
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w < min) min = w;
    if (w > max) max = w;
  }
  return { min, max };
}

/** Index of the state whose delta is 0 (every state space has one: G+ = G−, or the reference level itself). */
export function getZeroStateIndex(states: StateSpace): number {
  let best = 0;
  for (let s = 1; s < states.delta.length; s++) if (Math.abs(states.delta[s]!) < Math.abs(states.delta[best]!)) best = s;
  return best;
}

/**
 * The quantization of a layer whose weights are all equal to `value` (or that is empty): one code, programmed as
 * the zero-delta state, the value carried by the digital offset. Scale is 1 by convention (any scale realizes a
 * zero delta the same), as `mapCodebookToStates` does, so nothing downstream divides by zero.
 */
export function createConstantResult(value: number, count: number, states: StateSpace): QuantResult {
  return {
    codebook: Float64Array.of(value),
    codes: new Int32Array(count),
    state: Int32Array.of(getZeroStateIndex(states)),
    scale: 1,
    offset: value,
  };
}

/**
 * Huang et al. 2022, eq. 4: the affine map taking the state deltas' range [Δg_min, Δg_max] onto the layer's
 * [w_min, w_max]: w = scale·Δg + offset, scale = (w_max − w_min)/(Δg_max − Δg_min), offset = w_min − scale·Δg_min.
 */
export function getMesCaqMap(states: StateSpace, wMin: number, wMax: number): { scale: number; offset: number } {
  const { delta } = states;
  const dMin = delta[0]!;
  const dMax = delta[delta.length - 1]!;
  const scale = (wMax - wMin) / (dMax - dMin);
  return { scale, offset: wMin - scale * dMin };
}

/** Algorithm 1 of Huang et al. 2022 on one layer. */
function fitMesCaq(weights: Float32Array, ctx: QuantizeContext): QuantResult {
  const { states } = ctx;
  const { min: wMin, max: wMax } = getWeightRange(weights);
  if (!(wMax > wMin) || states.delta.length < 2) return createConstantResult(wMin, weights.length, states);

  // Algorithm 1, steps 1–2: Gd = every distinct difference of the levels (the StateSpace deltas, ascending;
  // 8 levels with all differences distinct give 57), W_gd = F(Gd) by eq. 4.
  const { delta } = states;
  const dMin = delta[0]!;
  const dRange = delta[delta.length - 1]! - dMin;
  const K = delta.length;
  const codebook = new Float64Array(K);
  for (let s = 0; s < K; s++) codebook[s] = ((delta[s]! - dMin) / dRange) * (wMax - wMin) + wMin;
  // eq. 4 maps Δg_max to w_max; pin it so rounding cannot move the layer's range (re-quantizing is then exact)
  codebook[K - 1] = wMax;
  const { scale, offset } = getMesCaqMap(states, wMin, wMax);

  // steps 3–5, eqs. 6–8: each weight is substituted by the criterion value of minimum squared error
  return { codebook, codes: assignNearest(weights, codebook), state: Int32Array.from({ length: K }, (_, s) => s), scale, offset };
}

/** MES-CAQ (Huang et al. 2022): every level difference of a differential pair is a quantization value. */
export const mesCaqQuantizer: Quantizer = {
  name: "mes-caq",
  summary: "conductance-aware: all level differences mapped onto [w_min, w_max] (eq. 4), each weight to the nearest (8 levels -> up to 57 values)",
  cite: "Huang, Xu, Wang, Hu, Fang, \"Conductance-Aware Quantization Based on Minimum Error Substitution for Non-Linear-Conductance-State Tolerance in Neural Computing Systems\", Micromachines 13:667, 2022, Algorithm 1, eqs. 4-8",
  fit: fitMesCaq,
};

/**
 * @fileoverview LQ, linear (uniform) quantization: the baseline of Huang et al., Micromachines 13:667, 2022 (§2,
 * eq. 2, Figure 3) and of Halawani, Mohammad, Saleh, IEEE Access (levels evenly spread over the layer's range).
 * LQ assumes the device's levels are linear: code j is programmed by level index, whatever the real conductances.
 */
import { assignNearest, nearestIndex, type QuantizeContext, type QuantResult, type Quantizer } from "./quantizer.js";
import { createConstantResult, getWeightRange } from "./mes-caq.js";

/**
 * LQ on one layer. N codes evenly spaced over [w_min, w_max], N being what a linear device with the same level count
 * gives: 2L−1 on a differential pair, L on an offset column. Code j is programmed as if the levels were linear
 * (Huang et al. 2022, eq. 2): differential d = j − (L−1), G+ = level max(d, 0), G− = level max(−d, 0); offset column
 * G = level j. Scale and offset come from that linear assumption too, so on a non-linear device the realized values
 * scale·(g[plus] − g[minus]) + offset are distorted away from the codebook — the LQ failure mode the paper measures
 * (its Figure 4). That distortion is the point of the baseline and is deliberately not corrected here.
 */
function fitUniform(weights: Float32Array, ctx: QuantizeContext): QuantResult {
  const { states } = ctx;
  const { levels } = states;
  const L = levels.length;
  const { min: wMin, max: wMax } = getWeightRange(weights);
  if (!(wMax > wMin) || L < 2) return createConstantResult(wMin, weights.length, states);

  const differential = states.signed === "differential";
  const N = differential ? 2 * L - 1 : L;
  const codebook = new Float64Array(N);
  for (let j = 0; j < N; j++) codebook[j] = wMin + ((wMax - wMin) * j) / (N - 1);
  codebook[N - 1] = wMax; // keep the range exact so re-quantizing gives the same codebook

  const gSpan = levels[L - 1]! - levels[0]!;
  const state = new Int32Array(N);
  for (let j = 0; j < N; j++) {
    let plus: number;
    let minus: number;
    if (differential) {
      const d = j - (L - 1);
      plus = Math.max(d, 0);
      minus = Math.max(-d, 0);
    } else {
      plus = j;
      minus = 0;
    }
    // the pair's delta is one of the StateSpace's (possibly realized there by a lower-variance pair of equal delta)
    state[j] = nearestIndex(states.delta, levels[plus]! - levels[minus]!);
  }
  // eq. 2 inverted: the linear assumption spreads [w_min, w_max] over [−(g_L − g_1), g_L − g_1] (differential)
  // or [0, g_L − g_1] (offset column)
  const scale = differential ? (wMax - wMin) / (2 * gSpan) : (wMax - wMin) / gSpan;
  const offset = differential ? (wMax + wMin) / 2 : wMin;
  return { codebook, codes: assignNearest(weights, codebook), state, scale, offset };
}

/** LQ: evenly spaced codes programmed by level index, as if the device were linear. */
export const uniformQuantizer: Quantizer = {
  name: "uniform",
  summary: "LQ baseline: 2L-1 (differential) or L (offset column) evenly spaced values over [w_min, w_max], programmed as if levels were linear",
  cite: "Huang, Xu, Wang, Hu, Fang, Micromachines 13:667, 2022, eq. 2 (LQ baseline); Halawani, Mohammad, Saleh, \"Design Exploration of ReRAM-Based Crossbar for AI Inference\", IEEE Access",
  fit: fitUniform,
};

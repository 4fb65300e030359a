/**
 * @fileoverview The values one weight can take on a device: its cell states and their nominal conductance
 * difference and variance. Quantizers choose among these; assign-levels programs them.
 */
import { getLevels, type DeviceProfile } from "@xbarc/ir";

/**
 * The realizable states of one weight, sorted by `delta` ascending, one state per distinct value.
 * A weight in state s has effective value `scale·delta[s] + offset`, where scale and offset are per layer.
 */
export interface StateSpace {
  /** signed-weight mapping of the device */
  readonly signed: "differential" | "offset-column";
  /** the cell's conductance levels, siemens, increasing */
  readonly levels: Float64Array;
  /** σ² of each level's conductance under the device's variation model, siemens² */
  readonly levelVariance: Float64Array;
  /** nominal conductance difference of each state: G+ − G− (differential) or G − G_ref (offset column), siemens */
  readonly delta: Float64Array;
  /** level index programmed on the weight's own cell (G+) */
  readonly plus: Int32Array;
  /** level index of G− (differential) or of the row's reference cell (offset column, always 0) */
  readonly minus: Int32Array;
  /** σ² of delta under variation: var(G+) + var(G−) (the reference cell is shared by a row; its variance counts once) */
  readonly variance: Float64Array;
}

/** σ² of a conductance g at level k under the profile's variation model (absolute, siemens²). */
export function levelVariance(profile: DeviceProfile, levels: Float64Array): Float64Array {
  const v = profile.variation;
  const out = new Float64Array(levels.length);
  for (let k = 0; k < levels.length; k++) {
    const g = levels[k]!;
    const sigma = v.level_sigma ? v.level_sigma[k]! : v.sigma;
    switch (v.model) {
      case "none": out[k] = 0; break;
      // Huang et al. 2022, eq. 11: g·e^θ, θ ~ N(0, σ): Var = g²·(e^{σ²} − 1)·e^{σ²}
      case "lognormal": out[k] = g * g * Math.expm1(sigma * sigma) * Math.exp(sigma * sigma); break;
      // σ as a fraction of the level (Halawani et al.); truncation at ±t·σ shrinks the variance
      case "gaussian": out[k] = (sigma * g) ** 2; break;
      case "truncated-gaussian": out[k] = (sigma * g) ** 2 * truncatedNormalVarianceFactor(v.truncate ?? 3); break;
    }
  }
  return out;
}

/** Var of N(0,1) truncated to [−t, t]: 1 − 2t·φ(t)/(2Φ(t) − 1). */
function truncatedNormalVarianceFactor(t: number): number {
  const phi = Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  const mass = erf(t / Math.SQRT2);
  return 1 - (2 * t * phi) / mass;
}

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), enough for a variance factor. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/**
 * All states of one weight on `profile`. Differential pairs give every difference g_j − g_i (Huang et al. 2022,
 * §3: 8 levels → up to 57 distinct values); when several pairs give the same value the one with the least
 * variance is kept. An offset column gives g_k − g_1 for each level (Halawani et al.: shifted weights).
 */
export function getStateSpace(profile: DeviceProfile): StateSpace {
  const levels = getLevels(profile.cell);
  const lv = levelVariance(profile, levels);
  const L = levels.length;
  const candidates: { delta: number; plus: number; minus: number; variance: number }[] = [];
  if (profile.mapping.signed === "differential") {
    for (let p = 0; p < L; p++) for (let m = 0; m < L; m++) candidates.push({ delta: levels[p]! - levels[m]!, plus: p, minus: m, variance: lv[p]! + lv[m]! });
  } else {
    for (let p = 0; p < L; p++) candidates.push({ delta: levels[p]! - levels[0]!, plus: p, minus: 0, variance: lv[p]! + lv[0]! });
  }
  candidates.sort((a, b) => a.delta - b.delta || a.variance - b.variance);
  // pairs equal up to rounding (linear levels) are one state; 1e-9 of the level range is far below any physics
  const eps = 1e-9 * (levels[L - 1]! - levels[0]!);
  const deduped: typeof candidates = [];
  for (const c of candidates) {
    const last = deduped[deduped.length - 1];
    if (last && c.delta - last.delta <= eps) {
      if (c.variance < last.variance) deduped[deduped.length - 1] = c;
    } else deduped.push(c);
  }
  return {
    signed: profile.mapping.signed,
    levels,
    levelVariance: lv,
    delta: Float64Array.from(deduped, (c) => c.delta),
    plus: Int32Array.from(deduped, (c) => c.plus),
    minus: Int32Array.from(deduped, (c) => c.minus),
    variance: Float64Array.from(deduped, (c) => c.variance),
  };
}

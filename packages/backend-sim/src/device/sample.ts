/**
 * @fileoverview Non-ideality sampling: the conductance each programmed cell really has in one Monte Carlo instance
 * (device-to-device / cycle-to-cycle variation and stuck-at faults), drawn from a seeded stream.
 */
import type { Rng, VariationSpec } from "@xbarc/ir";

/**
 * Bound of a truncated Gaussian, in σ, when the profile gives none. Matches the quantize pass's expected-variance
 * model (3σ); Halawani et al. truncate at ±1σ, which their built-in profile states explicitly (`truncate: 1`).
 */
export const DEFAULT_TRUNCATE = 3;

/** Read noise acts on every column read, not on a stored weight: weight-level evaluation leaves it out and says so. */
export const READ_NOISE_NOTE = "read noise: not modelled at weight level";

/** What sampling needs from a profile, precomputed once per layer (σ per level, fault thresholds). */
export interface CellSampler {
  /** the nominal conductance of each level, siemens, increasing */
  readonly levels: Float64Array;
  /** the variation model */
  readonly model: VariationSpec["model"];
  /** σ of each level (level_sigma, or sigma for every level); 0 everywhere when the model is "none" */
  readonly sigma: Float64Array;
  /** truncated-gaussian: |z| ≤ truncate */
  readonly truncate: number;
  /** probability a cell is stuck at the top level */
  readonly stuckAtOn: number;
  /** probability a cell is stuck at the bottom level */
  readonly stuckAtOff: number;
}

/** Precomputes a sampler for a cell with these levels under `variation`. */
export function createCellSampler(levels: Float64Array, variation: VariationSpec): CellSampler {
  const sigma = new Float64Array(levels.length);
  if (variation.model !== "none") {
    for (let k = 0; k < levels.length; k++) sigma[k] = variation.level_sigma?.[k] ?? variation.sigma;
  }
  return {
    levels,
    model: variation.model,
    sigma,
    truncate: variation.truncate ?? DEFAULT_TRUNCATE,
    stuckAtOn: variation.stuck_at_on,
    stuckAtOff: variation.stuck_at_off,
  };
}

/** True when every cell would come out at its nominal level (no variation, no faults): sampling can be skipped. */
export function isIdealSampler(s: CellSampler): boolean {
  return s.stuckAtOn === 0 && s.stuckAtOff === 0 && s.sigma.every((x) => x === 0);
}

/**
 * A standard normal restricted to [−t, t], by rejection. For small t a uniform proposal on [−t, t] accepted with
 * probability e^{−z²/2} wastes fewer draws than redrawing N(0,1) until it lands inside (acceptance 86% vs 68% at t = 1);
 * the two acceptance rates cross near t = 1.5.
 */
export function truncatedNormal(rng: Rng, t: number): number {
  if (t < 1.5) {
    for (;;) {
      const z = (2 * rng.next() - 1) * t;
      if (rng.next() < Math.exp(-0.5 * z * z)) return z;
    }
  }
  for (;;) {
    const z = rng.normal();
    if (z >= -t && z <= t) return z;
  }
}

/**
 * Samples the conductance of one cell programmed to `level`. Stuck-at faults come first (a stuck cell sits exactly at
 * the top or bottom level, whatever was programmed); otherwise the level varies by the profile's model:
 * - lognormal: g·e^θ, θ ~ N(0, σ) (Huang et al., Micromachines 13:667, 2022, eq. 11);
 * - gaussian: g·(1 + σ·z), z ~ N(0, 1), σ a fraction of the level (Halawani et al., IEEE Access);
 * - truncated-gaussian: the same with |z| ≤ truncate (Halawani et al., appendix: σ = var·level, cut at ±var·level).
 * A conductance is never negative: Gaussian tails below zero are clamped to 0.
 */
export function sampleCell(s: CellSampler, level: number, rng: Rng): number {
  const g = s.levels[level]!;
  if (s.stuckAtOn > 0 || s.stuckAtOff > 0) {
    const u = rng.next();
    if (u < s.stuckAtOn) return s.levels[s.levels.length - 1]!;
    if (u < s.stuckAtOn + s.stuckAtOff) return s.levels[0]!;
  }
  const sigma = s.sigma[level]!;
  if (sigma === 0) return g;
  switch (s.model) {
    case "lognormal":
      return g * Math.exp(sigma * rng.normal());
    case "gaussian":
      return Math.max(0, g * (1 + sigma * rng.normal()));
    case "truncated-gaussian":
      return Math.max(0, g * (1 + sigma * truncatedNormal(rng, s.truncate)));
    case "none":
      return g;
  }
}

/**
 * Samples every cell of `levelIndex` (one level index per cell) into `out` (siemens), in index order, so the draws
 * depend only on the stream and the cell order. Returns `out`.
 */
export function sampleConductances(s: CellSampler, levelIndex: ArrayLike<number>, rng: Rng, out: Float64Array = new Float64Array(levelIndex.length)): Float64Array {
  if (out.length < levelIndex.length) throw new RangeError(`sampleConductances: output holds ${out.length} cells, ${levelIndex.length} needed`);
  const n = levelIndex.length;
  const levels = s.levels;
  for (let i = 0; i < n; i++) {
    const k = levelIndex[i]!;
    if (k >= levels.length) throw new RangeError(`sampleConductances: cell ${i} is at level ${k}, but the device has ${levels.length} levels`);
    out[i] = sampleCell(s, k, rng);
  }
  return out;
}

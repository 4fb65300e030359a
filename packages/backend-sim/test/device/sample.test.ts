import { describe, expect, it } from "vitest";
import { createRng, Rng, type VariationSpec } from "@xbarc/ir";
import { createCellSampler, DEFAULT_TRUNCATE, isIdealSampler, sampleConductances, truncatedNormal } from "@xbarc/backend-sim";

const N = 100_000;
const LEVELS = Float64Array.from([1e-6, 2e-6, 5e-6, 1e-5]);

function variation(over: Partial<VariationSpec>): VariationSpec {
  return { model: "none", sigma: 0, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0, ...over };
}

/** N cells all programmed to `level`. */
function cellsAt(level: number, n = N): Uint8Array {
  return new Uint8Array(n).fill(level);
}

function meanAndVariance(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const mean = s / xs.length;
  let ss = 0;
  for (let i = 0; i < xs.length; i++) ss += (xs[i]! - mean) ** 2;
  return { mean, variance: ss / (xs.length - 1) };
}

/** Var of N(0,1) restricted to [−t, t], by numerical integration (independent of the sampler). */
function truncatedVariance(t: number): number {
  const steps = 20_000;
  let mass = 0;
  let second = 0;
  for (let i = 0; i <= steps; i++) {
    const z = -t + (2 * t * i) / steps;
    const w = (i === 0 || i === steps ? 0.5 : 1) * Math.exp(-0.5 * z * z);
    mass += w;
    second += w * z * z;
  }
  return second / mass;
}

describe("Rng", () => {
  it("lives in @xbarc/ir and replays the same stream for the same seed and label", () => {
    const a = createRng(7, "montecarlo");
    const b = createRng(7, "montecarlo");
    const xs = Array.from({ length: 5 }, () => a.normal());
    expect(Array.from({ length: 5 }, () => b.normal())).toEqual(xs);
    expect(createRng(8, "montecarlo").normal()).not.toBe(xs[0]);
  });

  it("draws standard normals with mean 0 and variance 1", () => {
    const rng = new Rng(1);
    const xs = new Float64Array(N);
    for (let i = 0; i < N; i++) xs[i] = rng.normal();
    const { mean, variance } = meanAndVariance(xs);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
  });
});

describe("sampleConductances", () => {
  it("reproduces the nominal levels exactly when sigma is 0", () => {
    for (const model of ["none", "lognormal", "gaussian", "truncated-gaussian"] as const) {
      const s = createCellSampler(LEVELS, variation({ model, sigma: 0 }));
      expect(isIdealSampler(s)).toBe(true);
      const levels = Uint8Array.from([0, 1, 2, 3, 3, 0]);
      expect(Array.from(sampleConductances(s, levels, createRng(1, model)))).toEqual(Array.from(levels, (k) => LEVELS[k]!));
    }
  });

  it("gives log-normal samples g·e^θ whose log has mean 0 and variance σ² (Huang et al. 2022, eq. 11)", () => {
    const sigma = 0.5;
    const g = LEVELS[2]!;
    const out = sampleConductances(createCellSampler(LEVELS, variation({ model: "lognormal", sigma })), cellsAt(2), createRng(3, "lognormal"));
    const logs = Float64Array.from(out, (x) => Math.log(x / g));
    const { mean, variance } = meanAndVariance(logs);
    // 5 standard errors: se(mean) = σ/√N, se(variance) ≈ σ²·√(2/N)
    expect(Math.abs(mean)).toBeLessThan(5 * sigma / Math.sqrt(N));
    expect(Math.abs(variance - sigma * sigma)).toBeLessThan(5 * sigma * sigma * Math.sqrt(2 / N));
    expect(out.every((x) => x > 0)).toBe(true);
  });

  it("gives Gaussian samples with mean g and standard deviation σ·g", () => {
    const sigma = 0.1;
    const g = LEVELS[3]!;
    const out = sampleConductances(createCellSampler(LEVELS, variation({ model: "gaussian", sigma })), cellsAt(3), createRng(4, "gaussian"));
    const { mean, variance } = meanAndVariance(out);
    expect(Math.abs(mean - g)).toBeLessThan(5 * sigma * g / Math.sqrt(N));
    expect(Math.abs(Math.sqrt(variance) - sigma * g)).toBeLessThan(0.02 * sigma * g);
  });

  it("clamps Gaussian conductances at 0 when σ is large", () => {
    const out = sampleConductances(createCellSampler(LEVELS, variation({ model: "gaussian", sigma: 1 })), cellsAt(1, 10_000), createRng(5, "clamp"));
    expect(out.every((x) => x >= 0)).toBe(true);
    expect(out.some((x) => x === 0)).toBe(true);
  });

  for (const truncate of [0.5, 1, 2]) {
    it(`never leaves ±${truncate}·σ·g with a truncated Gaussian, and has the truncated normal's variance`, () => {
      const sigma = 0.1;
      const g = LEVELS[2]!;
      const out = sampleConductances(createCellSampler(LEVELS, variation({ model: "truncated-gaussian", sigma, truncate })), cellsAt(2), createRng(6, `t${truncate}`));
      const z = Float64Array.from(out, (x) => (x / g - 1) / sigma);
      let maxAbs = 0;
      for (const v of z) maxAbs = Math.max(maxAbs, Math.abs(v));
      expect(maxAbs).toBeLessThanOrEqual(truncate * (1 + 1e-12));
      // the samples reach close to the bound: the tails are not cut short
      expect(maxAbs).toBeGreaterThan(0.99 * truncate);
      const { mean, variance } = meanAndVariance(z);
      const expected = truncatedVariance(truncate);
      expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(expected / N));
      expect(Math.abs(variance - expected)).toBeLessThan(0.02 * expected);
    });
  }

  it("truncates at 3σ when the profile gives no bound", () => {
    expect(DEFAULT_TRUNCATE).toBe(3);
    const s = createCellSampler(LEVELS, variation({ model: "truncated-gaussian", sigma: 0.1 }));
    expect(s.truncate).toBe(3);
    const rng = new Rng(9);
    for (let i = 0; i < 20_000; i++) expect(Math.abs(truncatedNormal(rng, 3))).toBeLessThanOrEqual(3);
  });

  it("uses each level's own σ from level_sigma", () => {
    const levelSigma = [0.05, 0.1, 0.2, 0.4];
    const s = createCellSampler(LEVELS, variation({ model: "lognormal", sigma: 0.9, level_sigma: levelSigma }));
    const n = 40_000;
    for (let k = 0; k < 4; k++) {
      const out = sampleConductances(s, cellsAt(k, n), createRng(10, `level${k}`));
      const { variance } = meanAndVariance(Float64Array.from(out, (x) => Math.log(x / LEVELS[k]!)));
      expect(Math.sqrt(variance) / levelSigma[k]!).toBeCloseTo(1, 1);
    }
  });

  it("puts cells stuck-at-on at the top level and stuck-at-off at the bottom level at their rates", () => {
    const pOn = 0.01;
    const pOff = 0.03;
    // programmed to level 1 with small variation: a non-stuck cell never lands exactly on level 0 or 3
    const s = createCellSampler(LEVELS, variation({ model: "lognormal", sigma: 0.05, stuck_at_on: pOn, stuck_at_off: pOff }));
    const out = sampleConductances(s, cellsAt(1), createRng(11, "stuck"));
    let on = 0;
    let off = 0;
    for (const x of out) {
      if (x === LEVELS[3]) on++;
      else if (x === LEVELS[0]) off++;
    }
    // binomial: within 5 standard deviations of N·p
    expect(Math.abs(on - N * pOn)).toBeLessThan(5 * Math.sqrt(N * pOn * (1 - pOn)));
    expect(Math.abs(off - N * pOff)).toBeLessThan(5 * Math.sqrt(N * pOff * (1 - pOff)));
  });

  it("applies stuck-at faults even when the variation model is none", () => {
    const s = createCellSampler(LEVELS, variation({ model: "none", sigma: 0.3, stuck_at_off: 1 }));
    expect(isIdealSampler(s)).toBe(false);
    expect(Array.from(sampleConductances(s, Uint8Array.from([1, 2, 3]), new Rng(1)))).toEqual([LEVELS[0], LEVELS[0], LEVELS[0]]);
  });

  it("rejects a level index the device does not have", () => {
    const s = createCellSampler(LEVELS, variation({}));
    expect(() => sampleConductances(s, Uint8Array.from([4]), new Rng(1))).toThrow(/level 4, but the device has 4 levels/);
  });
});

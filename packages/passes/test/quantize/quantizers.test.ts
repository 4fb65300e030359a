/**
 * @fileoverview Properties of the six weight quantizers on synthetic and real (lenet5) weights across devices:
 * valid codes/codebooks/states, nearest (or penalized-nearest) assignment, re-quantization, and each paper's claim
 * (MES-CAQ's 57 values, LQ's distortion on non-linear levels, EM's fewer levels under large σ, cluster recovery).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { getLevels, isXbarcError, listBuiltinProfiles, type DeviceProfile } from "@xbarc/ir";
import {
  QUANTIZERS,
  chooseFractionLength,
  createFixedPoint,
  emVariationQuantizer,
  fitEmVariationWithTrace,
  fixedPointQuantizer,
  getQuantErrors,
  getQuantizer,
  getSymmetricEigen,
  kmeansQuantizer,
  mesCaqQuantizer,
  spectralQuantizer,
  uniformQuantizer,
} from "@xbarc/passes";
import { realizedValues, type QuantResult } from "../../src/quantize/quantizer.js";
import { getStateSpace, type StateSpace } from "../../src/quantize/states.js";
import {
  createContext,
  createListedProfile,
  getLenetLayers,
  getProfile,
  getQuantizedWeights,
  maxAbsDiff,
  sampleLaplace,
  sampleMixture,
  type LayerWeights,
} from "./helpers.js";

/** The devices of issue 3: near-linear, power, strongly exponential (differential); linear offset column ×2. */
const DEVICES = ["lin-dev0.1", "pow-a2", "exp-a3", "isaac", "halawani-16l-10x"];

/** Bits per quantizer in the sweep: the word length of fixed point, 2^bits groups for the clusterers. */
const BITS: Record<string, number> = { "fixed-point": 8, kmeans: 4, spectral: 2 };

function rangeOf(w: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < w.length; i++) {
    lo = Math.min(lo, w[i]!);
    hi = Math.max(hi, w[i]!);
  }
  return w.length ? hi - lo : 0;
}

/** Codes index a strictly increasing finite codebook; every code has a valid state; scale/offset finite. */
function expectWellFormed(r: QuantResult, weights: Float32Array, states: StateSpace, label: string): void {
  const K = r.codebook.length;
  expect(K, `${label}: codebook size`).toBeGreaterThan(0);
  for (let c = 0; c < K; c++) {
    expect(Number.isFinite(r.codebook[c]!), `${label}: codebook[${c}] finite`).toBe(true);
    if (c > 0) expect(r.codebook[c]!, `${label}: codebook increasing at ${c}`).toBeGreaterThan(r.codebook[c - 1]!);
  }
  expect(r.codes.length, `${label}: one code per weight`).toBe(weights.length);
  for (let i = 0; i < r.codes.length; i++) {
    const c = r.codes[i]!;
    if (!(c >= 0 && c < K)) expect.fail(`${label}: code ${c} of weight ${i} outside [0, ${K})`);
  }
  expect(r.state.length, `${label}: one state per code`).toBe(K);
  for (const s of r.state) expect(s >= 0 && s < states.delta.length, `${label}: state ${s} valid`).toBe(true);
  expect(Number.isFinite(r.scale) && r.scale > 0, `${label}: scale ${r.scale}`).toBe(true);
  expect(Number.isFinite(r.offset), `${label}: offset ${r.offset}`).toBe(true);
}

/** Every weight's code is a nearest codebook value (checked against all of them, not by binary search). */
function expectNearestCodes(r: QuantResult, weights: Float32Array, label: string): void {
  const slack = 1e-12 * Math.max(1, rangeOf(r.codebook));
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    let best = Infinity;
    for (let c = 0; c < r.codebook.length; c++) best = Math.min(best, Math.abs(w - r.codebook[c]!));
    const got = Math.abs(w - r.codebook[r.codes[i]!]!);
    if (got > best + slack) expect.fail(`${label}: weight ${i} = ${w} coded ${r.codebook[r.codes[i]!]} but ${best} away is nearer`);
  }
}

/** EM's assignment rule checked by brute force: each weight's state minimises (w − q_s)² + scale²·V_s over all states. */
function expectPenalizedNearest(r: QuantResult, weights: Float32Array, states: StateSpace, label: string): void {
  const S = states.delta.length;
  const q = Float64Array.from(states.delta, (d) => r.scale * d + r.offset);
  const pen = Float64Array.from(states.variance, (v) => r.scale * r.scale * v);
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    let best = Infinity;
    for (let s = 0; s < S; s++) best = Math.min(best, (w - q[s]!) ** 2 + pen[s]!);
    const s = r.state[r.codes[i]!]!;
    const got = (w - q[s]!) ** 2 + pen[s]!;
    if (got > best * (1 + 1e-9) + 1e-300) expect.fail(`${label}: weight ${i} in state ${s} costs ${got} > ${best}`);
  }
}

/** The weight sets of the sweep: lenet5's five layers and two synthetic shapes. */
function weightSets(): LayerWeights[] {
  return [
    ...getLenetLayers(),
    { name: "laplace(0.05) x5000", weights: sampleLaplace(5000, 0.05, 11) },
    { name: "3-cluster mixture x3000", weights: sampleMixture(3000, [-0.4, 0.05, 0.3], 0.02, 12) },
  ];
}

describe("quantizer registry", () => {
  it("lists the six quantizers of issue 3, each with a summary and a citation", () => {
    expect(QUANTIZERS.map((q) => q.name)).toEqual(["uniform", "fixed-point", "kmeans", "spectral", "em-variation", "mes-caq"]);
    for (const q of QUANTIZERS) {
      expect(q.summary.length, q.name).toBeGreaterThan(20);
      expect(q.cite, q.name).toMatch(/20\d\d|slides/);
    }
  });

  it("finds each quantizer by name and nothing for an unknown name", () => {
    for (const q of QUANTIZERS) expect(getQuantizer(q.name)).toBe(q);
    expect(getQuantizer("lloyd-max")).toBeUndefined();
  });
});

describe("every quantizer", () => {
  const sets = weightSets();
  for (const q of QUANTIZERS) {
    for (const device of DEVICES) {
      const bits = BITS[q.name] ?? 3;
      const states = getStateSpace(getProfile(device));
      const hasVariation = states.variance.some((v) => v > 0);
      // EM under variation is not a projection (its α² penalty shrinks the scale of any input, quantized or not);
      // there the sweep checks its own assignment rule, and the fixed-point test below its α, β
      const requantizes = !(q === emVariationQuantizer && hasVariation);
      it(`${q.name} on ${device}: codes index an increasing codebook, states are valid${requantizes ? ", re-quantizing changes nothing" : ""}`, () => {
        for (const { name, weights } of sets) {
          const label = `${q.name}/${device}/${name}`;
          const r = q.fit(weights, createContext(device, bits));
          expectWellFormed(r, weights, states, label);
          if (q === emVariationQuantizer) expectPenalizedNearest(r, weights, states, label);
          else expectNearestCodes(r, weights, label);

          const quantized = getQuantizedWeights(r.codebook, r.codes);
          if (!requantizes) continue;
          const again = q.fit(quantized, createContext(device, bits));
          expectWellFormed(again, quantized, states, `${label} (again)`);
          const requantized = getQuantizedWeights(again.codebook, again.codes);
          if (q === emVariationQuantizer) {
            // α, β are refitted by least squares on float32-rounded values: equal up to float32 rounding
            expect(maxAbsDiff(requantized, quantized), `${label}: re-quantized`).toBeLessThanOrEqual(1e-6 * rangeOf(weights));
          } else {
            expect(maxAbsDiff(requantized, quantized), `${label}: re-quantized`).toBe(0);
          }
        }
      });
    }
  }

  it("never produce NaN or invalid codes on random small layers (fast-check, seeded)", () => {
    const contexts = DEVICES.map((d) => getStateSpace(getProfile(d)));
    fc.assert(
      fc.property(
        fc.float32Array({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true, minLength: 1, maxLength: 48 }),
        fc.integer({ min: 0, max: DEVICES.length - 1 }),
        fc.integer({ min: 2, max: 4 }),
        (weights, device, bits) => {
          for (const q of QUANTIZERS) {
            const r = q.fit(weights, { ...createContext(DEVICES[device]!, bits), states: contexts[device]! });
            expectWellFormed(r, weights, contexts[device]!, `${q.name} on ${DEVICES[device]} bits=${bits} [${Array.from(weights)}]`);
          }
        },
      ),
      { seed: 20240603, numRuns: 80 },
    );
  });

  for (const [what, weights] of [
    ["a single weight", Float32Array.of(0.25)],
    ["a layer of equal weights", new Float32Array(10).fill(-0.1)],
    ["an all-zero layer", new Float32Array(7)],
    ["an empty layer", new Float32Array(0)],
  ] as const) {
    it(`handle ${what} without NaN, reproducing it (fixed point: within half an LSB)`, () => {
      for (const device of DEVICES) {
        for (const q of QUANTIZERS) {
          const ctx = createContext(device, BITS[q.name] ?? 3);
          const r = q.fit(weights, ctx);
          expectWellFormed(r, weights, ctx.states, `${q.name}/${device}/${what}`);
          const realized = realizedValues(r, ctx.states);
          for (let i = 0; i < weights.length; i++) {
            const c = r.codes[i]!;
            const tol = q.name === "fixed-point" ? 2 ** -9 : 0;
            expect(Math.abs(r.codebook[c]! - weights[i]!), `${q.name}/${device}`).toBeLessThanOrEqual(tol);
            if (q.name !== "fixed-point") expect(realized[c], `${q.name}/${device} realized`).toBeCloseTo(weights[i]!, 12);
          }
        }
      }
    });
  }
});

/** The number of distinct values among g_p − g_m (all pairs), counted independently of the StateSpace. */
function countDistinctDifferences(levels: Float64Array): number {
  const diffs: number[] = [];
  for (const a of levels) for (const b of levels) diffs.push(a - b);
  diffs.sort((x, y) => x - y);
  const eps = 1e-9 * (levels[levels.length - 1]! - levels[0]!);
  let n = 0;
  for (let i = 0; i < diffs.length; i++) if (i === 0 || diffs[i]! - diffs[i - 1]! > eps) n++;
  return n;
}

describe("mes-caq (Huang et al. 2022, Algorithm 1)", () => {
  const weights = sampleLaplace(4000, 0.05, 21);
  // a Golomb ruler: all 28 differences of these marks are distinct, so the 8 levels give 56 + 1 values
  const golomb = createListedProfile([0, 1, 4, 9, 15, 22, 32, 34].map((m) => (1 + m) * 1e-6));

  it("gives 57 values on eight levels whose pairwise differences are all distinct", () => {
    const r = mesCaqQuantizer.fit(weights, createContext(golomb, 3));
    expect(countDistinctDifferences(getLevels(golomb.cell))).toBe(57);
    expect(r.codebook.length).toBe(57);
  });

  it("gives 57 values on exp-a3 and 15 on a linear 8-level differential device", () => {
    expect(mesCaqQuantizer.fit(weights, createContext("exp-a3", 3)).codebook.length).toBe(57);
    expect(getProfile("rram-3bit").cell.levels.model).toBe("linear");
    expect(mesCaqQuantizer.fit(weights, createContext("rram-3bit", 3)).codebook.length).toBe(15);
  });

  it("gives exactly as many values as the levels have distinct differences, on every 8-level differential built-in", () => {
    const profiles = listBuiltinProfiles().filter((p: DeviceProfile) => p.mapping.signed === "differential" && getLevels(p.cell).length === 8);
    expect(profiles.length).toBeGreaterThanOrEqual(10);
    for (const p of profiles) {
      const r = mesCaqQuantizer.fit(weights, createContext(p, 3));
      expect(r.codebook.length, p.name).toBe(countDistinctDifferences(getLevels(p.cell)));
    }
  });

  it("maps the differences onto [w_min, w_max] by eq. 4, and the device realizes its codebook to 1e-12", () => {
    for (const device of [...DEVICES, "eexp-s0.5"]) {
      const ctx = createContext(device, 3);
      for (const { name, weights: w } of getLenetLayers()) {
        const r = mesCaqQuantizer.fit(w, ctx);
        const range = rangeOf(w);
        const { delta } = ctx.states;
        const dMin = delta[0]!;
        const dMax = delta[delta.length - 1]!;
        let wMin = Infinity;
        for (const x of w) wMin = Math.min(wMin, x);
        for (let s = 0; s < delta.length; s++) {
          expect(r.codebook[s]! - (((delta[s]! - dMin) / (dMax - dMin)) * range + wMin)).toBeLessThanOrEqual(1e-12 * range);
        }
        expect(maxAbsDiff(realizedValues(r, ctx.states), r.codebook), `${device}/${name}`).toBeLessThanOrEqual(1e-12 * range);
      }
    }
  });

  it("realizes every lenet5 layer on exp-a3 with less error than LQ (the paper's comparison)", () => {
    const ctx = createContext("exp-a3", 3);
    for (const { name, weights: w } of getLenetLayers()) {
      const mes = getQuantErrors(w, mesCaqQuantizer.fit(w, ctx), ctx.states).realized;
      const lq = getQuantErrors(w, uniformQuantizer.fit(w, ctx), ctx.states).realized;
      expect(mes, name).toBeLessThan(lq / 4);
    }
  });
});

describe("uniform (LQ)", () => {
  const weights = sampleLaplace(3000, 0.05, 31);

  it("spreads 2L-1 (differential) or L (offset column) even steps over [w_min, w_max]", () => {
    for (const [device, n] of [["exp-a3", 15], ["rram-4bit", 31], ["isaac", 4], ["halawani-16l-10x", 16]] as const) {
      const r = uniformQuantizer.fit(weights, createContext(device, 3));
      expect(r.codebook.length, device).toBe(n);
      const step = rangeOf(weights) / (n - 1);
      for (let j = 1; j < n; j++) expect(r.codebook[j]! - r.codebook[j - 1]!, device).toBeCloseTo(step, 12);
    }
  });

  it("is realized exactly on linear devices", () => {
    for (const device of ["rram-3bit", "rram-4bit", "isaac", "halawani-16l-10x"]) {
      const ctx = createContext(device, 3);
      for (const w of [weights, ...getLenetLayers().map((l) => l.weights)]) {
        const r = uniformQuantizer.fit(w, ctx);
        expect(maxAbsDiff(realizedValues(r, ctx.states), r.codebook), device).toBeLessThanOrEqual(1e-12 * rangeOf(w));
      }
    }
  });

  it("is distorted on exp-a3 by the amount the level-index programming predicts (LQ's failure mode)", () => {
    const ctx = createContext("exp-a3", 3);
    const r = uniformQuantizer.fit(weights, ctx);
    const range = rangeOf(weights);
    // code j = d + 7 is programmed as levels (max(d,0), max(-d,0)); its value then sits at (g+ − g−)/(2(g8 − g1))
    // of the range from the middle, where LQ meant d/14
    const g = getLevels(getProfile("exp-a3").cell);
    let predicted = 0;
    for (let d = -7; d <= 7; d++) {
      const dg = g[Math.max(d, 0)]! - g[Math.max(-d, 0)]!;
      predicted = Math.max(predicted, Math.abs(dg / (2 * (g[7]! - g[0]!)) - d / 14) * range);
    }
    const distortion = maxAbsDiff(realizedValues(r, ctx.states), r.codebook);
    expect(distortion).toBeCloseTo(predicted, 12);
    expect(distortion / range).toBeGreaterThan(0.25);
  });
});

describe("em-variation (variation-aware EM quantizer, slides)", () => {
  const levels = [1, 2, 3.2, 4.6, 6.2, 8, 10, 12.2].map((x) => x * 1e-5);
  // high-conductance levels vary more (the slides' observation #1)
  const sigma = [0.01, 0.01, 0.01, 0.01, 0.05, 0.08, 0.12, 0.15];
  const noisy = createListedProfile(levels, sigma);
  const quiet = createListedProfile(levels);
  const usesHighLevel = (st: StateSpace, s: number) => st.plus[s]! >= 5 || st.minus[s]! >= 5;

  it("puts fewer levels where σ is large and gives up less quantization error than the variation error it removes", () => {
    for (const weights of [sampleLaplace(20000, 0.05, 41), sampleMixture(20000, [0], 0.1, 42)]) {
      const ctxNoisy = createContext(noisy, 3);
      const ctxQuiet = createContext(quiet, 3);
      const em = emVariationQuantizer.fit(weights, ctxNoisy);
      const emQuiet = emVariationQuantizer.fit(weights, ctxQuiet);
      const high = (r: QuantResult, st: StateSpace) => Array.from(r.state).filter((s) => usesHighLevel(st, s)).length;
      expect(high(em, ctxNoisy.states)).toBeLessThan(high(emQuiet, ctxQuiet.states) / 2);

      const mes = mesCaqQuantizer.fit(weights, ctxNoisy);
      const eEm = getQuantErrors(weights, em, ctxNoisy.states);
      const eMes = getQuantErrors(weights, mes, ctxNoisy.states);
      expect(eEm.variation).toBeLessThan(eMes.variation / 2);
      // J at MES-CAQ's α, β can only go down from MES-CAQ's own assignment (a theorem, not a tuning), so the
      // quantization error EM gives up is less than the variation error it removes
      expect(eEm.quantization - eMes.quantization).toBeLessThan(eMes.variation - eEm.variation);
      // and at σ = 0 its quantization error is no worse than MES-CAQ's
      const eQuiet = getQuantErrors(weights, emQuiet, ctxQuiet.states);
      const eMesQuiet = getQuantErrors(weights, mesCaqQuantizer.fit(weights, ctxQuiet), ctxQuiet.states);
      expect(eQuiet.quantization).toBeLessThanOrEqual(eMesQuiet.quantization);
    }
  });

  it("never increases its objective, and converges, on synthetic and lenet5 weights", () => {
    const cases: [string, Float32Array, DeviceProfile | string][] = [
      ["laplace on the σ device", sampleLaplace(20000, 0.05, 43), noisy],
      ...getLenetLayers().map((l): [string, Float32Array, string] => [`${l.name} on halawani`, l.weights, "halawani-16l-10x"]),
      ...getLenetLayers().map((l): [string, Float32Array, string] => [`${l.name} on rram-3bit`, l.weights, "rram-3bit"]),
    ];
    for (const [label, weights, device] of cases) {
      const trace = fitEmVariationWithTrace(weights, createContext(device, 3));
      const J = trace.objective;
      expect(J.length, label).toBeGreaterThanOrEqual(3);
      for (let t = 1; t < J.length; t++) {
        if (J[t]! > J[t - 1]! * (1 + 1e-12)) expect.fail(`${label}: J rose from ${J[t - 1]} to ${J[t]} at step ${t}`);
      }
      expect(J[J.length - 1]!, label).toBeLessThan(J[0]!);
      expect(trace.converged, label).toBe(true);
    }
  });

  it("returns a fixed point of its two steps: α, β solve the penalized least squares of its own assignment", () => {
    for (const device of ["halawani-16l-10x", "rram-3bit"]) {
      const ctx = createContext(device, 3);
      for (const { name, weights } of getLenetLayers()) {
        const r = emVariationQuantizer.fit(weights, ctx);
        expectPenalizedNearest(r, weights, ctx.states, `${device}/${name}`);
        // normal equations of min Σ(w − a·Δ − b)² + a²·ΣV, solved here directly in siemens
        let n = 0, sd = 0, sw = 0, sdd = 0, sdw = 0, sv = 0;
        for (let i = 0; i < weights.length; i++) {
          const s = r.state[r.codes[i]!]!;
          const d = ctx.states.delta[s]!;
          n++; sd += d; sw += weights[i]!; sdd += d * d; sdw += d * weights[i]!; sv += ctx.states.variance[s]!;
        }
        const a = (sdw - (sd * sw) / n) / (sdd - (sd * sd) / n + sv);
        const b = (sw - a * sd) / n;
        expect(r.scale / a, `${device}/${name} scale`).toBeCloseTo(1, 8);
        expect(Math.abs(r.offset - b), `${device}/${name} offset`).toBeLessThanOrEqual(1e-9 * rangeOf(weights));
      }
    }
  });

  it("with zero variance never does worse than MES-CAQ, from which it starts", () => {
    const ctx = createContext("exp-a3", 3);
    for (const { name, weights } of getLenetLayers()) {
      const em = getQuantErrors(weights, emVariationQuantizer.fit(weights, ctx), ctx.states);
      const mes = getQuantErrors(weights, mesCaqQuantizer.fit(weights, ctx), ctx.states);
      expect(em.variation, name).toBe(0);
      expect(em.quantization, name).toBeLessThanOrEqual(mes.quantization * (1 + 1e-12));
      expect(em.realized, name).toBeCloseTo(em.quantization, 15);
    }
  });
});

describe("kmeans", () => {
  /** Sample means of the components of `sampleMixture` (component = index mod count). */
  function componentMeans(w: Float32Array, count: number): number[] {
    const sum = new Array(count).fill(0);
    const n = new Array(count).fill(0);
    for (let i = 0; i < w.length; i++) {
      sum[i % count] += w[i]!;
      n[i % count]++;
    }
    return sum.map((s, c) => s / n[c]).sort((a, b) => a - b);
  }

  it("finds the means of well-separated clusters", () => {
    for (const [centres, bits] of [[[-0.3, -0.1, 0.12, 0.35], 2], [[-0.7, -0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 0.7], 3]] as const) {
      const w = sampleMixture(8000, centres, 0.01, 51);
      const r = kmeansQuantizer.fit(w, createContext("exp-a3", bits));
      const want = componentMeans(w, centres.length);
      expect(r.codebook.length).toBe(centres.length);
      for (let c = 0; c < centres.length; c++) expect(r.codebook[c]).toBeCloseTo(want[c]!, 9);
    }
  });

  it("ends at a Lloyd fixed point on lenet5: each centre is the mean of the weights coded to it", () => {
    for (const bits of [3, 6]) {
      for (const { name, weights } of getLenetLayers()) {
        const r = kmeansQuantizer.fit(weights, createContext("exp-a3", bits));
        expect(r.codebook.length, name).toBeLessThanOrEqual(2 ** bits);
        const sum = new Float64Array(r.codebook.length);
        const n = new Float64Array(r.codebook.length);
        for (let i = 0; i < weights.length; i++) {
          sum[r.codes[i]!]! += weights[i]!;
          n[r.codes[i]!]!++;
        }
        for (let c = 0; c < r.codebook.length; c++) {
          expect(n[c], `${name} bits=${bits}: code ${c} used`).toBeGreaterThan(0);
          expect(Math.abs(sum[c]! / n[c]! - r.codebook[c]!), `${name} bits=${bits} code ${c}`).toBeLessThanOrEqual(1e-9 * rangeOf(weights));
        }
      }
    }
  });

  it("uses the distinct weights themselves when there are no more of them than 2^bits, and repeats for a seed", () => {
    const w = Float32Array.of(0.5, -0.25, 0.5, 0.125, -0.25);
    expect(Array.from(kmeansQuantizer.fit(w, createContext("exp-a3", 4)).codebook)).toEqual([-0.25, 0.125, 0.5]);
    const big = getLenetLayers()[2]!.weights;
    expect(kmeansQuantizer.fit(big, createContext("exp-a3", 4, 7)).codebook).toEqual(kmeansQuantizer.fit(big, createContext("exp-a3", 4, 7)).codebook);
  });
});

describe("spectral", () => {
  it("with 2 bits finds the four clusters of a four-cluster mixture", () => {
    const centres = [-0.42, -0.15, 0.05, 0.33];
    const w = sampleMixture(6000, centres, 0.015, 61);
    const r = spectralQuantizer.fit(w, createContext("exp-a3", 2));
    expect(r.codebook.length).toBe(4);
    for (let c = 0; c < 4; c++) expect(Math.abs(r.codebook[c]! - centres[c]!), `code ${c}`).toBeLessThan(0.005);
    // the partition is the true one: every weight is coded to its own component's centre
    for (let i = 0; i < w.length; i++) if (r.codes[i] !== i % 4) expect.fail(`weight ${i} = ${w[i]} coded ${r.codes[i]}, component ${i % 4}`);
  });

  it("solves the symmetric eigenproblem: path-graph Laplacian eigenvalues 2 − 2cos(πk/n), and A·V = V·Λ with VᵀV = I", () => {
    const n = 12;
    const L = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      L[i * n + i] = i === 0 || i === n - 1 ? 1 : 2;
      if (i + 1 < n) L[i * n + i + 1] = L[(i + 1) * n + i] = -1;
    }
    const { values } = getSymmetricEigen(L, n);
    for (let k = 0; k < n; k++) expect(values[k]).toBeCloseTo(2 - 2 * Math.cos((Math.PI * k) / n), 12);

    const m = 40;
    const A = new Float64Array(m * m);
    const w = sampleLaplace(m * m, 1, 62);
    for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) A[i * m + j] = A[j * m + i] = w[i * m + j]!;
    const { values: lam, vectors: V } = getSymmetricEigen(A, m);
    for (let k = 1; k < m; k++) expect(lam[k]!).toBeGreaterThanOrEqual(lam[k - 1]!);
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < m; k++) {
        let av = 0;
        let vtv = 0;
        for (let j = 0; j < m; j++) {
          av += A[i * m + j]! * V[j * m + k]!;
          vtv += V[j * m + i]! * V[j * m + k]!;
        }
        expect(Math.abs(av - lam[k]! * V[i * m + k]!)).toBeLessThan(1e-10);
        expect(Math.abs(vtv - (i === k ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });
});

describe("fixed-point (Diware et al., ICCAD 2024, §2.2.1)", () => {
  it("chooses the largest FL at which the largest |w| still fits without saturating", () => {
    // WL = 8: codes −128..127. 0.3·2^8 = 76.8 fits, 0.3·2^9 = 153.6 does not
    expect(chooseFractionLength(0.3, 8)).toBe(8);
    // 0.5·2^8 = 128 would need code 128: one fraction bit less
    expect(chooseFractionLength(0.5, 8)).toBe(7);
    // 0.2495·2^9 = 127.74 rounds to 128: FL 8, although ceil(log2 0.2495) = −2 alone would say 9
    expect(chooseFractionLength(0.2495, 8)).toBe(8);
    expect(chooseFractionLength(3, 8)).toBe(5);
    expect(chooseFractionLength(0, 8)).toBe(7);
  });

  it("has every representable k·2^−FL as its codebook, and rounds each weight to within half an LSB", () => {
    for (const { name, weights } of getLenetLayers()) {
      let maxAbs = 0;
      for (const x of weights) maxAbs = Math.max(maxAbs, Math.abs(x));
      const fl = chooseFractionLength(maxAbs, 8);
      const r = fixedPointQuantizer.fit(weights, createContext("exp-a3", 8));
      expect(r.codebook.length, name).toBe(256);
      for (let c = 0; c < 256; c++) expect(r.codebook[c], name).toBe((c - 128) * 2 ** -fl);
      const lsb = 2 ** -fl;
      for (let i = 0; i < weights.length; i++) {
        if (Math.abs(r.codebook[r.codes[i]!]! - weights[i]!) > lsb / 2) expect.fail(`${name}: weight ${i} off by more than half an LSB`);
      }
    }
  });

  it("saturates at both ends with a fixed FL", () => {
    // (WL, FL) = (4, 2): codes −8..7, values −2..1.75 in steps of 0.25
    const r = createFixedPoint({ fl: 2 }).fit(Float32Array.of(-5, -2.1, 0.3, 1.8, 9, -0.125), createContext("exp-a3", 4));
    expect(Array.from(r.codes, (c) => r.codebook[c])).toEqual([-2, -2, 0.25, 1.75, 1.75, -0.25]);
  });

  it("rejects a word length outside 2..16 with XB5002", () => {
    for (const bits of [1, 17]) {
      try {
        fixedPointQuantizer.fit(Float32Array.of(0.1), createContext("exp-a3", bits));
        expect.fail("accepted bits=" + bits);
      } catch (e) {
        expect(isXbarcError(e) && e.code, String(e)).toBe("XB5002");
        expect(String((e as Error).message)).toMatch(/bits=\d+ is outside 2\.\.16/);
      }
    }
  });
});


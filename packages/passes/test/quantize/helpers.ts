/** @fileoverview Helpers for the quantizer tests: seeded contexts, synthetic weight sets, listed-level devices, lenet5's real weights. */
import { createRng, getBuiltinProfile, resolveDeviceProfile, type DeviceProfile } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { runPipeline } from "@xbarc/passes";
import type { QuantizeContext } from "../../src/quantize/quantizer.js";
import { getStateSpace } from "../../src/quantize/states.js";
import { fixturePath } from "../../../../test/helpers/paths.js";

/** A built-in profile, failing loudly when the name is wrong. */
export function getProfile(name: string): DeviceProfile {
  const p = getBuiltinProfile(name);
  if (!p) throw new Error(`no built-in profile ${name}`);
  return p;
}

/** A quantize context on `profile` with a random stream seeded by `seed`. */
export function createContext(profile: DeviceProfile | string, bits: number, seed = 1): QuantizeContext {
  const p = typeof profile === "string" ? getProfile(profile) : profile;
  const rng = createRng(seed, "quantizer-test");
  return { states: getStateSpace(p), bits, random: () => rng.next() };
}

/**
 * A differential 8-level device with listed levels (siemens) on exp-a3's crossbar, and optionally Gaussian variation
 * with σ per level (a fraction of the level).
 */
export function createListedProfile(levels: readonly number[], levelSigma?: readonly number[]): DeviceProfile {
  return resolveDeviceProfile({
    extends: "exp-a3",
    name: "listed-test",
    cell: { bits: 3, levels: { model: "listed", values: [...levels] }, g_min: Math.min(...levels), g_max: Math.max(...levels) },
    variation: levelSigma
      ? { model: "gaussian", sigma: 0, level_sigma: [...levelSigma], stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 }
      : { model: "none", sigma: 0, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 },
  });
}

/** `n` samples from equally likely normal components N(centre, sigma²), as float32. */
export function sampleMixture(n: number, centres: readonly number[], sigma: number, seed: number): Float32Array {
  const rng = createRng(seed, "mixture");
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = centres[i % centres.length]! + sigma * rng.normal();
  return out;
}

/** `n` Laplace(0, b) samples, as float32: the heavy-tailed, zero-centred shape of trained weights. */
export function sampleLaplace(n: number, b: number, seed: number): Float32Array {
  const rng = createRng(seed, "laplace");
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next() - 0.5;
    out[i] = -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  return out;
}

/** One layer's weights, named by the op's result. */
export interface LayerWeights {
  readonly name: string;
  readonly weights: Float32Array;
}

let lenetLayers: LayerWeights[] | undefined;

/** The conv/linear weight constants of the trained lenet5 fixture after canonicalize. */
export function getLenetLayers(): LayerWeights[] {
  if (lenetLayers) return lenetLayers;
  const m = loadOnnxFile(fixturePath("models", "trained", "lenet5.onnx"));
  runPipeline(m, "canonicalize");
  lenetLayers = [];
  for (const op of m.ops) {
    if (op.opcode !== "conv" && op.opcode !== "linear") continue;
    const data = op.operands[1]!.data;
    if (!(data instanceof Float32Array)) throw new Error(`weight of ${op.results[0]!.name} is not f32`);
    lenetLayers.push({ name: op.results[0]!.name, weights: data });
  }
  return lenetLayers;
}

/** The largest |a[i] − b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The quantized weights codebook[codes[i]], as float32 (what a model would store). */
export function getQuantizedWeights(codebook: Float64Array, codes: Int32Array): Float32Array {
  return Float32Array.from(codes, (c) => codebook[c]!);
}

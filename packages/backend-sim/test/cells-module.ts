/**
 * @fileoverview Hand-built modules with cell states, as assign-levels writes them (#cells + u8 level constants +
 * nominal weights), so device sampling and Monte Carlo tests do not depend on the quantize passes.
 */
import { Module, Rng, type DeviceProfile, type Tensor, type VariationSpec } from "@xbarc/ir";

/** A minimal profile: these levels, this mapping, this variation (other fields are unused by sampling). */
export function testDevice(levels: number[], signed: "differential" | "offset-column", variation: Partial<VariationSpec> = {}): DeviceProfile {
  return {
    name: "test-device",
    description: "hand-written levels for tests",
    source: "tests",
    cell: { bits: Math.ceil(Math.log2(levels.length)), levels: { model: "listed", values: levels }, g_min: levels[0]!, g_max: levels[levels.length - 1]! },
    variation: { model: "none", sigma: 0, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0, ...variation },
    mapping: { signed, bias: "digital" },
    crossbar: { rows: 128, cols: 128, dac_bits: 1, adc_bits: 8, cols_per_adc: 128 },
    timing: { read_ns: 100, adc_ns: 1, shift_add_ns: 1, write_ns: 100 },
    energy: { array_read_pj: 1, adc_pj: 1, dac_pj: 1, shift_add_pj: 1, buffer_pj_per_byte: 1 },
    area: { array_um2: 1, adc_um2: 1, dac_um2: 1, shift_add_um2: 1 },
  };
}

/** Cell states of one weight matrix, chosen by hand the way assign-levels does (nearest realizable value). */
export interface HandAssigned {
  plus: Uint8Array;
  minus: Uint8Array;
  scale: number;
  offset: number;
  /** scale·(g[plus] − g[minus]) + offset, rounded to f32 */
  nominal: Float32Array;
}

/**
 * Differential: every pair (p, m), scale = max|w| / (g_max − g_min), offset 0. Offset column: offset = w_min,
 * scale = (w_max − w_min) / (g_max − g_0), the reference cell of every row at level 0.
 */
export function assignByHand(w: Float32Array, levels: readonly number[], signed: "differential" | "offset-column"): HandAssigned {
  const L = levels.length;
  const n = w.length;
  const plus = new Uint8Array(n);
  const minus = new Uint8Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of w) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const span = levels[L - 1]! - levels[0]!;
  const scale = signed === "differential" ? Math.max(Math.abs(lo), Math.abs(hi)) / span : (hi - lo) / span;
  const offset = signed === "differential" ? 0 : lo;
  const nominal = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let p = 0; p < L; p++) {
      for (let m = 0; m < (signed === "differential" ? L : 1); m++) {
        const v = scale * (levels[p]! - levels[m]!) + offset;
        if (Math.abs(v - w[i]!) < best) {
          best = Math.abs(v - w[i]!);
          plus[i] = p;
          minus[i] = m;
        }
      }
    }
    nominal[i] = scale * (levels[plus[i]!]! - levels[minus[i]!]!) + offset;
  }
  return { plus, minus, scale, offset, nominal };
}

/** Attaches #cells and the level constants to the op whose weight is `weightName`, and puts the nominal weights in place. */
export function annotateCells(m: Module, weightName: string, levels: readonly number[], signed: "differential" | "offset-column"): HandAssigned {
  const weight = m.constants.find((c) => c.name === weightName)!;
  const op = m.ops.find((o) => o.operands[1] === weight)!;
  const a = assignByHand(weight.data as Float32Array, levels, signed);
  m.addConstant(`${weightName}.plus`, { dtype: "u8", shape: weight.type.shape }, a.plus);
  m.addConstant(`${weightName}.minus`, { dtype: "u8", shape: weight.type.shape }, a.minus);
  weight.data = a.nominal;
  op.setAnnotation("cells", {
    map: signed, device: "test-device", levels: levels.length, plus: `${weightName}.plus`, minus: `${weightName}.minus`,
    scale: a.scale, offset: a.offset, g_min: levels[0]!, g_max: levels[levels.length - 1]!, map_err: 0,
  });
  return a;
}

/** Uniform random floats in [lo, hi). */
export function randomFloats(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/**
 * A two-layer classifier x[B,K] → linear(H) → relu → linear(C), random weights, with labels that the float model
 * gets right by construction (labels = its own argmax), so accuracy drops only through quantization and variation.
 */
export function createClassifier(options: { batch: number; inputs: number; hidden: number; classes: number; seed: number }): Module {
  const { batch, inputs, hidden, classes } = options;
  const rng = new Rng(options.seed);
  const m = new Module("classifier");
  const x = m.addInput("x", { dtype: "f32", shape: [batch, inputs] });
  const w1 = m.addConstant("fc1.weight", { dtype: "f32", shape: [hidden, inputs] }, randomFloats(rng, hidden * inputs));
  const b1 = m.addConstant("fc1.bias", { dtype: "f32", shape: [hidden] }, randomFloats(rng, hidden, -0.1, 0.1));
  const w2 = m.addConstant("fc2.weight", { dtype: "f32", shape: [classes, hidden] }, randomFloats(rng, classes * hidden));
  const h = m.addOp("linear", [x, w1, b1], [{ name: "h", type: { dtype: "f32", shape: [batch, hidden] } }]).results[0]!;
  const r = m.addOp("relu", [h], [{ name: "r", type: { dtype: "f32", shape: [batch, hidden] } }]).results[0]!;
  const y = m.addOp("linear", [r, w2, null], [{ name: "logits", type: { dtype: "f32", shape: [batch, classes] } }]).results[0]!;
  m.outputs.push(y);
  return m;
}

/** `count` random input batches for a [B,K] input, the last one holding only `lastCount` images (rest zero). */
export function createBatches(rng: Rng, batch: number, inputs: number, count: number, lastCount = batch): { images: Tensor[]; counts: number[] } {
  const images: Tensor[] = [];
  const counts: number[] = [];
  for (let b = 0; b < count; b++) {
    const used = b === count - 1 ? lastCount : batch;
    const data = new Float32Array(batch * inputs);
    for (let i = 0; i < used * inputs; i++) data[i] = rng.uniform(-1, 1);
    images.push({ type: { dtype: "f32", shape: [batch, inputs] }, data });
    counts.push(used);
  }
  return { images, counts };
}

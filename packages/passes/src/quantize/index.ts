/**
 * @fileoverview The quantize pass: per conv/linear layer, fit every candidate quantizer on the device's states,
 * score them by the stated metric, keep the best (or the per-layer override), and replace the weights by their
 * quantized values, recording codebook, codes and every candidate's score.
 */
import { XbarcError, type Module, type Op, type Tensor, type Value } from "@xbarc/ir";
import type { Pass, PassContext, PassResult } from "../pass.js";
import "./annotation.js";
import type { QuantResult } from "./quantizer.js";
import { getQuantizer, QUANTIZERS } from "./quantizers.js";
import { METRIC_DOC, METRICS, outputError, realizedWeights, variationError, weightMse, type Metric } from "./select.js";
import { getStateSpace, type StateSpace } from "./states.js";
import { recordLayerInputs } from "./activations.js";

export interface QuantizeOptions {
  /** "auto" scores every candidate per layer; a name forces that quantizer everywhere */
  quantizer: string;
  /** how auto scores candidates; default "variation" (equal to weight-mse on a device without variation) */
  metric: string;
  /** candidates auto chooses among */
  candidates: string[];
  /** codebook bits for kmeans, spectral and fixed-point; 0 = the most the device's states hold, floor(log2 |states|) */
  bits: number;
  /** per-layer overrides, "layer=quantizer"; a layer is named by its result, its weight constant or its loc */
  layers: string[];
}

/** The ops the quantizer works on: conv and linear with a constant weight that has data. */
export function getWeightOps(m: Module): Op[] {
  return m.ops.filter((op) => (op.opcode === "conv" || op.opcode === "linear") && op.operands[1]?.kind === "const" && op.operands[1].data !== undefined);
}

/** The names a user may give a layer by in overrides and reports. */
export function getLayerNames(op: Op): string[] {
  return [op.results[0]!.name, op.operands[1]!.name, ...(op.loc ? [op.loc] : [])];
}

function parseOverrides(layers: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of layers) {
    const eq = entry.lastIndexOf("=");
    const name = entry.slice(0, eq);
    const q = entry.slice(eq + 1);
    if (eq <= 0 || !getQuantizer(q)) {
      throw new XbarcError("XB5002", `quantize: layer override "${entry}" must be "<layer>=<quantizer>" with a known quantizer`, {
        hint: `quantizers: ${QUANTIZERS.map((x) => x.name).join(", ")}`,
      });
    }
    map.set(name, q);
  }
  return map;
}

/** The fitted candidates' scores on `metric`; output-error needs the layer's recorded inputs. */
function score(metric: Metric, op: Op, w: Float32Array, weight: Tensor, q: QuantResult, states: StateSpace, inputs: readonly Tensor[] | undefined): number {
  const realized = realizedWeights(q, states, w.length);
  switch (metric) {
    case "weight-mse": return weightMse(w, realized);
    case "variation": return weightMse(w, realized) + variationError(q, states);
    case "output-error": return outputError(op, inputs!, weight, realized);
  }
}

export const quantize: Pass<QuantizeOptions> = {
  name: "quantize",
  summary: "choose a quantizer per layer (uniform, fixed-point, kmeans, spectral, em-variation, mes-caq) and quantize the weights",
  description: `Quantizes every conv and linear layer's weights onto the values the device can hold.
Each candidate quantizer fits a codebook to the layer's weights on the device's states (one weight per
differential pair or per cell with an offset column, as the profile says). With quantizer=auto, every
candidate is scored by the metric and the best is kept; every score is recorded so a dump shows why.
Metrics:
  weight-mse    ${METRIC_DOC["weight-mse"]}
  variation     ${METRIC_DOC.variation}
  output-error  ${METRIC_DOC["output-error"]} (needs --calib-images)
The weight constant then holds the quantized values; <weight>.codebook and <weight>.codes hold the codebook
and each weight's code.

Example (device exp-a3):
  before:
    %y = linear %x, @fc.weight, @fc.bias : f32[1,10]
  after:
    const @fc.weight.codebook : f32[57]
    const @fc.weight.codes : u8[10,32]
    %y = linear %x, @fc.weight, @fc.bias : f32[1,10]
        #quant{scheme="mes-caq", metric="variation", codes=57, wmin=-0.61, wmax=0.58, scale=..., offset=..., err=..., mse=..., codebook="fc.weight.codebook", candidates={uniform=..., mes-caq=...}}`,
  options: {
    type: "object",
    additionalProperties: false,
    required: [],
    properties: {
      quantizer: { type: "string", default: "auto", enum: ["auto", ...QUANTIZERS.map((q) => q.name)] },
      metric: { type: "string", default: "variation", enum: [...METRICS] },
      candidates: { type: "array", items: { type: "string", enum: QUANTIZERS.map((q) => q.name) }, default: QUANTIZERS.map((q) => q.name) },
      bits: { type: "integer", minimum: 0, maximum: 16, default: 0 },
      layers: { type: "array", items: { type: "string" }, default: [] },
    },
  } as Pass<QuantizeOptions>["options"],
  requires: [],
  provides: ["quant"],
  run(module: Module, options: QuantizeOptions, ctx: PassContext): PassResult {
    const device = ctx.device;
    if (!device) throw new XbarcError("XB5003", "quantize needs a device profile", { hint: "pass --device <name|file> (see `xbarc devices`)" });
    const metric = options.metric as Metric;
    if (metric === "output-error" && !ctx.calibration) {
      throw new XbarcError("XB5003", "quantize{metric=\"output-error\"} needs calibration images", { hint: "pass --calib-images and --calib-labels, or use metric=variation" });
    }
    const states = getStateSpace(device);
    const bits = options.bits || Math.max(1, Math.floor(Math.log2(states.delta.length)));
    const overrides = parseOverrides(options.layers);
    const ops = getWeightOps(module);
    const inputs = metric === "output-error" && options.quantizer === "auto" ? recordLayerInputs(module, ops, ctx.calibration!) : undefined;
    const quantized = new Set<Value>();
    let changed = false;
    for (const op of ops) {
      const weightValue = op.operands[1]!;
      // a weight shared by two layers is quantized once, by the first; a layer quantized earlier keeps its codebook
      if (quantized.has(weightValue) || op.getAnnotation("quant")) continue;
      quantized.add(weightValue);
      const w = weightValue.data as Float32Array;
      const weight: Tensor = { type: weightValue.type, data: w };
      const override = getLayerNames(op).map((n) => overrides.get(n)).find((q) => q !== undefined);
      const candidates = override ? [override] : options.quantizer === "auto" ? options.candidates : [options.quantizer];
      const scores: Record<string, number | string> = {};
      let best: { name: string; q: QuantResult; err: number } | undefined;
      for (const name of candidates) {
        const q = getQuantizer(name)!.fit(w, { states, bits, random: () => ctx.rng.next() });
        const err = candidates.length === 1 && metric === "output-error" && !inputs ? NaN : score(metric, op, w, weight, q, states, inputs?.get(op));
        scores[name] = Number.isNaN(err) ? "not scored" : err;
        if (!best || err < best.err) best = { name, q, err };
      }
      const { q } = best!;
      const names = writeQuantized(module, weightValue, q, states);
      const realized = realizedWeights(q, states, w.length);
      let wmin = Infinity;
      let wmax = -Infinity;
      for (const x of w) {
        if (x < wmin) wmin = x;
        if (x > wmax) wmax = x;
      }
      op.setAnnotation("quant", {
        scheme: best!.name,
        metric,
        codes: q.codebook.length,
        wmin,
        wmax,
        scale: q.scale,
        offset: q.offset,
        err: Number.isNaN(best!.err) ? weightMse(w, realized) : best!.err,
        mse: weightMse(w, realized),
        codebook: names.codebook,
        codes_of: names.codes,
        code_levels: names.codeLevels,
        candidates: scores,
        ...(override ? { override: true } : {}),
        ...(inputs ? { calibration: ctx.calibration!.name } : {}),
      });
      changed = true;
      ctx.stats.add(`quantized-layers`, 1);
      ctx.stats.add(`chose-${best!.name}`, 1);
    }
    return { changed };
  },
};

/**
 * Replaces the weight's data by its quantized values and adds three constants: `<w>.codebook` (f32[K]),
 * `<w>.codes` (each weight's code, same shape as w) and `<w>.code_levels` (u8[K,2]: the level indices each
 * code is programmed as, G+ then G− or the offset column's reference). Returns their names.
 */
function writeQuantized(module: Module, weight: Value, q: QuantResult, states: StateSpace): { codebook: string; codes: string; codeLevels: string } {
  const w = weight.data as Float32Array;
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = q.codebook[q.codes[i]!]!;
  weight.data = out;
  const K = q.codebook.length;
  const codebook = module.addConstant(module.freshName(`${weight.name}.codebook`), { dtype: "f32", shape: [K] }, Float32Array.from(q.codebook));
  const small = K <= 256;
  const codes = module.addConstant(module.freshName(`${weight.name}.codes`), { dtype: small ? "u8" : "u16", shape: weight.type.shape },
    small ? Uint8Array.from(q.codes) : Uint16Array.from(q.codes));
  const levels = new Uint8Array(2 * K);
  for (let c = 0; c < K; c++) {
    levels[2 * c] = states.plus[q.state[c]!]!;
    levels[2 * c + 1] = states.minus[q.state[c]!]!;
  }
  const codeLevels = module.addConstant(module.freshName(`${weight.name}.code_levels`), { dtype: "u8", shape: [K, 2] }, levels);
  return { codebook: codebook.name, codes: codes.name, codeLevels: codeLevels.name };
}

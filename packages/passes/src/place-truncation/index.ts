/**
 * @fileoverview The place-truncation pass (Diware, Yaldagard, Bishnoi, "Hardware-Aware Quantization for Accurate
 * Memristor-Based Neural Networks", ICCAD 2024, §3.2–3.4): per fixed-point layer, the input format (A_WL, A_FL), the
 * weight fraction length W_FL — by Algorithm 1 on calibration data, else the quantizer's — and the truncation window
 * kept of every row tile's accumulator, recorded in `#trunc`.
 */
import { XbarcError, type Attrs, type AttrValue, type DeviceProfile, type Module, type Op } from "@xbarc/ir";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { getWeightOps } from "../quantize/index.js";
import { getStateSpace } from "../quantize/states.js";
import { getConstantData, getOpLocation, hasBias } from "../tile/layer.js";
import { sliceLayer } from "../bit-slice/index.js";
import "./annotation.js";
import { getTruncationEvaluator } from "./evaluator.js";
import { DEFAULT_INPUT_RANGE, getActivationFormats, type ActivationFormat, type Range } from "./formats.js";
import { applyFractionLength, fitAtFractionLength, getFixedPointOrigin, setCandidateFractionLength, type FixedPointOrigin } from "./requantize.js";
import { getLosslessAdcBits, getRowTilesUsed, getTruncationWindow } from "./window.js";

export interface PlaceTruncationOptions {
  /** auto: algorithm-1 with calibration data, else default; algorithm-1 requires calibration data */
  rule: string;
  /** A_WL: input word length of every layer, bits */
  act_bits: number;
  /** O_RWL: bits each window keeps; 0 = A_WL (Diware et al. set O_RWL = A_WL); A_WL + 2 guard bits without calibration data */
  keep_bits: number;
  /** calibration: a layer's range is this percentile of |x| (100 = max-abs; default 99.9) */
  act_percentile: number;
  /** without calibration: the model input's range [lo, hi]; [] = the module's input_range attribute, else [0, 1] */
  input_range: number[];
  /** without calibration: how ranges propagate through conv/linear, "k-sigma" or "worst-case" */
  range_rule: string;
  /** k of the k-sigma rule */
  range_sigmas: number;
  /** A_FL also fits the layer's output into O_RWL bits (the kept value has fraction length A_FL) */
  fit_output: boolean;
  /** Algorithm 1: the W_FL candidates, one for the whole network; [] = W_WL − 4 … W_WL + 3 */
  w_fl_list: number[];
  /** Algorithm 1: fixed-point accuracy (0..1) a candidate needs for its hardware accuracy to be measured; −1 = float − acc_margin */
  acc_threshold: number;
  /** Algorithm 1: the automatic threshold's distance below float accuracy (0.05 = 5 points) */
  acc_margin: number;
  /** Algorithm 1: Monte Carlo instances of the device's variation per hardware accuracy */
  mc_runs: number;
}

/** One layer being placed: its op, format, row tiles and original fixed-point quantization. */
interface LayerPlan {
  readonly op: Op;
  readonly origin: FixedPointOrigin;
  readonly format: ActivationFormat;
  readonly rowsUsed: number[];
  readonly bias: "digital" | "row" | "none";
}

/** One Algorithm 1 candidate's scores. */
interface Candidate {
  readonly fl: number;
  readonly fxp: number;
  /** undefined when fxp did not pass the threshold */
  readonly hw: number | undefined;
}

/** Row tiles of a layer: `#tiles.rows_used` when tile ran, else the tile pass's rule on the device's rows. */
function getLayerRows(op: Op, device: DeviceProfile): { rowsUsed: number[]; biasRow: boolean } {
  const tiles = op.getAnnotation("tiles")?.data as { rows_used?: number[]; bias_row?: boolean } | undefined;
  if (tiles?.rows_used) return { rowsUsed: [...tiles.rows_used], biasRow: tiles.bias_row === true };
  const shape = op.operands[1]!.type.shape;
  let rows = 1;
  for (let i = 1; i < shape.length; i++) rows *= shape[i]!;
  const biasRow = device.mapping.bias === "row" && hasBias(op);
  return { rowsUsed: getRowTilesUsed(rows, device.crossbar.rows, biasRow), biasRow };
}

/** The #trunc of a layer at weight fraction length `wFl` (without the Algorithm 1 record). */
function getTruncData(layer: LayerPlan, wFl: number, keepBits: number, device: DeviceProfile, ranges: string): Attrs {
  const { format, origin, rowsUsed } = layer;
  // Diware et al., ICCAD 2024, eqs. 1–4: O_WL = A_WL + W_WL + log2 R; D_L = W_FL; D_H = W_WL + log2 R − W_FL
  const window = getTruncationWindow({ aBits: format.bits, wBits: origin.format.wl, wFl, rowsUsed, keepBits: keepBits || format.bits });
  const adcNeeded = Math.max(...rowsUsed.map((r) => getLosslessAdcBits(r, device.crossbar.dac_bits, device.cell.bits)));
  const data: Attrs = {
    adc_bits: device.crossbar.adc_bits,
    adc_needed: adcNeeded,
    lossless: device.crossbar.adc_bits >= adcNeeded,
    rows: rowsUsed,
    o_wl: window.oWl,
    o_rwl: window.oRwl,
    d_h: window.dH,
    d_l: window.dL,
    keep: window.keep,
    w_wl: origin.format.wl,
    w_fl: wFl,
    a_wl: format.bits,
    a_fl: format.fl,
    a_signed: format.signed,
    out_fl: format.fl + wFl - window.dL,
    bias: layer.bias,
  };
  if (layer.bias === "row") {
    // the bias row is driven by 2^e, the largest power of two ≤ 2^A_FL the input format holds, so its cells hold
    // b·2^(A_FL + W_FL − e) in the weight format and land in the accumulator's fraction length
    const top = format.signed ? 2 ** (format.bits - 1) - 1 : 2 ** format.bits - 1;
    data.bias_input = 2 ** Math.max(0, Math.min(format.fl, Math.floor(Math.log2(top))));
  }
  data.ranges = ranges;
  data.fl_limited_by = format.limitedBy;
  return data;
}

/** The default candidate list: every W_FL from W_WL − 4 to W_WL + 3 (Diware et al. sweep (8,6)…(8,12) for W_WL = 8). */
function getDefaultFractionList(layers: readonly LayerPlan[]): number[] {
  const wls = layers.map((l) => l.origin.format.wl);
  const out: number[] = [];
  for (let fl = Math.min(...wls) - 4; fl <= Math.max(...wls) + 3; fl++) out.push(fl);
  return out;
}

/** Formats a fraction 0..1 as percent with two decimals, for remarks. */
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export const placeTruncation: Pass<PlaceTruncationOptions> = {
  name: "place-truncation",
  summary: "choose activation formats, the weight fraction length (Algorithm 1 of Diware et al.) and each layer's output truncation window",
  description: `For every conv/linear layer quantized to fixed point (W_WL, W_FL), decides the arithmetic the crossbar
does (Diware, Yaldagard, Bishnoi, ICCAD 2024, §3.2-3.4) and records it in #trunc:
- Input format (A_WL = act_bits, A_FL, signed). With calibration data, the float model (quantized weights, float
  activations) runs on it and each layer's input and output range is measured: the act_percentile-th percentile
  of |x| (default 99.9: the top 0.1% saturate at the input and wrap at the output; 100 = max-abs, which at 8 bits
  cost cnn-3conv-2fc 1.7 points more than 99.9 on MNIST). Without it, the model input's range (input_range, else the module attribute input_range=[lo,hi], else
  [0,1]: pixels scaled to [0,1]) is propagated op by op: conv/linear per output channel with weights w and bias b
  (range_rule=k-sigma: inputs independent and uniform on [lo,hi], output mean ± range_sigmas·σ within the worst case;
  worst-case: Σ_{w>0} w·hi + Σ_{w<0} w·lo + b), relu clamps at 0, sigmoid/tanh map the ends, pooling and reshapes keep
  the range; an op no rule covers leaves [-8,8] and a warning. The input is signed when its range goes below 0.
  A_FL is the largest fraction length at which the range fits A_WL bits; with fit_output (default) also the largest
  at which the layer's output fits O_RWL signed bits, because the window below keeps fraction length A_FL.
- Window per row tile of R rows (#tiles.rows_used, or the tile rule on the device's rows): O_WL = A_WL + W_WL +
  ceil(log2 R) (eq. 1); keep O_RWL = keep_bits (0: A_WL) bits; drop D_L = W_FL low bits and D_H = O_WL - O_RWL - D_L
  high bits (eq. 4: W_WL + log2 R - W_FL). Kept value = floor(acc / 2^D_L) wrapped to O_RWL bits (two's complement);
  when W_FL would put the window outside the accumulator, D_L is clamped into it.
- Guard bits without calibration data: the propagated ranges are estimates, not bounds (k-sigma assumes independent
  inputs, and neighbouring pixels and feature maps are correlated, so a deep conv's output can exceed it; worst-case
  bounds are orders of magnitude too wide after a few layers). An output outside the kept window WRAPS (a large
  error), while a value outside the next layer's input format SATURATES (a small one). keep_bits = A_WL + g keeps g
  guard bits above the A_WL-bit range: an output up to 2^g times its estimated range is then kept exactly and
  saturates at the next layer's input. Measured on MNIST t10k[8000:10000], isaac, 8-bit weights and inputs, no
  calibration: cnn-3conv-2fc 58.65% with the paper's window (keep_bits=0: its third conv wraps), 98.75% with
  keep_bits=10 (float 98.95%); lenet5 98.90% / 99.10% (float 99.15%). Guard bits do not help an underestimate
  beyond 2^g (the CNTK Zoo MNIST model stays near 84-85% either way: calibrate it). The default stays the paper's O_RWL = A_WL;
  without calibration data keep_bits = A_WL + 2 is the recommended setting.
- ADC: adc_needed = ceil(log2(R·(2^dac_bits-1)·(2^cell_bits-1) + 1)) bits per column; lossless when adc_bits covers it.
- W_FL: rule=default (no calibration): the fixed-point quantizer's W_FL for the layer's range (the largest that
  does not saturate the largest weight). rule=algorithm-1 (auto with calibration): Diware et al.'s Algorithm 1 with
  ONE W_FL for the whole network, as the paper sweeps it: for each W_FL in w_fl_list (default W_WL-4 … W_WL+3) every
  layer is re-quantized at that W_FL (the fixed-point quantizer, from the values quantize chose), D_H follows eq. 4,
  the fixed-point reference gives fxp_acc on the calibration set and, when fxp_acc > acc_threshold (default: float
  accuracy - acc_margin), mc_runs Monte Carlo instances of the device's variation on every bit-sliced cell give hw_acc.
  The best hw_acc wins (ties: higher fxp_acc, then the larger W_FL); every candidate is recorded. The
  evaluations come from @xbarc/backend-sim through registerTruncationEvaluator.
A layer whose W_FL changes is re-quantized everywhere (#quant codebook and codes, #cells, the weight) and re-sliced
(#slice); #slice also gets the final input format. Layers not quantized to fixed point get no #trunc.

Example (device isaac, no calibration data):
  before:
    %y = linear %x, @f5.weight, @f5.bias : f32[1,120]
        #quant{scheme="fixed-point", codes=256, ...}
        #tiles{xbar=[128,128], grid=[4,4], rows_used=[128,128,128,16], ...}
  after:
    %y = linear %x, @f5.weight, @f5.bias : f32[1,120]
        #quant{scheme="fixed-point", codes=256, ...}
        #tiles{xbar=[128,128], grid=[4,4], rows_used=[128,128,128,16], ...}
        #trunc{adc_bits=8, adc_needed=9, lossless=false, rows=[128,128,128,16], o_wl=[23,23,23,20], o_rwl=8, d_h=[7,7,7,4],
            d_l=8, keep=[8,16], w_wl=8, w_fl=8, a_wl=8, a_fl=2, a_signed=false, out_fl=2, bias="digital",
            ranges="input-range", fl_limited_by="output", rule="default"}`,
  options: {
    type: "object",
    additionalProperties: false,
    required: [],
    properties: {
      rule: { type: "string", enum: ["auto", "algorithm-1", "default"], default: "auto" },
      act_bits: { type: "integer", minimum: 2, maximum: 16, default: 8 },
      keep_bits: { type: "integer", minimum: 0, maximum: 32, default: 0 },
      act_percentile: { type: "number", exclusiveMinimum: 50, maximum: 100, default: 99.9 },
      input_range: { type: "array", items: { type: "number" }, maxItems: 2, default: [] },
      range_rule: { type: "string", enum: ["k-sigma", "worst-case"], default: "k-sigma" },
      range_sigmas: { type: "number", exclusiveMinimum: 0, default: 4 },
      fit_output: { type: "boolean", default: true },
      w_fl_list: { type: "array", items: { type: "integer", minimum: -16, maximum: 32 }, default: [] },
      acc_threshold: { type: "number", minimum: -1, maximum: 1, default: -1 },
      acc_margin: { type: "number", minimum: 0, maximum: 1, default: 0.05 },
      mc_runs: { type: "integer", minimum: 1, maximum: 1000, default: 3 },
    },
  } as Pass<PlaceTruncationOptions>["options"],
  requires: ["quant"],
  provides: ["trunc"],
  run(module: Module, options: PlaceTruncationOptions, ctx: PassContext): PassResult {
    const device = ctx.device;
    if (!device) throw new XbarcError("XB5003", "place-truncation needs a device profile", { hint: "pass --device <name|file> (see `xbarc devices`)" });
    if (options.input_range.length === 1 || (options.input_range.length === 2 && !(options.input_range[0]! < options.input_range[1]!))) {
      throw new XbarcError("XB5002", `place-truncation: input_range=[${options.input_range.join(",")}] must be [lo, hi] with lo < hi`, { hint: "e.g. input_range=[0,1] for pixels scaled by 1/255" });
    }
    const calibration = ctx.calibration;
    const rule = options.rule === "auto" ? (calibration ? "algorithm-1" : "default") : options.rule;
    if (rule === "algorithm-1" && !calibration) {
      throw new XbarcError("XB5003", "place-truncation{rule=\"algorithm-1\"} needs calibration images", { hint: "pass --calib-images and --calib-labels, or use rule=default" });
    }

    // the layers this pass places: fixed-point ones; analog layers (one weight per cell pair) keep float arithmetic
    const ops: Op[] = [];
    const origins: FixedPointOrigin[] = [];
    for (const op of getWeightOps(module)) {
      const origin = op.getAnnotation("quant") ? getFixedPointOrigin(module, op) : undefined;
      if (!origin) {
        ctx.diag.remark(`layer ${op.results[0]!.name} is not quantized to fixed point: no truncation window (analog layers are simulated in float)`, { location: getOpLocation(op) });
        continue;
      }
      ops.push(op);
      origins.push(origin);
    }
    if (ops.length === 0) return { changed: false };

    const inputRange = options.input_range.length === 2 ? (options.input_range as unknown as Range) : undefined;
    const formats = getActivationFormats(module, ops, {
      bits: options.act_bits,
      keepBits: options.keep_bits || options.act_bits,
      percentile: options.act_percentile,
      inputRange,
      rangeRule: options.range_rule as "k-sigma" | "worst-case",
      sigmas: options.range_sigmas,
      fitOutput: options.fit_output,
    }, calibration, ctx.diag);
    if (!calibration && !inputRange && module.attrs.input_range === undefined) {
      ctx.diag.remark(`no calibration data and no input_range: model inputs are taken to lie in [${DEFAULT_INPUT_RANGE.join(", ")}] (pixels scaled to [0, 1])`);
    }
    const layers: LayerPlan[] = ops.map((op, i) => {
      const { rowsUsed, biasRow } = getLayerRows(op, device);
      return { op, origin: origins[i]!, format: formats.get(op)!, rowsUsed, bias: biasRow ? "row" : hasBias(op) ? "digital" : "none" };
    });
    const ranges = calibration ? calibration.name : "input-range";

    let chosen = new Map<Op, number>(layers.map((l) => [l.op, l.origin.format.fl]));
    let record: Attrs | undefined;
    if (rule === "algorithm-1") {
      const result = runAlgorithm1(module, layers, options, ctx, device, ranges);
      chosen = new Map(layers.map((l) => [l.op, result.fl]));
      record = result.record;
    }

    for (const layer of layers) {
      const fl = chosen.get(layer.op)!;
      if (fl !== layer.origin.format.fl) {
        applyFractionLength(module, layer.origin, fl, device);
        ctx.stats.add("requantized-layers");
      }
      const data = getTruncData(layer, fl, options.keep_bits, device, ranges);
      data.rule = rule;
      if (record) {
        data.w_fl_quantize = layer.origin.format.fl;
        Object.assign(data, record, { candidates: perLayerCandidates(record.candidates as Record<string, Attrs>, layer, options.keep_bits) });
      }
      layer.op.setAnnotation("trunc", data);
      // bit-slice ran with a provisional input format (and the old W_FL): re-slice with the final ones
      if (layer.op.getAnnotation("slice")) sliceLayer(module, layer.op, device, { bits: layer.format.bits, fl: layer.format.fl, signed: layer.format.signed });
      ctx.stats.add("truncated-layers");
      if (data.lossless) ctx.stats.add("lossless-layers");
      ctx.diag.remark(`layer ${layer.op.results[0]!.name}: A=(${layer.format.bits},${layer.format.fl}${layer.format.signed ? ",signed" : ""}) W=(${layer.origin.format.wl},${fl}) ` +
        `keep=[${(data.keep as number[]).join(",")}) of O_WL=${(data.o_wl as number[]).join("/")}, D_H=${(data.d_h as number[]).join("/")}, ADC ${device.crossbar.adc_bits} bits (${data.lossless ? "lossless" : `needs ${String(data.adc_needed)}`})`,
      { location: getOpLocation(layer.op) });
    }
    return { changed: true };
  },
};

/** Every candidate's scores with this layer's D_H at that W_FL. */
function perLayerCandidates(candidates: Record<string, Attrs>, layer: LayerPlan, keepBits: number): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const [key, scores] of Object.entries(candidates)) {
    const window = getTruncationWindow({ aBits: layer.format.bits, wBits: layer.origin.format.wl, wFl: Number(key), rowsUsed: layer.rowsUsed, keepBits: keepBits || layer.format.bits });
    out[key] = { ...scores, d_h: window.dH };
  }
  return out;
}

/**
 * Algorithm 1 of Diware et al., ICCAD 2024: for each W_FL, re-quantize every layer (line 4), set D_H by eq. 4 (line 3),
 * measure fixed-point accuracy (line 6) and, above the threshold (line 7), hardware accuracy (line 8); return the W_FL
 * with the best hardware accuracy (line 10) and the record of every candidate. Leaves #quant as it found it.
 */
function runAlgorithm1(module: Module, layers: readonly LayerPlan[], options: PlaceTruncationOptions, ctx: PassContext, device: DeviceProfile, ranges: string): { fl: number; record: Attrs } {
  const evaluator = getTruncationEvaluator();
  if (!evaluator) {
    throw new XbarcError("XB5003", "place-truncation: Algorithm 1 needs an accuracy evaluator, and none is registered", {
      hint: "call registerTruncationEvaluator(createTruncationEvaluator()) (@xbarc/passes, @xbarc/backend-sim) before running the pipeline, or use rule=default",
    });
  }
  const calibration = ctx.calibration!;
  const list = options.w_fl_list.length ? options.w_fl_list : getDefaultFractionList(layers);
  const floatAcc = evaluator.floatAccuracy(module, calibration);
  const threshold = options.acc_threshold >= 0 ? options.acc_threshold : floatAcc - options.acc_margin;
  const states = getStateSpace(device);
  // the candidates overwrite #quant's codebook and codes; the originals go back afterwards
  const saved = layers.map((l) => {
    const quant = l.op.getAnnotation("quant")!.data;
    const codebook = getConstantData(module, l.op, quant.codebook, "#quant codebook");
    const codes = getConstantData(module, l.op, quant.codes_of, "#quant codes");
    return { codebook, codes, codebookData: codebook.data, codesData: codes.data, trunc: l.op.getAnnotation("trunc") };
  });
  const candidates: Candidate[] = [];
  try {
    for (const fl of list) {
      for (const layer of layers) {
        setCandidateFractionLength(module, layer.origin, fitAtFractionLength(layer.origin, fl, states));
        layer.op.setAnnotation("trunc", { ...getTruncData(layer, fl, options.keep_bits, device, ranges), rule: "algorithm-1" });
      }
      const fxp = evaluator.fixedPointAccuracy(module, calibration);
      const hw = fxp > threshold ? evaluator.hardwareAccuracy(module, calibration, device, { runs: options.mc_runs, seed: ctx.seed }) : undefined;
      candidates.push({ fl, fxp, hw });
      ctx.stats.add("candidates");
      ctx.diag.remark(`Algorithm 1: W_FL=${fl}: fixed-point ${pct(fxp)}, hardware ${hw === undefined ? `not measured (below ${pct(threshold)})` : pct(hw)}`);
    }
  } finally {
    saved.forEach((s, i) => {
      s.codebook.data = s.codebookData;
      s.codes.data = s.codesData;
      const op = layers[i]!.op;
      if (s.trunc) op.setAnnotation("trunc", s.trunc.data);
      else op.annotations = op.annotations.filter((a) => a.kind !== "trunc");
    });
  }
  const measured = candidates.filter((c) => c.hw !== undefined);
  let best: Candidate;
  if (measured.length) {
    // ties: the higher fixed-point accuracy, then the larger W_FL (it suppresses variation errors more, §3.3)
    best = measured.reduce((a, c) => (c.hw! > a.hw! || (c.hw === a.hw && (c.fxp > a.fxp || (c.fxp === a.fxp && c.fl > a.fl))) ? c : a));
  } else {
    best = candidates.reduce((a, c) => (c.fxp > a.fxp ? c : a));
    ctx.diag.warn(`Algorithm 1: no W_FL reached the fixed-point accuracy threshold ${pct(threshold)}; keeping W_FL=${best.fl}, the best fixed-point accuracy (${pct(best.fxp)})`, {
      hint: "lower acc_threshold, raise act_bits, or widen w_fl_list",
    });
  }
  ctx.diag.remark(`Algorithm 1: W_FL=${best.fl} for every layer (float accuracy ${pct(floatAcc)}, threshold ${pct(threshold)}, ${options.mc_runs} Monte Carlo run(s) on ${device.name})`);
  const table: Record<string, AttrValue> = {};
  for (const c of candidates) table[String(c.fl)] = { fxp_acc: c.fxp, hw_acc: c.hw ?? "below threshold" };
  return { fl: best.fl, record: { float_acc: floatAcc, acc_threshold: threshold, mc_runs: options.mc_runs, candidates: table } };
}

export { getActivationFormats, chooseActivationFraction, getInputRange, DEFAULT_INPUT_RANGE, type ActivationFormat, type ActivationFormatOptions, type Range as ValueRange } from "./formats.js";
export { getTruncationWindow, getRowTilesUsed, getLosslessAdcBits, ceilLog2, type TruncationWindow, type WindowInputs } from "./window.js";
export { registerTruncationEvaluator, getTruncationEvaluator, type TruncationEvaluator } from "./evaluator.js";
export { getQuantizedValues, withQuantizedWeights, applyFractionLength, getFixedPointOrigin, fitAtFractionLength, type FixedPointOrigin } from "./requantize.js";
export { TRUNC_ANNOTATION_SCHEMA } from "./annotation.js";

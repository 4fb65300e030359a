/**
 * @fileoverview Activation formats (A_WL, A_FL, signed) of each weight layer's input (Diware et al., ICCAD 2024, §3.3:
 * inputs in fixed point before they reach the crossbar). From calibration data: the measured range (max-abs or a
 * percentile of |x|) of each layer's input and output. Without it: ranges propagated from the model input's
 * preprocessing range through the graph. Either way A_FL is the largest fraction length at which the range fits.
 */
import { interpretModule, readNumbers, type Module, type Op, type Tensor, type Value } from "@xbarc/ir";
import type { CalibrationSet, DiagnosticSink } from "../pass.js";
import { getOpLocation } from "../tile/layer.js";
import { getQuantizedValues, withQuantizedWeights } from "./requantize.js";

/** A closed interval [lo, hi]; ±Infinity when nothing bounds it. */
export type Range = readonly [number, number];

/** The input format of one weight layer. */
export interface ActivationFormat {
  /** A_WL, bits */
  readonly bits: number;
  /** A_FL, bits: x_int = clamp(round_half_even(x·2^A_FL)) */
  readonly fl: number;
  /** two's complement when the input range goes below 0, else unsigned */
  readonly signed: boolean;
  /** the input range the format was chosen for */
  readonly inRange: Range;
  /** the layer's output range (before any activation), which the kept window must hold */
  readonly outRange: Range;
  /** which range set A_FL: the layer's input, or its output in O_RWL bits */
  readonly limitedBy: "input" | "output";
  /** where the ranges come from */
  readonly source: "calibration" | "input-range";
}

/** How formats are chosen. */
export interface ActivationFormatOptions {
  /** A_WL for every layer, bits */
  readonly bits: number;
  /** O_RWL: bits the truncation window keeps of each layer's output (default: A_WL) */
  readonly keepBits: number;
  /** calibration: range = this percentile of |x| (100 = max-abs) */
  readonly percentile: number;
  /** range of every model input without calibration; default: module attribute input_range, else [0, 1] */
  readonly inputRange?: Range;
  /** without calibration: "k-sigma" (independent uniform inputs, mean ± k·σ, within the worst case) or "worst-case" */
  readonly rangeRule: "k-sigma" | "worst-case";
  /** k of the k-sigma rule */
  readonly sigmas: number;
  /** A_FL also makes the layer's output fit O_RWL signed bits (the window keeps FL = A_FL: D_L = W_FL) */
  readonly fitOutput: boolean;
}

/** The range assumed for image inputs when neither the pass options nor the module say: pixels scaled to [0, 1]. */
export const DEFAULT_INPUT_RANGE: Range = [0, 1];

/** Fraction-length search bounds: far outside anything a real activation needs. */
const MIN_FL = -64;
const MAX_FL = 64;

/** Round half to even (the activation quantizer's rounding). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The largest fraction length at which `maxAbs` quantizes without saturating in `bits` bits: round_half_even(maxAbs·
 * 2^FL) ≤ 2^bits − 1 (unsigned) or 2^(bits−1) − 1 (signed). A zero or non-finite range gets FL = bits (unsigned) or
 * bits − 1 (signed): the range [0, 1).
 */
export function chooseActivationFraction(maxAbs: number, bits: number, signed: boolean): number {
  const top = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs) || top < 1) return signed ? bits - 1 : bits;
  const fits = (fl: number): boolean => roundHalfEven(maxAbs * 2 ** fl) <= top;
  let fl = Math.floor(Math.log2(top / maxAbs));
  fl = Math.min(MAX_FL, Math.max(MIN_FL, fl));
  while (fl > MIN_FL && !fits(fl)) fl--;
  while (fl < MAX_FL && fits(fl + 1)) fl++;
  return fl;
}

/** The format for a layer whose input and output span these ranges. */
function formatFor(inRange: Range, outRange: Range, options: ActivationFormatOptions, source: ActivationFormat["source"]): ActivationFormat {
  const signed = inRange[0] < 0;
  const inFl = chooseActivationFraction(Math.max(Math.abs(inRange[0]), Math.abs(inRange[1])), options.bits, signed);
  // the kept window of Diware et al. (D_L = W_FL) leaves the output at fraction length A_FL in O_RWL signed bits
  const outFl = options.fitOutput ? chooseActivationFraction(Math.max(Math.abs(outRange[0]), Math.abs(outRange[1])), options.keepBits, true) : Infinity;
  return { bits: options.bits, fl: Math.min(inFl, outFl), signed, inRange, outRange, limitedBy: outFl < inFl ? "output" : "input", source };
}

// ---------------------------------------------------------------------------------------------------------------
// Ranges from calibration data

/** Running min/max and a log2 histogram of |x| (64 bins per octave), so a percentile needs one pass and little memory. */
class RangeStats {
  static readonly BINS_PER_OCTAVE = 64;
  static readonly OCTAVES = 160;
  min = Infinity;
  max = -Infinity;
  zeros = 0;
  count = 0;
  readonly histogram: Float64Array | undefined;

  constructor(withHistogram: boolean) {
    this.histogram = withHistogram ? new Float64Array(RangeStats.BINS_PER_OCTAVE * RangeStats.OCTAVES) : undefined;
  }

  add(x: ArrayLike<number>, n: number): void {
    const h = this.histogram;
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      if (!h) continue;
      const a = Math.abs(v);
      if (a === 0) this.zeros++;
      else {
        const bin = Math.floor((Math.log2(a) + RangeStats.OCTAVES / 2) * RangeStats.BINS_PER_OCTAVE);
        h[Math.min(h.length - 1, Math.max(0, bin))]!++;
      }
    }
    this.count += n;
  }

  /** [min, max] limited to ±(the p-th percentile of |x|): the upper edge of the histogram bin holding it. */
  range(percentile: number): Range {
    if (this.count === 0) return [0, 0];
    if (!this.histogram || percentile >= 100) return [this.min, this.max];
    const wanted = (percentile / 100) * this.count;
    let seen = this.zeros;
    let edge = 0;
    for (let b = 0; b < this.histogram.length && seen < wanted; b++) {
      seen += this.histogram[b]!;
      edge = 2 ** ((b + 1) / RangeStats.BINS_PER_OCTAVE - RangeStats.OCTAVES / 2);
    }
    return [Math.max(this.min, -edge), Math.min(this.max, edge)];
  }
}

/**
 * Each layer's input and output ranges over the calibration batches, from the float model with the quantized weights
 * (codebook values) and float activations; padded images of the last batch are left out.
 */
function measureRanges(module: Module, ops: readonly Op[], calibration: CalibrationSet, percentile: number): Map<Value, Range> {
  const stats = new Map<Value, RangeStats>();
  for (const op of ops) {
    for (const v of [op.operands[0]!, op.results[0]!]) if (!stats.has(v)) stats.set(v, new RangeStats(percentile < 100));
  }
  const batchOf = (t: Tensor): number => (t.type.shape.length >= 2 ? t.type.shape[0]! : 1);
  withQuantizedWeights(module, ops, () => {
    calibration.batches.forEach((batch, b) => {
      const count = calibration.counts[b]!;
      const keep = (v: Value, t: Tensor): void => {
        const s = stats.get(v);
        if (!s) return;
        const xs = t.type.dtype === "f32" || t.type.dtype === "f64" ? (t.data as Float32Array) : readNumbers(t);
        const images = batchOf(t);
        s.add(xs, images > count ? Math.round((xs.length * count) / images) : xs.length);
      };
      for (const input of module.inputs) {
        const t = batch.get(input.name);
        if (t) keep(input, t);
      }
      interpretModule(module, batch, { observe: (op, results) => op.results.forEach((r, i) => keep(r, results[i]!)) });
    });
  });
  return new Map([...stats].map(([v, s]) => [v, s.range(percentile)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Ranges without calibration data

const UNBOUNDED: Range = [-Infinity, Infinity];
/** Ops that only select, average, copy or move their first operand's elements: the range is unchanged. */
const RANGE_KEEPING = new Set(["maxpool", "avgpool", "globalavgpool", "flatten", "reshape", "transpose", "squeeze", "unsqueeze", "identity", "dropout", "slice", "gather"]);

function constantRange(v: Value): Range | undefined {
  if (v.kind !== "const" || !v.data) return undefined;
  const xs = readNumbers({ type: v.type, data: v.data });
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return xs.length ? [lo, hi] : [0, 0];
}

/** min and max of the four products of two intervals (0·∞ taken as 0). */
function multiplyRanges(a: Range, b: Range): Range {
  const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]].map((x) => (Number.isNaN(x) ? 0 : x));
  return [Math.min(...p), Math.max(...p)];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The output range of a conv/linear layer whose inputs all lie in `x` (0 joins the range when the conv pads). Per
 * output channel with weights w and bias b: worst case [Σ_{w>0} w·lo + Σ_{w<0} w·hi + b, Σ_{w>0} w·hi + Σ_{w<0} w·lo + b];
 * k-sigma: inputs independent and uniform on [lo, hi] (mean μ, σ = (hi − lo)/√12), so the output has mean μ·Σw + b and
 * σ·√Σw², and the range mean ± k·σ, kept within the worst case.
 */
function weightLayerRange(module: Module, op: Op, x: Range, options: ActivationFormatOptions): Range {
  const pads = op.opcode === "conv" && Array.isArray(op.attrs.pads) && (op.attrs.pads as number[]).some((p) => p !== 0);
  const lo = pads ? Math.min(x[0], 0) : x[0];
  const hi = pads ? Math.max(x[1], 0) : x[1];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return UNBOUNDED;
  const w = getQuantizedValues(module, op);
  const channels = op.operands[1]!.type.shape[0]!;
  const k = channels ? w.length / channels : 0;
  const b = op.operands[2];
  const bias = b?.data ? readNumbers({ type: b.type, data: b.data }) : undefined;
  const mean = (lo + hi) / 2;
  const sigma = (hi - lo) / Math.sqrt(12);
  let outLo = Infinity;
  let outHi = -Infinity;
  for (let c = 0; c < channels; c++) {
    let pos = 0;
    let neg = 0;
    let sq = 0;
    for (let r = 0; r < k; r++) {
      const v = w[c * k + r]!;
      if (v > 0) pos += v;
      else neg += v;
      sq += v * v;
    }
    const shift = bias ? bias[c]! : 0;
    let cLo = pos * lo + neg * hi + shift;
    let cHi = pos * hi + neg * lo + shift;
    if (options.rangeRule === "k-sigma") {
      const m = mean * (pos + neg) + shift;
      const s = options.sigmas * sigma * Math.sqrt(sq);
      cLo = Math.max(cLo, m - s);
      cHi = Math.min(cHi, m + s);
    }
    outLo = Math.min(outLo, cLo);
    outHi = Math.max(outHi, cHi);
  }
  return channels ? [outLo, outHi] : [0, 0];
}

/** The range of every value, propagated op by op from the model inputs' range; UNBOUNDED where no rule applies. */
function propagateRanges(module: Module, inputRange: Range, options: ActivationFormatOptions): Map<Value, Range> {
  const ranges = new Map<Value, Range>();
  for (const v of module.inputs) ranges.set(v, inputRange);
  const rangeOf = (v: Value | null | undefined): Range => (v ? ranges.get(v) ?? constantRange(v) ?? UNBOUNDED : UNBOUNDED);
  for (const op of module.ops) {
    const x = rangeOf(op.operands[0]);
    let out: Range;
    switch (op.opcode) {
      case "conv":
      case "linear":
        out = op.operands[1]?.kind === "const" ? weightLayerRange(module, op, x, options) : UNBOUNDED;
        break;
      case "relu": out = [Math.max(x[0], 0), Math.max(x[1], 0)]; break;
      case "leakyrelu": {
        // monotonic for alpha > 0: the ends map to the ends
        const alpha = typeof op.attrs.alpha === "number" ? op.attrs.alpha : 0.01;
        out = [x[0] < 0 ? alpha * x[0] : x[0], x[1] < 0 ? alpha * x[1] : x[1]];
        break;
      }
      case "sigmoid": out = [sigmoid(x[0]), sigmoid(x[1])]; break;
      case "tanh": out = [Math.tanh(x[0]), Math.tanh(x[1])]; break;
      case "softmax": out = [0, 1]; break;
      case "clip": {
        const lo = op.operands[1] ? rangeOf(op.operands[1])[0] : -Infinity;
        const hi = op.operands[2] ? rangeOf(op.operands[2])[1] : Infinity;
        out = [Math.min(Math.max(x[0], lo), hi), Math.max(Math.min(x[1], hi), lo)];
        break;
      }
      case "add": { const y = rangeOf(op.operands[1]); out = [x[0] + y[0], x[1] + y[1]]; break; }
      case "sub": { const y = rangeOf(op.operands[1]); out = [x[0] - y[1], x[1] - y[0]]; break; }
      case "mul": out = multiplyRanges(x, rangeOf(op.operands[1])); break;
      case "div": {
        const y = rangeOf(op.operands[1]);
        out = y[0] > 0 || y[1] < 0 ? multiplyRanges(x, [1 / y[1], 1 / y[0]]) : UNBOUNDED;
        break;
      }
      case "pad": out = [Math.min(x[0], 0), Math.max(x[1], 0)]; break;
      case "concat": {
        const rs = op.operands.map(rangeOf);
        out = [Math.min(...rs.map((r) => r[0])), Math.max(...rs.map((r) => r[1]))];
        break;
      }
      default: out = RANGE_KEEPING.has(op.opcode) ? x : UNBOUNDED;
    }
    for (const r of op.results) ranges.set(r, out);
  }
  return ranges;
}

/** The input range without calibration: the option, else the module's `input_range=[lo, hi]` attribute, else [0, 1]. */
export function getInputRange(module: Module, option?: Range): Range {
  if (option) return option;
  const attr = module.attrs.input_range;
  if (Array.isArray(attr) && attr.length === 2 && attr.every((v) => typeof v === "number")) return [attr[0] as number, attr[1] as number];
  return DEFAULT_INPUT_RANGE;
}

/** Fallback when no rule bounds a layer's input: the range of bit-slice's provisional format (8 bits, FL 4). */
const FALLBACK_RANGE: Range = [-8, 8];

/**
 * The input format of each weight layer in `ops`. With calibration data: ranges measured on it (percentile of |x|).
 * Without: ranges propagated from the input range by `rangeRule`; a layer whose input no rule bounds gets
 * [−8, 8] and a warning on `diag`.
 */
export function getActivationFormats(module: Module, ops: readonly Op[], options: ActivationFormatOptions, calibration?: CalibrationSet, diag?: DiagnosticSink): Map<Op, ActivationFormat> {
  const source: ActivationFormat["source"] = calibration ? "calibration" : "input-range";
  const ranges = calibration ? measureRanges(module, ops, calibration, options.percentile) : propagateRanges(module, getInputRange(module, options.inputRange), options);
  const out = new Map<Op, ActivationFormat>();
  for (const op of ops) {
    let inRange = ranges.get(op.operands[0]!) ?? UNBOUNDED;
    let outRange = ranges.get(op.results[0]!) ?? UNBOUNDED;
    const bounded = (r: Range): boolean => Number.isFinite(r[0]) && Number.isFinite(r[1]);
    if (!bounded(inRange) || !bounded(outRange)) {
      diag?.warn(`layer ${op.results[0]!.name}: no rule bounds its ${bounded(inRange) ? "output" : "input"} range without calibration data; assuming [${FALLBACK_RANGE.join(", ")}]`, {
        location: getOpLocation(op),
        hint: "pass calibration images (--calib-images, --calib-labels) so ranges are measured",
      });
      if (!bounded(inRange)) inRange = FALLBACK_RANGE;
      if (!bounded(outRange)) outRange = FALLBACK_RANGE;
    }
    out.set(op, formatFor(inRange, outRange, options, source));
  }
  return out;
}

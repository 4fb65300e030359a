/**
 * @fileoverview The fixed-point reference (xbarc crossbar spec, "Fixed-point reference"): the integer evaluation of a
 * quantized, annotated module with no crossbars — per fixed-point layer x_int, w_int, exact per-row-tile accumulation,
 * the truncation window of Diware et al. (ICCAD 2024, §3.4), the row-tile sum, bias, then post-ops and requantization
 * to the next layer's input format. The simulator on an ideal lossless device must equal it bit for bit.
 */
import {
  convImpl, formatType, isFloatDType, linearImpl, numel, readNumbers, runOp, XbarcError,
  type Module, type Op, type Tensor, type TensorType, type Value,
} from "@xbarc/ir";
import {
  addInPlaceImpl, addPerChannelImpl, EXACT_INTEGER_LIMIT, getAccumulatorBound, getIntegerRange, quantizeActivationsImpl,
  quantizeBiasImpl, roundAccumulatorsImpl, truncateWindowImpl,
} from "./kernels.js";
import { getConvParams, getFixedPointLayers, type FixedPointLayer } from "./layer.js";

/** Which bits of each row tile's accumulator a layer keeps. */
export type WindowMode = "trunc" | "full";

/** Options of runFixedPoint. */
export interface RunFixedPointOptions {
  /** "trunc" (default) applies each layer's #trunc window; "full" keeps every accumulator bit (D_L = D_H = 0) */
  readonly window?: WindowMode;
  /** record each fixed-point layer's integers in `ints` (tests and the simulator's bit-exact comparison) */
  readonly recordInts?: boolean;
  /**
   * Per layer, weights to use in place of w_int (same layout), e.g. one Monte Carlo instance of the integer each
   * cell group really holds under device variation. Accumulators are then rounded to integers (as the ADC reads
   * them), and a signed input's offset correction uses the nominal w_int, as the hardware's compile-time constant does.
   */
  readonly effectiveWeights?: ReadonlyMap<Op, Float64Array>;
  /** the layers, when the caller already read them (getFixedPointLayers) for many runs */
  readonly layers?: ReadonlyMap<Op, FixedPointLayer>;
}

/** The integers of one fixed-point layer for one run (batch order, then channel, then position). */
export interface FixedPointLayerInts {
  /** x_int: the layer's input in (A_WL, A_FL) */
  readonly x: Float64Array;
  /** each row tile's accumulator before truncation, [N, C_out, positions] for conv, [rows, N] for linear */
  readonly tiles: Float64Array[];
  /** each row tile's kept value after the truncation window */
  readonly kept: Float64Array[];
  /** the row-tile sum plus bias, fraction length `fl` */
  readonly out: Float64Array;
  /** fraction length of `out` */
  readonly fl: number;
}

/** What runFixedPoint returns. */
export interface FixedPointResult {
  /** the module's outputs as float64 tensors (integers times 2^−FL where they come from a fixed-point layer) */
  readonly outputs: Map<string, Tensor>;
  /** per fixed-point layer (by result name), with recordInts */
  readonly ints?: Map<string, FixedPointLayerInts>;
}

const f64Type = (t: TensorType): TensorType => ({ dtype: "f64", shape: [...t.shape] });

/** A float tensor as float64 (exact for f16/f32); other dtypes unchanged. */
function toFloat64(t: Tensor): Tensor {
  if (!isFloatDType(t.type.dtype) || t.type.dtype === "f64") return t;
  return { type: f64Type(t.type), data: readNumbers(t) };
}

/** Rows [r0, r1) of each row of a row-major [rows, k] matrix, as a contiguous [rows, r1 − r0] copy. */
function sliceColumns(a: Float64Array, rows: number, k: number, r0: number, r1: number): Float64Array {
  const w = r1 - r0;
  const out = new Float64Array(rows * w);
  for (let r = 0; r < rows; r++) out.set(a.subarray(r * k + r0, r * k + r1), r * w);
  return out;
}

/**
 * Σ_{r in [r0, r1)} x[r]·w[r, c] for every output of a layer: one row tile's accumulators, [N, C_out, P] for conv
 * (rows in im2col order c, kh, kw within each group) and [rows, C_out] for linear. Exact on integers below 2^53.
 */
export function accumulateRowTile(op: Op, x: Float64Array, xShape: readonly number[], w: Float64Array, wShape: readonly number[], r0: number, r1: number): Float64Array {
  if (op.opcode === "linear") {
    const k = xShape[xShape.length - 1]!;
    const rows = k === 0 ? 0 : x.length / k;
    const n = wShape[0]!;
    return linearImpl(sliceColumns(x, rows, k, r0, r1), [rows, r1 - r0], sliceColumns(w, n, k, r0, r1), [n, r1 - r0], null).data as Float64Array;
  }
  const [batch, channels] = xShape as [number, number];
  const spatial = xShape.slice(2);
  const kernel = wShape.slice(2);
  const params = getConvParams(op, spatial.length);
  const group = params.group;
  const outChannels = wShape[0]!;
  const cg = channels / group;
  const mg = outChannels / group;
  const taps = numel(kernel);
  const rowLength = cg * taps;
  // the tile's rows touch input channels [c0, c1) of each group; weights of taps outside the tile are zeroed
  const c0 = Math.floor(r0 / taps);
  const c1 = Math.ceil(r1 / taps);
  const cw = c1 - c0;
  const plane = numel(spatial);
  let out: Float64Array | undefined;
  let positions = 0;
  for (let g = 0; g < group; g++) {
    const xs = new Float64Array(batch * cw * plane);
    for (let b = 0; b < batch; b++) {
      const from = (b * channels + g * cg + c0) * plane;
      xs.set(x.subarray(from, from + cw * plane), b * cw * plane);
    }
    const ws = new Float64Array(mg * cw * taps);
    for (let m = 0; m < mg; m++) {
      const src = (g * mg + m) * rowLength;
      for (let r = Math.max(r0, c0 * taps); r < Math.min(r1, c1 * taps); r++) ws[m * cw * taps + (r - c0 * taps)] = w[src + r]!;
    }
    const y = convImpl(xs, [batch, cw, ...spatial], ws, [mg, cw, ...kernel], null, { ...params, group: 1 });
    const yData = y.data as Float64Array;
    if (group === 1) return yData;
    positions = numel(y.shape.slice(2));
    out ??= new Float64Array(batch * outChannels * positions);
    for (let b = 0; b < batch; b++) {
      out.set(yData.subarray(b * mg * positions, (b + 1) * mg * positions), (b * outChannels + g * mg) * positions);
    }
  }
  return out ?? new Float64Array(0);
}

/** [channels, positions per channel] of a layer's output: conv [C_out, Π spatial], linear [N, 1]. */
function channelLayout(op: Op, result: TensorType): [number, number] {
  if (op.opcode === "linear") return [result.shape[result.shape.length - 1]!, 1];
  return [result.shape[1]!, numel(result.shape.slice(2))];
}

/** Σ_{r in tile} (w_eff − w_int)[r, c] per output channel: the error the nominal signed-input correction leaves. */
function columnDrift(layer: FixedPointLayer, eff: Float64Array, r0: number, r1: number, inTile?: Uint8Array): Float64Array {
  const out = new Float64Array(layer.outChannels);
  const k = layer.rowLength;
  for (let c = 0; c < layer.outChannels; c++) {
    let s = 0;
    for (let r = r0; r < r1; r++) if (!inTile || inTile[r]) s += eff[c * k + r]! - layer.wInt[c * k + r]!;
    out[c] = s;
  }
  return out;
}

/**
 * A compacted layer's row tile: its original rows' span [r0, r1), a membership mask, and `w` with every other row of
 * the span zeroed — and, for weights that are not the nominal ones, the columns without cells (col_map −1) too.
 */
function maskRowTile(layer: FixedPointLayer, w: Float64Array, set: Int32Array, nominal: boolean): { r0: number; r1: number; inTile: Uint8Array; w: Float64Array } {
  const k = layer.rowLength;
  const inTile = new Uint8Array(k);
  for (const r of set) inTile[r] = 1;
  const r0 = set[0]!;
  const r1 = set[set.length - 1]! + 1;
  const masked = new Float64Array(w.length);
  const perGroup = layer.outChannels / layer.groups;
  for (let c = 0; c < layer.outChannels; c++) {
    if (!nominal && layer.colMap && layer.colMap[c % perGroup]! < 0) continue;
    for (let r = r0; r < r1; r++) if (inTile[r]) masked[c * k + r] = w[c * k + r]!;
  }
  return { r0, r1, inTile, w: masked };
}

/** The bias row's cell integers: clamp(round_half_even(b · 2^(A_FL + W_FL − e)), W_WL range), input 2^e. */
function biasRowWeights(layer: FixedPointLayer, bias: Float64Array): Float64Array {
  const e = Math.log2(layer.biasInput);
  const [lo, hi] = getIntegerRange(layer.wBits, true);
  const scaled = quantizeBiasImpl(bias, layer.aFl + layer.wFl - e);
  for (let i = 0; i < scaled.length; i++) scaled[i] = Math.min(hi, Math.max(lo, scaled[i]!));
  return scaled;
}

/** Runs one fixed-point layer on a float64 input; returns its output as float64 reals (integers · 2^−FL). */
function runLayer(layer: FixedPointLayer, input: Tensor, bias: Float64Array | undefined, resultType: TensorType, options: RunFixedPointOptions, ints?: Map<string, FixedPointLayerInts>): Tensor {
  const { op } = layer;
  const full = options.window === "full";
  const xInt = quantizeActivationsImpl(input.data as Float64Array, layer.aFl, layer.aBits, layer.aSigned);
  const eff = options.effectiveWeights?.get(op);
  const w = eff ?? layer.wInt;
  const wShape = op.operands[1]!.type.shape;
  const [channels, positions] = channelLayout(op, resultType);
  const xMax = Math.max(...getIntegerRange(layer.aBits, layer.aSigned).map(Math.abs));
  const tiles: Float64Array[] = [];
  const kept: Float64Array[] = [];
  // the kept value's fraction length; the full window keeps every bit, so nothing is shifted out
  const outFl = full ? layer.aFl + layer.wFl : layer.outFl;
  let sum: Float64Array | undefined;
  let next = 0;
  layer.weightRows.forEach((rows, t) => {
    // a compacted layer's row tile sums its own set of original rows (its physical rows' members): the rest zeroed
    const tile = layer.rowSets ? maskRowTile(layer, w, layer.rowSets[t]!, !eff) : undefined;
    const r0 = tile ? tile.r0 : next;
    const r1 = tile ? tile.r1 : next + rows;
    const wTile = tile ? tile.w : w;
    // exact in float64 only below 2^53: checked on the worst case, not per element
    const bound = getAccumulatorBound(wTile, layer.outChannels, layer.rowLength, r0, r1, xMax) + (layer.bias === "row" && t === 0 ? layer.biasInput * 2 ** (layer.wBits - 1) : 0);
    if (!(bound < EXACT_INTEGER_LIMIT)) {
      throw new XbarcError("XB6002", `layer %${layer.name}: a row-tile accumulator may reach ${bound}, beyond 2^53 where float64 integers stop being exact`, {
        location: { kind: "ir", loc: op.loc, value: layer.name, op: op.opcode },
        hint: "use fewer input or weight bits, or smaller crossbars",
      });
    }
    const acc = accumulateRowTile(op, xInt, input.type.shape, wTile, wShape, r0, r1);
    if (layer.bias === "row" && t === 0 && bias) {
      // the bias row's input is 2^e for every output position
      const cells = biasRowWeights(layer, bias);
      for (let c = 0; c < cells.length; c++) cells[c]! *= layer.biasInput;
      addPerChannelImpl(acc, cells, channels, positions);
    }
    if (eff) {
      // the crossbar sees offset-encoded inputs x + 2^(A_WL−1) on every row; the correction subtracts 2^(A_WL−1)·Σ w_int
      if (layer.aSigned) {
        const drift = columnDrift(layer, tile ? tile.w : eff, r0, r1, tile?.inTile);
        for (let c = 0; c < drift.length; c++) drift[c]! *= 2 ** (layer.aBits - 1);
        addPerChannelImpl(acc, drift, channels, positions);
      }
      roundAccumulatorsImpl(acc);
    }
    if (ints) tiles.push(acc.slice());
    if (!full) truncateWindowImpl(acc, layer.dL, layer.oRwl);
    if (ints) kept.push(acc.slice());
    sum = sum ? addInPlaceImpl(sum, acc) : acc;
    next += rows;
  });
  const y = sum ?? new Float64Array(numel(resultType.shape));
  if (layer.bias === "digital" && bias) addPerChannelImpl(y, quantizeBiasImpl(bias, outFl), channels, positions);
  if (ints) ints.set(layer.name, { x: xInt, tiles, kept, out: y.slice(), fl: outFl });
  const scale = 2 ** -outFl;
  const real = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) real[i] = y[i]! * scale;
  return { type: f64Type(resultType), data: real };
}

/**
 * Runs `module` on named inputs with the integer arithmetic of the crossbar spec. Fixed-point layers with `#trunc`
 * run in integers; every other op runs in float64 on the real values (relu, maxpool, reshape and flatten are exact on
 * them, so integers stay integers); analog layers run in float. Throws XB4002 for a missing or mistyped input and
 * XB6002 when an annotation disagrees with the module.
 */
export function runFixedPoint(module: Module, inputs: ReadonlyMap<string, Tensor>, options: RunFixedPointOptions = {}): FixedPointResult {
  const layers = options.layers ?? getFixedPointLayers(module);
  const ints = options.recordInts ? new Map<string, FixedPointLayerInts>() : undefined;
  const env = new Map<Value, Tensor>();
  for (const v of module.inputs) {
    const t = inputs.get(v.name);
    if (!t) throw new XbarcError("XB4002", `input %${v.name} is missing (expected ${formatType(v.type)})`, { hint: `give every module input: ${module.inputs.map((i) => `%${i.name}`).join(", ")}` });
    if (t.type.shape.length !== v.type.shape.length || t.type.shape.some((d, i) => d !== v.type.shape[i])) {
      throw new XbarcError("XB4002", `input %${v.name}: expected ${formatType(v.type)}, found ${formatType(t.type)}`, { hint: "fit the images to the model input first (fitImages)" });
    }
    env.set(v, toFloat64(t));
  }
  const read = (v: Value): Tensor => {
    const t = env.get(v);
    if (t) return t;
    if (v.kind === "const" && v.data) {
      const c = toFloat64({ type: v.type, data: v.data });
      env.set(v, c);
      return c;
    }
    throw new XbarcError("XB6001", `value %${v.name} has no data`, { hint: "pass the weights side file with --weights" });
  };
  for (const op of module.ops) {
    const layer = layers.get(op);
    if (layer) {
      const bias = op.operands[2] ? (read(op.operands[2]).data as Float64Array) : undefined;
      env.set(op.results[0]!, runLayer(layer, read(op.operands[0]!), bias, op.results[0]!.type, options, ints));
      continue;
    }
    const results = runOp(op, op.operands.map((v) => (v ? read(v) : null)));
    op.results.forEach((r, i) => env.set(r, results[i]!));
  }
  const outputs = new Map<string, Tensor>();
  for (const v of module.outputs) outputs.set(v.name, read(v));
  return ints ? { outputs, ints } : { outputs };
}

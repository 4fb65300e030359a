/**
 * @fileoverview Reading a layer's quantized weight values and re-quantizing a fixed-point layer at another fraction
 * length (Diware et al., ICCAD 2024, Algorithm 1, line 4: W_q = fxp_quant(W, W_WL, FL)) with the fixed-point
 * quantizer, keeping #quant, #cells and the weight constant consistent.
 */
import { XbarcError, type DeviceProfile, type Module, type Op, type TypedArray, type Value } from "@xbarc/ir";
import { createFixedPoint } from "../quantize/fixed-point.js";
import type { QuantResult } from "../quantize/quantizer.js";
import { getStateSpace, type StateSpace } from "../quantize/states.js";
import { getConstantData, getFixedPointFormat, getOpLocation, type FixedPointFormat } from "../tile/layer.js";

/**
 * The weight values quantize chose for a layer, codebook[code] (not the weight constant: after assign-levels it holds
 * what analog cells realise), or the weight constant itself for a layer without #quant.
 */
export function getQuantizedValues(module: Module, op: Op): Float32Array {
  const quant = op.getAnnotation("quant")?.data;
  const weight = op.operands[1]!;
  if (!quant) {
    if (!weight.data) throw new XbarcError("XB5003", `layer ${op.results[0]!.name}: weight @${weight.name} has no data`, { location: getOpLocation(op), hint: "pass the weights side file with --weights" });
    return Float32Array.from(weight.data as ArrayLike<number>);
  }
  const codebook = getConstantData(module, op, quant.codebook, "#quant codebook").data;
  const codes = getConstantData(module, op, quant.codes_of, "#quant codes").data;
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = Number(codebook[Number(codes[i])]);
  return out;
}

/**
 * Runs `fn` with every #quant layer's weight constant holding its quantized values (codebook[code]), then puts the
 * constants back: float activations of the quantized model, whatever assign-levels wrote into the weights.
 */
export function withQuantizedWeights<T>(module: Module, ops: readonly Op[], fn: () => T): T {
  const saved = new Map<Value, TypedArray | undefined>();
  for (const op of ops) {
    const weight = op.operands[1]!;
    if (saved.has(weight) || !op.getAnnotation("quant")) continue;
    saved.set(weight, weight.data);
    weight.data = getQuantizedValues(module, op);
  }
  try {
    return fn();
  } finally {
    for (const [weight, data] of saved) weight.data = data;
  }
}

/** A fixed-point layer's state before Algorithm 1 touched it: its #quant values and format, to re-quantize from. */
export interface FixedPointOrigin {
  readonly op: Op;
  /** the #quant values w_q (k·2^−FL0) */
  readonly values: Float32Array;
  /** (W_WL, FL0) as quantize chose it */
  readonly format: FixedPointFormat;
}

/** Captures a fixed-point layer's quantized values and format; undefined when it is not a fixed-point layer. */
export function getFixedPointOrigin(module: Module, op: Op): FixedPointOrigin | undefined {
  const format = getFixedPointFormat(module, op);
  return format ? { op, values: getQuantizedValues(module, op), format } : undefined;
}

/**
 * Quantizes the layer's original #quant values at fraction length `fl` with the fixed-point quantizer
 * (createFixedPoint({fl}): round half away from zero, saturate at the word length).
 */
export function fitAtFractionLength(origin: FixedPointOrigin, fl: number, states: StateSpace): QuantResult {
  return createFixedPoint({ fl }).fit(origin.values, { states, bits: origin.format.wl, random: () => 0 });
}

function writeInto(module: Module, op: Op, name: unknown, what: string, values: ArrayLike<number>): void {
  const c = getConstantData(module, op, name, what);
  const data = c.data as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
  if (data.length !== values.length) throw new XbarcError("XB5003", `layer ${op.results[0]!.name}: ${what} @${c.name} has ${data.length} entries, expected ${values.length}`, { location: getOpLocation(op), hint: "re-run quantize" });
  // a fresh array of the same dtype, so arrays shared with earlier snapshots are never mutated
  const fresh = new (data.constructor as { new (n: number): typeof data })(values.length);
  for (let i = 0; i < values.length; i++) fresh[i] = values[i]!;
  c.data = fresh;
}

/**
 * Writes only what the fixed-point reference reads (#quant codebook and codes) for the layer quantized at `fl`:
 * the cheap update Algorithm 1 does per candidate.
 */
export function setCandidateFractionLength(module: Module, origin: FixedPointOrigin, q: QuantResult): void {
  const quant = origin.op.getAnnotation("quant")!.data;
  writeInto(module, origin.op, quant.codebook, "#quant codebook", q.codebook);
  writeInto(module, origin.op, quant.codes_of, "#quant codes", q.codes);
}

/**
 * Makes `fl` the layer's fraction length everywhere: #quant codebook, codes, scale and offset; each code's cell
 * states (code_levels); #cells' per-weight levels, scale, offset and map_err when assign-levels ran; and the weight
 * constant (what the cells realise when #cells is present, else the quantized values), as quantize and assign-levels
 * would have written them. #quant's err, mse and candidates keep quantize's scores of the original choice.
 */
export function applyFractionLength(module: Module, origin: FixedPointOrigin, fl: number, device: DeviceProfile): void {
  const states = getStateSpace(device);
  const q = fitAtFractionLength(origin, fl, states);
  const { op } = origin;
  setCandidateFractionLength(module, origin, q);
  const quantAnnotation = op.getAnnotation("quant")!;
  op.setAnnotation("quant", { ...quantAnnotation.data, scale: q.scale, offset: q.offset });
  const quant = op.getAnnotation("quant")!.data;
  const K = q.codebook.length;
  const codeLevels = new Uint8Array(2 * K);
  for (let c = 0; c < K; c++) {
    codeLevels[2 * c] = states.plus[q.state[c]!]!;
    codeLevels[2 * c + 1] = states.minus[q.state[c]!]!;
  }
  writeInto(module, op, quant.code_levels, "#quant code_levels", codeLevels);
  const weight = op.operands[1]!;
  const cells = op.getAnnotation("cells")?.data;
  const n = q.codes.length;
  const out = new Float32Array(n);
  if (!cells) {
    for (let i = 0; i < n; i++) out[i] = q.codebook[q.codes[i]!]!;
    weight.data = out;
    return;
  }
  // assign-levels' rule: per weight the code's levels, and the weight holds scale·(g[plus] − g[minus]) + offset
  const levels = states.levels;
  const plus = new Uint8Array(n);
  const minus = new Uint8Array(n);
  let mapErr = 0;
  for (let i = 0; i < n; i++) {
    const c = q.codes[i]!;
    plus[i] = codeLevels[2 * c]!;
    minus[i] = codeLevels[2 * c + 1]!;
    out[i] = q.scale * (levels[plus[i]!]! - levels[minus[i]!]!) + q.offset;
    mapErr += (out[i]! - Math.fround(q.codebook[c]!)) ** 2;
  }
  writeInto(module, op, cells.plus, "#cells plus", plus);
  writeInto(module, op, cells.minus, "#cells minus", minus);
  weight.data = out;
  op.setAnnotation("cells", { ...cells, scale: q.scale, offset: q.offset, map_err: n ? mapErr / n : 0 });
}

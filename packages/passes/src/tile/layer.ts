/**
 * @fileoverview A weight layer seen as crossbar matrices: its im2col shape (rows, columns, groups), its fixed-point
 * format (W_WL, W_FL) read back from the fixed-point codebook in #quant, and its integer weights (or, for a layer on
 * analog levels, integer keys of its codes and cell states). Shared by tile, bit-slice and the passes after them.
 */
import { getLevels, readNumbers, XbarcError, type DeviceProfile, type Location, type Module, type Op, type Value } from "@xbarc/ir";
import { compactMatrix, DEFAULT_MERGE_MODE, isIdentityCompaction, type MatrixCompaction, type MergeMode } from "./merge.js";

/** The fixed-point format of a layer's weights (Diware et al., ICCAD 2024, §2.2.1): w = w_int · 2^−W_FL. */
export interface FixedPointFormat {
  /** word length W_WL, bits (two's complement) */
  readonly wl: number;
  /** fraction length W_FL, bits (may be negative or exceed W_WL) */
  readonly fl: number;
}

/**
 * One layer as crossbar matrices, the input of `planTiles`. Each group is an independent `rows × cols` matrix;
 * matrix element (r, c) of group g is weight element `(g·cols + c)·rows + r` (the IR's out-channel-major layout:
 * linear w[N, K], conv w[C_out, C_in/group, k...] with im2col rows in (c, kh, kw) order).
 */
export interface LayerMatrix {
  /** a name for reports: the layer's result value */
  readonly name: string;
  /** rows of one group's matrix: linear K; conv C_in/group · Π kernel (physical rows when compacted) */
  readonly rows: number;
  /** columns of one group's matrix: linear N; conv C_out/group (physical columns when compacted) */
  readonly cols: number;
  /** independent matrices laid out one after the other (conv group; 1 for linear) */
  readonly groups: number;
  /** weight slices S: ceil(W_WL / cell_bits) for fixed-point layers, 1 for analog layers */
  readonly slices: number;
  /** two physical columns (G+, G−) per slice */
  readonly differential: boolean;
  /** every tile carries one extra logical column (S physical columns) holding the offset (Halawani et al.) */
  readonly offsetColumn: boolean;
  /** the bias sits on one extra row of the first row tile (Halawani et al.'s bias row) */
  readonly biasRow: boolean;
  /** where errors about this layer point */
  readonly location?: Location;
  /** zero rows/columns dropped and equal ones merged: rows and cols above are the physical matrix's (absent: identity) */
  readonly compaction?: MatrixCompaction;
}

/** Options of getLayerMatrix. */
export interface LayerMatrixOptions {
  /** how far to compact the matrix (default: the tile pass's default, DEFAULT_MERGE_MODE) */
  readonly merge?: MergeMode;
}

/** Where a pass error about this op points: its ONNX node and result. */
export function getOpLocation(op: Op): Location {
  return { kind: "ir", loc: op.loc, value: op.results[0]!.name, op: op.opcode };
}

/** The constant called `name`, with its data, or an XB5003 naming the layer and the annotation that refers to it. */
export function getConstantData(module: Module, op: Op, name: unknown, what: string): Value & { data: NonNullable<Value["data"]> } {
  const c = typeof name === "string" ? module.constants.find((v) => v.name === name) : undefined;
  if (!c || c.data === undefined) {
    throw new XbarcError("XB5003", `layer ${op.results[0]!.name}: ${what} constant @${String(name)} is missing or has no data`, {
      location: getOpLocation(op),
      hint: "run quantize in the same pipeline, or pass the weights side file with --weights",
    });
  }
  return c as Value & { data: NonNullable<Value["data"]> };
}

/**
 * The (W_WL, W_FL) of a layer quantized by the fixed-point quantizer, or undefined for any other quantizer.
 * The quantizer records no WL/FL fields; its codebook is every k·2^−FL for k ∈ [−2^(WL−1), 2^(WL−1)), so
 * WL = log2(codebook size) and FL = −log2(spacing), checked against every entry.
 */
export function getFixedPointFormat(module: Module, op: Op): FixedPointFormat | undefined {
  const quant = op.getAnnotation("quant")?.data;
  if (!quant || quant.scheme !== "fixed-point") return undefined;
  const codebook = getConstantData(module, op, quant.codebook, "#quant codebook").data;
  const count = codebook.length;
  const wl = Math.log2(count);
  const spacing = count > 1 ? Number(codebook[1]) - Number(codebook[0]) : NaN;
  const fl = -Math.log2(spacing);
  const bad = (why: string): never => {
    throw new XbarcError("XB5003", `layer ${op.results[0]!.name}: #quant says fixed-point but its codebook ${why}`, {
      location: getOpLocation(op),
      hint: "the fixed-point codebook must be every k·2^-FL, k in [-2^(WL-1), 2^(WL-1)); re-run quantize{quantizer=\"fixed-point\"}",
    });
  };
  if (!Number.isInteger(wl) || wl < 1) bad(`has ${count} entries, not a power of two`);
  if (!Number.isInteger(fl)) bad(`spacing ${spacing} is not a power of two`);
  const half = 2 ** (wl - 1);
  for (let c = 0; c < count; c++) {
    if (Number(codebook[c]) !== (c - half) * spacing) bad(`entry ${c} is ${Number(codebook[c])}, not ${(c - half) * spacing}`);
  }
  return { wl, fl };
}

/**
 * The integer weights w_int = code − 2^(W_WL−1) of a fixed-point layer, in the weight's own (out-channel-major)
 * order. Read from the codes, not the weight values: after assign-levels the weight holds what the cells realise.
 */
export function getIntegerWeights(module: Module, op: Op, format: FixedPointFormat): Int32Array {
  const quant = op.getAnnotation("quant")!.data;
  const codes = getConstantData(module, op, quant.codes_of, "#quant codes").data;
  const half = 2 ** (format.wl - 1);
  const out = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = Number(codes[i]) - half;
  return out;
}

/**
 * Integer keys of an analog-level layer's weights (quantized by kmeans, spectral, uniform, em-variation, mes-caq: one
 * weight per cell or cell pair), in the weight's own order, for compactMatrix to compare: two weights get the same key
 * exactly when they have the same code (#quant codes_of) and the same cell states (G+ and G− level indices: #cells
 * plus/minus when assign-levels ran, else the code's #quant code_levels), so equal keys program equal conductances.
 * Key 0 is a zero weight: codebook value exactly 0 and states that realise exactly 0 on the ideal device
 * (scale·(g[G+] − g[G−]) + offset = 0, as assign-levels computes it); on an offset-column device, whose offset is
 * usually the codebook minimum, a 0 code rarely realises exactly 0, and then nothing is a zero weight.
 * Keys k and −k: on a differential device with offset 0 only, two codes whose codebook values are exact negations
 * and whose states are each other's swapped (G+ ↔ G−), so the one realises exactly the negated conductance
 * difference of the other; the positive key goes to the positive value (or, for value 0, to G+ > G−). Every other
 * (code, states) pair gets a key of its own, so no other pair of vectors can be equal up to sign.
 */
export function getAnalogWeightKeys(module: Module, op: Op, device: DeviceProfile): Int32Array {
  const quant = op.getAnnotation("quant")!.data;
  const codebook = getConstantData(module, op, quant.codebook, "#quant codebook").data;
  const codes = getConstantData(module, op, quant.codes_of, "#quant codes").data;
  const cells = op.getAnnotation("cells")?.data;
  const plus = cells ? getConstantData(module, op, cells.plus, "#cells plus").data : undefined;
  const minus = cells ? getConstantData(module, op, cells.minus, "#cells minus").data : undefined;
  const codeLevels = plus ? undefined : getConstantData(module, op, quant.code_levels, "#quant code_levels").data;
  const levels = getLevels(device.cell);
  const L = Math.max(levels.length, 256);
  const scale = Number(quant.scale);
  const offset = Number(quant.offset);
  const n = codes.length;
  // the (code, G+, G−) triple of every weight, as one number
  const triple = new Float64Array(n);
  const distinct = new Map<number, { code: number; p: number; m: number }>();
  for (let i = 0; i < n; i++) {
    const code = Number(codes[i]);
    const p = plus ? Number(plus[i]) : Number(codeLevels![2 * code]);
    const m = minus ? Number(minus[i]) : Number(codeLevels![2 * code + 1]);
    const t = (code * L + p) * L + m;
    triple[i] = t;
    if (!distinct.has(t)) distinct.set(t, { code, p, m });
  }
  // the sign pairs need the codes' values by value: (value, G+, G−) → triple
  const byValue = new Map<string, number>();
  for (const [t, { code, p, m }] of distinct) byValue.set(`${Number(codebook[code])}:${p}:${m}`, t);
  const negatable = device.mapping.signed === "differential" && offset === 0;
  const keyOf = new Map<number, number>();
  let next = 1;
  for (const [t, { code, p, m }] of distinct) {
    if (keyOf.has(t)) continue;
    const value = Number(codebook[code]);
    const g = (k: number): number => levels[k] ?? NaN;
    if (value === 0 && scale * (g(p) - g(m)) + offset === 0) {
      keyOf.set(t, 0);
      continue;
    }
    const key = next++;
    const partner = negatable ? byValue.get(`${-value === 0 ? 0 : -value}:${m}:${p}`) : undefined;
    if (partner !== undefined && partner !== t) {
      const positive = value > 0 || (value === 0 && p > m);
      keyOf.set(t, positive ? key : -key);
      keyOf.set(partner, positive ? -key : key);
    } else {
      keyOf.set(t, key);
    }
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = keyOf.get(triple[i]!)!;
  return out;
}

/** True when the layer has a bias operand. */
export function hasBias(op: Op): boolean {
  return op.operands[2] !== undefined && op.operands[2] !== null;
}

/**
 * The layer as crossbar matrices on `device`: S from #quant (fixed-point: ceil(W_WL / cell_bits); any other
 * quantizer stores one weight per cell pair, S = 1), the signed mapping and the bias row from the profile.
 */
export function getLayerMatrix(module: Module, op: Op, device: DeviceProfile, options: LayerMatrixOptions = {}): LayerMatrix {
  const shape = op.operands[1]!.type.shape;
  const outChannels = shape[0]!;
  let fanIn = 1;
  for (let i = 1; i < shape.length; i++) fanIn *= shape[i]!;
  const group = op.opcode === "conv" ? Number(op.attrs.group ?? 1) : 1;
  if (!Number.isInteger(group) || group < 1 || outChannels % group !== 0) {
    throw new XbarcError("XB5003", `layer ${op.results[0]!.name}: group=${String(op.attrs.group)} does not divide ${outChannels} output channels`, {
      location: getOpLocation(op),
      hint: "a grouped conv needs C_out divisible by group",
    });
  }
  const format = getFixedPointFormat(module, op);
  // Diware et al., ICCAD 2024, §2.2.2: a W_WL-bit weight spans ceil(W_WL / cell_bits) cells on adjacent columns
  const slices = format ? Math.ceil(format.wl / device.cell.bits) : 1;
  const differential = device.mapping.signed === "differential";
  const biasRow = device.mapping.bias === "row" && hasBias(op);
  const merge = options.merge ?? DEFAULT_MERGE_MODE;
  // fixed-point layers compare their integer weights; analog-level layers their codes and cell states (as keys)
  let compaction: MatrixCompaction | undefined;
  if (merge !== "none" && op.getAnnotation("quant")) {
    const biasValue = hasBias(op) ? op.operands[2]! : undefined;
    const bias = biasValue?.data !== undefined ? readNumbers({ type: biasValue.type, data: biasValue.data }) : undefined;
    const weights = format ? getIntegerWeights(module, op, format) : getAnalogWeightKeys(module, op, device);
    const c = compactMatrix(weights, {
      // an analog layer's bias stays digital (emitProgram leaves its reserved row at level 0): it never pins a column
      rows: fanIn, cols: outChannels / group, groups: group, mode: merge, differential, biasRow: format ? biasRow : false, ...(bias ? { bias } : {}),
    });
    if (!isIdentityCompaction(c)) compaction = c;
  }
  return {
    name: op.results[0]!.name,
    rows: compaction ? compaction.rows : fanIn,
    cols: compaction ? compaction.cols : outChannels / group,
    groups: group,
    slices,
    differential,
    offsetColumn: device.mapping.signed === "offset-column",
    biasRow,
    location: getOpLocation(op),
    ...(compaction ? { compaction } : {}),
  };
}

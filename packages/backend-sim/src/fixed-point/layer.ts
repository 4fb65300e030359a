/**
 * @fileoverview A fixed-point weight layer as the reference and the simulator execute it, read from the annotated IR
 * only: integer weights from `#quant` (fixed-point codebook and codes), formats, row tiles and the truncation window
 * from `#trunc`. No pass code is imported: the annotations are the contract.
 */
import { getPhysicalGroups, intsAttr, intAttr, XbarcError, type Location, type Module, type Op, type Value } from "@xbarc/ir";

/** How a layer's bias enters: added digitally after the row-tile sum, or on an extra crossbar row of the first row tile. */
export type BiasMode = "digital" | "row" | "none";

/** Everything the integer evaluation of one conv/linear layer needs. */
export interface FixedPointLayer {
  /** the conv or linear op */
  readonly op: Op;
  /** its result's name, for reports and `ints` */
  readonly name: string;
  /** W_WL: weight word length, bits */
  readonly wBits: number;
  /** W_FL: weight fraction length, bits (w = w_int · 2^−W_FL) */
  readonly wFl: number;
  /** A_WL: input word length, bits */
  readonly aBits: number;
  /** A_FL: input fraction length, bits */
  readonly aFl: number;
  /** input is signed two's complement (else unsigned) */
  readonly aSigned: boolean;
  /** D_L: low bits dropped by the truncation window */
  readonly dL: number;
  /** O_RWL: bits kept by the truncation window */
  readonly oRwl: number;
  /** fraction length of the kept value: A_FL + W_FL − D_L */
  readonly outFl: number;
  /** crossbar rows used by each row tile (the bias row, in the first, counts) */
  readonly rowsUsed: readonly number[];
  /** weight-matrix rows of each row tile (the bias row excluded; physical rows of a compacted layer) */
  readonly weightRows: readonly number[];
  /**
   * compacted layers (#tiles row_map): the original matrix rows each row tile sums, ascending — all members of its
   * physical rows; dropped (all-zero) rows are in none. Absent: row tile t holds the next weightRows[t] rows.
   */
  readonly rowSets?: readonly Int32Array[];
  /** compacted layers (#tiles col_map): per matrix column its physical column, −1 when dropped (no cells) */
  readonly colMap?: readonly number[];
  /** digital, row, or none (no bias operand) */
  readonly bias: BiasMode;
  /** bias "row": the integer input applied to the bias row (2^e; the cell holds b·2^(A_FL+W_FL−e)) */
  readonly biasInput: number;
  /** integer weights in the weight's own layout (out-channel-major: [C_out, rowLength]) */
  readonly wInt: Float64Array;
  /** rows of one group's matrix: linear K, conv C_in/group · Π kernel */
  readonly rowLength: number;
  /** output channels */
  readonly outChannels: number;
  /** conv groups (1 for linear) */
  readonly groups: number;
}

/** The #trunc fields the reference reads (the annotation's schema is owned by the place-truncation pass). */
interface TruncFields {
  a_wl: number;
  a_fl: number;
  a_signed: boolean;
  w_wl: number;
  w_fl: number;
  rows: number[];
  d_l: number;
  o_rwl: number;
  out_fl: number;
  bias: string;
  bias_input?: number;
}

function layerLocation(op: Op): Location {
  return { kind: "ir", loc: op.loc, value: op.results[0]?.name, op: op.opcode };
}

function planError(op: Op, message: string, hint: string): XbarcError {
  return new XbarcError("XB6002", `layer %${op.results[0]?.name ?? "?"}: ${message}`, { location: layerLocation(op), hint });
}

function constantData(module: Module, op: Op, name: unknown, what: string): NonNullable<Value["data"]> {
  const c = typeof name === "string" ? module.constants.find((v) => v.name === name) : undefined;
  if (!c?.data) throw planError(op, `${what} constant @${String(name)} is missing or has no data`, "run quantize in the same pipeline, or pass the weights side file with --weights");
  return c.data;
}

/**
 * (W_WL, W_FL) and the integer weights of a layer quantized by the fixed-point quantizer, or undefined for any other
 * layer. The codebook is every k·2^−FL, k ∈ [−2^(WL−1), 2^(WL−1)), so WL = log2(size), FL = −log2(spacing), and
 * w_int = code − 2^(WL−1). Read from the codes, never the weight values (after assign-levels those hold what cells realise).
 */
export function getFixedPointWeights(module: Module, op: Op): { wBits: number; wFl: number; wInt: Float64Array } | undefined {
  const quant = op.getAnnotation("quant")?.data;
  if (!quant || quant.scheme !== "fixed-point") return undefined;
  const codebook = constantData(module, op, quant.codebook, "#quant codebook");
  const codes = constantData(module, op, quant.codes_of, "#quant codes");
  const size = codebook.length;
  const wBits = Math.log2(size);
  const spacing = size > 1 ? Number(codebook[1]) - Number(codebook[0]) : NaN;
  const wFl = -Math.log2(spacing);
  const half = 2 ** (wBits - 1);
  let ok = Number.isInteger(wBits) && wBits >= 1 && Number.isInteger(wFl);
  for (let c = 0; ok && c < size; c++) ok = Number(codebook[c]) === (c - half) * spacing;
  if (!ok) {
    throw planError(op, `#quant says fixed-point but its codebook (${size} entries, spacing ${spacing}) is not every k·2^-FL`, "re-run quantize{quantizer=\"fixed-point\"}");
  }
  const wInt = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) wInt[i] = Number(codes[i]) - half;
  return { wBits, wFl, wInt };
}

/**
 * The layer as the reference executes it, or undefined when it is not a fixed-point layer with `#trunc`. Throws
 * XB6002 when `#trunc` disagrees with `#quant` (a W_FL that the codes were not quantized with) or with the weight shape.
 */
export function getFixedPointLayer(module: Module, op: Op): FixedPointLayer | undefined {
  if (op.opcode !== "conv" && op.opcode !== "linear") return undefined;
  const trunc = op.getAnnotation("trunc")?.data as unknown as TruncFields | undefined;
  if (!trunc) return undefined;
  const weights = getFixedPointWeights(module, op);
  if (!weights) throw planError(op, "has #trunc but is not quantized by the fixed-point quantizer", "run quantize{quantizer=\"fixed-point\"} before place-truncation");
  if (weights.wBits !== trunc.w_wl || weights.wFl !== trunc.w_fl) {
    throw planError(op, `#trunc says (W_WL, W_FL) = (${trunc.w_wl}, ${trunc.w_fl}) but the #quant codebook is (${weights.wBits}, ${weights.wFl})`,
      "place-truncation re-quantizes a layer whose W_FL it changes; re-run it rather than editing #trunc by hand");
  }
  const shape = op.operands[1]!.type.shape;
  const outChannels = shape[0]!;
  const rowLength = outChannels > 0 ? weights.wInt.length / outChannels : 0;
  const groups = op.opcode === "conv" ? intAttr("conv", op.attrs, "group", 1) : 1;
  const bias: BiasMode = trunc.bias === "row" ? "row" : trunc.bias === "digital" ? "digital" : "none";
  const hasBias = op.operands[2] !== undefined && op.operands[2] !== null;
  if ((bias === "none") === hasBias) throw planError(op, `#trunc bias="${trunc.bias}" but the layer ${hasBias ? "has" : "has no"} bias operand`, "re-run place-truncation");
  const rowsUsed = [...trunc.rows];
  const weightRows = rowsUsed.map((r, t) => r - (t === 0 && bias === "row" ? 1 : 0));
  const covered = weightRows.reduce((a, b) => a + b, 0);
  // a compacted layer's row tiles hold physical rows: the reference sums each tile's member rows (#tiles row_map)
  const tiles = op.getAnnotation("tiles")?.data as { row_map?: number[]; col_map?: number[] } | undefined;
  const physical = tiles?.row_map ? covered : rowLength;
  if (covered !== physical || weightRows.some((r) => r < 1)) {
    throw planError(op, `#trunc rows=[${rowsUsed.join(",")}] cover ${covered} matrix rows, but the layer has ${rowLength}`, "re-run tile and place-truncation");
  }
  let rowSets: Int32Array[] | undefined;
  if (tiles?.row_map) {
    const groups = tiles.row_map.length === rowLength ? getPhysicalGroups(tiles.row_map, covered) : undefined;
    if (!groups) throw planError(op, `#tiles row_map does not map the ${rowLength} matrix rows onto the ${covered} physical rows #trunc rows=[${rowsUsed.join(",")}] cover`, "re-run tile and place-truncation");
    rowSets = [];
    let p0 = 0;
    for (const rows of weightRows) {
      const set = groups.members.slice(groups.starts[p0]!, groups.starts[p0 + rows]!).sort();
      rowSets.push(set);
      p0 += rows;
    }
  }
  return {
    op,
    name: op.results[0]!.name,
    wBits: weights.wBits,
    wFl: weights.wFl,
    aBits: trunc.a_wl,
    aFl: trunc.a_fl,
    aSigned: trunc.a_signed,
    dL: trunc.d_l,
    oRwl: trunc.o_rwl,
    outFl: trunc.out_fl,
    rowsUsed,
    weightRows,
    bias,
    biasInput: trunc.bias_input ?? 1,
    wInt: weights.wInt,
    rowLength,
    outChannels,
    groups,
    ...(rowSets ? { rowSets } : {}),
    ...(tiles?.col_map ? { colMap: [...tiles.col_map] } : {}),
  };
}

/** Every fixed-point layer with `#trunc`, by op. */
export function getFixedPointLayers(module: Module): Map<Op, FixedPointLayer> {
  const out = new Map<Op, FixedPointLayer>();
  for (const op of module.ops) {
    const layer = getFixedPointLayer(module, op);
    if (layer) out.set(op, layer);
  }
  return out;
}

/** Conv window attributes as the ir kernels take them (defaults: unit strides and dilations, no padding). */
export function getConvParams(op: Op, spatialRank: number): { strides: number[]; pads: number[]; dilations: number[]; group: number } {
  return {
    strides: intsAttr("conv", op.attrs, "strides", new Array<number>(spatialRank).fill(1)),
    pads: intsAttr("conv", op.attrs, "pads", new Array<number>(2 * spatialRank).fill(0)),
    dilations: intsAttr("conv", op.attrs, "dilations", new Array<number>(spatialRank).fill(1)),
    group: intAttr("conv", op.attrs, "group", 1),
  };
}

/**
 * @fileoverview Emission: the annotated IR (#tiles, #slice, #trunc, #cells) becomes a self-contained crossbar program —
 * buffers, layers with their fixed-point formats and bias, every tile's cell states, and the schedule (program tiles;
 * per layer quantize, mvm, adc, shift-add, truncate per tile, accumulate, bias, move; digital post-ops).
 */
import {
  bytesOf, formatType, getLevels, isFloatDType, numel, XbarcError,
  type DeviceProfile, type Module, type Op, type Value,
} from "@xbarc/ir";
import { ceilLog2, getIntegerRange, quantizeBiasImpl, roundHalfEven } from "../fixed-point/kernels.js";
import { sealProgram } from "./canonical.js";
import { checkProgramSemantics } from "./check.js";
import { getTilePlacements, type LayerPlacement, type TilePlacement } from "./layout.js";
import {
  PROGRAM_FORMAT, PROGRAM_VERSION,
  type ProgramBias, type PostOpKind, type Program, type ProgramBuffer, type ProgramLayer, type ProgramPreprocessing,
  type ProgramTile, type ScheduleOp, type ProgramTruncFormat, type WeightScheme,
} from "./types.js";

/** Options of emitProgram. */
export interface EmitProgramOptions {
  /** the device the pipeline ran with (recorded whole in the program) */
  readonly device: DeviceProfile;
  /** the canonical pipeline string that produced the module */
  readonly pipeline: string;
  /** the run's seed (default 0) */
  readonly seed?: number;
  /** x' = (x·scale − mean)/std applied to raw image values; defaults scale 1/255, mean 0, std 1 */
  readonly preprocessing?: Partial<ProgramPreprocessing>;
  /** the model's name (default: the module's) */
  readonly modelName?: string;
  /** the model file compiled (default: the module's `source` attribute, else the model name) */
  readonly source?: string;
}

/** Post-ops by category; anything else is "digital". */
const POST_OP_KINDS: Readonly<Record<string, PostOpKind>> = {
  relu: "activation", sigmoid: "activation", tanh: "activation", softmax: "activation", logsoftmax: "activation",
  clip: "activation", leakyrelu: "activation", elu: "activation", selu: "activation", hardsigmoid: "activation",
  hardswish: "activation", gelu: "activation", softplus: "activation", prelu: "activation",
  maxpool: "pool", avgpool: "pool", globalavgpool: "pool", globalmaxpool: "pool", lppool: "pool",
  flatten: "reshape", reshape: "reshape", transpose: "reshape", squeeze: "reshape", unsqueeze: "reshape", identity: "reshape",
};

/** The #slice fields read here (the bit-slice pass's annotation). */
interface SliceFields {
  w_bits?: number;
  w_fl?: number;
  cell_bits: number;
  slices: number;
  scheme: WeightScheme;
  in_bits: number;
  in_fl: number;
  in_signed: boolean;
  dac_bits: number;
  steps: number;
  slices_of?: string;
  offset?: number;
  slices_pos?: string;
  slices_neg?: string;
}

/** The #trunc fields read here (place-truncation's annotation). */
interface TruncFields {
  adc_bits: number;
  rows?: number[];
  o_wl: number[] | number;
  o_rwl: number;
  d_h: number[] | number;
  d_l: number;
  keep: number[];
  w_wl?: number;
  w_fl: number;
  a_wl?: number;
  a_fl?: number;
  a_signed?: boolean;
  out_fl?: number;
  bias?: "digital" | "row" | "none";
  bias_input?: number;
  rule: string;
}

/** The #cells fields read here (assign-levels' annotation). */
interface CellsFields {
  map: "differential" | "offset-column";
  plus: string;
  minus: string;
  scale: number;
  offset: number;
}

function locate(op: Op) {
  return { kind: "ir" as const, loc: op.loc, value: op.results[0]!.name, op: op.opcode };
}

function emitError(op: Op, message: string, hint: string): XbarcError {
  return new XbarcError("XB6007", `layer %${op.results[0]!.name}: ${message}`, { location: locate(op), hint });
}

/** A conv or linear whose weight is a constant: what tile and bit-slice map onto crossbars. */
function isWeightLayer(op: Op): boolean {
  return (op.opcode === "conv" || op.opcode === "linear") && op.operands[1]?.kind === "const";
}

/** The u8 data of the constant `name` with the expected shape, or XB6007 naming the layer and the annotation field. */
function u8Constant(module: Module, op: Op, name: unknown, shape: readonly number[], what: string): Uint8Array {
  const c = typeof name === "string" ? module.constants.find((v) => v.name === name) : undefined;
  if (!c || c.data === undefined) {
    throw emitError(op, `${what} constant @${String(name)} is missing or has no data`, "compile from the .onnx model, or pass the weights side file of the .xir");
  }
  if (c.type.dtype !== "u8" || c.type.shape.length !== shape.length || c.type.shape.some((d, i) => d !== shape[i])) {
    throw emitError(op, `${what} constant @${c.name} has type ${c.type.dtype}[${c.type.shape.join(",")}], expected u8[${shape.join(",")}]`, "re-run the pipeline; annotations and constants are out of step");
  }
  return c.data as Uint8Array;
}

/** Every element of a numeric attribute tree is finite (JSON holds nothing else). */
function checkFinite(op: Op, value: unknown, path: string): void {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new XbarcError("XB6007", `op %${op.results[0]?.name ?? op.opcode} (${op.opcode}): attribute ${path} is ${value}, which a program (JSON) cannot hold`, {
      location: locate(op), hint: "replace the infinite or NaN attribute in the model",
    });
  }
  if (Array.isArray(value)) value.forEach((v, i) => checkFinite(op, v, `${path}[${i}]`));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) checkFinite(op, v, `${path}.${k}`);
}

function plainAttrs(op: Op): Record<string, unknown> {
  for (const [k, v] of Object.entries(op.attrs)) checkFinite(op, v, k);
  return JSON.parse(JSON.stringify(op.attrs)) as Record<string, unknown>;
}

/**
 * e for a bias row driven with 2^e: #trunc's bias_input when place-truncation chose it; otherwise the smallest
 * e in [0, A_WL − 1] for which every b·2^(fl − e) fits the weight word (the row's cells hold W_WL-bit integers).
 */
function biasRowExponent(bias: Float64Array, fl: number, wBits: number, aBits: number, given: number | undefined): number {
  if (given !== undefined) return Math.log2(given);
  const [lo, hi] = getIntegerRange(wBits, true);
  for (let e = 0; e < aBits; e++) {
    let fits = true;
    for (const b of bias) {
      const q = roundHalfEven(b * 2 ** (fl - e));
      if (q < lo || q > hi) {
        fits = false;
        break;
      }
    }
    if (fits) return e;
  }
  return aBits - 1;
}

/** Everything about one layer that tiles and the schedule need. */
interface LayerPlan {
  readonly placement: LayerPlacement;
  readonly record: ProgramLayer;
  readonly slice: SliceFields;
  /** bit-sliced: the slice constants (offset-unsigned: pos only) */
  readonly pos?: Uint8Array;
  readonly neg?: Uint8Array;
  /** analog: level indices per weight */
  readonly plus?: Uint8Array;
  readonly minus?: Uint8Array;
  /** the bias row's integers (bit-sliced, bias "row") */
  readonly biasRowValues?: number[];
  readonly xBuffer: string;
  readonly accBuffer: string;
}

/** Slice s of an unsigned integer (cell_bits per slice, s = 0 least significant). */
function sliceOf(u: number, s: number, cellBits: number): number {
  return Math.floor(u / 2 ** (s * cellBits)) % 2 ** cellBits;
}

/** The level index of every used cell of one tile, row-major [physRows, physCols]. */
function tileCells(plan: LayerPlan, t: TilePlacement): Uint8Array {
  const { record, slice } = plan;
  const { rows: mRows, cols: mCols } = record.matrix;
  const n = numel(record.weight_shape);
  const C = t.physCols;
  const P = t.physColsPerWeightCol;
  const S = slice.slices;
  const cb = slice.cell_bits;
  const cells = new Uint8Array(t.physRows * C);
  const analog = slice.scheme === "analog-levels";
  const differential = slice.scheme === "differential-magnitude";
  const half = slice.offset ?? 0;
  // a compacted layer's physical row or column holds its first member's weights (every member's are equal; a
  // sign-merged member is the negation of the first, which always has sign +1)
  const rowGroups = plan.placement.rowGroups;
  const colGroups = plan.placement.colGroups;
  const origRow = (p: number): number => (rowGroups ? rowGroups.members[rowGroups.starts[p]!]! : p);
  const origCol = (q: number): number => (colGroups ? colGroups.members[colGroups.starts[q]!]! : q);
  for (let tr = 0; tr < t.rows; tr++) {
    const r = origRow(t.row0 + tr);
    const line = tr * C;
    for (let j = 0; j < t.cols; j++) {
      // IR layout is out-channel-major: matrix (r, c) of group g is element (g·cols + c)·rows + r
      const w = (t.group * mCols + origCol(t.col0 + j)) * mRows + r;
      if (analog) {
        if (P === 2) {
          cells[line + 2 * j] = plan.plus![w]!;
          cells[line + 2 * j + 1] = plan.minus![w]!;
        } else {
          cells[line + j] = plan.plus![w]!;
        }
        continue;
      }
      for (let s = 0; s < S; s++) {
        cells[line + j * P + s] = plan.pos![s * n + w]!;
        if (differential) cells[line + j * P + S + s] = plan.neg![s * n + w]!;
      }
    }
    if (t.offsetCols > 0) {
      if (analog) {
        // the row's reference cell: assign-levels stores it per weight, so every weight of the row must agree
        const first = plan.minus![(t.group * mCols + origCol(t.col0)) * mRows + r]!;
        for (let j = 1; j < t.cols; j++) {
          const m = plan.minus![(t.group * mCols + origCol(t.col0 + j)) * mRows + r]!;
          if (m !== first) {
            throw emitError(plan.placement.op, `row ${r} of tile ${t.index} needs reference levels ${first} and ${m} in one offset column`,
              "an offset-column device shares one reference cell per row; quantize with a quantizer that uses one reference level");
          }
        }
        cells[line + t.cols * P] = first;
      } else {
        // Halawani et al.: the offset column holds 2^(W_WL−1), sliced like the weights, on every row
        for (let s = 0; s < S; s++) cells[line + t.cols * P + s] = sliceOf(half, s, cb);
      }
    }
  }
  if (t.biasRow) {
    const line = t.rows * C;
    const values = plan.biasRowValues;
    if (values && !analog) {
      for (let j = 0; j < t.cols; j++) {
        const b = values[t.group * mCols + origCol(t.col0 + j)]!;
        for (let s = 0; s < S; s++) {
          if (differential) {
            cells[line + j * P + s] = sliceOf(Math.max(b, 0), s, cb);
            cells[line + j * P + S + s] = sliceOf(Math.max(-b, 0), s, cb);
          } else {
            cells[line + j * P + s] = sliceOf(b + half, s, cb);
          }
        }
      }
      for (let s = 0; s < t.offsetCols; s++) cells[line + t.cols * P + s] = sliceOf(half, s, cb);
    }
    // analog layers keep their bias digital: the reserved row stays at level 0 on both sides and adds nothing
  }
  return cells;
}

/** A set of buffer names with fresh names for clashes (`name.1`, `name.2`, ...). */
class BufferNames {
  private readonly used = new Set<string>();

  claim(name: string): string {
    let n = name;
    for (let i = 1; this.used.has(n); i++) n = `${name}.${i}`;
    this.used.add(n);
    return n;
  }
}

/**
 * Throws XB6007 unless `module` (called `what` in the message) has the one input a program takes: float images,
 * which the simulator feeds as preprocessed pixel values (an integer input — token ids, indices — has no such
 * mapping).
 */
export function checkProgramInputs(module: Module, what: string): void {
  if (module.inputs.length !== 1) {
    throw new XbarcError("XB6007", `${what} has ${module.inputs.length} inputs; a program takes exactly one (the images)`, {
      hint: "compile a model with a single image input",
    });
  }
  const input = module.inputs[0]!;
  if (!isFloatDType(input.type.dtype)) {
    throw new XbarcError("XB6007", `${what}: input %${input.name} is ${formatType(input.type)}; a program takes float images (f16, f32 or f64)`, {
      hint: "compile a model whose input is the image tensor; integer inputs (token ids, indices) have no crossbar program",
    });
  }
}

/**
 * Emits the crossbar program of an annotated module. Every conv/linear with a constant weight must carry #tiles and
 * #slice (analog layers also #cells); #trunc is used when present, otherwise the layer keeps the full window.
 * Throws XB6007 naming the layer when an annotation is missing or disagrees with the device.
 */
export function emitProgram(module: Module, options: EmitProgramOptions): Program {
  const device = options.device;
  const xbar = { rows: device.crossbar.rows, cols: device.crossbar.cols };
  checkProgramInputs(module, `module @${module.name}`);
  const names = new BufferNames();
  const buffers: ProgramBuffer[] = [];
  const bufferOf = new Map<Value, string>();
  const outputs = new Set(module.outputs);
  const inputValue = module.inputs[0]!;
  const addValueBuffer = (v: Value): string => {
    const existing = bufferOf.get(v);
    if (existing !== undefined) return existing;
    const name = names.claim(v.name);
    bufferOf.set(v, name);
    if (v.kind === "const") {
      if (v.data === undefined) {
        throw new XbarcError("XB6001", `constant @${v.name} has no data`, { hint: "compile from the .onnx model, or pass the weights side file of the .xir" });
      }
      buffers.push({ name, role: "constant", dtype: v.type.dtype, shape: [...v.type.shape], data: Buffer.from(bytesOf(v.data)).toString("base64") });
    } else {
      const role = v === inputValue ? "input" : outputs.has(v) ? "output" : "activation";
      buffers.push({ name, role, dtype: v.type.dtype, shape: [...v.type.shape] });
    }
    return name;
  };
  addValueBuffer(inputValue);

  // weight layers: each needs its tiles and slices
  const layerOps = module.ops.filter(isWeightLayer);
  for (const op of layerOps) {
    if (!op.getAnnotation("tiles")) {
      throw emitError(op, "has no #tiles: its weights are not laid onto crossbars", "run quantize, tile and bit-slice first (the default `xbarc compile` pipeline does); a layer sharing another layer's weight is not supported");
    }
    if (!op.getAnnotation("slice")) throw emitError(op, "has #tiles but no #slice", "run bit-slice after tile");
  }
  // buffers in execution order: a layer reads its input and writes x_int, the accumulator, then its output;
  // its weight and bias constants live in the cells and the layer record, not in buffers
  const layerBuffers = new Map<Op, { x: ProgramBuffer; acc: ProgramBuffer }>();
  for (const op of module.ops) {
    if (!isWeightLayer(op)) {
      for (const v of op.operands) if (v) addValueBuffer(v);
      op.results.forEach(addValueBuffer);
      continue;
    }
    addValueBuffer(op.operands[0]!);
    const name = op.results[0]!.name;
    const x: ProgramBuffer = { name: names.claim(`${name}.x`), role: "layer-input", dtype: "int", shape: [...op.operands[0]!.type.shape] };
    const acc: ProgramBuffer = { name: names.claim(`${name}.acc`), role: "accumulator", dtype: "int", shape: [...op.results[0]!.type.shape] };
    buffers.push(x, acc);
    layerBuffers.set(op, { x, acc });
    addValueBuffer(op.results[0]!);
  }
  module.outputs.forEach(addValueBuffer);
  const placements = getTilePlacements(layerOps, xbar);
  const levels = getLevels(device.cell).length;
  const plans = new Map<Op, LayerPlan>();
  let truncated = 0;
  let bitSliced = 0;
  let nextTile = 0;
  for (const placement of placements) {
    const op = placement.op;
    const name = op.results[0]!.name;
    const weight = op.operands[1]!;
    const slice = op.getAnnotation("slice")!.data as unknown as SliceFields;
    if (slice.cell_bits !== device.cell.bits || slice.dac_bits !== device.crossbar.dac_bits) {
      throw emitError(op, `#slice was made for ${slice.cell_bits}-bit cells and ${slice.dac_bits}-bit DACs, but device ${device.name} has ${device.cell.bits} and ${device.crossbar.dac_bits}`,
        "compile with the same --device the passes ran with");
    }
    const analog = slice.scheme === "analog-levels";
    if (!analog && 2 ** slice.cell_bits > levels) {
      throw emitError(op, `bit-sliced with ${slice.cell_bits}-bit cells, but device ${device.name} has only ${levels} levels per cell`, "use a device with 2^cell_bits levels");
    }
    const wShape = weight.type.shape;
    const groups = op.opcode === "conv" ? Number(op.attrs["group"] ?? 1) : 1;
    const mRows = numel(wShape.slice(1));
    const mCols = wShape[0]! / groups;
    const inValue = op.operands[0]!;
    const outValue = op.results[0]!;
    const input = addValueBuffer(inValue);
    const output = addValueBuffer(outValue);
    const biasValue = op.operands[2] ?? undefined;
    const biasData = biasValue ? readBias(op, biasValue) : undefined;
    const firstTile = placement.tiles[0];
    const biasRow = firstTile?.biasRow ?? false;

    const trunc = analog ? undefined : (op.getAnnotation("trunc")?.data as unknown as TruncFields | undefined);
    // place-truncation fixes the input format (A_WL, A_FL, sign) that bit-slice left provisional; #trunc is final
    const inBits = trunc?.a_wl ?? slice.in_bits;
    const inFl = trunc?.a_fl ?? slice.in_fl;
    const inSigned = trunc?.a_signed ?? slice.in_signed;
    // merged rows are driven with the sum of k inputs: ceil(log2 k) more bits, hence possibly more DAC steps
    const mergedBits = ceilLog2(placement.rowGroups?.largest ?? 1);
    const formats: ProgramLayer["formats"] = {
      input: { bits: inBits, fl: inFl, signed: inSigned, dac_bits: slice.dac_bits, steps: Math.ceil((inBits + mergedBits) / slice.dac_bits) },
      weight: {
        scheme: slice.scheme,
        ...(analog ? {} : { bits: slice.w_bits!, fl: slice.w_fl! }),
        cell_bits: slice.cell_bits,
        slices: slice.slices,
        ...(slice.scheme === "offset-unsigned" ? { offset: slice.offset! } : {}),
      },
    };
    let pos: Uint8Array | undefined;
    let neg: Uint8Array | undefined;
    let plus: Uint8Array | undefined;
    let minus: Uint8Array | undefined;
    let cellsFormat: ProgramLayer["cells"];
    let bias: ProgramBias | undefined;
    let biasRowValues: number[] | undefined;
    if (analog) {
      const cells = op.getAnnotation("cells")?.data as unknown as CellsFields | undefined;
      if (!cells) throw emitError(op, "is not fixed point and has no #cells: its cells' levels are not assigned", "run assign-levels before tile");
      plus = u8Constant(module, op, cells.plus, wShape, "#cells plus");
      minus = u8Constant(module, op, cells.minus, wShape, "#cells minus");
      cellsFormat = { map: cells.map, scale: cells.scale, offset: cells.offset };
      if (biasData) bias = { mode: "float", values: [...biasData] };
    } else {
      bitSliced++;
      const sShape = [slice.slices, ...wShape];
      if (slice.scheme === "differential-magnitude") {
        pos = u8Constant(module, op, slice.slices_pos, sShape, "#slice slices_pos");
        neg = u8Constant(module, op, slice.slices_neg, sShape, "#slice slices_neg");
      } else {
        pos = u8Constant(module, op, slice.slices_of, sShape, "#slice slices_of");
      }
      const wBits = slice.w_bits!;
      const wFl = slice.w_fl!;
      // Diware et al., ICCAD 2024, eq. 1: O_WL = A_WL + W_WL + log2 R per row tile, R its rows (bias row included)
      const rowTiles = placement.tiles.filter((t) => t.group === 0 && t.colTile === 0);
      const oWl = rowTiles.map((t) => inBits + wBits + ceilLog2(t.physRows));
      let tf: ProgramTruncFormat;
      if (trunc) {
        truncated++;
        if (trunc.w_fl !== wFl || (trunc.w_wl !== undefined && trunc.w_wl !== wBits)) {
          throw emitError(op, `#trunc says (W_WL, W_FL) = (${trunc.w_wl ?? wBits}, ${trunc.w_fl}) but #slice holds weights in (${wBits}, ${wFl})`,
            "re-run place-truncation; it re-slices the layers whose W_FL it changes");
        }
        // O_WL and D_H are per row tile; a single number stands for every row tile
        const perRowTile = (v: number[] | number): number[] => (Array.isArray(v) ? [...v] : rowTiles.map(() => v));
        const tileWl = perRowTile(trunc.o_wl);
        if (trunc.keep[0] !== trunc.d_l || trunc.keep[1]! - trunc.keep[0]! !== trunc.o_rwl || tileWl.length !== rowTiles.length) {
          throw emitError(op, `#trunc keep=[${trunc.keep.join(",")}], d_l=${trunc.d_l}, o_rwl=${trunc.o_rwl} and ${tileWl.length} row tile(s) do not describe one window over the layer's ${rowTiles.length} row tile(s)`,
            "re-run tile, bit-slice and place-truncation together");
        }
        const mode = biasData ? (biasRow ? "row" : "digital") : "none";
        if (trunc.bias !== undefined && trunc.bias !== mode) {
          throw emitError(op, `#trunc says bias "${trunc.bias}" but #tiles and the bias operand say "${mode}"`, "re-run tile and place-truncation with the same device");
        }
        tf = {
          adc_bits: trunc.adc_bits, lossless: false, o_wl: tileWl, o_rwl: trunc.o_rwl, d_h: perRowTile(trunc.d_h), d_l: trunc.d_l,
          keep: [...trunc.keep], rule: trunc.rule,
        };
      } else {
        // no place-truncation: the full window keeps every accumulator bit of the widest row tile
        const widest = Math.max(...oWl);
        tf = { adc_bits: device.crossbar.adc_bits, lossless: false, o_wl: oWl, o_rwl: widest, d_h: oWl.map(() => 0), d_l: 0, keep: [0, widest], rule: "full" };
      }
      tf.lossless = placement.tiles.every((t) => isLossless(t.physRows, slice.dac_bits, slice.cell_bits, tf.adc_bits));
      const outFl = trunc?.out_fl ?? inFl + wFl - tf.d_l;
      formats.output_fl = outFl;
      formats.trunc = tf;
      if (biasData && biasRow) {
        // Halawani et al.: the bias on an extra row driven by 2^e, in the untruncated fraction length A_FL + W_FL
        const fl = inFl + wFl;
        const e = biasRowExponent(biasData, fl, wBits, inBits, trunc?.bias_input);
        const [lo, hi] = getIntegerRange(wBits, true);
        biasRowValues = [...quantizeBiasImpl(biasData, fl - e)].map((v) => Math.min(hi, Math.max(lo, v)));
        bias = { mode: "row", fl, input: 2 ** e, values: biasRowValues };
      } else if (biasData) {
        bias = { mode: "digital", fl: outFl, values: [...quantizeBiasImpl(biasData, outFl)] };
      }
    }
    const tileIds = placement.tiles.map(() => nextTile++);
    const record: ProgramLayer = {
      name,
      op: op.opcode as "conv" | "linear",
      ...(op.loc !== undefined ? { loc: op.loc } : {}),
      weight: weight.name,
      input,
      output,
      input_shape: [...inValue.type.shape],
      weight_shape: [...wShape],
      output_shape: [...outValue.type.shape],
      attrs: plainAttrs(op),
      matrix: { rows: mRows, cols: mCols, groups },
      grid: [...placement.grid],
      tiles: tileIds,
      ...(placement.rowMap ? { row_map: [...placement.rowMap] } : {}),
      ...(placement.colMap ? { col_map: [...placement.colMap] } : {}),
      ...(placement.colSign ? { col_sign: [...placement.colSign] } : {}),
      formats,
      ...(cellsFormat ? { cells: cellsFormat } : {}),
      ...(bias ? { bias } : {}),
    };
    const { x, acc } = layerBuffers.get(op)!;
    x.fl = inFl;
    // analog layers accumulate reals (Σ x·w with w read from the conductances); bit-sliced ones integers
    if (analog) acc.dtype = "f64";
    else acc.fl = formats.output_fl!;
    const xBuffer = x.name;
    const accBuffer = acc.name;
    plans.set(op, {
      placement, record, slice, xBuffer, accBuffer,
      ...(pos ? { pos } : {}), ...(neg ? { neg } : {}), ...(plus ? { plus } : {}), ...(minus ? { minus } : {}),
      ...(biasRowValues ? { biasRowValues } : {}),
    });
  }

  // tiles, in layer order
  const tiles: ProgramTile[] = [];
  for (const plan of plans.values()) {
    plan.placement.tiles.forEach((t, i) => {
      tiles.push({
        id: plan.record.tiles[i]!,
        layer: plan.record.name,
        index: t.index,
        group: t.group,
        row_tile: t.rowTile,
        col_tile: t.colTile,
        row0: t.row0,
        rows: t.rows,
        col0: t.col0,
        cols: t.cols,
        bias_row: t.biasRow,
        phys_cols_per_weight_col: t.physColsPerWeightCol,
        offset_cols: t.offsetCols,
        xbar: t.xbar,
        xbar_row: t.xbarRow,
        xbar_col: t.xbarCol,
        rows_used: t.physRows,
        cols_used: t.physCols,
        cells: Buffer.from(tileCells(plan, t)).toString("base64"),
      });
    });
  }

  // the schedule: program every tile, then the ops in module order
  const schedule: ScheduleOp[] = tiles.map((t) => ({ op: "program", tile: t.id }));
  for (const op of module.ops) {
    const plan = plans.get(op);
    if (!plan) {
      const kind = POST_OP_KINDS[op.opcode] ?? "digital";
      const inputs = op.operands.map((v) => (v ? addValueBuffer(v) : null));
      const results = op.results.map(addValueBuffer);
      schedule.push({ op: kind, kind: op.opcode, inputs, outputs: results, attrs: plainAttrs(op) });
      continue;
    }
    const { record, slice } = plan;
    const layer = record.name;
    const analog = slice.scheme === "analog-levels";
    const inFormat = record.formats.input;
    schedule.push({ op: "quantize", layer, from: record.input, to: plan.xBuffer, bits: inFormat.bits, fl: inFormat.fl, signed: inFormat.signed });
    const combine = device.mapping.signed === "differential" ? "differential" : "offset-column";
    const adcBits = record.formats.trunc?.adc_bits ?? device.crossbar.adc_bits;
    plan.placement.tiles.forEach((t, i) => {
      const tile = record.tiles[i]!;
      schedule.push({ op: "mvm", layer, tile, from: plan.xBuffer, steps: inFormat.steps, dac_bits: inFormat.dac_bits, input_offset: inFormat.signed ? 2 ** (inFormat.bits - 1) : 0 });
      // analog levels are not integer multiples of one step: the conversion is never exact
      schedule.push({ op: "adc", layer, tile, bits: adcBits, lossless: !analog && isLossless(t.physRows, inFormat.dac_bits, slice.cell_bits, adcBits) });
      schedule.push({ op: "shift-add", layer, tile, slices: slice.slices, cell_bits: slice.cell_bits, steps: inFormat.steps, dac_bits: inFormat.dac_bits, combine });
      const trunc = record.formats.trunc;
      if (trunc) schedule.push({ op: "truncate", layer, tile, d_l: trunc.d_l, o_rwl: trunc.o_rwl, keep: [...trunc.keep] });
    });
    schedule.push({ op: "accumulate", layer, tiles: [...record.tiles], to: plan.accBuffer });
    if (record.bias) schedule.push({ op: "bias", layer, to: plan.accBuffer, mode: record.bias.mode });
    schedule.push(analog ? { op: "move", from: plan.accBuffer, to: record.output } : { op: "move", from: plan.accBuffer, to: record.output, fl: record.formats.output_fl! });
  }
  const outputNames = module.outputs.map(addValueBuffer);

  const pre = options.preprocessing ?? {};
  const shape = [...inputValue.type.shape];
  const program = sealProgram({
    format: PROGRAM_FORMAT,
    version: PROGRAM_VERSION,
    model: {
      name: options.modelName ?? module.name,
      source: options.source ?? (typeof module.attrs["source"] === "string" ? module.attrs["source"] : options.modelName ?? module.name),
    },
    compile: {
      pipeline: options.pipeline,
      seed: options.seed ?? 0,
      // no bit-sliced layer: nothing to truncate; otherwise whether place-truncation placed every layer's window
      truncation: bitSliced === 0 ? "none" : truncated === bitSliced ? "place-truncation" : truncated === 0 ? "full" : "mixed",
    },
    device: structuredClone(device),
    input: {
      name: bufferOf.get(inputValue)!,
      dtype: inputValue.type.dtype,
      shape,
      // images per run: the leading (batch) dimension of an input of rank ≥ 2, as getInputFit reads [B,D] and [B,C,H,W]
      batch: shape.length >= 2 ? Math.max(1, shape[0]!) : 1,
      preprocessing: { scale: pre.scale ?? 1 / 255, mean: pre.mean ?? 0, std: pre.std ?? 1 },
    },
    outputs: outputNames,
    buffers,
    layers: [...plans.values()].map((p) => p.record),
    tiles,
    schedule,
  });
  // the emitter's own output must pass the checks a loaded program does
  checkProgramSemantics(program, `<emitted from @${module.name}>`);
  return program;
}

/** Lossless ADC (xbarc crossbar spec): R·(2^db − 1)·(2^cb − 1) ≤ 2^adc_bits − 1, the largest column sum of one read. */
export function isLossless(rows: number, dacBits: number, cellBits: number, adcBits: number): boolean {
  return rows * (2 ** dacBits - 1) * (2 ** cellBits - 1) <= 2 ** adcBits - 1;
}

function readBias(op: Op, v: Value): Float64Array {
  if (v.data === undefined) {
    throw new XbarcError("XB6001", `layer %${op.results[0]!.name}: bias @${v.name} has no data`, { location: locate(op), hint: "compile from the .onnx model, or pass the weights side file of the .xir" });
  }
  const out = new Float64Array(v.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(v.data[i]);
  return out;
}

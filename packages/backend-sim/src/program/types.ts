/**
 * @fileoverview The crossbar program as TypeScript types: a self-contained JSON document (device profile, input
 * preprocessing, layers with their fixed-point formats, tiles with their cell states, and an explicit schedule) that
 * a simulator runs without the ONNX model. PROGRAM_SCHEMA (schema.ts) is the published form of the same structure.
 */
import type { DeviceProfile } from "@xbarc/ir";

/** The `format` field of every program document. */
export const PROGRAM_FORMAT = "xbarc-program";
/** The version of the program format this code reads and writes. */
export const PROGRAM_VERSION = 1;

/** Per-pixel preprocessing x' = (x·scale − mean)/std, recorded at compile time. */
export interface ProgramPreprocessing {
  /** multiplies the raw stored value first (1/255 maps bytes to [0, 1]) */
  scale: number;
  /** subtracted after scaling */
  mean: number;
  /** divides last */
  std: number;
}

/** The model input as compiled: what images are fitted to (`getInputFit` with this dtype and shape). */
export interface ProgramInput {
  /** the input buffer's name (the model input's name) */
  name: string;
  /** element type of the model input */
  dtype: string;
  /** shape of one run's input tensor */
  shape: number[];
  /** images per run: the first dimension of an input of rank ≥ 2, else 1 */
  batch: number;
  preprocessing: ProgramPreprocessing;
}

/** What a named buffer holds. */
export type BufferRole = "input" | "activation" | "output" | "constant" | "layer-input" | "accumulator";

/** A named buffer: activations and constants as reals, layer inputs and accumulators as integers. */
export interface ProgramBuffer {
  name: string;
  role: BufferRole;
  /** an IR element type for reals and constants; "int" for the integers of layer inputs and accumulators */
  dtype: string;
  shape: number[];
  /** integer buffers: fraction length (the value is int · 2^−fl) */
  fl?: number;
  /** constants: base64 of the little-endian element bytes, row-major */
  data?: string;
}

/** Input format of a weight layer (A_WL, A_FL, signedness), bits per DAC step and steps. */
export interface ProgramInputFormat {
  /** A_WL, bits */
  bits: number;
  /** A_FL, bits */
  fl: number;
  /** two's complement, fed offset-encoded x_u = x_int + 2^(A_WL−1) */
  signed: boolean;
  /** bits applied per input step */
  dac_bits: number;
  /** T = ceil((A_WL + ceil(log2 k)) / dac_bits), k the most matrix rows merged into one physical row (1 unmerged) */
  steps: number;
}

/** How weights become cell levels. */
export type WeightScheme = "differential-magnitude" | "offset-unsigned" | "analog-levels";

/** Weight format of a layer: bit-sliced fixed point or one level index per cell (analog). */
export interface ProgramWeightFormat {
  scheme: WeightScheme;
  /** W_WL, bits (bit-sliced layers) */
  bits?: number;
  /** W_FL, bits (bit-sliced layers) */
  fl?: number;
  /** bits per cell */
  cell_bits: number;
  /** S: slices per weight (1 for analog) */
  slices: number;
  /** offset-unsigned: 2^(W_WL−1), held by the offset column */
  offset?: number;
}

/** The truncation window and ADC of a bit-sliced layer (Diware et al., ICCAD 2024, §3.4; xbarc crossbar spec). */
export interface ProgramTruncFormat {
  /** ADC resolution used for every tile of the layer */
  adc_bits: number;
  /** every tile of the layer converts losslessly */
  lossless: boolean;
  /** O_WL per row tile: full accumulator width A_WL + W_WL + ceil(log2 R) */
  o_wl: number[];
  /** O_RWL: bits kept */
  o_rwl: number;
  /** D_H per row tile: high bits discarded */
  d_h: number[];
  /** D_L: low bits discarded */
  d_l: number;
  /** kept bits [lo, hi) of the accumulator */
  keep: number[];
  /** how the window was chosen: #trunc's rule, or "full" (no place-truncation: everything kept) */
  rule: string;
}

/** Analog layers: how a cell pair's conductances read back as a weight (#cells). */
export interface ProgramCellsFormat {
  /** differential: w = scale·(G+ − G−) + offset; offset-column: w = scale·(G − G_ref) + offset */
  map: string;
  /** weight units per siemens */
  scale: number;
  /** weight units added digitally */
  offset: number;
}

/** A layer's bias, as the spec says: integers for bit-sliced layers, floats for analog ones. */
export type ProgramBias =
  | { mode: "digital"; fl: number; values: number[] }
  | { mode: "row"; fl: number; input: number; values: number[] }
  | { mode: "float"; values: number[] };

/** One conv or linear layer mapped onto crossbars. */
export interface ProgramLayer {
  /** the op's result name (also the name of its output buffer) */
  name: string;
  op: "conv" | "linear";
  /** the ONNX node (IR loc), when known */
  loc?: string;
  /** the weight constant's name in the IR */
  weight: string;
  /** activation buffer read */
  input: string;
  /** activation buffer written */
  output: string;
  input_shape: number[];
  weight_shape: number[];
  output_shape: number[];
  /** the op's attributes (conv: strides, pads, dilations, group) */
  attrs: Record<string, unknown>;
  /** per group: rows = inputs (im2col order c, kh, kw), cols = output channels */
  matrix: { rows: number; cols: number; groups: number };
  /** [row tiles, column tiles] per group */
  grid: number[];
  /** ids of the layer's tiles, groups first, then row tiles, then column tiles */
  tiles: number[];
  /**
   * compacted layers only: per matrix row, the physical row it feeds (−1: an all-zero row, not on any crossbar);
   * rows sharing a physical row are driven with the sum of their inputs. Tiles' row0/rows count physical rows.
   */
  row_map?: number[];
  /** compacted layers only: per matrix column (output channel within a group), the physical column computing it (−1: 0) */
  col_map?: number[];
  /** sign-merged layers only: per matrix column, +1 or −1 (its output is its physical column's, negated) */
  col_sign?: number[];
  formats: { input: ProgramInputFormat; weight: ProgramWeightFormat; output_fl?: number; trunc?: ProgramTruncFormat };
  /** analog layers only */
  cells?: ProgramCellsFormat;
  /** absent when the layer has no bias */
  bias?: ProgramBias;
}

/** One tile: a rectangle of a layer's weight matrix placed on a crossbar, with its cell states. */
export interface ProgramTile {
  id: number;
  layer: string;
  /** index within its layer */
  index: number;
  group: number;
  row_tile: number;
  col_tile: number;
  /** first weight-matrix row (within the group) and how many */
  row0: number;
  rows: number;
  /** first weight-matrix column (within the group) and how many */
  col0: number;
  cols: number;
  /** tile row `rows` holds the bias (input 2^e) */
  bias_row: boolean;
  /** physical columns per weight column: S · (2 if differential) */
  phys_cols_per_weight_col: number;
  /** physical offset columns (the last ones of the tile) */
  offset_cols: number;
  /** the crossbar and the tile's top-left cell on it */
  xbar: number;
  xbar_row: number;
  xbar_col: number;
  /** crossbar rows and columns used */
  rows_used: number;
  cols_used: number;
  /** level index per physical cell: base64 of a u8 array, row-major [rows_used, cols_used] */
  cells: string;
}

/** Post-op categories of the schedule. */
export type PostOpKind = "activation" | "pool" | "reshape" | "digital";

/** One operation of the schedule, in execution order. */
export type ScheduleOp =
  | { op: "program"; tile: number }
  | { op: "quantize"; layer: string; from: string; to: string; bits: number; fl: number; signed: boolean }
  | { op: "mvm"; layer: string; tile: number; from: string; steps: number; dac_bits: number; input_offset: number }
  | { op: "adc"; layer: string; tile: number; bits: number; lossless: boolean }
  | { op: "shift-add"; layer: string; tile: number; slices: number; cell_bits: number; steps: number; dac_bits: number; combine: "differential" | "offset-column" }
  | { op: "truncate"; layer: string; tile: number; d_l: number; o_rwl: number; keep: number[] }
  | { op: "accumulate"; layer: string; tiles: number[]; to: string }
  | { op: "bias"; layer: string; to: string; mode: "digital" | "row" | "float" }
  | { op: "move"; from: string; to: string; fl?: number }
  | { op: PostOpKind; kind: string; inputs: (string | null)[]; outputs: string[]; attrs: Record<string, unknown> };

/** A crossbar program. */
export interface Program {
  format: typeof PROGRAM_FORMAT;
  version: typeof PROGRAM_VERSION;
  /** sha256 (hex) of the canonical JSON of everything but this field */
  hash: string;
  model: { name: string; source: string };
  compile: { pipeline: string; seed: number; truncation: "place-truncation" | "full" | "mixed" | "none" };
  device: DeviceProfile;
  input: ProgramInput;
  /** model output buffers, in order */
  outputs: string[];
  buffers: ProgramBuffer[];
  layers: ProgramLayer[];
  tiles: ProgramTile[];
  schedule: ScheduleOp[];
}

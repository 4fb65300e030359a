/**
 * @fileoverview What the simulator precomputes per program: each weight layer's geometry (im2col offsets, output
 * layout, row and column maps) and each tile's compile-time constants (signed-input correction, input rows, fan-out),
 * and per instance the fast path's effective weights. Shared by the TypeScript and the WebAssembly layer engines.
 */
import { getPhysicalGroups, numel, XbarcError } from "@xbarc/ir";
import { decodeBase64 } from "../program/check.js";
import type { Program, ProgramLayer, ProgramTile } from "../program/types.js";
import type { SimInstance } from "./instance.js";
import { effectiveWeightsImpl, getConvTapOffsets, getRowSources, type CombineScheme } from "./kernels.js";
import { getPaddedTaps, type PaddedPlanes } from "./wasm/direct-conv.js";

/** A tile as the simulator reads it. */
export interface TilePlan {
  readonly tile: ProgramTile;
  /** nominal signed-input correction per weight column: 2^(A_WL−1)·Σ_{weight rows} w_int[r, j] (compile-time constant) */
  readonly correction: Float64Array;
  readonly combine: CombineScheme;
  readonly channelBase: number;
  /** compacted layers (col_map): per matrix column the tile computes, its tile column, sign and output channel */
  readonly fanOut?: { readonly srcCol: Int32Array; readonly sign: Int8Array; readonly channels: Int32Array };
  /**
   * `[positions, rows]`: where tile row r reads its input at output position p, as an element offset within one image
   * (conv: its channel plane plus its tap's im2col offset, −1 in the padding; linear: one position, row0 + r)
   */
  readonly inputOffsets: Int32Array;
  /** inputOffsets as runs of up to 8 rows whose inputs are side by side (kernels.wat gather_runs) */
  readonly inputRuns: InputRuns;
  /** a stride-1 2-D convolution's: per row, its input's element offset in a padded image from the window's corner */
  readonly paddedTaps?: Int32Array;
  /** paddedTaps as runs of up to 8 rows with consecutive offsets, `[n, 2]` (first row, offset): every position's */
  readonly paddedRuns?: Int32Array;
}

/** Runs of tile rows read from consecutive input elements: (first row, first offset or −1 for padding) pairs, by position. */
export interface InputRuns {
  /** `[positions + 1]`: position p's runs are runs[starts[p] .. starts[p + 1]) */
  readonly starts: Int32Array;
  /** `[n, 2]` */
  readonly runs: Int32Array;
}

/** Longest run gather_runs stores at once (one i16x8). */
const RUN_ROWS = 8;

/** inputOffsets `[positions, rows]` cut into runs of ≤ RUN_ROWS rows with consecutive offsets (or all padding). */
export function getInputRuns(offsets: Int32Array, positions: number, rows: number): InputRuns {
  const starts = new Int32Array(positions + 1);
  const runs: number[] = [];
  for (let p = 0; p < positions; p++) {
    starts[p] = runs.length / 2;
    const base = p * rows;
    for (let r = 0; r < rows;) {
      const first = offsets[base + r]!;
      let n = 1;
      while (n < RUN_ROWS && r + n < rows && (first < 0 ? offsets[base + r + n]! < 0 : offsets[base + r + n] === first + n)) n++;
      runs.push(r, first < 0 ? -1 : first);
      r += n;
    }
  }
  starts[positions] = runs.length / 2;
  return { starts, runs: Int32Array.from(runs) };
}

/** A weight layer's geometry, precomputed once per program. */
export interface LayerPlan {
  readonly record: ProgramLayer;
  readonly isConv: boolean;
  readonly batch: number;
  readonly inChannels: number;
  /** conv: input plane size; linear: K */
  readonly plane: number;
  readonly taps: number;
  readonly tapOffsets?: Int32Array;
  /** conv: output positions per channel; linear: 1 */
  readonly positions: number;
  /** output vectors per tile read: conv batch·positions, linear rows of the input */
  readonly outer: number;
  readonly outChannels: number;
  readonly outBase: Int32Array;
  readonly channelStride: number;
  readonly outNumel: number;
  readonly tiles: Map<number, TilePlan>;
  readonly biasInput: number;
  /** compacted layers (row_map): the matrix rows behind every physical row, as getPhysicalGroups gives them */
  readonly rowStarts?: Int32Array;
  readonly rowMembers?: Int32Array;
  /** the layer has a row_map or col_map (compacted by the tile pass) */
  readonly compacted: boolean;
  /** a stride-1 2-D convolution's planes padded (its tiles' paddedTaps index them) */
  readonly paddedPlanes?: PaddedPlanes;
}


export function simError(message: string, hint: string): XbarcError {
  return new XbarcError("XB6002", message, { hint });
}

function numbersAttr(attrs: Record<string, unknown>, key: string, fallback: number[]): number[] {
  const v = attrs[key];
  return Array.isArray(v) ? v.map(Number) : fallback;
}

/** `shape` with its leading (batch) dimension multiplied by `images`. */
export function widenShape(shape: readonly number[], images: number): number[] {
  return shape.map((d, i) => (i === 0 ? d * images : d));
}

function planLayer(program: Program, record: ProgramLayer, images: number): LayerPlan {
  const isConv = record.op === "conv";
  const inShape = widenShape(record.input_shape, images);
  const outShape = widenShape(record.output_shape, images);
  const wShape = record.weight_shape;
  const { cols: mCols, groups } = record.matrix;
  const outChannels = isConv ? outShape[1]! : outShape[outShape.length - 1]!;
  let batch = 1;
  let inChannels = 1;
  let plane: number;
  let taps = 1;
  let tapOffsets: Int32Array | undefined;
  let positions = 1;
  let paddedPlanes: PaddedPlanes | undefined;
  let kernel: number[] = [];
  let dilations: number[] = [];
  let outer: number;
  let channelStride: number;
  let outBase: Int32Array;
  if (isConv) {
    batch = inShape[0]!;
    inChannels = inShape[1]!;
    const inSpatial = inShape.slice(2);
    const outSpatial = outShape.slice(2);
    kernel = wShape.slice(2);
    const rank = inSpatial.length;
    plane = numel(inSpatial);
    taps = numel(kernel);
    positions = numel(outSpatial);
    const strides = numbersAttr(record.attrs, "strides", new Array<number>(rank).fill(1));
    const pads = numbersAttr(record.attrs, "pads", new Array<number>(2 * rank).fill(0));
    dilations = numbersAttr(record.attrs, "dilations", new Array<number>(rank).fill(1));
    tapOffsets = getConvTapOffsets(inSpatial, outSpatial, kernel, strides, pads, dilations);
    if (rank === 2 && strides.every((s) => s === 1)) {
      const [height, width] = inSpatial as [number, number];
      paddedPlanes = {
        channels: inChannels, height, width, padTop: pads[0]!, padLeft: pads[1]!, paddedHeight: height + pads[0]! + pads[2]!,
        paddedWidth: width + pads[1]! + pads[3]!, outHeight: outSpatial[0]!, outWidth: outSpatial[1]!,
      };
    }
    outer = batch * positions;
    channelStride = positions;
    outBase = new Int32Array(outer);
    for (let b = 0; b < batch; b++) for (let p = 0; p < positions; p++) outBase[b * positions + p] = b * outChannels * positions + p;
  } else {
    plane = inShape[inShape.length - 1]!;
    outer = numel(inShape) / plane;
    channelStride = 1;
    outBase = new Int32Array(outer);
    for (let o = 0; o < outer; o++) outBase[o] = o * outChannels;
  }
  const w = record.formats.weight;
  if (w.scheme === "analog-levels") {
    throw simError(`layer ${record.name}: analog-level layers (one weight per cell pair) are not simulated yet`, "compile with the fixed-point quantizer (the default `xbarc compile` pipeline)");
  }
  const combine: CombineScheme = w.scheme === "differential-magnitude" ? "differential" : "offset-column";
  const inFormat = record.formats.input;
  const inputOffset = inFormat.signed ? 2 ** (inFormat.bits - 1) : 0;
  // a compacted layer (program check has verified the maps against the tiles)
  const physicalCount = (map: readonly number[]): number => map.reduce((m, p) => Math.max(m, p + 1), 0);
  const rowGroups = record.row_map ? getPhysicalGroups(record.row_map, physicalCount(record.row_map)) : undefined;
  const colGroups = record.col_map ? getPhysicalGroups(record.col_map, physicalCount(record.col_map)) : undefined;
  if ((record.row_map && !rowGroups) || (record.col_map && !colGroups)) throw simError(`layer ${record.name}: row_map or col_map is not a map onto its physical rows and columns`, "check the program (`xbarc program check`) and recompile it");
  const tiles = new Map<number, TilePlan>();
  for (const id of record.tiles) {
    const tile = program.tiles[id]!;
    const levels = decodeBase64(tile.cells)!;
    // the compile-time constant uses the nominal cells: w_int[r, j] read back from the programmed levels
    const nominal = effectiveWeightsImpl(Float64Array.from(levels), tile.rows_used, tile.cols_used, tile.cols, w.slices, w.cell_bits, combine);
    const correction = new Float64Array(tile.cols);
    if (inputOffset !== 0) {
      for (let j = 0; j < tile.cols; j++) {
        let s = 0;
        // a physical row of k merged rows is driven with k offsets: its weight counts k times
        for (let r = 0; r < tile.rows; r++) {
          const k = rowGroups ? rowGroups.starts[tile.row0 + r + 1]! - rowGroups.starts[tile.row0 + r]! : 1;
          s += k * nominal[r * tile.cols + j]!;
        }
        correction[j] = inputOffset * s;
      }
    }
    let fanOut: TilePlan["fanOut"];
    if (colGroups) {
      const first = colGroups.starts[tile.col0]!;
      const n = colGroups.starts[tile.col0 + tile.cols]! - first;
      const srcCol = new Int32Array(n);
      const sign = new Int8Array(n);
      const channels = new Int32Array(n);
      for (let j = 0, i = 0; j < tile.cols; j++) {
        for (let k = colGroups.starts[tile.col0 + j]!; k < colGroups.starts[tile.col0 + j + 1]!; k++, i++) {
          const c = colGroups.members[k]!;
          srcCol[i] = j;
          sign[i] = record.col_sign?.[c] ?? 1;
          channels[i] = tile.group * mCols + c;
        }
      }
      fanOut = { srcCol, sign, channels };
    }
    const channelBase = tile.group * (isConv ? inChannels / groups : 0);
    const matrixRows = Int32Array.from({ length: tile.rows }, (_, r) => tile.row0 + r);
    const inputOffsets = new Int32Array(positions * tile.rows);
    if (!isConv) inputOffsets.set(matrixRows);
    else {
      const sources = getRowSources(matrixRows, taps, plane, channelBase);
      for (let p = 0; p < positions; p++) {
        for (let r = 0; r < tile.rows; r++) {
          const off = tapOffsets![p * taps + sources.taps[r]!]!;
          inputOffsets[p * tile.rows + r] = off < 0 ? -1 : sources.planes[r]! + off;
        }
      }
    }
    const paddedTaps = paddedPlanes ? getPaddedTaps(paddedPlanes, kernel[0]!, kernel[1]!, [dilations[0]!, dilations[1]!], channelBase, matrixRows) : undefined;
    tiles.set(id, {
      tile, correction, combine, channelBase, inputOffsets, inputRuns: getInputRuns(inputOffsets, positions, tile.rows), ...(fanOut ? { fanOut } : {}),
      ...(paddedTaps ? { paddedTaps, paddedRuns: getInputRuns(paddedTaps, 1, tile.rows).runs } : {}),
    });
  }
  const bias = record.bias;
  return {
    record, isConv, batch, inChannels, plane, taps, ...(tapOffsets ? { tapOffsets } : {}), positions, outer, outChannels,
    outBase, channelStride, outNumel: numel(outShape), tiles, biasInput: bias?.mode === "row" ? bias.input : 0,
    ...(rowGroups ? { rowStarts: rowGroups.starts, rowMembers: rowGroups.members } : {}),
    compacted: rowGroups !== undefined || colGroups !== undefined, ...(paddedPlanes ? { paddedPlanes } : {}),
  };
}

/** Layer plans per program and per images simulated together. */
const planCache = new WeakMap<Program, Map<number, Map<string, LayerPlan>>>();

export function getLayerPlans(program: Program, images: number): Map<string, LayerPlan> {
  let perCount = planCache.get(program);
  if (!perCount) planCache.set(program, (perCount = new Map()));
  let plans = perCount.get(images);
  if (!plans) {
    plans = new Map(program.layers.map((l) => [l.name, planLayer(program, l, images)]));
    perCount.set(images, plans);
  }
  return plans;
}

/** W_eff of every tile of an instance, computed once per instance (the fast path's weights). */
const weffCache = new WeakMap<SimInstance, Map<number, Float64Array>>();

export function getEffectiveWeights(instance: SimInstance, plan: TilePlan, program: Program): Float64Array {
  let perTile = weffCache.get(instance);
  if (!perTile) weffCache.set(instance, (perTile = new Map()));
  let w = perTile.get(plan.tile.id);
  if (!w) {
    const layer = program.layers.find((l) => l.name === plan.tile.layer)!;
    const t = plan.tile;
    w = effectiveWeightsImpl(instance.cellValues[t.id]!, t.rows_used, t.cols_used, t.cols, layer.formats.weight.slices, layer.formats.weight.cell_bits, plan.combine);
    perTile.set(t.id, w);
  }
  return w;
}

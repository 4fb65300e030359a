/**
 * @fileoverview Stride-1 convolutions on padded inputs (kernels.wat pad_inputs): the ideal path's MVM of a tile without
 * the im2col (conv_i16), its sums read straight from the layer's input padded once per pass — equal to gathering each
 * position's rows and multiplying (mvm_i16), integer sums in another order.
 */
import type { FusedFinish } from "./integer-mvm.js";
import { KernelArena, argError, roundUp } from "./module.js";

const KERNEL = "WebAssembly direct convolution";

/** A stride-1 convolution's input planes, their padding, and its output planes. */
export interface PaddedPlanes {
  /** input channels of one image */
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly paddedHeight: number;
  readonly paddedWidth: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** Elements of one padded image: its channels' padded planes. */
export function paddedImageElements(planes: PaddedPlanes): number {
  return planes.channels * planes.paddedHeight * planes.paddedWidth;
}

/**
 * Where each of a convolution tile's `matrixRows` reads its input in a padded image, from the window's corner: matrix
 * row m reads channel channelBase + ⌊m / taps⌋ (taps = kernelHeight·kernelWidth) at kernel tap m mod taps, (ky, kx)
 * with kx fastest, dilated.
 */
export function getPaddedTaps(planes: PaddedPlanes, kernelHeight: number, kernelWidth: number, dilations: readonly [number, number], channelBase: number,
  matrixRows: Int32Array): Int32Array {
  const taps = kernelHeight * kernelWidth;
  const { paddedHeight, paddedWidth } = planes;
  return matrixRows.map((m) => {
    const k = m % taps;
    return (channelBase + Math.floor(m / taps)) * paddedHeight * paddedWidth + Math.floor(k / kernelWidth) * dilations[0] * paddedWidth + (k % kernelWidth) * dilations[1];
  });
}

/**
 * A tile's weights `[rows (+ a bias row), cols]` for conv_i16: its rows in pairs, each row's tap (its channel plane and
 * kernel offset in the padded input), and the bias row's contribution as the sums' starting values.
 */
export class WasmDirectConv {
  /** Columns of the i32 rows `runAt` writes (cols rounded up to 4). */
  readonly colsPadded: number;
  private readonly pairs: number;
  private readonly tapsAt: number;
  private readonly weightsAt: number;
  private readonly initAt: number;

  /**
   * `w` `[rows + (biasInput !== undefined ? 1 : 0), cols]` integer weights (a fast group's W_eff, whose MVM has checked
   * they fit i16); `taps[r]` the element offset in a padded image of row r's input at output position (0, 0); the bias
   * row (last) driven with `biasInput`.
   */
  constructor(readonly arena: KernelArena, w: Float64Array, rows: number, cols: number, taps: Int32Array, biasInput: number | undefined) {
    if (!(taps.length === rows && w.length >= (rows + (biasInput === undefined ? 0 : 1)) * cols)) argError(KERNEL, `${taps.length} taps and ${w.length} weights for ${rows} rows of ${cols} columns`);
    this.colsPadded = roundUp(cols, 4);
    this.pairs = Math.ceil(rows / 2);
    this.tapsAt = arena.alloc(this.pairs * 8);
    const tapPairs = arena.i32(this.tapsAt, 2 * this.pairs);
    tapPairs.set(taps);
    // an odd last row pairs with a zero weight, read at its own tap
    if (rows % 2 === 1) tapPairs[rows] = taps[rows - 1]!;
    this.weightsAt = arena.alloc(this.pairs * this.colsPadded * 4);
    const pairs = arena.i32(this.weightsAt, this.pairs * this.colsPadded);
    // (alloc zeroes them) row 2i in the low half of pair i, row 2i + 1 in the high half, as i16
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const at = (r >>> 1) * this.colsPadded + c;
        pairs[at] = pairs[at]! | (r % 2 === 0 ? w[r * cols + c]! & 0xffff : w[r * cols + c]! << 16);
      }
    }
    this.initAt = arena.alloc(this.colsPadded * 4);
    if (biasInput !== undefined) {
      const init = arena.i32(this.initAt, cols);
      for (let c = 0; c < cols; c++) init[c] = biasInput * w[rows * cols + c]!;
    }
  }

  /**
   * The sums of every output position of `images` images, from their inputs padded by `padInputs` at `paddedAt`: i32
   * `[images·outHeight·outWidth, colsPadded]` at `outAt`, with room for 7 rows more — or, given `finish`, added into
   * the i32 accumulators it names as mvm_i16's fused finish does (its correction has colsPadded entries).
   */
  runAt(planes: PaddedPlanes, images: number, paddedAt: number, outAt: number, finish?: FusedFinish): void {
    this.arena.exports.conv_i16(paddedAt, images, paddedImageElements(planes), planes.outHeight, planes.outWidth,
      planes.paddedWidth, this.tapsAt, this.pairs, this.weightsAt, this.initAt, this.colsPadded, outAt, finish?.correctionAt ?? 0, finish?.dL ?? 0,
      finish?.wrapShift ?? 0, finish?.accAt ?? 0, finish?.accStride ?? 0, finish?.colBase ?? 0);
  }
}

/**
 * An order of a gathered convolution tile's rows (`taps` as for gatherPaddedI16) that fills whole 8-row chunks with
 * one channel's rows where it can: each channel's rows eight at a time, then the rows left over (fewer than eight of a
 * channel: a 3×3 kernel's ninth tap, a channel the tile's edge cuts), in their order. mvm_i16 skips the chunks that are
 * 0 in both vectors of a pair, and a ReLU leaves its zeros in regions of a channel's plane. Measured on the CNN
 * fixture's ideal pass (200 images): its second convolution's 128-row tile skips 30 % of a pair's chunks instead of
 * 16 %, its third's 44 % instead of 38 %; the pass 1–3 % faster (the MVM's loop over listed chunks costs more per chunk).
 */
export function channelChunkOrder(taps: Int32Array, planes: PaddedPlanes): Int32Array {
  const planeElements = planes.paddedHeight * planes.paddedWidth;
  const order: number[] = [];
  const rest: number[] = [];
  for (let start = 0; start < taps.length;) {
    const channel = Math.floor(taps[start]! / planeElements);
    let end = start + 1;
    while (end < taps.length && Math.floor(taps[end]! / planeElements) === channel) end++;
    const whole = end - ((end - start) % 8);
    for (let r = start; r < end; r++) (r < whole ? order : rest).push(r);
    start = end;
  }
  return Int32Array.from([...order, ...rest]);
}

/**
 * Each output position's i16 rows gathered from `images` images padded (padInputs, narrowed) at `paddedAt` into
 * `[images·outHeight·outWidth, rowsPadded]` at `dstAt`, as gather_padded gives them: row r < `taps.length` reads the
 * position's window at taps[r], then the bias row's input (given `biasInput`), then 0 up to `rowsPadded` (a multiple
 * of 8). Output rows at least 8 positions wide only (kernels.wat gather_padded_i16).
 */
export function gatherPaddedI16(arena: KernelArena, planes: PaddedPlanes, images: number, paddedAt: number, taps: Int32Array, biasInput: number | undefined,
  rowsPadded: number, dstAt: number): void {
  const rows = taps.length;
  const width = rows + (biasInput === undefined ? 0 : 1);
  if (!(planes.outWidth >= 8 && rowsPadded % 8 === 0 && rowsPadded >= width)) argError(KERNEL, `a gather of ${width} rows into ${rowsPadded} for output rows ${planes.outWidth} wide`);
  const groups = rowsPadded / 8;
  const full = Math.floor(rows / 8);
  const mark = arena.mark();
  // rows past the tile's read the window's corner, then masked
  const tapsAt = arena.scratch(rowsPadded * 4);
  arena.i32(tapsAt, rowsPadded).fill(0).set(taps);
  const masksAt = arena.scratch((groups - full) * 32);
  const masks = arena.i16(masksAt, (groups - full) * 16);
  for (let g = full; g < groups; g++) {
    for (let lane = 0; lane < 8; lane++) {
      const r = g * 8 + lane;
      const at = (g - full) * 16 + lane;
      masks[at] = r < rows ? -1 : 0;
      masks[at + 8] = r === rows && biasInput !== undefined ? biasInput : 0;
    }
  }
  arena.exports.gather_padded_i16(paddedAt, images, paddedImageElements(planes), planes.outHeight, planes.outWidth, planes.paddedWidth, tapsAt, groups,
    full, masksAt, dstAt);
  arena.release(mark);
}

/**
 * `images` images' i32 inputs `[images, channels, height, width]` at `xAt` (+ 28 readable bytes) padded into scratch,
 * `inputOffset` added, as i16 (`narrow`; the caller has checked that every input and the padding's fit) or i32;
 * returns their address.
 */
export function padInputs(arena: KernelArena, planes: PaddedPlanes, images: number, xAt: number, inputOffset: number, narrow: boolean): number {
  // + 32: conv_i16 and gather_padded read up to 28 bytes past the last image
  const at = arena.scratch(images * paddedImageElements(planes) * (narrow ? 2 : 4) + 32);
  arena.exports.pad_inputs(xAt, images * planes.channels, planes.height, planes.width, planes.padTop, planes.padLeft, planes.paddedHeight, planes.paddedWidth,
    inputOffset, at, narrow ? 1 : 0);
  return at;
}

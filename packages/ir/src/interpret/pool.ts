/** @fileoverview N-d max/average pooling (ONNX MaxPool/AveragePool semantics as onnxruntime computes them) and global average pooling. */
import { windowOutputShape, type WindowParams } from "../ops/shape-utils.js";
import { stridesOf } from "../types.js";
import { allocLike, sizeOf, type FloatArray, type NumberArray } from "./common.js";

/** Pool window parameters: kernel, strides, explicit pads [begins..., ends...], dilations, ceil_mode. */
export interface PoolParams extends WindowParams {
  readonly ceilMode: boolean;
}

/** Output spatial sizes of a pool (ceil_mode drops a last window that would start in the end padding). */
export function poolOutputSpatial(inSpatial: readonly number[], p: PoolParams): number[] {
  return windowOutputShape("pool", inSpatial, p, p.ceilMode);
}

/**
 * Calls `visit(outPos, taps, tapCount, inPadded)` per output position with the in-image tap offsets of its window
 * (within one plane) and how many taps lie inside image + pads. Odometers over positions and taps handle any rank.
 */
export function forEachWindow(
  inSpatial: readonly number[],
  outSpatial: readonly number[],
  p: WindowParams,
  visit: (outPos: number, taps: Int32Array, tapCount: number, inPadded: number) => void,
): void {
  const r = inSpatial.length;
  const inStrides = stridesOf(inSpatial);
  const kTaps = sizeOf(p.kernel);
  const positions = sizeOf(outSpatial);
  const taps = new Int32Array(kTaps);
  const oIdx = new Array<number>(r).fill(0);
  const kIdx = new Array<number>(r).fill(0);
  for (let q = 0; q < positions; q++) {
    let count = 0;
    let inPadded = 0;
    kIdx.fill(0);
    for (let k = 0; k < kTaps; k++) {
      let off = 0;
      let inside = true;
      let padded = true;
      for (let d = 0; d < r; d++) {
        const id = oIdx[d]! * p.strides[d]! - p.pads[d]! + kIdx[d]! * p.dilations[d]!;
        if (id < 0 || id >= inSpatial[d]!) {
          inside = false;
          // a tap past the end padding (ceil_mode) counts for neither divisor
          if (id < -p.pads[d]! || id >= inSpatial[d]! + p.pads[d + r]!) padded = false;
        } else off += id * inStrides[d]!;
      }
      if (padded) inPadded++;
      if (inside) taps[count++] = off;
      for (let d = r - 1; d >= 0; d--) {
        if (++kIdx[d]! < p.kernel[d]!) break;
        kIdx[d] = 0;
      }
    }
    visit(q, taps, count, inPadded);
    for (let d = r - 1; d >= 0; d--) {
      if (++oIdx[d]! < outSpatial[d]!) break;
      oIdx[d] = 0;
    }
  }
}

/** What both pools need of x [N, C, ...in]: the sizes, and per output position its window's taps and in-padded count. */
interface PoolGeometry {
  readonly n: number;
  readonly c: number;
  readonly inSpatial: number[];
  readonly outSpatial: number[];
  /** elements per (n, c) plane of x */
  readonly plane: number;
  /** output positions per plane */
  readonly positions: number;
  /** per output position, the in-image tap offsets of its window within a plane */
  readonly windows: Int32Array[];
  /** per output position, how many of its window's cells lie inside image + pads */
  readonly inPadded: Int32Array;
}

/** The window geometry is the same for every (n, c) plane: it is recorded once per call. */
function poolGeometry(xShape: readonly number[], p: PoolParams): PoolGeometry {
  const [n, c] = xShape as [number, number];
  const inSpatial = xShape.slice(2);
  const outSpatial = poolOutputSpatial(inSpatial, p);
  const positions = sizeOf(outSpatial);
  const windows: Int32Array[] = [];
  const inPadded = new Int32Array(positions);
  forEachWindow(inSpatial, outSpatial, p, (q, taps, count, padded) => {
    windows.push(taps.slice(0, count));
    inPadded[q] = padded;
  });
  return { n, c, inSpatial, outSpatial, plane: sizeOf(inSpatial), positions, windows, inPadded };
}

/**
 * Max pooling over x [N, C, ...in] (any numeric dtype). Padded cells never win; the first maximum wins ties.
 * With `withIndices`, also returns the flat index of each max into x (row-major over the whole tensor; with
 * storageOrder 1 the spatial part is column-major, as ONNX/ORT define it).
 */
export function maxPoolImpl(
  x: NumberArray,
  xShape: readonly number[],
  p: PoolParams,
  withIndices = false,
  storageOrder = 0,
): { data: NumberArray; shape: number[]; indices?: BigInt64Array } {
  const { n, c, inSpatial, outSpatial, plane, positions, windows } = poolGeometry(xShape, p);
  const out = allocLike(x, n * c * positions);
  const indices = withIndices ? new BigInt64Array(n * c * positions) : undefined;
  // column-major spatial offsets for storage_order=1: reversed strides
  const colStrides = new Array<number>(inSpatial.length);
  for (let d = 0, acc = 1; d < inSpatial.length; d++) {
    colStrides[d] = acc;
    acc *= inSpatial[d]!;
  }
  const rowStrides = stridesOf(inSpatial);
  const toColumnMajor = (off: number): number => {
    let res = 0;
    for (let d = 0; d < inSpatial.length; d++) {
      const i = Math.floor(off / rowStrides[d]!) % inSpatial[d]!;
      res += i * colStrides[d]!;
    }
    return res;
  };
  for (let nc = 0; nc < n * c; nc++) {
    const xBase = nc * plane;
    const oBase = nc * positions;
    for (let q = 0; q < positions; q++) {
      const taps = windows[q]!;
      let best = -Infinity;
      let bestAt = -1;
      for (let t = 0; t < taps.length; t++) {
        const v = x[xBase + taps[t]!]!;
        if (v > best) {
          best = v;
          bestAt = taps[t]!;
        }
      }
      out[oBase + q] = best;
      if (indices) {
        const spatialIndex = bestAt < 0 ? -1 : storageOrder === 1 ? toColumnMajor(bestAt) : bestAt;
        indices[oBase + q] = BigInt(bestAt < 0 ? -1 : xBase + spatialIndex);
      }
    }
  }
  return { data: out, shape: [n, c, ...outSpatial], indices };
}

/**
 * Average pooling over x [N, C, ...in]. countIncludePad=false divides by the window's cells inside the image;
 * true divides by its cells inside image + pads (windows are clipped there, as ORT does with ceil_mode).
 */
export function avgPoolImpl(
  x: FloatArray,
  xShape: readonly number[],
  p: PoolParams,
  countIncludePad: boolean,
): { data: FloatArray; shape: number[] } {
  const { n, c, outSpatial, plane, positions, windows, inPadded } = poolGeometry(xShape, p);
  const out = allocLike(x, n * c * positions);
  const divisors = Float64Array.from(windows, (taps, q) => (countIncludePad ? inPadded[q]! : taps.length));
  for (let nc = 0; nc < n * c; nc++) {
    const xBase = nc * plane;
    const oBase = nc * positions;
    for (let q = 0; q < positions; q++) {
      const taps = windows[q]!;
      let s = 0;
      for (let t = 0; t < taps.length; t++) s += x[xBase + taps[t]!]!;
      // an empty window gives NaN (0/0), as the ONNX reference does
      out[oBase + q] = s / divisors[q]!;
    }
  }
  return { data: out, shape: [n, c, ...outSpatial] };
}

/** Mean over all spatial dims: [N, C, ...] → [N, C, 1, ..., 1]. */
export function globalAvgPoolImpl(x: FloatArray, xShape: readonly number[]): { data: FloatArray; shape: number[] } {
  const [n, c] = xShape as [number, number];
  const plane = sizeOf(xShape.slice(2));
  const out = allocLike(x, n * c);
  for (let i = 0; i < n * c; i++) {
    let s = 0;
    const base = i * plane;
    for (let j = 0; j < plane; j++) s += x[base + j]!;
    out[i] = s / plane;
  }
  return { data: out, shape: [n, c, ...xShape.slice(2).map(() => 1)] };
}

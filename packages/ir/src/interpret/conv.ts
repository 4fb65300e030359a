/** @fileoverview N-d grouped convolution as im2col + a row-streaming GEMM over Float32Array/Float64Array. */
import { stridesOf } from "../types.js";
import { allocLike, sizeOf, type FloatArray } from "./common.js";

/** Conv window parameters with explicit pads [begin_1..begin_r, end_1..end_r]. */
export interface ConvParams {
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  readonly group: number;
}

/** Output spatial sizes of a conv: floor((in + pb + pe − dil·(k−1) − 1)/s) + 1 per dim. */
export function convOutputSpatial(inSpatial: readonly number[], kernel: readonly number[], p: ConvParams): number[] {
  const r = inSpatial.length;
  return inSpatial.map((d, i) => Math.floor((d + p.pads[i]! + p.pads[i + r]! - p.dilations[i]! * (kernel[i]! - 1) - 1) / p.strides[i]!) + 1);
}

/**
 * Fills `col` ([C·K rows, P cols], K = kernel taps, P = output positions) with the input patches of channels
 * [c0, c0+channels) of one image: col[(c·K + k)·P + p] = x at output position p shifted by tap k, 0 in the padding.
 */
function im2col2d(
  x: FloatArray, xBase: number, channels: number, h: number, w: number,
  kh: number, kw: number, oh: number, ow: number,
  sh: number, sw: number, ph: number, pw: number, dh: number, dw: number,
  col: FloatArray,
): void {
  const plane = h * w;
  const p = oh * ow;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const xc = xBase + c * plane;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, row += p) {
        const hOff = i * dh - ph;
        const wOff = j * dw - pw;
        // the output columns whose input column lies inside the image: ow0 ≤ o < ow1
        let ow0 = wOff >= 0 ? 0 : Math.ceil(-wOff / sw);
        let ow1 = w - wOff <= 0 ? 0 : Math.ceil((w - wOff) / sw);
        if (ow1 > ow) ow1 = ow;
        if (ow0 > ow1) ow0 = ow1;
        for (let y = 0; y < oh; y++) {
          const ih = y * sh + hOff;
          const dst = row + y * ow;
          if (ih < 0 || ih >= h) {
            col.fill(0, dst, dst + ow);
            continue;
          }
          const src = xc + ih * w + wOff;
          for (let o = 0; o < ow0; o++) col[dst + o] = 0;
          if (sw === 1) {
            for (let o = ow0; o < ow1; o++) col[dst + o] = x[src + o]!;
          } else {
            for (let o = ow0; o < ow1; o++) col[dst + o] = x[src + o * sw]!;
          }
          for (let o = ow1; o < ow; o++) col[dst + o] = 0;
        }
      }
    }
  }
}

/** im2col for any spatial rank (used for 3-D and up), walking output positions with an odometer. */
function im2colNd(
  x: FloatArray, xBase: number, channels: number, inSpatial: readonly number[],
  kernel: readonly number[], outSpatial: readonly number[], p: ConvParams, col: FloatArray,
): void {
  const r = inSpatial.length;
  const plane = sizeOf(inSpatial);
  const kTaps = sizeOf(kernel);
  const positions = sizeOf(outSpatial);
  const inStrides = stridesOf(inSpatial);
  const kIdx = new Array<number>(r);
  const oIdx = new Array<number>(r);
  for (let c = 0; c < channels; c++) {
    const xc = xBase + c * plane;
    for (let k = 0; k < kTaps; k++) {
      let rem = k;
      for (let d = r - 1; d >= 0; d--) {
        kIdx[d] = rem % kernel[d]!;
        rem = Math.floor(rem / kernel[d]!);
      }
      const row = (c * kTaps + k) * positions;
      oIdx.fill(0);
      for (let q = 0; q < positions; q++) {
        let off = 0;
        let inside = true;
        for (let d = 0; d < r; d++) {
          const id = oIdx[d]! * p.strides[d]! - p.pads[d]! + kIdx[d]! * p.dilations[d]!;
          if (id < 0 || id >= inSpatial[d]!) {
            inside = false;
            break;
          }
          off += id * inStrides[d]!;
        }
        col[row + q] = inside ? x[xc + off]! : 0;
        for (let d = r - 1; d >= 0; d--) {
          if (++oIdx[d]! < outSpatial[d]!) break;
          oIdx[d] = 0;
        }
      }
    }
  }
}

/** Output positions per tile: a [kk, TILE] slice of the column matrix stays in L2 while every output channel reads it. */
const TILE = 256;

/**
 * out[j, q] += Σ_t w[j, t]·cols[t, q] for j < rows, t < kk, q < positions (all row-major, w at wOff, out at oOff).
 * Register-blocked two output rows × four taps at a time, over position tiles that stay in cache.
 */
function gemmAccumulate(w: FloatArray, wOff: number, rows: number, kk: number, cols: FloatArray, positions: number, out: FloatArray, oOff: number): void {
  const kk4 = kk - (kk % 4);
  for (let q0 = 0; q0 < positions; q0 += TILE) {
    const q1 = Math.min(positions, q0 + TILE);
    let j = 0;
    for (; j + 1 < rows; j += 2) {
      const wa = wOff + j * kk;
      const wb = wa + kk;
      const oa = oOff + j * positions;
      const ob = oa + positions;
      let t = 0;
      for (; t < kk4; t += 4) {
        const a0 = w[wa + t]!, a1 = w[wa + t + 1]!, a2 = w[wa + t + 2]!, a3 = w[wa + t + 3]!;
        const b0 = w[wb + t]!, b1 = w[wb + t + 1]!, b2 = w[wb + t + 2]!, b3 = w[wb + t + 3]!;
        // pruned weights are common in this toolchain: skipping an all-zero block is free
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0 && b0 === 0 && b1 === 0 && b2 === 0 && b3 === 0) continue;
        const c0 = t * positions;
        const c1 = c0 + positions;
        const c2 = c1 + positions;
        const c3 = c2 + positions;
        for (let q = q0; q < q1; q++) {
          const x0 = cols[c0 + q]!, x1 = cols[c1 + q]!, x2 = cols[c2 + q]!, x3 = cols[c3 + q]!;
          out[oa + q] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
          out[ob + q] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3;
        }
      }
      for (; t < kk; t++) {
        const av = w[wa + t]!, bv = w[wb + t]!;
        const c0 = t * positions;
        for (let q = q0; q < q1; q++) {
          const x0 = cols[c0 + q]!;
          out[oa + q] += av * x0;
          out[ob + q] += bv * x0;
        }
      }
    }
    if (j < rows) {
      const wa = wOff + j * kk;
      const oa = oOff + j * positions;
      let t = 0;
      for (; t < kk4; t += 4) {
        const a0 = w[wa + t]!, a1 = w[wa + t + 1]!, a2 = w[wa + t + 2]!, a3 = w[wa + t + 3]!;
        const c0 = t * positions;
        const c1 = c0 + positions;
        const c2 = c1 + positions;
        const c3 = c2 + positions;
        for (let q = q0; q < q1; q++) out[oa + q] += a0 * cols[c0 + q]! + a1 * cols[c1 + q]! + a2 * cols[c2 + q]! + a3 * cols[c3 + q]!;
      }
      for (; t < kk; t++) {
        const av = w[wa + t]!;
        const c0 = t * positions;
        for (let q = q0; q < q1; q++) out[oa + q] += av * cols[c0 + q]!;
      }
    }
  }
}

/**
 * Grouped N-d convolution. x [N, C, ...in], w [M, C/group, ...k], bias [M] or null; result [N, M, ...out] in
 * x's precision. Per image and group: im2col into [C/group·K, P], then out[m, :] += w[m, kk]·col[kk, :] row by
 * row, which streams both operands contiguously (no transposes, no per-element allocation).
 */
export function convImpl(
  x: FloatArray,
  xShape: readonly number[],
  w: FloatArray,
  wShape: readonly number[],
  bias: FloatArray | null,
  p: ConvParams,
): { data: FloatArray; shape: number[] } {
  const [n, c] = xShape as [number, number];
  const [m, cg] = wShape as [number, number];
  const inSpatial = xShape.slice(2);
  const kernel = wShape.slice(2);
  const outSpatial = convOutputSpatial(inSpatial, kernel, p);
  const r = inSpatial.length;
  const group = p.group;
  const mg = m / group;
  const kTaps = sizeOf(kernel);
  const kk = cg * kTaps;
  const positions = sizeOf(outSpatial);
  const plane = sizeOf(inSpatial);
  const out = allocLike(x, n * m * positions);
  // a 1×1 kernel with unit strides and no padding needs no im2col: the input planes already are the columns
  const pointwise = kTaps === 1 && p.strides.every((s) => s === 1) && p.pads.every((v) => v === 0);
  const col = pointwise ? undefined : allocLike(x, kk * positions);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < group; g++) {
      const xBase = (b * c + g * cg) * plane;
      let cols: FloatArray;
      if (pointwise) cols = x.subarray(xBase, xBase + cg * plane);
      else {
        cols = col!;
        if (r === 1) {
          im2col2d(x, xBase, cg, 1, inSpatial[0]!, 1, kernel[0]!, 1, outSpatial[0]!, 1, p.strides[0]!, 0, p.pads[0]!, 1, p.dilations[0]!, cols);
        } else if (r === 2) {
          im2col2d(
            x, xBase, cg, inSpatial[0]!, inSpatial[1]!, kernel[0]!, kernel[1]!, outSpatial[0]!, outSpatial[1]!,
            p.strides[0]!, p.strides[1]!, p.pads[0]!, p.pads[1]!, p.dilations[0]!, p.dilations[1]!, cols,
          );
        } else {
          im2colNd(x, xBase, cg, inSpatial, kernel, outSpatial, p, cols);
        }
      }
      const outBase = (b * m + g * mg) * positions;
      if (bias) for (let j = 0; j < mg; j++) out.fill(bias[g * mg + j]!, outBase + j * positions, outBase + (j + 1) * positions);
      gemmAccumulate(w, g * mg * kk, mg, kk, cols, positions, out, outBase);
    }
  }
  return { data: out, shape: [n, m, ...outSpatial] };
}

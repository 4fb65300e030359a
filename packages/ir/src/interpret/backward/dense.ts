/** @fileoverview Reverse-mode kernels of the dense ops: `linear` (y = x·wᵀ + b) and grouped N-d `conv`, in float64. */
import { stridesOf } from "../../types.js";
import { sizeOf } from "../common.js";
import { convOutputSpatial, type ConvParams } from "../conv.js";

/** Gradients of one op's operands; null where the caller did not ask for one. */
export interface DenseGradients {
  readonly dx: Float64Array | null;
  readonly dw: Float64Array | null;
  readonly db: Float64Array | null;
}

/** Which operand gradients to compute. */
export interface DenseWants {
  readonly x: boolean;
  readonly w: boolean;
  readonly b: boolean;
}

/**
 * Backward of y[r, j] = Σ_t x[r, t]·w[j, t] + b[j] with x viewed as [R, K] and w [N, K], given dy [R, N]:
 * dx = dy·w, dw = dyᵀ·x, db = Σ_r dy. Every inner loop runs over a contiguous row.
 */
export function linearBackwardImpl(x: Float64Array, w: Float64Array, wShape: readonly number[], dy: Float64Array, wants: DenseWants): DenseGradients {
  const [n, k] = wShape as [number, number];
  const rows = n === 0 ? 0 : dy.length / n;
  const dx = wants.x ? new Float64Array(x.length) : null;
  const dw = wants.w ? new Float64Array(w.length) : null;
  const db = wants.b ? new Float64Array(n) : null;
  for (let r = 0; r < rows; r++) {
    const xRow = r * k;
    for (let j = 0; j < n; j++) {
      const g = dy[r * n + j]!;
      // relu/maxpool upstream make many dy exactly zero: skipping them is free
      if (g === 0) continue;
      const wRow = j * k;
      if (db) db[j] += g;
      if (dx) for (let t = 0; t < k; t++) dx[xRow + t] += g * w[wRow + t]!;
      if (dw) for (let t = 0; t < k; t++) dw[wRow + t] += g * x[xRow + t]!;
    }
  }
  return { dx, dw, db };
}

/**
 * For one image plane: the input offset (within a channel plane) read by kernel tap k at output position q, or −1
 * in the padding; row-major [taps, positions]. The same im2col geometry convImpl uses, kept as an index map so the
 * forward gather and the backward scatter (col2im) share it.
 */
function convTapOffsets(inSpatial: readonly number[], kernel: readonly number[], outSpatial: readonly number[], p: ConvParams): Int32Array {
  const r = inSpatial.length;
  const kTaps = sizeOf(kernel);
  const positions = sizeOf(outSpatial);
  const inStrides = stridesOf(inSpatial);
  const offsets = new Int32Array(kTaps * positions);
  const kIdx = new Array<number>(r).fill(0);
  const oIdx = new Array<number>(r).fill(0);
  for (let k = 0; k < kTaps; k++) {
    oIdx.fill(0);
    for (let q = 0; q < positions; q++) {
      let off = 0;
      for (let d = 0; d < r && off >= 0; d++) {
        const id = oIdx[d]! * p.strides[d]! - p.pads[d]! + kIdx[d]! * p.dilations[d]!;
        off = id < 0 || id >= inSpatial[d]! ? -1 : off + id * inStrides[d]!;
      }
      offsets[k * positions + q] = off;
      for (let d = r - 1; d >= 0; d--) {
        if (++oIdx[d]! < outSpatial[d]!) break;
        oIdx[d] = 0;
      }
    }
    for (let d = r - 1; d >= 0; d--) {
      if (++kIdx[d]! < kernel[d]!) break;
      kIdx[d] = 0;
    }
  }
  return offsets;
}

/**
 * out[oOff + t] += Σ_q a[aOff + q]·rows[t·P + q] for t < count (P = positions): one row of `a` against `count`
 * rows, four at a time so four independent sums share each load of `a` (dw = dy·colᵀ).
 */
function accumulateDotRows(a: Float64Array, aOff: number, rows: Float64Array, count: number, positions: number, out: Float64Array, oOff: number): void {
  let t = 0;
  for (; t + 3 < count; t += 4) {
    const r0 = t * positions;
    const r1 = r0 + positions;
    const r2 = r1 + positions;
    const r3 = r2 + positions;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let q = 0; q < positions; q++) {
      const av = a[aOff + q]!;
      s0 += av * rows[r0 + q]!;
      s1 += av * rows[r1 + q]!;
      s2 += av * rows[r2 + q]!;
      s3 += av * rows[r3 + q]!;
    }
    out[oOff + t] += s0;
    out[oOff + t + 1] += s1;
    out[oOff + t + 2] += s2;
    out[oOff + t + 3] += s3;
  }
  for (; t < count; t++) {
    const r0 = t * positions;
    let s = 0;
    for (let q = 0; q < positions; q++) s += a[aOff + q]! * rows[r0 + q]!;
    out[oOff + t] += s;
  }
}

/**
 * out[t, q] += Σ_j w[wOff + j·kk + t]·dy[dyOff + j·P + q] for t < kk, j < rows (dcol = wᵀ·dy), four w rows at a
 * time so each out element is loaded and stored once per four multiply-adds.
 */
function accumulateTransposed(w: Float64Array, wOff: number, rows: number, kk: number, dy: Float64Array, dyOff: number, positions: number, out: Float64Array): void {
  for (let t = 0; t < kk; t++) {
    const o = t * positions;
    let j = 0;
    for (; j + 3 < rows; j += 4) {
      const w0 = w[wOff + j * kk + t]!, w1 = w[wOff + (j + 1) * kk + t]!, w2 = w[wOff + (j + 2) * kk + t]!, w3 = w[wOff + (j + 3) * kk + t]!;
      // pruned weights give whole zero blocks
      if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
      const d0 = dyOff + j * positions;
      const d1 = d0 + positions;
      const d2 = d1 + positions;
      const d3 = d2 + positions;
      for (let q = 0; q < positions; q++) out[o + q] += w0 * dy[d0 + q]! + w1 * dy[d1 + q]! + w2 * dy[d2 + q]! + w3 * dy[d3 + q]!;
    }
    for (; j < rows; j++) {
      const wv = w[wOff + j * kk + t]!;
      if (wv === 0) continue;
      const d0 = dyOff + j * positions;
      for (let q = 0; q < positions; q++) out[o + q] += wv * dy[d0 + q]!;
    }
  }
}

/**
 * Backward of grouped N-d convolution (x [N, C, ...in], w [M, C/group, ...k], dy [N, M, ...out]). Per image and
 * group, with col = im2col(x) of shape [C/group·K, P]: dw += dy·colᵀ, db += Σ_P dy, dcol = wᵀ·dy, and dx is dcol
 * scattered back through the same index map (col2im).
 */
export function convBackwardImpl(
  x: Float64Array,
  xShape: readonly number[],
  w: Float64Array,
  wShape: readonly number[],
  dy: Float64Array,
  p: ConvParams,
  wants: DenseWants,
): DenseGradients {
  const [n, c] = xShape as [number, number];
  const [m, cg] = wShape as [number, number];
  const inSpatial = xShape.slice(2);
  const kernel = wShape.slice(2);
  const outSpatial = convOutputSpatial(inSpatial, kernel, p);
  const mg = m / p.group;
  const kTaps = sizeOf(kernel);
  const kk = cg * kTaps;
  const positions = sizeOf(outSpatial);
  const plane = sizeOf(inSpatial);
  const offsets = convTapOffsets(inSpatial, kernel, outSpatial, p);
  const dx = wants.x ? new Float64Array(x.length) : null;
  const dw = wants.w ? new Float64Array(w.length) : null;
  const db = wants.b ? new Float64Array(m) : null;
  const col = dw ? new Float64Array(kk * positions) : null;
  const dcol = dx ? new Float64Array(kk * positions) : null;
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < p.group; g++) {
      const xBase = (b * c + g * cg) * plane;
      const dyBase = (b * m + g * mg) * positions;
      if (col) {
        for (let ci = 0; ci < cg; ci++) {
          for (let k = 0; k < kTaps; k++) {
            const row = (ci * kTaps + k) * positions;
            const offRow = k * positions;
            for (let q = 0; q < positions; q++) {
              const off = offsets[offRow + q]!;
              col[row + q] = off < 0 ? 0 : x[xBase + ci * plane + off]!;
            }
          }
        }
      }
      for (let j = 0; j < mg; j++) {
        const dyRow = dyBase + j * positions;
        const wRow = (g * mg + j) * kk;
        if (db) {
          let s = 0;
          for (let q = 0; q < positions; q++) s += dy[dyRow + q]!;
          db[g * mg + j] += s;
        }
        if (dw && col) accumulateDotRows(dy, dyRow, col, kk, positions, dw, wRow);
      }
      if (dcol) {
        dcol.fill(0);
        accumulateTransposed(w, g * mg * kk, mg, kk, dy, dyBase, positions, dcol);
      }
      if (dx && dcol) {
        // col2im: every column entry goes back to the input element it was read from
        for (let ci = 0; ci < cg; ci++) {
          const xc = xBase + ci * plane;
          for (let k = 0; k < kTaps; k++) {
            const row = (ci * kTaps + k) * positions;
            const offRow = k * positions;
            for (let q = 0; q < positions; q++) {
              const off = offsets[offRow + q]!;
              if (off >= 0) dx[xc + off] += dcol[row + q]!;
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/**
 * Backward of ONNX Gemm Y = α·A'·B' + β·C (A' = transA ? Aᵀ : A, [M, K]; B' likewise [K, N]; C broadcast to
 * [M, N] with the forward kernel's strides): dA' = α·dY·B'ᵀ, dB' = α·A'ᵀ·dY, dC = β·dY summed over broadcast
 * dims; each written back in its operand's stored layout. 2-D matmul is the case α = 1, no transposes, no C.
 */
export function gemmBackwardImpl(
  a: Float64Array,
  aShape: readonly number[],
  b: Float64Array,
  bShape: readonly number[],
  cShape: readonly number[] | null,
  alpha: number,
  beta: number,
  transA: boolean,
  transB: boolean,
  dy: Float64Array,
  wants: { readonly a: boolean; readonly b: boolean; readonly c: boolean },
): { da: Float64Array | null; db: Float64Array | null; dc: Float64Array | null } {
  const m = transA ? aShape[1]! : aShape[0]!;
  const k = transA ? aShape[0]! : aShape[1]!;
  const n = transB ? bShape[0]! : bShape[1]!;
  // strides of A'[i, t] and B'[t, j] in the stored layouts
  const aI = transA ? 1 : k;
  const aT = transA ? m : 1;
  const bT = transB ? 1 : n;
  const bJ = transB ? k : 1;
  const da = wants.a ? new Float64Array(a.length) : null;
  const db = wants.b ? new Float64Array(b.length) : null;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const g = alpha * dy[i * n + j]!;
      if (g === 0) continue;
      if (da) for (let t = 0; t < k; t++) da[i * aI + t * aT] += g * b[t * bT + j * bJ]!;
      if (db) for (let t = 0; t < k; t++) db[t * bT + j * bJ] += g * a[i * aI + t * aT]!;
    }
  }
  let dc: Float64Array | null = null;
  if (wants.c && cShape) {
    // the forward kernel's broadcast of C: stride 0 over a missing or size-1 dim
    const cm = cShape.length === 2 && cShape[0] !== 1 ? cShape[1]! : 0;
    const cn = cShape.length >= 1 && cShape[cShape.length - 1] !== 1 ? 1 : 0;
    dc = new Float64Array(sizeOf(cShape));
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) dc[i * cm + j * cn] += beta * dy[i * n + j]!;
  }
  return { da, db, dc };
}

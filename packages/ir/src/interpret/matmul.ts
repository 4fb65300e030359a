/** @fileoverview Gemm, numpy MatMul and `linear` kernels: k-inner loops over contiguous rows, float64 accumulation. */
import { matmulShape } from "../ops/registry.js";
import { allocLike, sizeOf, type FloatArray } from "./common.js";

/**
 * out[M,N] (+)= A·B for row-major A [M,K] at aOff and B [K,N] at bOff, accumulating each output row in `acc`
 * (float64) and streaming B's rows: the i-k-j order touches memory contiguously.
 */
function gemmRows(a: FloatArray, aOff: number, b: FloatArray, bOff: number, out: FloatArray, oOff: number, m: number, k: number, n: number, acc: Float64Array): void {
  for (let i = 0; i < m; i++) {
    acc.fill(0, 0, n);
    const aRow = aOff + i * k;
    for (let t = 0; t < k; t++) {
      const av = a[aRow + t]!;
      if (av === 0) continue;
      const bRow = bOff + t * n;
      for (let j = 0; j < n; j++) acc[j] += av * b[bRow + j]!;
    }
    const oRow = oOff + i * n;
    for (let j = 0; j < n; j++) out[oRow + j] = acc[j]!;
  }
}

/**
 * ONNX Gemm: Y = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A (a is [M,K] or [K,M]), B' likewise, C
 * broadcast (unidirectionally) to [M,N]. Result in a's precision.
 */
export function gemmImpl(
  a: FloatArray,
  aShape: readonly number[],
  b: FloatArray,
  bShape: readonly number[],
  c: FloatArray | null,
  cShape: readonly number[] | null,
  alpha: number,
  beta: number,
  transA: boolean,
  transB: boolean,
): { data: FloatArray; shape: number[] } {
  const m = transA ? aShape[1]! : aShape[0]!;
  const k = transA ? aShape[0]! : aShape[1]!;
  const n = transB ? bShape[0]! : bShape[1]!;
  const out = allocLike(a, m * n);
  const acc = new Float64Array(n);
  // strides of A'[i,t] and B'[t,j] in the stored layouts
  const aI = transA ? 1 : k;
  const aT = transA ? m : 1;
  if (!transB) {
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let t = 0; t < k; t++) {
        const av = a[i * aI + t * aT]!;
        if (av === 0) continue;
        const bRow = t * n;
        for (let j = 0; j < n; j++) acc[j] += av * b[bRow + j]!;
      }
      for (let j = 0; j < n; j++) out[i * n + j] = alpha * acc[j]!;
    }
  } else if (!transA) {
    // A·Bᵀ: both operands are read along contiguous rows, exactly the linear kernel
    dotRows(a, b, out, m, k, n, null);
    if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i] *= alpha;
  } else {
    // Aᵀ·Bᵀ: dot products with a strided A column
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        const bRow = j * k;
        for (let t = 0; t < k; t++) s += a[t * m + i]! * b[bRow + t]!;
        out[i * n + j] = alpha * s;
      }
    }
  }
  if (c && cShape && beta !== 0) {
    // align C's dims to [M, N] from the right; size-1 (or missing) dims broadcast with stride 0
    const cm = cShape.length === 2 && cShape[0] !== 1 ? cShape[1]! : 0;
    const cn = cShape.length >= 1 && cShape[cShape.length - 1] !== 1 ? 1 : 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] += beta * c[i * cm + j * cn]!;
  }
  return { data: out, shape: [m, n] };
}

/** numpy matmul: 1-D operands are promoted (and the promoted dim dropped), batch dims broadcast. */
export function matmulImpl(a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[]): { data: FloatArray; shape: number[] } {
  const shape = matmulShape(aShape, bShape);
  const a2 = aShape.length === 1 ? [1, aShape[0]!] : aShape;
  const b2 = bShape.length === 1 ? [bShape[0]!, 1] : bShape;
  const m = a2[a2.length - 2]!;
  const k = a2[a2.length - 1]!;
  const n = b2[b2.length - 1]!;
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - aBatch.length ? 1 : aBatch[i - (rank - aBatch.length)]!;
    const db = i < rank - bBatch.length ? 1 : bBatch[i - (rank - bBatch.length)]!;
    batch[i] = Math.max(da, db);
  }
  // matrix index of a and b for each output batch index (stride 0 over broadcast dims)
  const matStrides = (bd: readonly number[]): number[] => {
    const s = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = bd.length - 1; i >= 0; i--) {
      s[i + rank - bd.length] = bd[i] === 1 ? 0 : acc;
      acc *= bd[i]!;
    }
    return s;
  };
  const sa = matStrides(aBatch);
  const sb = matStrides(bBatch);
  const total = sizeOf(batch);
  const out = allocLike(a, total * m * n);
  const acc = new Float64Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let q = 0; q < total; q++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia += idx[d]! * sa[d]!;
      ib += idx[d]! * sb[d]!;
    }
    gemmRows(a, ia * m * k, b, ib * k * n, out, q * m * n, m, k, n, acc);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape };
}

/** y[..., j] = Σ_t x[..., t]·w[j, t] + bias[j]; w is [N, K] (out-channel-major), so every sum is over two contiguous rows. */
export function linearImpl(x: FloatArray, xShape: readonly number[], w: FloatArray, wShape: readonly number[], bias: FloatArray | null): { data: FloatArray; shape: number[] } {
  const k = xShape[xShape.length - 1]!;
  const n = wShape[0]!;
  const rows = k === 0 ? sizeOf(xShape.slice(0, -1)) : x.length / k;
  const out = allocLike(x, rows * n);
  dotRows(x, w, out, rows, k, n, bias);
  return { data: out, shape: [...xShape.slice(0, -1), n] };
}

/**
 * out[r·n + j] = Σ_t x[r·k + t]·w[j·k + t] (+ bias[j]) for r < rows, j < n: dot products of contiguous rows, each
 * summed from t = 0 up and the bias added last (so any blocking gives the same values).
 */
function dotRows(x: FloatArray, w: FloatArray, out: FloatArray, rows: number, k: number, n: number, bias: FloatArray | null): void {
  // four rows of x against four rows of w per pass: sixteen sums from eight loads (a block past the last row of w
  // repeats it, computing and writing the same sums again)
  const rows4 = rows - (rows % 4);
  const biasOf = (j: number): number => (bias ? bias[j]! : 0);
  let r = 0;
  for (; r < rows4; r += 4) {
    const x0 = r * k;
    const x1 = x0 + k;
    const x2 = x1 + k;
    const x3 = x2 + k;
    for (let j = 0; j < n; j += 4) {
      const j1 = Math.min(j + 1, n - 1);
      const j2 = Math.min(j + 2, n - 1);
      const j3 = Math.min(j + 3, n - 1);
      const w0 = j * k, w1 = j1 * k, w2 = j2 * k, w3 = j3 * k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let t = 0; t < k; t++) {
        const a0 = x[x0 + t]!, a1 = x[x1 + t]!, a2 = x[x2 + t]!, a3 = x[x3 + t]!;
        const b0 = w[w0 + t]!, b1 = w[w1 + t]!, b2 = w[w2 + t]!, b3 = w[w3 + t]!;
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      const c0 = biasOf(j), c1 = biasOf(j1), c2 = biasOf(j2), c3 = biasOf(j3);
      const o0 = r * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
      out[o0 + j] = s00 + c0; out[o0 + j1] = s01 + c1; out[o0 + j2] = s02 + c2; out[o0 + j3] = s03 + c3;
      out[o1 + j] = s10 + c0; out[o1 + j1] = s11 + c1; out[o1 + j2] = s12 + c2; out[o1 + j3] = s13 + c3;
      out[o2 + j] = s20 + c0; out[o2 + j1] = s21 + c1; out[o2 + j2] = s22 + c2; out[o2 + j3] = s23 + c3;
      out[o3 + j] = s30 + c0; out[o3 + j1] = s31 + c1; out[o3 + j2] = s32 + c2; out[o3 + j3] = s33 + c3;
    }
  }
  for (; r < rows; r++) {
    const xRow = r * k;
    for (let j = 0; j < n; j++) {
      const wRow = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s += x[xRow + t]! * w[wRow + t]!;
      out[r * n + j] = s + biasOf(j);
    }
  }
}

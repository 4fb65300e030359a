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

/** out[r·n + j] = Σ_t x[r·k + t]·w[j·k + t] (+ bias[j]) for r < rows, j < n: dot products of contiguous rows. */
function dotRows(x: FloatArray, w: FloatArray, out: FloatArray, rows: number, k: number, n: number, bias: FloatArray | null): void {
  // four rows of x against one row of w per pass: each weight load feeds four multiply-adds
  const rows4 = rows - (rows % 4);
  let r = 0;
  for (; r < rows4; r += 4) {
    const x0 = r * k;
    const x1 = x0 + k;
    const x2 = x1 + k;
    const x3 = x2 + k;
    for (let j = 0; j < n; j++) {
      const wRow = j * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let t = 0; t < k; t++) {
        const wv = w[wRow + t]!;
        s0 += x[x0 + t]! * wv;
        s1 += x[x1 + t]! * wv;
        s2 += x[x2 + t]! * wv;
        s3 += x[x3 + t]! * wv;
      }
      const bv = bias ? bias[j]! : 0;
      out[r * n + j] = s0 + bv;
      out[(r + 1) * n + j] = s1 + bv;
      out[(r + 2) * n + j] = s2 + bv;
      out[(r + 3) * n + j] = s3 + bv;
    }
  }
  for (; r < rows; r++) {
    const xRow = r * k;
    for (let j = 0; j < n; j++) {
      const wRow = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s += x[xRow + t]! * w[wRow + t]!;
      out[r * n + j] = s + (bias ? bias[j]! : 0);
    }
  }
}

/**
 * @fileoverview Spectral-clustering quantization for low bit counts (Ma, Jiang, Liu, Du, Ma, Du, "A Resource-Efficient
 * Weight Quantization and Mapping Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems",
 * Integrated Circuits and Systems 2(4), 2025, which merges weights by spectral clustering after Ng, Jordan, Weiss,
 * NIPS 2001, their ref. [17]). Normalized-Laplacian embedding, row normalization, k-means in the embedding.
 *
 * Simplification: an N×N affinity over 400k weights is out of reach, so the weights are first binned into at most
 * 256 equal-width bins over [w_min, w_max], and the graph has one node per non-empty bin, weighted by its count.
 * This is exact spectral clustering of the weights rounded to their bin centres (see `fitSpectral`); the binning
 * only limits how finely a cluster boundary can fall (1/256 of the range). Centroids are then computed from the
 * actual weights in each cluster's bins, not from the bin centres.
 */
import { XbarcError } from "@xbarc/ir";
import { assignNearest, mapCodebookToStates, type QuantizeContext, type QuantResult, type Quantizer } from "./quantizer.js";
import { createConstantResult } from "./mes-caq.js";
import { getDistinctValues, runKmeansPoints, uniqueSorted } from "./kmeans.js";

/** Bins of the weight histogram (graph nodes); also caps the dense eigenproblem at 256×256. */
export const SPECTRAL_BINS = 256;
/** Local scale of a node = distance to its 7th nearest node (Zelnik-Manor & Perona, NIPS 2004, use 7). */
const LOCAL_SCALE_NEIGHBOUR = 7;
/** From 2^8 = 256 groups on, every bin is its own group: spectral clustering has nothing left to decide. */
const MAX_SPECTRAL_BITS = 8;
/** k-means restarts in the embedding (cheap: at most 256 points). */
const EMBEDDING_RESTARTS = 4;

/**
 * Eigen-decomposition of a dense symmetric n×n matrix (row-major): Householder reduction to tridiagonal form and
 * the implicit QL algorithm (tred2/tql2 of EISPACK, as in the public-domain JAMA library). Returns the eigenvalues
 * ascending and the eigenvectors as the columns of a row-major n×n matrix.
 */
export function getSymmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const V = Float64Array.from(matrix);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: V };
  const at = (i: number, j: number) => i * n + j;
  tred2(V, d, e, n, at);
  tql2(V, d, e, n, at);
  return { values: d, vectors: V };
}

function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number, at: (i: number, j: number) => number): void {
  for (let j = 0; j < n; j++) d[j] = V[at(n - 1, j)]!;
  for (let i = n - 1; i > 0; i--) {
    // scale to avoid under/overflow
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[at(i - 1, j)]!;
        V[at(i, j)] = 0;
        V[at(j, i)] = 0;
      }
    } else {
      // generate the Householder vector
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // apply the similarity transformation to the remaining columns
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[at(j, i)] = f;
        g = e[j]! + V[at(j, j)]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[at(k, j)]! * d[k]!;
          e[k]! += V[at(k, j)]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[at(k, j)]! -= f * e[k]! + g * d[k]!;
        d[j] = V[at(i - 1, j)]!;
        V[at(i, j)] = 0;
      }
    }
    d[i] = h;
  }
  // accumulate the transformations
  for (let i = 0; i < n - 1; i++) {
    V[at(n - 1, i)] = V[at(i, i)]!;
    V[at(i, i)] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[at(k, i + 1)]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[at(k, i + 1)]! * V[at(k, j)]!;
        for (let k = 0; k <= i; k++) V[at(k, j)]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[at(k, i + 1)] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[at(n - 1, j)]!;
    V[at(n - 1, j)] = 0;
  }
  V[at(n - 1, n - 1)] = 1;
  e[0] = 0;
}

function tql2(V: Float64Array, d: Float64Array, e: Float64Array, n: number, at: (i: number, j: number) => number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // find a small subdiagonal element
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    // if m === l, d[l] is an eigenvalue; otherwise iterate (QL converges cubically; 64 sweeps is a safety net)
    if (m > l) {
      for (let iter = 0; iter < 64; iter++) {
        // implicit shift
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        // implicit QL transformation
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          // accumulate the transformation
          for (let k = 0; k < n; k++) {
            h = V[at(k, i + 1)]!;
            V[at(k, i + 1)] = s * V[at(k, i)]! + c * h;
            V[at(k, i)] = c * V[at(k, i)]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(Math.abs(e[l]!) > eps * tst1)) break;
      }
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  // sort eigenvalues ascending, with their vectors
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i]!;
    for (let j = i + 1; j < n; j++) {
      if (d[j]! < p) {
        k = j;
        p = d[j]!;
      }
    }
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = V[at(j, i)]!;
        V[at(j, i)] = V[at(j, k)]!;
        V[at(j, k)] = t;
      }
    }
  }
}

/**
 * Spectral clustering of weighted points on a line into k groups; returns each point's group.
 * Graph: Gaussian affinity with local scaling (Zelnik-Manor & Perona, "Self-Tuning Spectral Clustering", NIPS 2004):
 * a_ij = exp(−(x_i − x_j)² / (σ_i σ_j)), σ_i = distance from x_i to its 7th nearest point — a stated rule that keeps
 * separated groups disconnected whatever the layer's scale, where one global bandwidth (e.g. the median pairwise
 * distance) would join clusters closer than the range. Node i stands for c_i identical weights, so the point-level
 * normalized affinity D^−½ A D^−½ restricted to bin-constant vectors is the symmetric
 * S_ij = √(c_i c_j) a_ij / √(d_i d_j), d_i = Σ_j c_j a_ij; its top-k eigenvectors are the k smallest of the normalized
 * Laplacian I − S (Ng, Jordan, Weiss 2001, steps 1–3). Rows are normalized to unit length (step 4) and clustered by
 * count-weighted k-means (step 5).
 */
export function runSpectralClustering(x: Float64Array, counts: Float64Array, k: number, random: () => number): Int32Array {
  const m = x.length;
  if (k >= m) return Int32Array.from({ length: m }, (_, i) => i);
  const sigma = new Float64Array(m);
  const dist = new Float64Array(m - 1);
  for (let i = 0; i < m; i++) {
    for (let j = 0, t = 0; j < m; j++) if (j !== i) dist[t++] = Math.abs(x[i]! - x[j]!);
    dist.sort();
    sigma[i] = dist[Math.min(LOCAL_SCALE_NEIGHBOUR, m - 1) - 1]!;
  }
  const affinity = new Float64Array(m * m);
  const degree = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const dx = x[i]! - x[j]!;
      const a = i === j ? 1 : Math.exp(-(dx * dx) / (sigma[i]! * sigma[j]!));
      affinity[i * m + j] = a;
      degree[i]! += counts[j]! * a;
    }
  }
  const S = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) S[i * m + j] = (Math.sqrt(counts[i]! * counts[j]!) * affinity[i * m + j]!) / Math.sqrt(degree[i]! * degree[j]!);
  }
  const { vectors } = getSymmetricEigen(S, m);
  // top-k eigenvectors of S (eigenvalues ascending: the last k columns), rows normalized to unit length
  const embedding = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    let norm = 0;
    for (let c = 0; c < k; c++) {
      const v = vectors[i * m + (m - k + c)]!;
      embedding[i * k + c] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let c = 0; c < k; c++) embedding[i * k + c]! /= norm;
  }
  return runKmeansPoints(embedding, k, counts, k, random, EMBEDDING_RESTARTS).labels;
}

/** Spectral-clustering quantization of one layer with K = 2^bits codes. */
function fitSpectral(weights: Float32Array, ctx: QuantizeContext): QuantResult {
  const bits = ctx.bits;
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_SPECTRAL_BITS) {
    throw new XbarcError("XB5002", `spectral: bits=${bits} is outside 1..${MAX_SPECTRAL_BITS}`, {
      hint: `spectral clustering is for low bit counts; use bits between 1 and ${MAX_SPECTRAL_BITS}, or the kmeans quantizer`,
    });
  }
  const K = 2 ** bits;
  const distinct = getDistinctValues(weights);
  if (distinct.values.length <= 1) return createConstantResult(distinct.values[0] ?? 0, weights.length, ctx.states);
  let codebook: Float64Array;
  if (distinct.values.length <= K) {
    codebook = distinct.values; // nothing to merge
  } else {
    // histogram: node = non-empty bin, at the bin centre, weighted by its count; also each bin's sum of weights
    // positions in units of the range: the locally scaled affinity does not depend on scale, and tiny ranges
    // cannot underflow the bin width
    const wMin = distinct.values[0]!;
    const range = distinct.values[distinct.values.length - 1]! - wMin;
    const binCount = new Float64Array(SPECTRAL_BINS);
    const binSum = new Float64Array(SPECTRAL_BINS);
    for (let i = 0; i < weights.length; i++) {
      const b = Math.min(SPECTRAL_BINS - 1, Math.floor(((weights[i]! - wMin) / range) * SPECTRAL_BINS));
      binCount[b]!++;
      binSum[b]! += weights[i]!;
    }
    const nodes: number[] = [];
    for (let b = 0; b < SPECTRAL_BINS; b++) if (binCount[b]! > 0) nodes.push(b);
    const centres = Float64Array.from(nodes, (b) => (b + 0.5) / SPECTRAL_BINS);
    const counts = Float64Array.from(nodes, (b) => binCount[b]!);
    const labels = runSpectralClustering(centres, counts, K, ctx.random);
    // centroid of a cluster = mean of the actual weights in its bins
    const sum = new Float64Array(K);
    const count = new Float64Array(K);
    for (let t = 0; t < nodes.length; t++) {
      sum[labels[t]!]! += binSum[nodes[t]!]!;
      count[labels[t]!]! += binCount[nodes[t]!]!;
    }
    const means: number[] = [];
    for (let c = 0; c < K; c++) if (count[c]! > 0) means.push(sum[c]! / count[c]!);
    codebook = uniqueSorted(Float64Array.from(means).sort());
  }
  return { codebook, codes: assignNearest(weights, codebook), ...mapCodebookToStates(codebook, ctx.states) };
}

/** Spectral clustering of the weight histogram into 2^bits groups (for low bit counts). */
export const spectralQuantizer: Quantizer = {
  name: "spectral",
  summary: "spectral clustering (normalized Laplacian, Ng-Jordan-Weiss) of a 256-bin weight histogram into 2^bits groups; centroids from the actual weights",
  cite: "Ma, Jiang, Liu, Du, Ma, Du, \"A Resource-Efficient Weight Quantization and Mapping Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems\", Integrated Circuits and Systems 2(4), 2025 (spectral clustering for low bit counts); Ng, Jordan, Weiss, NIPS 2001",
  fit: fitSpectral,
};

/**
 * @fileoverview Group quantization by k-means for higher bit counts (Ma, Jiang, Liu, Du, Ma, Du, "A Resource-Efficient
 * Weight Quantization and Mapping Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems",
 * Integrated Circuits and Systems 2(4), 2025): weights are merged into K = 2^bits groups by Lloyd's k-means with
 * k-means++ seeding (Arthur & Vassilvitskii, SODA 2007), each group represented by its mean. In one dimension
 * the clusters are intervals of the sorted weights, so each Lloyd step is K binary searches over prefix sums.
 * Also the weighted k-means on points that spectral clustering runs in its embedding.
 */
import { XbarcError } from "@xbarc/ir";
import { assignNearest, mapCodebookToStates, searchSorted, type QuantizeContext, type QuantResult, type Quantizer } from "./quantizer.js";
import { createConstantResult } from "./mes-caq.js";

/** Largest bit count accepted: k-means++ seeding costs K·(distinct weights) operations. */
const MAX_KMEANS_BITS = 12;
/** Lloyd iterations before giving up on exact convergence (1-D Lloyd converges in far fewer in practice). */
const MAX_LLOYD_ITERATIONS = 1000;

/** The distinct values of `weights`, ascending, and how often each occurs. */
export function getDistinctValues(weights: Float32Array): { values: Float64Array; counts: Float64Array } {
  const sorted = Float64Array.from(weights).sort();
  let m = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) m++;
  const values = new Float64Array(m);
  const counts = new Float64Array(m);
  let j = -1;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) values[++j] = sorted[i]!;
    counts[j]!++;
  }
  return { values, counts };
}

/** Picks an index with probability ∝ mass[i] (mass ≥ 0, total > 0), skipping zero-mass entries. */
function sampleIndex(mass: Float64Array, total: number, random: () => number): number {
  const r = random() * total;
  let acc = 0;
  let last = -1;
  for (let i = 0; i < mass.length; i++) {
    if (mass[i]! <= 0) continue;
    last = i;
    acc += mass[i]!;
    if (acc > r) return i;
  }
  return last; // r landed on the rounding slack at the end
}

/**
 * 1-D weighted k-means: `values` distinct and ascending, `counts` their multiplicities, k ≤ values.length.
 * k-means++ seeding from `random`, then Lloyd until the cluster intervals stop changing. An empty cluster is
 * re-seeded at the value contributing most error (so k clusters survive whenever k distinct values exist).
 * Returns the k centres, ascending.
 */
export function runKmeans1d(values: Float64Array, counts: Float64Array, k: number, random: () => number): Float64Array {
  const m = values.length;
  if (k >= m) return Float64Array.from(values);
  // prefix sums of count and count·(v − v̄): centring keeps the differences accurate for clusters far from 0
  let total = 0;
  let mean = 0;
  for (let i = 0; i < m; i++) total += counts[i]!;
  for (let i = 0; i < m; i++) mean += (counts[i]! * values[i]!) / total;
  const prefixCount = new Float64Array(m + 1);
  const prefixSum = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    prefixCount[i + 1] = prefixCount[i]! + counts[i]!;
    prefixSum[i + 1] = prefixSum[i]! + counts[i]! * (values[i]! - mean);
  }

  // k-means++: first centre ∝ count, each next ∝ count·D², D the distance to the nearest chosen centre
  const centres = new Float64Array(k);
  const d2 = new Float64Array(m).fill(Infinity);
  const mass = new Float64Array(m);
  let pick = sampleIndex(counts, total, random);
  for (let c = 0; c < k; c++) {
    centres[c] = values[pick]!;
    let massTotal = 0;
    for (let i = 0; i < m; i++) {
      const d = values[i]! - centres[c]!;
      if (d * d < d2[i]!) d2[i] = d * d;
      mass[i] = counts[i]! * d2[i]!;
      massTotal += mass[i]!;
    }
    if (c + 1 < k) pick = sampleIndex(mass, massTotal, random);
  }
  centres.sort();

  // Lloyd: cluster c is the interval of values between the midpoints to its neighbours
  const ends = new Int32Array(k);
  const previousEnds = new Int32Array(k).fill(-1);
  for (let iter = 0; iter < MAX_LLOYD_ITERATIONS; iter++) {
    // "right": a value equal to a midpoint stays with the lower cluster
    for (let c = 0; c < k - 1; c++) ends[c] = searchSorted(values, (centres[c]! + centres[c + 1]!) / 2, "right");
    ends[k - 1] = m;
    let changed = false;
    for (let c = 0; c < k; c++) if (ends[c] !== previousEnds[c]) changed = true;
    if (!changed) break;
    previousEnds.set(ends);
    let emptyCluster = -1;
    for (let c = 0, lo = 0; c < k; lo = ends[c]!, c++) {
      const n = prefixCount[ends[c]!]! - prefixCount[lo]!;
      if (n > 0) centres[c] = mean + (prefixSum[ends[c]!]! - prefixSum[lo]!) / n;
      else emptyCluster = c;
    }
    if (emptyCluster >= 0) reseedEmpty(values, counts, centres, ends, emptyCluster);
  }
  return centres;
}

/** Moves the empty cluster's centre onto the value with the largest weighted squared error, then re-sorts. */
function reseedEmpty(values: Float64Array, counts: Float64Array, centres: Float64Array, ends: Int32Array, empty: number): void {
  let worst = -1;
  let worstError = -1;
  for (let c = 0, lo = 0; c < centres.length; lo = ends[c]!, c++) {
    for (let i = lo; i < ends[c]!; i++) {
      const d = values[i]! - centres[c]!;
      const e = counts[i]! * d * d;
      if (e > worstError) {
        worstError = e;
        worst = i;
      }
    }
  }
  if (worst >= 0 && worstError > 0) {
    centres[empty] = values[worst]!;
    centres.sort();
  }
}

/**
 * Weighted k-means (Lloyd) on `n` points of dimension `dim` (row-major), with k-means++ seeding; the best of
 * `restarts` runs by weighted within-cluster squared error. Returns each point's cluster and the cost.
 */
export function runKmeansPoints(
  points: Float64Array,
  dim: number,
  weights: Float64Array,
  k: number,
  random: () => number,
  restarts = 1,
): { labels: Int32Array; cost: number } {
  const n = weights.length;
  let best: { labels: Int32Array; cost: number } | undefined;
  for (let r = 0; r < Math.max(1, restarts); r++) {
    const run = runKmeansPointsOnce(points, dim, weights, Math.min(k, n), random);
    if (!best || run.cost < best.cost) best = run;
  }
  return best!;
}

function runKmeansPointsOnce(points: Float64Array, dim: number, weights: Float64Array, k: number, random: () => number): { labels: Int32Array; cost: number } {
  const n = weights.length;
  const sqDist = (i: number, centres: Float64Array, c: number): number => {
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const x = points[i * dim + d]! - centres[c * dim + d]!;
      s += x * x;
    }
    return s;
  };
  const centres = new Float64Array(k * dim);
  const d2 = new Float64Array(n).fill(Infinity);
  const mass = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  let pick = sampleIndex(weights, total, random);
  for (let c = 0; c < k; c++) {
    centres.set(points.subarray(pick * dim, pick * dim + dim), c * dim);
    let massTotal = 0;
    for (let i = 0; i < n; i++) {
      d2[i] = Math.min(d2[i]!, sqDist(i, centres, c));
      mass[i] = weights[i]! * d2[i]!;
      massTotal += mass[i]!;
    }
    if (c + 1 >= k) break;
    // fewer distinct points than k: the remaining centres duplicate and end up empty
    pick = massTotal > 0 ? sampleIndex(mass, massTotal, random) : pick;
  }

  const labels = new Int32Array(n).fill(-1);
  const sums = new Float64Array(k * dim);
  const mass2 = new Float64Array(k);
  let cost = 0;
  for (let iter = 0; iter < MAX_LLOYD_ITERATIONS; iter++) {
    let changed = false;
    cost = 0;
    for (let i = 0; i < n; i++) {
      let bestC = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const d = sqDist(i, centres, c);
        if (d < bestD) {
          bestD = d;
          bestC = c;
        }
      }
      cost += weights[i]! * bestD;
      if (labels[i] !== bestC) {
        labels[i] = bestC;
        changed = true;
      }
    }
    if (!changed) break;
    sums.fill(0);
    mass2.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      mass2[c]! += weights[i]!;
      for (let d = 0; d < dim; d++) sums[c * dim + d]! += weights[i]! * points[i * dim + d]!;
    }
    for (let c = 0; c < k; c++) {
      if (mass2[c]! > 0) for (let d = 0; d < dim; d++) centres[c * dim + d] = sums[c * dim + d]! / mass2[c]!;
    }
  }
  return { labels, cost };
}

/** k-means group quantization of one layer. */
function fitKmeans(weights: Float32Array, ctx: QuantizeContext): QuantResult {
  const bits = ctx.bits;
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_KMEANS_BITS) {
    throw new XbarcError("XB5002", `kmeans: bits=${bits} is outside 1..${MAX_KMEANS_BITS}`, {
      hint: `give the quantize pass bits between 1 and ${MAX_KMEANS_BITS} for the kmeans quantizer`,
    });
  }
  const { values, counts } = getDistinctValues(weights);
  if (values.length <= 1) return createConstantResult(values[0] ?? 0, weights.length, ctx.states);
  const centres = runKmeans1d(values, counts, Math.min(2 ** bits, values.length), ctx.random);
  // a cluster left empty (only when re-seeding failed) has a stale centre; keep the codebook strictly increasing
  const codebook = uniqueSorted(centres);
  return { codebook, codes: assignNearest(weights, codebook), ...mapCodebookToStates(codebook, ctx.states) };
}

/** The distinct values of an ascending array. */
export function uniqueSorted(sorted: Float64Array): Float64Array {
  let m = 0;
  const out = new Float64Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i]! > out[m - 1]!) out[m++] = sorted[i]!;
  return out.slice(0, m);
}

/** Group quantization: 1-D k-means with K = 2^bits. */
export const kmeansQuantizer: Quantizer = {
  name: "kmeans",
  summary: "group quantization: 1-D k-means (k-means++ seeding, Lloyd to convergence) with K = 2^bits centres, each weight to the nearest",
  cite: "Ma, Jiang, Liu, Du, Ma, Du, \"A Resource-Efficient Weight Quantization and Mapping Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems\", Integrated Circuits and Systems 2(4), 2025 (group quantization for high bit counts)",
  fit: fitKmeans,
};

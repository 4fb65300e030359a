/** @fileoverview Reverse-mode kernels of the pools: max (gradient to the winning tap), average (spread over the window), global average. */
import { sizeOf } from "../common.js";
import { forEachWindow, maxPoolImpl, poolOutputSpatial, type PoolParams } from "../pool.js";

/**
 * maxpool: each output's gradient goes to the input element that won its window. The winners come from the
 * forward kernel itself (its flat indices), so ties and padding resolve exactly as in the forward pass.
 */
export function maxPoolBackwardImpl(x: Float64Array, xShape: readonly number[], p: PoolParams, dy: Float64Array): Float64Array {
  const { indices } = maxPoolImpl(x, xShape, p, true, 0);
  const dx = new Float64Array(x.length);
  for (let q = 0; q < dy.length; q++) {
    const at = Number(indices![q]!);
    // a window with no in-image tap (possible with large pads) has no winner
    if (at >= 0) dx[at] += dy[q]!;
  }
  return dx;
}

/**
 * avgpool: each output's gradient is split evenly over its window's in-image taps, divided by the same divisor the
 * forward pass used (in-image taps, or in-image-plus-pad taps with count_include_pad). The window walk is pool.ts's own.
 */
export function avgPoolBackwardImpl(xShape: readonly number[], p: PoolParams, countIncludePad: boolean, dy: Float64Array): Float64Array {
  const [n, c] = xShape as [number, number];
  const inSpatial = xShape.slice(2);
  const outSpatial = poolOutputSpatial(inSpatial, p);
  const plane = sizeOf(inSpatial);
  const positions = sizeOf(outSpatial);
  const dx = new Float64Array(n * c * plane);
  forEachWindow(inSpatial, outSpatial, p, (q, taps, count, inPadded) => {
    const divisor = countIncludePad ? inPadded : count;
    for (let nc = 0; nc < n * c; nc++) {
      const share = dy[nc * positions + q]! / divisor;
      const xBase = nc * plane;
      for (let t = 0; t < count; t++) dx[xBase + taps[t]!] += share;
    }
  });
  return dx;
}

/** globalavgpool: dx = dy / (elements per plane), broadcast over each plane. */
export function globalAvgPoolBackwardImpl(xShape: readonly number[], dy: Float64Array): Float64Array {
  const plane = sizeOf(xShape.slice(2));
  const dx = new Float64Array(dy.length * plane);
  for (let i = 0; i < dy.length; i++) dx.fill(dy[i]! / plane, i * plane, (i + 1) * plane);
  return dx;
}

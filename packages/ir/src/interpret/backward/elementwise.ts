/** @fileoverview Reverse-mode kernels of elementwise ops: activations (from their input or output) and broadcast add/sub/mul/div. */
import { forEachBroadcastRun } from "../elementwise.js";
import type { BinaryKind } from "../elementwise.js";

/** relu: dx = dy where x > 0 (the derivative at 0 is taken as 0, as PyTorch does). */
export function reluBackwardImpl(x: Float64Array, dy: Float64Array): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) if (x[i]! > 0) dx[i] = dy[i]!;
  return dx;
}

/** leakyrelu (y = x for x ≥ 0, αx below): dx = dy·(x > 0 ? 1 : α). */
export function leakyReluBackwardImpl(x: Float64Array, dy: Float64Array, alpha: number): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) dx[i] = x[i]! > 0 ? dy[i]! : alpha * dy[i]!;
  return dx;
}

/** sigmoid, from its output y: dx = dy·y·(1 − y). */
export function sigmoidBackwardImpl(y: Float64Array, dy: Float64Array): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * y[i]! * (1 - y[i]!);
  return dx;
}

/** tanh, from its output y: dx = dy·(1 − y²). */
export function tanhBackwardImpl(y: Float64Array, dy: Float64Array): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * (1 - y[i]! * y[i]!);
  return dx;
}

/** clip to [lo, hi]: dx = dy inside the closed interval (PyTorch's convention at the bounds), 0 outside. */
export function clipBackwardImpl(x: Float64Array, dy: Float64Array, lo: number, hi: number): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) if (x[i]! >= lo && x[i]! <= hi) dx[i] = dy[i]!;
  return dx;
}

/**
 * Backward of a broadcast binary op y = a ∘ b: the local derivative times dy, summed over the dims each operand
 * was broadcast along (a stride-0 run accumulates into one element). Only the requested gradients are computed.
 */
export function binaryBackwardImpl(
  kind: BinaryKind,
  a: Float64Array,
  aShape: readonly number[],
  b: Float64Array,
  bShape: readonly number[],
  outShape: readonly number[],
  dy: Float64Array,
  wantA: boolean,
  wantB: boolean,
): { da: Float64Array | null; db: Float64Array | null } {
  const da = wantA ? new Float64Array(a.length) : null;
  const db = wantB ? new Float64Array(b.length) : null;
  forEachBroadcastRun(aShape, bShape, outShape, (o, ia, ib, n, sa, sb) => {
    for (let i = 0; i < n; i++) {
      const g = dy[o + i]!;
      const pa = ia + i * sa;
      const pb = ib + i * sb;
      switch (kind) {
        case "add":
          if (da) da[pa] += g;
          if (db) db[pb] += g;
          break;
        case "sub":
          if (da) da[pa] += g;
          if (db) db[pb] -= g;
          break;
        case "mul":
          if (da) da[pa] += g * b[pb]!;
          if (db) db[pb] += g * a[pa]!;
          break;
        case "div": {
          const bv = b[pb]!;
          if (da) da[pa] += g / bv;
          if (db) db[pb] -= (g * a[pa]!) / (bv * bv);
          break;
        }
      }
    }
  });
  return { da, db };
}

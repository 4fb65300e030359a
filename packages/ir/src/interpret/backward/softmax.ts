/** @fileoverview Reverse-mode kernels of softmax and logsoftmax along one axis, and the softmax cross-entropy loss head. */
import { sizeOf } from "../common.js";

/** Calls `visit(base, dim, stride)` for every lane along `axis`: the elements base + d·stride, d < dim. */
function forEachLane(shape: readonly number[], axis: number, visit: (base: number, dim: number, stride: number) => void): void {
  const outer = sizeOf(shape.slice(0, axis));
  const dim = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) visit(o * dim * inner + i, dim, inner);
}

/** softmax, from its output y along `axis`: dx = y ⊙ (dy − Σ_axis dy ⊙ y). */
export function softmaxBackwardImpl(y: Float64Array, dy: Float64Array, shape: readonly number[], axis: number): Float64Array {
  const dx = new Float64Array(dy.length);
  forEachLane(shape, axis, (base, dim, stride) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += dy[base + d * stride]! * y[base + d * stride]!;
    for (let d = 0; d < dim; d++) {
      const at = base + d * stride;
      dx[at] = y[at]! * (dy[at]! - s);
    }
  });
  return dx;
}

/** logsoftmax, from its output y = log p along `axis`: dx = dy − p·Σ_axis dy. */
export function logSoftmaxBackwardImpl(y: Float64Array, dy: Float64Array, shape: readonly number[], axis: number): Float64Array {
  const dx = new Float64Array(dy.length);
  forEachLane(shape, axis, (base, dim, stride) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += dy[base + d * stride]!;
    for (let d = 0; d < dim; d++) {
      const at = base + d * stride;
      dx[at] = dy[at]! - Math.exp(y[at]!) * s;
    }
  });
  return dx;
}

/** Mean cross-entropy of logits [N, C] against labels, the number of rows whose argmax is the label, and ∂loss/∂logits. */
export interface CrossEntropy {
  readonly loss: number;
  readonly correct: number;
  readonly dLogits: Float64Array;
}

/**
 * loss = −(1/N) Σ_n log softmax(z_n)[label_n], computed as z − max − log Σ exp(z − max) so no exp overflows;
 * ∂loss/∂z_n = (softmax(z_n) − onehot(label_n))/N. The argmax takes the first maximum, as the evaluation does.
 */
export function softmaxCrossEntropyImpl(z: Float64Array, rows: number, classes: number, labels: Int32Array): CrossEntropy {
  const dLogits = new Float64Array(rows * classes);
  let total = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    let best = -1;
    for (let c = 0; c < classes; c++) {
      if (z[base + c]! > max) {
        max = z[base + c]!;
        best = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[base + c]! - max);
    const lse = Math.log(sum);
    const label = labels[r]!;
    total -= z[base + label]! - max - lse;
    if (best === label) correct++;
    for (let c = 0; c < classes; c++) dLogits[base + c] = Math.exp(z[base + c]! - max - lse) / rows;
    dLogits[base + label] -= 1 / rows;
  }
  return { loss: total / rows, correct, dLogits };
}

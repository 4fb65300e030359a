/**
 * @fileoverview What the prune rules share: the layers they prune (conv/linear weights seen as im2col matrices),
 * the prune mask constants, deterministic orderings, and the float model's top-1 accuracy on the calibration set.
 */
import { interpretModule, readNumbers, XbarcError, type Module, type Op, type Value } from "@xbarc/ir";
import type { CalibrationSet } from "../pass.js";
import { getWeightOps } from "../quantize/index.js";

/** A float array whose elements the rules set to exactly 0. */
export type WeightArray = Float32Array | Float64Array;

/**
 * One conv/linear layer as the prune rules see it: its weight as `groups` matrices of `rows × cols` (rows = inputs in
 * im2col order c, kh, kw; cols = output channels of a group), element (r, c) of group g at `(g·cols + c)·rows + r`,
 * the IR's out-channel-major layout (the same view as the tile pass's LayerMatrix).
 */
export interface PruneLayer {
  readonly op: Op;
  /** the weight constant (its data is edited in place) */
  readonly weight: Value;
  readonly data: WeightArray;
  /** the layer's result name, for reports */
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly groups: number;
  /** the last weight layer (the class logits): the crossbar rule never removes its output channels */
  readonly isLast: boolean;
  /** 1 where the prune pass has set the weight to 0 */
  readonly mask: Uint8Array;
}

/** Weight layers in op order, with float weights; an integer or missing weight is XB5003. */
export function getPruneLayers(module: Module): PruneLayer[] {
  const ops = getWeightOps(module);
  return ops.map((op, i): PruneLayer => {
    const weight = op.operands[1]!;
    const data = weight.data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new XbarcError("XB5003", `prune: layer ${op.results[0]!.name} has ${weight.type.dtype} weights @${weight.name}; prune works on float weights`, {
        location: { kind: "ir", loc: op.loc, value: op.results[0]!.name, op: op.opcode },
        hint: "run prune before quantize (canonicalize,prune,quantize,...)",
      });
    }
    const shape = weight.type.shape;
    const outChannels = shape[0]!;
    let fanIn = 1;
    for (let d = 1; d < shape.length; d++) fanIn *= shape[d]!;
    const groups = op.opcode === "conv" ? Number(op.attrs.group ?? 1) : 1;
    return {
      op, weight, data, name: op.results[0]!.name,
      rows: fanIn, cols: outChannels / groups, groups,
      isLast: i === ops.length - 1,
      mask: new Uint8Array(data.length),
    };
  });
}

/** Zeros in `data`. */
export function countZeros(data: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0) n++;
  return n;
}

/**
 * Indices of `scores` sorted ascending by score, ties by index (so every order is deterministic), restricted to the
 * indices `keep(i)` accepts.
 */
export function getAscendingOrder(scores: ArrayLike<number>, keep: (i: number) => boolean = () => true): Int32Array {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (keep(i)) idx.push(i);
  idx.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return Int32Array.from(idx);
}

/**
 * Layers in the order the progressive rules visit them: most weights first (they hold most crossbars and can take
 * the budget best), ties by op order.
 */
export function getVisitOrder(layers: readonly PruneLayer[]): PruneLayer[] {
  return layers.map((l, i) => ({ l, i })).sort((a, b) => b.l.data.length - a.l.data.length || a.i - b.i).map((x) => x.l);
}

/** Sets the listed weights to 0 and marks them in the mask; returns their old values so the step can be undone. */
export function zeroWeights(layer: PruneLayer, indices: ArrayLike<number>): Float64Array {
  const old = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    old[k] = layer.data[i]!;
    layer.data[i] = 0;
    layer.mask[i] = 1;
  }
  return old;
}

/** Undoes zeroWeights (restores the values and clears the mask). */
export function restoreWeights(layer: PruneLayer, indices: ArrayLike<number>, old: Float64Array): void {
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    layer.data[i] = old[k]!;
    layer.mask[i] = 0;
  }
}

/** Index of the largest element of `row` (first on ties), as the classifiers' argmax. */
function argmax(data: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (data[start + j]! > data[start + best]!) best = j;
  return best;
}

/** Images of `calibration` whose top-1 class (argmax of the module's first output) equals the label. */
export function countCorrect(module: Module, calibration: CalibrationSet): number {
  const outName = module.outputs[0]!.name;
  let correct = 0;
  let seen = 0;
  calibration.batches.forEach((batch, b) => {
    const out = interpretModule(module, batch).get(outName)!;
    const values = readNumbers(out);
    const n = calibration.counts[b]!;
    const classes = values.length / Math.max(1, out.type.shape[0] ?? 1);
    for (let i = 0; i < n; i++) if (argmax(values, i * classes, classes) === calibration.labels[seen + i]) correct++;
    seen += n;
  });
  return correct;
}

/** Images in the calibration set (padding excluded). */
export function getCalibrationSize(calibration: CalibrationSet): number {
  return calibration.counts.reduce((a, b) => a + b, 0);
}

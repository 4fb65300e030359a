/**
 * @fileoverview First-order Taylor saliency (Ma, Jiang, Liu, Du, Ma, Du, "A Resource-Efficient Weight Quantization and
 * Mapping Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems", Integrated Circuits and Systems 2(4),
 * 2025: pruning by gradient sensitivity): s_i = Σ_b n_b·|w_i · ∂L_b/∂w_i| over the calibration batches b, with the
 * calibration accuracy of the same forward passes.
 */
import { computeGradients, type Module } from "@xbarc/ir";
import type { CalibrationSet } from "../pass.js";
import { countCorrect, type PruneLayer } from "./layers.js";

/** The calibration set's verdict on the current weights. */
export interface CalibrationScore {
  /** images whose top-1 class (float interpreter) equals the label (padding excluded) */
  readonly correct: number;
  /** mean cross-entropy over the images (padding included in padded batches) */
  readonly loss: number;
  /** per pruned layer (keyed by weight name): Σ_b n_b·|w·∂L_b/∂w|, ∂L_b/∂w the batch-mean gradient */
  readonly saliency: Map<string, Float64Array>;
}

/**
 * Forward and reverse passes over every calibration batch. With one image per batch (the compile default) the sum is
 * per image, |w·∂L/∂w| accumulated image by image; with larger batches it is per batch (the gradient is the batch
 * mean), weighted by the batch's image count. The zero padding of a short last batch is labelled 0 and enters the
 * gradient, not the accuracy. The accuracy comes from the float interpreter (interpretModule, the module's own dtype),
 * the same measurement every report uses, so a budget checked here is the budget a user measures.
 */
export function scoreCalibration(module: Module, calibration: CalibrationSet, layers: readonly PruneLayer[]): CalibrationScore {
  const inputName = module.inputs[0]!.name;
  const wrt = layers.map((l) => l.weight.name);
  const saliency = new Map<string, Float64Array>(layers.map((l) => [l.weight.name, new Float64Array(l.data.length)]));
  let correct = 0;
  let loss = 0;
  let seen = 0;
  calibration.batches.forEach((batch, b) => {
    const input = batch.get(inputName)!;
    const n = calibration.counts[b]!;
    const slots = input.type.shape.length > 1 ? input.type.shape[0]! : 1;
    const labels = new Int32Array(slots);
    labels.set(calibration.labels.subarray(seen, seen + n));
    const result = computeGradients(module, input, labels, { wrt });
    // accuracy from the module's own (float32) interpreter, as every report measures it, not the float64 replay
    correct += countCorrect(module, { name: calibration.name, batches: [batch], labels: calibration.labels.subarray(seen, seen + n), counts: [n] });
    loss += result.loss * n;
    for (const layer of layers) {
      const g = result.gradients.get(layer.weight.name);
      if (!g) continue;
      const s = saliency.get(layer.weight.name)!;
      const w = layer.data;
      for (let i = 0; i < s.length; i++) s[i]! += n * Math.abs(w[i]! * g[i]!);
    }
    seen += n;
  });
  return { correct, loss: seen ? loss / seen : 0, saliency };
}

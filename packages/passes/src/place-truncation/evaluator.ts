/**
 * @fileoverview What Algorithm 1 of Diware et al. (ICCAD 2024) evaluates each candidate with: float, fixed-point and
 * hardware accuracy on the calibration set. The fixed-point reference and the device sampling live in
 * @xbarc/backend-sim, which this package cannot import; the program that runs the pipeline registers them here
 * (`registerTruncationEvaluator(createTruncationEvaluator())`), as passes are registered in the pass registry.
 */
import type { DeviceProfile, Module } from "@xbarc/ir";
import type { CalibrationSet } from "../pass.js";

/** Accuracy evaluations of an annotated module on labelled calibration data; every accuracy is a fraction 0..1. */
export interface TruncationEvaluator {
  /** top-1 accuracy with the quantized weights and float activations */
  floatAccuracy(module: Module, calibration: CalibrationSet): number;
  /** top-1 accuracy of the fixed-point reference (formats and windows from #quant and #trunc) */
  fixedPointAccuracy(module: Module, calibration: CalibrationSet): number;
  /** mean top-1 accuracy over `runs` Monte Carlo instances of the device's variation on every cell */
  hardwareAccuracy(module: Module, calibration: CalibrationSet, device: DeviceProfile, options: { runs: number; seed: number }): number;
}

let registered: TruncationEvaluator | undefined;

/** Sets the evaluator place-truncation uses for Algorithm 1 (undefined removes it). Returns the previous one. */
export function registerTruncationEvaluator(evaluator: TruncationEvaluator | undefined): TruncationEvaluator | undefined {
  const previous = registered;
  registered = evaluator;
  return previous;
}

/** The registered evaluator, if any. */
export function getTruncationEvaluator(): TruncationEvaluator | undefined {
  return registered;
}

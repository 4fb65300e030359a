/** @fileoverview Recording each weight layer's float input activations on calibration data (for output-error scoring). */
import { interpretModule, type Module, type Op, type Tensor, type Value } from "@xbarc/ir";
import type { CalibrationSet } from "../pass.js";

/** Runs the float model over the calibration batches and returns, per op, the tensors its first operand took. */
export function recordLayerInputs(module: Module, ops: readonly Op[], calibration: CalibrationSet): Map<Op, Tensor[]> {
  const wanted = new Map<Value, Op[]>();
  for (const op of ops) {
    const x = op.operands[0]!;
    wanted.set(x, [...(wanted.get(x) ?? []), op]);
  }
  const recorded = new Map<Op, Tensor[]>(ops.map((op) => [op, []]));
  const keep = (v: Value, t: Tensor): void => {
    for (const op of wanted.get(v) ?? []) recorded.get(op)!.push(t);
  };
  for (const batch of calibration.batches) {
    for (const input of module.inputs) {
      const t = batch.get(input.name);
      if (t) keep(input, t);
    }
    interpretModule(module, batch, {
      observe: (op, results) => op.results.forEach((r, i) => keep(r, results[i]!)),
    });
  }
  return recorded;
}

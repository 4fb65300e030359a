/** @fileoverview canonicalize step 1: `identity` and inference-mode `dropout` are copies; their readers read the input instead. */
import { makeOnes, type Rewriter } from "./rewriter.js";

/** Removes identity and dropout ops; a used dropout mask becomes an all-true constant. Returns the number of ops removed. */
export function dropIdentities(r: Rewriter): number {
  let count = 0;
  for (const op of r.liveOps()) {
    if (op.opcode !== "identity" && op.opcode !== "dropout") continue;
    const x = op.operands[0];
    const y = op.results[0];
    if (!x || !y || !r.canForward(y, x)) continue;
    const mask = op.results[1];
    // NOTE: a mask that is a module output would become a constant output; leave such a dropout alone
    if (mask && r.isOutput(mask)) continue;
    r.removeOp(op);
    if (mask && !r.isUnused(mask)) {
      // inference-mode dropout keeps every element: the mask is all true (ONNX Dropout, training_mode=0)
      const ones = r.newConstant(mask.name, makeOnes(mask.type));
      r.module.replaceAllUses(mask, ones);
      r.invalidate();
    }
    r.forward(y, x);
    r.stats.add(op.opcode === "identity" ? "removed-identities" : "removed-dropouts");
    count++;
  }
  return count;
}

/** @fileoverview The `#prune` annotation: which rule pruned a layer, how far, under which budget, and where the mask is. */
import { registerAnnotationKind } from "@xbarc/ir";

const fraction = { type: "number", minimum: 0, maximum: 1 } as const;
const count = { type: "integer", minimum: 0 } as const;

export const PRUNE_ANNOTATION_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["rule", "sparsity", "zeros", "mask"],
  properties: {
    /** "magnitude", "sensitivity" or "crossbar" */
    rule: { enum: ["magnitude", "sensitivity", "crossbar"] },
    /** achieved fraction of zero weights in this layer (zeros / weights), after pruning */
    sparsity: fraction,
    /** zero weights in this layer after pruning (those that were zero before count too) */
    zeros: count,
    /** the u8 constant (same shape as the weight) holding 1 where this pass set a weight to 0 */
    mask: { type: "string" },
    /** magnitude: the requested sparsity */
    target: fraction,
    /** accuracy points of calibration accuracy the pruning may lose (when a budget was used) */
    budget: { type: "number", minimum: 0 },
    /** sparsity added per progressive step (unstructured rules with a budget) */
    step: { type: "number", exclusiveMinimum: 0, maximum: 1 },
    /** the progressive loop's steps accepted for this layer */
    steps: count,
    /** why the loop stopped for this layer: "budget" (the next step broke it), "limit" (max sparsity or nothing left to remove), "target" (magnitude reached its sparsity) */
    stop: { enum: ["budget", "limit", "target"] },
    /** calibration accuracy (fraction) of the whole model after this layer's last accepted step */
    acc: fraction,
    /** crossbar rule: matrix rows (im2col inputs) removed, and matrix columns (output channels) removed */
    rows_removed: count,
    cols_removed: count,
    /** crossbar rule: crossbars this layer would take before and after, by the tile planner (weight_bits wide weights) */
    xbars_before: count,
    xbars_after: count,
    /** the calibration set the budget was measured on */
    calibration: { type: "string" },
  },
} as const;

registerAnnotationKind("prune", PRUNE_ANNOTATION_SCHEMA);

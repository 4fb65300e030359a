/** @fileoverview Concat (axis optional with default 1 before opset 4; negative axes from 11). */
import type { OpImporter } from "../node-context.js";

export const importConcat: OpImporter = (n) => {
  if (n.inputCount === 0) throw n.error("XB1005", `node "${n.name}" (Concat) has no inputs`, "Concat needs at least one input");
  const xs = Array.from({ length: n.inputCount }, (_, i) => n.required(i, `inputs[${i}]`));
  const rank = xs[0]!.type.shape.length;
  const axis = n.opset < 4 ? n.attrs.int("axis", 1) : n.attrs.int("axis");
  if (axis < -rank || axis >= rank) {
    throw n.attrs.error("axis", `is ${axis}, but the inputs have rank ${rank}`, "fix the attribute in the model");
  }
  n.emit("concat", xs, { axis: axis < 0 ? axis + rank : axis });
};

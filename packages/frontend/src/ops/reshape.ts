/** @fileoverview Reshape (shape attribute before opset 5, input after; allowzero from 14), Flatten, Transpose. */
import type { OpImporter } from "../node-context.js";

export const importReshape: OpImporter = (n) => {
  const x = n.required(0, "data");
  const shape = n.opset < 5 ? n.intsConstant("shape", n.attrs.ints("shape")) : n.required(1, "shape");
  const allowzero = n.opset >= 14 ? n.attrs.int("allowzero", 0) : 0;
  if (allowzero !== 0 && allowzero !== 1) throw n.attrs.error("allowzero", `is ${allowzero}, expected 0 or 1`, "fix the attribute in the model");
  n.emit("reshape", [x, shape], { allowzero });
};

export const importFlatten: OpImporter = (n) => {
  const x = n.required(0, "input");
  const rank = x.type.shape.length;
  const axis = n.attrs.int("axis", 1);
  if (axis < -rank || axis > rank) {
    throw n.attrs.error("axis", `is ${axis}, but the input has rank ${rank} (allowed ${-rank}..${rank})`, "fix the attribute in the model");
  }
  // negative axes (opset 11+) are stored normalised so the dump shows the split point
  n.emit("flatten", [x], { axis: axis < 0 ? axis + rank : axis });
};

export const importTranspose: OpImporter = (n) => {
  const x = n.required(0, "data");
  const rank = x.type.shape.length;
  const reversed = Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const perm = n.attrs.ints("perm", reversed);
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)) {
    throw n.attrs.error("perm", `is [${perm.join(",")}], expected a permutation of 0..${rank - 1}`, "fix the attribute in the model");
  }
  n.emit("transpose", [x], { perm });
};

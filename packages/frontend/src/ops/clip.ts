/** @fileoverview Clip: bounds are attributes before opset 11 and optional inputs from 11 on. */
import type { OpImporter } from "../node-context.js";

export const importClip: OpImporter = (n) => {
  const x = n.required(0, "input");
  if (n.opset < 11) {
    // opset 6 defaults are ±FLT_MAX, i.e. unbounded: an absent attribute becomes an absent operand
    const { dtype } = x.type;
    const min = n.attrs.has("min") ? n.scalarConstant("min", dtype, n.attrs.float("min")) : null;
    const max = n.attrs.has("max") ? n.scalarConstant("max", dtype, n.attrs.float("max")) : null;
    n.emit("clip", [x, min, max], {});
    return;
  }
  n.emit("clip", [x, n.input(1), n.input(2)], {});
};

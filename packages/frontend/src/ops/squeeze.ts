/** @fileoverview Squeeze and Unsqueeze: axes is an attribute before opset 13 and an input from 13 on. */
import type { OpImporter } from "../node-context.js";

export const importSqueeze: OpImporter = (n) => {
  const x = n.required(0, "data");
  const axes = n.opset < 13 ? (n.attrs.has("axes") ? n.intsConstant("axes", n.attrs.ints("axes")) : null) : n.input(1);
  n.emit("squeeze", [x, axes], {});
};

export const importUnsqueeze: OpImporter = (n) => {
  const x = n.required(0, "data");
  const axes = n.opset < 13 ? n.intsConstant("axes", n.attrs.ints("axes")) : n.required(1, "axes");
  n.emit("unsqueeze", [x, axes], {});
};

/** @fileoverview Shape (start/end from opset 15), Gather, Slice (attributes before opset 10, inputs after). */
import type { OpImporter } from "../node-context.js";

export const importShape: OpImporter = (n) => {
  const x = n.required(0, "data");
  const rank = x.type.shape.length;
  const start = n.opset >= 15 ? n.attrs.int("start", 0) : 0;
  const end = n.opset >= 15 ? n.attrs.int("end", rank) : rank;
  n.emit("shape", [x], { start, end });
};

export const importGather: OpImporter = (n) => {
  const data = n.required(0, "data");
  const indices = n.required(1, "indices");
  const rank = data.type.shape.length;
  const axis = n.attrs.int("axis", 0);
  if (axis < -rank || axis >= rank) throw n.attrs.error("axis", `is ${axis}, but data has rank ${rank}`, "fix the attribute in the model");
  n.emit("gather", [data, indices], { axis: axis < 0 ? axis + rank : axis });
};

export const importSlice: OpImporter = (n) => {
  const data = n.required(0, "data");
  if (n.opset < 10) {
    const starts = n.intsConstant("starts", n.attrs.ints("starts"));
    const ends = n.intsConstant("ends", n.attrs.ints("ends"));
    const axes = n.attrs.has("axes") ? n.intsConstant("axes", n.attrs.ints("axes")) : null;
    n.emit("slice", [data, starts, ends, axes, null], {});
    return;
  }
  n.emit("slice", [data, n.required(1, "starts"), n.required(2, "ends"), n.input(3), n.input(4)], {});
};

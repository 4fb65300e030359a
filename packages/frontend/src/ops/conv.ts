/** @fileoverview Conv (N-d, groups, dilations; auto_pad resolved to explicit pads). */
import type { OpImporter } from "../node-context.js";
import { readWindow, spatialDims } from "./window.js";

export const importConv: OpImporter = (n) => {
  const x = n.required(0, "X");
  const w = n.required(1, "W");
  const b = n.input(2);
  const spatial = spatialDims(n, x.type.shape, "X");
  const kernelFromWeight = w.type.shape.slice(2);
  const kernel = n.attrs.ints("kernel_shape", kernelFromWeight);
  if (kernel.length !== kernelFromWeight.length || kernel.some((k, i) => k !== kernelFromWeight[i])) {
    throw n.attrs.error("kernel_shape", `is [${kernel.join(",")}], but the weight has kernel dims [${kernelFromWeight.join(",")}]`,
      "kernel_shape must equal W's trailing dims; re-export the model");
  }
  const win = readWindow(n, spatial, kernel);
  const group = n.attrs.int("group", 1);
  if (!Number.isInteger(group) || group < 1) throw n.attrs.error("group", `is ${group}, expected an integer ≥ 1`, "fix the attribute in the model");
  n.emit("conv", [x, w, b], { strides: win.strides, pads: win.pads, dilations: win.dilations, group });
};

/** @fileoverview MaxPool, AveragePool (ceil_mode, dilations, storage_order, count_include_pad by opset) and GlobalAveragePool. */
import type { OpImporter } from "../node-context.js";
import { readWindow, spatialDims } from "./window.js";

function flag(n: Parameters<OpImporter>[0], name: string, value: number): number {
  if (value !== 0 && value !== 1) throw n.attrs.error(name, `is ${value}, expected 0 or 1`, "fix the attribute in the model");
  return value;
}

export const importMaxPool: OpImporter = (n) => {
  const x = n.required(0, "X");
  const spatial = spatialDims(n, x.type.shape, "X");
  // dilations and ceil_mode arrived in opset 10, storage_order in 8; before that they do not exist
  const win = readWindow(n, spatial, n.attrs.ints("kernel_shape"), n.opset >= 10);
  const ceilMode = n.opset >= 10 ? flag(n, "ceil_mode", n.attrs.int("ceil_mode", 0)) : 0;
  const storageOrder = n.opset >= 8 ? flag(n, "storage_order", n.attrs.int("storage_order", 0)) : 0;
  n.emit("maxpool", [x], {
    kernel_shape: win.kernel, strides: win.strides, pads: win.pads, dilations: win.dilations,
    ceil_mode: ceilMode, storage_order: storageOrder,
  });
};

export const importAveragePool: OpImporter = (n) => {
  const x = n.required(0, "X");
  const spatial = spatialDims(n, x.type.shape, "X");
  // dilations arrived in opset 19, ceil_mode in 10, count_include_pad in 7
  const win = readWindow(n, spatial, n.attrs.ints("kernel_shape"), n.opset >= 19);
  const ceilMode = n.opset >= 10 ? flag(n, "ceil_mode", n.attrs.int("ceil_mode", 0)) : 0;
  const countIncludePad = n.opset >= 7 ? flag(n, "count_include_pad", n.attrs.int("count_include_pad", 0)) : 0;
  n.emit("avgpool", [x], {
    kernel_shape: win.kernel, strides: win.strides, pads: win.pads, dilations: win.dilations,
    ceil_mode: ceilMode, count_include_pad: countIncludePad,
  });
};

export const importGlobalAveragePool: OpImporter = (n) => {
  const x = n.required(0, "X");
  spatialDims(n, x.type.shape, "X");
  n.emit("globalavgpool", [x], {});
};

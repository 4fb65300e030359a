/** @fileoverview MaxPool, AveragePool (ceil_mode, dilations, storage_order, count_include_pad by opset) and GlobalAveragePool. */
import type { OpImporter } from "../node-context.js";
import { readWindow, spatialDims } from "./window.js";

function flag(n: Parameters<OpImporter>[0], name: string, value: number): number {
  if (value !== 0 && value !== 1) throw n.attrs.error(name, `is ${value}, expected 0 or 1`, "fix the attribute in the model");
  return value;
}

/**
 * MaxPool and AveragePool read the same window and ceil_mode and differ in one more 0/1 flag. Attributes an
 * opset does not have yet read as their defaults: dilations before `dilationsSince`, ceil_mode before 10,
 * `extraFlag` before `extraSince`.
 */
function importPool(opcode: "maxpool" | "avgpool", dilationsSince: number, extraFlag: string, extraSince: number): OpImporter {
  return (n) => {
    const x = n.required(0, "X");
    const spatial = spatialDims(n, x.type.shape, "X");
    const win = readWindow(n, spatial, n.attrs.ints("kernel_shape"), n.opset >= dilationsSince);
    const ceilMode = n.opset >= 10 ? flag(n, "ceil_mode", n.attrs.int("ceil_mode", 0)) : 0;
    const extra = n.opset >= extraSince ? flag(n, extraFlag, n.attrs.int(extraFlag, 0)) : 0;
    n.emit(opcode, [x], {
      kernel_shape: win.kernel, strides: win.strides, pads: win.pads, dilations: win.dilations,
      ceil_mode: ceilMode, [extraFlag]: extra,
    });
  };
}

// dilations and ceil_mode arrived in opset 10, storage_order in 8; before that they do not exist
export const importMaxPool: OpImporter = importPool("maxpool", 10, "storage_order", 8);

// dilations arrived in opset 19, ceil_mode in 10, count_include_pad in 7
export const importAveragePool: OpImporter = importPool("avgpool", 19, "count_include_pad", 7);

export const importGlobalAveragePool: OpImporter = (n) => {
  const x = n.required(0, "X");
  spatialDims(n, x.type.shape, "X");
  n.emit("globalavgpool", [x], {});
};

/** @fileoverview The fixed-point reference: integer kernels, layers read from #quant/#trunc, the module evaluator, device-variation sampling of sliced cells, and accuracy. */
export * from "./kernels.js";
export * from "./layer.js";
export * from "./run.js";
export * from "./variation.js";
export * from "./evaluate.js";

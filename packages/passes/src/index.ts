/** @fileoverview The public entry point of @xbarc/passes: the Pass interface, registry, pipelines, manager and built-in passes. */
export * from "./pass.js";
export * from "./registry.js";
export * from "./pipeline.js";
export * from "./manager.js";
export { canonicalize, type CanonicalizeOptions } from "./canonicalize/index.js";
export * from "./quantize/quantizers.js";
export { quantize, getWeightOps, getLayerNames, type QuantizeOptions } from "./quantize/index.js";
export * from "./quantize/quantizer.js";
export * from "./quantize/states.js";
export { METRICS, METRIC_DOC, type Metric } from "./quantize/select.js";
export { assignLevels, type AssignLevelsOptions } from "./assign-levels/index.js";
export * from "./tile/index.js";
export * from "./bit-slice/index.js";
export * from "./place-truncation/index.js";
export * from "./prune/index.js";

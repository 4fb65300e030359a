/** @fileoverview The public entry point of @xbarc/passes: the Pass interface, registry, pipelines, manager and built-in passes. */
export * from "./pass.js";
export * from "./registry.js";
export * from "./pipeline.js";
export * from "./manager.js";
export { canonicalize, type CanonicalizeOptions } from "./canonicalize/index.js";

/** @fileoverview The public entry point of @xbarc/ir: the only import other packages use. */
export * from "./types.js";
export * from "./tensor.js";
export * from "./module.js";
export * from "./ops/spec.js";
export * from "./diagnostics/codes.js";
export * from "./diagnostics/error.js";
export * from "./diagnostics/render.js";
export * from "./annotations/registry.js";

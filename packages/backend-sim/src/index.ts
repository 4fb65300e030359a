/** @fileoverview The public entry point of @xbarc/backend-sim. */
export * from "./datasets/index.js";
export * from "./device/index.js";
export * from "./montecarlo/index.js";
export * from "./fixed-point/index.js";
export * from "./program/index.js";
export * from "./sim/index.js";
export * from "./sim/wasm/index.js";

/** @fileoverview The public entry point of @xbarc/backend-sim. */
export * from "./datasets/index.js";

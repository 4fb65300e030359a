/** @fileoverview The crossbar simulator: functional execution of a program (faithful and fast paths), instances of its cells, and the tile kernels. */
export * from "./kernels.js";
export * from "./instance.js";
export * from "./functional.js";
export { releaseInstanceKernels } from "./layer-wasm.js";
export * from "./timing.js";
export * from "./energy.js";
export * from "./montecarlo.js";
export * from "./tile-kernels.js";

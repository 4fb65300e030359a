/** @fileoverview WebAssembly tile kernels of the simulator and the plain-TypeScript bit-packed reference. */
export * from "./adc-table.js";
export * from "./integer-cell-tile.js";
export * from "./bit-packed.js";
export * from "./float-cell-tile.js";
export * from "./integer-mvm.js";
export { getKernelModule } from "./module.js";

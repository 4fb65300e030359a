/** @fileoverview Dataset readers (IDX, .npy, CSV) and fitting images to a model's input. */
export * from "./image-set.js";
export * from "./idx.js";
export * from "./npy.js";
export * from "./load.js";
export * from "./fit.js";

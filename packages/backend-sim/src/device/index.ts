/** @fileoverview Device non-idealities at the weight level: sampling cell conductances and the effective weights they give. */
export * from "./sample.js";
export * from "./effective-weights.js";

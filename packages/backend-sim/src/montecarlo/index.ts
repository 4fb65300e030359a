/** @fileoverview Monte Carlo evaluation of sampled device instances, in this thread or on worker threads. */
export * from "./evaluate.js";
export * from "./runner.js";
export * from "./pool.js";

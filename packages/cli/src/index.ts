/** @fileoverview The public entry point of @xbarc/cli: the programmatic API behind the `xbarc` commands. */
export * from "./api.js";
export * from "./config.js";
export * from "./eval-weights.js";
export { main, createProgram } from "./program.js";
export { EXIT, exitCodeOf, OutputSet, reportError, toSafeFileName, writeFileAtomic, writeOutputs, type Io } from "./output.js";
export { compileModel, DEFAULT_COMPILE_CALIBRATION_LIMIT, type CompileModelOptions, type CompileModelResult } from "./commands/compile.js";
export { runProgramFile, formatRunReport, type RunProgramOptions, type RunProgramReport, type RunAccuracy } from "./commands/run.js";

/** @fileoverview The public entry point of @xbarc/cli: the programmatic API behind the `xbarc` commands. */
export * from "./api.js";
export * from "./config.js";
export * from "./eval-weights.js";
export { main, createProgram } from "./program.js";
export { EXIT, exitCodeOf, OutputSet, reportError, toSafeFileName, writeFileAtomic, writeOutputs, type Io } from "./output.js";
export { compileModel, DEFAULT_COMPILE_CALIBRATION_LIMIT, type CompileModelOptions, type CompileModelResult } from "./commands/compile.js";
export {
  runProgramFile, simulateLoadedProgram, formatRunReport, type RunProgramOptions, type SimulateImagesOptions, type RunProgramReport, type RunAccuracy, type FloatBaseline,
} from "./commands/run.js";
export { evalModel, type EvalModelOptions, type EvalModelReport } from "./commands/eval.js";

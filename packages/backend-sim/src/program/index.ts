/** @fileoverview The crossbar program: format (types, schema, hash), emission from the annotated IR, checks, assembly, resource summary. */
export * from "./types.js";
export { PROGRAM_SCHEMA } from "./schema.js";
export { canonicalJson, hashProgram, sealProgram, printProgramJson } from "./canonical.js";
export { checkProgram, checkProgramSchema, checkProgramSemantics, decodeBase64, getTileCells, type CheckProgramOptions } from "./check.js";
export { checkProgramInputs, emitProgram, isLossless, type EmitProgramOptions } from "./emit.js";
export { getTilePlacements, type LayerPlacement, type TilePlacement } from "./layout.js";
export { printProgramAsm, printAsmValue, printAsmName } from "./asm-printer.js";
export { parseProgramAsm, parseProgramAsmWithLocations, type ParsedProgramAsm } from "./asm-parser.js";
export { loadProgram, parseProgramText, getProgramFileFormat, type ProgramFileFormat } from "./io.js";
export { summarizeProgram, formatProgramSummary, type LayerSummary, type ProgramSummary } from "./summary.js";

/**
 * @fileoverview Compiles bundled fixture models into programs in-process for the program tests (the passes run on
 * the real models; results are cached per model, device and pipeline so each is compiled once per test file).
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { getBuiltinProfile, resolveDeviceProfile, type DeviceProfile, type Module } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { compilePipeline, printPipeline, runPipeline } from "@xbarc/passes";
import { emitProgram, type Program } from "@xbarc/backend-sim";

/** fixtures/ at the repository root. */
export const FIXTURES = fileURLToPath(new URL("../../../../fixtures/", import.meta.url));

/** The default compile pipeline as a string. */
export const COMPILE_PIPELINE = printPipeline(compilePipeline);

/** A built-in profile by name (throws when it does not exist). */
export function device(name: string): DeviceProfile {
  const p = getBuiltinProfile(name);
  if (!p) throw new Error(`no built-in device ${name}`);
  return p;
}

/** isaac with 32×32 crossbars, as a user's profile file would give it. */
export function isaac32(): DeviceProfile {
  return resolveDeviceProfile({ extends: "isaac", name: "isaac-32", crossbar: { rows: 32, cols: 32 } }, "isaac-32.json");
}

const cache = new Map<string, { module: Module; program: Program }>();

/** The annotated module and the program of `model` (a path under fixtures/models) on `dev`, after `pipeline`. */
export function compileFixture(model: string, dev: DeviceProfile, pipeline = COMPILE_PIPELINE): { module: Module; program: Program } {
  const key = `${model}|${JSON.stringify(dev)}|${pipeline}`;
  let hit = cache.get(key);
  if (!hit) {
    const module = loadOnnxFile(join(FIXTURES, "models", model));
    const result = runPipeline(module, pipeline, { device: dev });
    hit = { module, program: emitProgram(module, { device: dev, pipeline: result.pipeline, modelName: module.name }) };
    cache.set(key, hit);
  }
  return hit;
}

/** A deep copy through JSON (what a program file holds). */
export function copyProgram(p: Program): Program {
  return JSON.parse(JSON.stringify(p)) as Program;
}

/** @fileoverview Test helpers for pass tests: golden-case discovery, `// pass:` directives, module cloning, random inputs, output comparison. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import {
  allocArray,
  interpretModule,
  isFloatDType,
  numel,
  parseModule,
  printModule,
  readNumbers,
  type Module,
  type Tensor,
} from "@xbarc/ir";
import { createRng, runPipeline, type PipelineResult } from "@xbarc/passes";

/** packages/passes/test/golden */
export const GOLDEN_DIR = fileURLToPath(new URL("./golden/", import.meta.url));

/** One golden case: `<case>.xir` input and the path of its `<case>.after.xir` snapshot. */
export interface GoldenCase {
  readonly name: string;
  readonly path: string;
  readonly text: string;
  readonly expectedPath: string;
}

/** The golden inputs of a pass, sorted by name. */
export function goldenCases(pass: string): GoldenCase[] {
  const dir = join(GOLDEN_DIR, pass);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".xir") && !f.endsWith(".after.xir"))
    .sort()
    .map((f) => ({
      name: f.slice(0, -".xir".length),
      path: join(dir, f),
      text: readFileSync(join(dir, f), "utf8"),
      expectedPath: join(dir, f.replace(/\.xir$/, ".after.xir")),
    }));
}

/** The value of a leading `// key: value` directive (TypeScript's `// @target:` idea), or undefined. */
export function readDirective(text: string, key: string): string | undefined {
  for (const line of text.split("\n")) {
    const m = /^\/\/\s*([a-z-]+):\s*(.*)$/.exec(line.trim());
    if (!m) {
      if (line.trim() === "") continue;
      break;
    }
    if (m[1] === key) return m[2]!.trim();
  }
  return undefined;
}

/** A deep copy through the text form, weights included. */
export function cloneModule(m: Module): Module {
  const { text, weights } = printModule(m, { weights: true });
  return parseModule(text, { weights });
}

/** The module's printed text (without weight data for large constants). */
export function printText(m: Module): string {
  return printModule(m).text;
}

/**
 * Runs the `// pass:` pipeline of a golden input with every test check on (noop honesty, round trip, verify-each)
 * and returns the module before (a clone) and after, with the run's result.
 */
export function runGolden(c: GoldenCase): { before: Module; after: Module; result: PipelineResult; text: string } {
  const pipeline = readDirective(c.text, "pass");
  if (pipeline === undefined) throw new Error(`${c.path}: missing "// pass: <pipeline>" directive`);
  const after = parseModule(c.text, { file: c.path });
  const before = cloneModule(after);
  const result = runPipeline(after, pipeline, { checkNoopChanges: true, roundTripEach: true, verifyEach: true });
  return { before, after, result, text: printText(after) };
}

/** Seeded uniform [-1, 1) inputs for every module input (floats), as interpretModule takes them. */
export function randomInputs(m: Module, seed = 1): Map<string, Tensor> {
  const rng = createRng(seed, "inputs");
  const inputs = new Map<string, Tensor>();
  for (const v of m.inputs) {
    if (!isFloatDType(v.type.dtype) || v.type.dtype === "f16") throw new Error(`randomInputs: input %${v.name} is ${v.type.dtype}`);
    const n = numel(v.type.shape);
    const data = allocArray(v.type.dtype, n) as Float32Array | Float64Array;
    for (let i = 0; i < n; i++) data[i] = rng.uniform(-1, 1);
    inputs.set(v.name, { type: v.type, data });
  }
  return inputs;
}

/**
 * Asserts that both modules give the same outputs on the same inputs: same output names and types, values within
 * `rel` · max(1, |reference|) elementwise.
 */
export function expectSameOutputs(reference: Module, actual: Module, inputs: Map<string, Tensor>, rel = 1e-5): void {
  const want = interpretModule(reference, inputs);
  const got = interpretModule(actual, inputs);
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, w] of want) {
    const g = got.get(name)!;
    expect(g.type, `type of output ${name}`).toEqual(w.type);
    const a = readNumbers(g);
    const b = readNumbers(w);
    let worst = 0;
    let at = -1;
    for (let i = 0; i < b.length; i++) {
      const err = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
    expect(worst <= rel, `output ${name}: relative error ${worst} at [${at}] (got ${a[at]}, want ${b[at]})`).toBe(true);
  }
}

/** How many ops of each opcode the module has. */
export function opcodeCounts(m: Module): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const op of m.ops) counts[op.opcode] = (counts[op.opcode] ?? 0) + 1;
  return counts;
}

/** The printed line defining `%name` (FileCheck-style focused assertions). */
export function lineOf(text: string, name: string): string {
  const line = text.split("\n").find((l) => l.trimStart().startsWith(`${name} =`) || l.trimStart().startsWith(`${name},`));
  if (!line) throw new Error(`no line defines ${name} in:\n${text}`);
  return line.trim();
}

/**
 * @fileoverview The simulator's optimized engine (WebAssembly layer engine, exact i32 accumulation, fused digital
 * epilogues) against its op-by-op TypeScript reference on cases the fixture programs alone do not reach: truncation
 * windows at their edges (shifting left, wrapping to 1 bit, 32-bit and wider windows), and an activation read twice
 * (so the move → relu → maxpool → quantize chain must not be fused).
 */
import { describe, expect, it } from "vitest";
import { getBuiltinProfile, type DeviceProfile, type Tensor } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { compilePipeline, printPipeline, runPipeline } from "@xbarc/passes";
import { emitProgram, simulateProgram, type Program, type SimulateOptions } from "@xbarc/backend-sim";
import { FIXTURE_PREPROCESSING, listFixtureModels, samplesFor, sampleSize } from "./helpers/models.js";
import { range } from "./helpers/datasets.js";
import { runsBitDifference } from "./helpers/compare.js";

const lenet = listFixtureModels().find((m) => m.id === "lenet5")!;

function compileLenet(): Program {
  const device = getBuiltinProfile("isaac") as DeviceProfile;
  const module = loadOnnxFile(lenet.path, { batch: 1 });
  const result = runPipeline(module, printPipeline(compilePipeline), { device });
  return emitProgram(module, { device, pipeline: result.pipeline, preprocessing: FIXTURE_PREPROCESSING[lenet.preprocess] });
}

function images(program: Program, count: number): Tensor[] {
  const { data } = samplesFor(lenet, range(8000, 8000 + count));
  const size = sampleSize(lenet);
  return range(0, count).map((i) => ({ type: { dtype: "f32", shape: [...program.input.shape] }, data: data.slice(i * size, (i + 1) * size) }) as Tensor);
}

function compareEngines(program: Program, inputs: Tensor[], options: SimulateOptions): string {
  return runsBitDifference(simulateProgram(program, inputs, { ...options, kernels: "wasm" }), inputs.map((x) => simulateProgram(program, x, { ...options, kernels: "ts" })));
}

describe("the optimized simulator engine", () => {
  const base = compileLenet();
  const inputs = images(base, 12);
  const ideal: SimulateOptions = { instance: "ideal", path: "fast", adcLossless: true };
  const faithful: SimulateOptions = { instance: "ideal", path: "faithful" };

  const windows: [string, number, number][] = [
    ["a left shift (D_L = −3) into an 8-bit window", -3, 8],
    ["a 1-bit window", 2, 1],
    ["a 32-bit window", 0, 32],
    ["a 40-bit window after a right shift", 4, 40],
    ["a 40-bit window after a left shift (float64 finish)", -2, 40],
  ];
  // set on the logits layer, whose truncated sums reach the outputs without a ReLU in between
  const last = base.layers[base.layers.length - 1]!.name;
  for (const [what, dL, oRwl] of windows) {
    it(`equals the reference engine bit for bit with ${what}`, () => {
      const program: Program = { ...base, schedule: base.schedule.map((op) => (op.op === "truncate" && op.layer === last ? { ...op, d_l: dL, o_rwl: oRwl } : op)) };
      expect(compareEngines(program, inputs, ideal), "fast path").toBe("");
      expect(compareEngines(program, inputs, faithful), "faithful path").toBe("");
    });
  }

  it("keeps an activation read by two ops unfused, and gives it as an output", () => {
    const relu = base.schedule.find((op) => "kind" in op && op.kind === "relu") as Extract<Program["schedule"][number], { inputs: unknown }>;
    const twiceRead = relu.outputs[0]!;
    const program: Program = { ...base, outputs: [...base.outputs, twiceRead] };
    const runs = simulateProgram(program, inputs, { ...ideal, kernels: "wasm" });
    expect(runs[0]!.outputs.get(twiceRead)?.data.length).toBeGreaterThan(0);
    expect(compareEngines(program, inputs, ideal)).toBe("");
  });
});

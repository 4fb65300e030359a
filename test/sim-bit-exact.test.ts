/**
 * @fileoverview The simulator against the fixed-point reference on every fixture model compiled for isaac: on the
 * ideal device with lossless ADCs both the faithful and the fast path equal runFixedPoint bit for bit, layer by layer
 * (x_int, every row tile's accumulator before and after the truncation window, the output integers) and on the
 * outputs, over real MNIST images (the digits model on its test split). And the WebAssembly kernels, with images
 * sharing passes through the schedule, give the TypeScript reference kernels' outputs bit for bit on every model.
 */
import { describe, expect, it } from "vitest";
import { getBuiltinProfile, type DeviceProfile, type Module, type Tensor } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { compilePipeline, printPipeline, runPipeline } from "@xbarc/passes";
import { emitProgram, imagesCanSharePass, runFixedPoint, sampleProgramInstance, simulateProgram, type Program, type SimulationRun } from "@xbarc/backend-sim";
import { FIXTURE_PREPROCESSING, listFixtureModels, samplesFor, sampleSize, type FixtureModel } from "./helpers/models.js";
import { range } from "./helpers/datasets.js";
import { expectSimulationEqualsFixedPoint, runsBitDifference } from "./helpers/compare.js";

/** Images per model: ≥ 64 real MNIST images, or the whole digits split. */
const MNIST_IMAGES = 64;
/** Images per program run (models with a symbolic batch are compiled for it). */
const BATCH = 16;

/** The model's evaluation images, fitted as [batch, ...sample] float32 tensors of the program's input shape. */
function inputBatches(model: FixtureModel, program: Program, count: number): Tensor[] {
  const batch = program.input.shape[0]!;
  const indices = model.dataset === "digits" ? [...model.evalIndices] : range(8000, 8000 + Math.ceil(count / batch) * batch);
  // whole runs only: the digits split is cut to a multiple of the batch, MNIST rounded up to one
  const usable = model.dataset === "digits" ? indices.length - (indices.length % batch) : Math.ceil(count / batch) * batch;
  const { data } = samplesFor(model, indices.slice(0, usable));
  const size = sampleSize(model);
  const out: Tensor[] = [];
  for (let i = 0; i < usable; i += batch) {
    out.push({ type: { dtype: "f32", shape: [...program.input.shape] }, data: data.slice(i * size, (i + batch) * size) });
  }
  return out;
}

/** The fixture model compiled for isaac by the default pipeline: the module (for the reference) and its program. */
function compileForIsaac(model: FixtureModel): { module: Module; program: Program } {
  const device = getBuiltinProfile("isaac") as DeviceProfile;
  const module = loadOnnxFile(model.path, { batch: model.fixedBatch ?? BATCH });
  const result = runPipeline(module, printPipeline(compilePipeline), { device });
  return { module, program: emitProgram(module, { device, pipeline: result.pipeline, preprocessing: FIXTURE_PREPROCESSING[model.preprocess] }) };
}


describe("the simulator on an ideal isaac device with lossless ADCs", () => {
  for (const model of listFixtureModels()) {
    it(`equals runFixedPoint bit for bit on ${model.id}, on both paths, layer by layer`, () => {
      const { module, program } = compileForIsaac(model);
      const batches = inputBatches(model, program, MNIST_IMAGES);
      expect(batches.length * program.input.shape[0]!).toBeGreaterThanOrEqual(model.dataset === "digits" ? 350 : MNIST_IMAGES);
      let compared = 0;
      for (const input of batches) {
        const ref = runFixedPoint(module, new Map([[module.inputs[0]!.name, input]]), { recordInts: true });
        for (const path of ["faithful", "fast"] as const) {
          const sim = simulateProgram(program, input, { path, adcLossless: true, recordInts: true });
          expectSimulationEqualsFixedPoint(sim, ref, program.layers, path);
          compared += program.layers.length;
          expect(sim.paths.get(program.layers[0]!.name)).toBe(path);
        }
      }
      expect(compared).toBe(2 * batches.length * program.layers.length);
    }, 300_000);
  }
});

describe("the WebAssembly kernels and images sharing a pass change no result", () => {
  const variation = { model: "lognormal" as const, sigma: 0.1, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 };
  for (const model of listFixtureModels()) {
    it(`gives the TypeScript kernels' outputs bit for bit on ${model.id}, batched or one input at a time`, () => {
      const { program } = compileForIsaac(model);
      expect(imagesCanSharePass(program)).toBe(true);
      const inputs = inputBatches(model, program, 32);
      expect(inputs.length).toBeGreaterThan(1);
      const sampled = sampleProgramInstance(program, 3, 0, variation);
      const cases = {
        "ideal device, fast path": { instance: "ideal", path: "fast", adcLossless: true },
        "ideal device, faithful path, 8-bit ADC": { instance: "ideal", path: "faithful" },
        "log-normal σ 0.1 instance, faithful path": { instance: sampled, path: "faithful" },
      } as const;
      for (const [name, options] of Object.entries(cases)) {
        const reference = inputs.map((x) => simulateProgram(program, x, { ...options, kernels: "ts" }));
        expect(runsBitDifference(simulateProgram(program, inputs, { ...options, kernels: "wasm" }), reference), `${name}, wasm, shared passes`).toBe("");
        expect(runsBitDifference(inputs.map((x) => simulateProgram(program, x, { ...options, kernels: "wasm" })), reference), `${name}, wasm, one at a time`).toBe("");
        expect(runsBitDifference(simulateProgram(program, inputs, { ...options, kernels: "ts" }), reference), `${name}, ts, shared passes`).toBe("");
      }
    }, 300_000);
  }
});

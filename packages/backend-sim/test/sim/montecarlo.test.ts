/**
 * @fileoverview Program-level Monte Carlo: identical per-run results for a seed with 0, 1 and 2 workers; the ideal
 * device with lossless ADCs classifies exactly as runFixedPoint; accuracy does not rise as log-normal σ rises;
 * percentiles as numpy computes them; worker errors keep their code.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { resolveDeviceProfile } from "@xbarc/ir";
import {
  countProgramCorrect, fitProgramImages, getIdealInstance, loadImageSet, loadLabels, percentile, runFixedPoint, runProgramMonteCarlo, top1,
  type LabelledBatches, type Program,
} from "@xbarc/backend-sim";
import { ensureBackendBuilt } from "../build.js";
import { compileFixture, device, FIXTURES } from "../program/compile-fixture.js";

const images = loadImageSet(join(FIXTURES, "mnist/t10k-images-idx3-ubyte.gz"));
const labels = loadLabels(join(FIXTURES, "mnist/t10k-labels-idx1-ubyte.gz"));

function mnist(program: Program, offset: number, count: number): LabelledBatches {
  return fitProgramImages(program, images, labels, offset, count);
}

function lognormal(sigma: number) {
  return resolveDeviceProfile({ extends: "isaac", name: `isaac-lognormal-${sigma}`, variation: { model: "lognormal", sigma, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 } }, `isaac-${sigma}.json`);
}

beforeAll(() => ensureBackendBuilt());

describe("runProgramMonteCarlo", () => {
  it("gives identical per-run results for a seed with 0, 1 and 2 workers, and different ones for another seed", async () => {
    const { program } = compileFixture("trained/mlp784-32-10-relu.onnx", device("rram-4bit"));
    const data = mnist(program, 8000, 60);
    const results = await Promise.all([0, 1, 2].map((workers) => runProgramMonteCarlo({ program, data, runs: 4, seed: 5, workers })));
    expect(results.map((r) => r.workers)).toEqual([0, 1, 2]);
    for (const r of results.slice(1)) {
      expect(r.correct).toEqual(results[0]!.correct);
      expect(r.p50).toBe(results[0]!.p50);
    }
    // each run is its own instance: rram-4bit's σ = 0.1 moves cells, so the runs are not all the ideal device
    const instances = results[0]!.correct;
    expect(instances.every((c) => c >= 0 && c <= 60)).toBe(true);
    const other = await runProgramMonteCarlo({ program, data, runs: 4, seed: 6, workers: 0 });
    const sampledVsIdeal = [...instances, ...other.correct];
    const ideal = countProgramCorrect(program, data, getIdealInstance(program));
    expect(sampledVsIdeal.some((c) => c !== ideal)).toBe(true);
  }, 120_000);

  it("classifies on the ideal device with lossless ADCs exactly as runFixedPoint (lenet5 on isaac)", () => {
    const { module, program } = compileFixture("trained/lenet5.onnx", device("isaac"));
    const data = mnist(program, 8000, 200);
    const simulated = countProgramCorrect(program, data, getIdealInstance(program), true);
    let reference = 0;
    let first = 0;
    data.images.forEach((x, b) => {
      const y = runFixedPoint(module, new Map([[module.inputs[0]!.name, x]])).outputs.get(module.outputs[0]!.name)!;
      const classes = top1(y, data.counts[b]!);
      for (let i = 0; i < data.counts[b]!; i++) if (classes[i] === data.labels[first + i]) reference++;
      first += data.counts[b]!;
    });
    expect(simulated).toBe(reference);
    expect(reference).toBeGreaterThan(190);
  }, 120_000);

  it("reports a mean accuracy at log-normal σ = 0.05 at least that at σ = 0.3 (mlp784-32-10-relu, 8 runs, 300 images)", async () => {
    const mean = async (sigma: number): Promise<number> => {
      const { program } = compileFixture("trained/mlp784-32-10-relu.onnx", lognormal(sigma));
      return (await runProgramMonteCarlo({ program, data: mnist(program, 8000, 300), runs: 8, seed: 3, workers: 2 })).mean;
    };
    const low = await mean(0.05);
    const high = await mean(0.3);
    expect(low).toBeGreaterThanOrEqual(high);
  }, 300_000);

  it("rejects labels that do not match the batches with XB4002, before starting workers", async () => {
    const { program } = compileFixture("trained/mlp784-32-10-relu.onnx", device("rram-4bit"));
    const data = mnist(program, 0, 10);
    await expect(runProgramMonteCarlo({ program, data: { ...data, labels: data.labels.slice(1) }, runs: 2, seed: 0, workers: 2 }))
      .rejects.toMatchObject({ code: "XB4002" });
  });
});

describe("percentile", () => {
  it("interpolates linearly between order statistics, as numpy.percentile", () => {
    // numpy.percentile([0.9, 0.1, 0.5, 0.3], [5, 50, 95]) = [0.13, 0.4, 0.84]
    const v = [0.9, 0.1, 0.5, 0.3];
    expect(percentile(v, 5)).toBeCloseTo(0.13, 12);
    expect(percentile(v, 50)).toBeCloseTo(0.4, 12);
    expect(percentile(v, 95)).toBeCloseTo(0.84, 12);
    expect(percentile([0.7], 95)).toBe(0.7);
    expect(percentile([], 50)).toBe(0);
  });
});

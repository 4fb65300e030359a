import { beforeAll, describe, expect, it } from "vitest";
import { interpretModule, printModule, Rng, XbarcError, type DeviceProfile, type Module, type Tensor, type VariationSpec } from "@xbarc/ir";
import { countCorrect, getWorkerPool, MonteCarloEvaluator, packTensors, runMonteCarlo, shareBatches, summarizeAccuracies, top1, type LabelledBatches } from "@xbarc/backend-sim";
import { ensureBackendBuilt } from "../build.js";
import { annotateCells, createBatches, createClassifier, testDevice } from "../cells-module.js";

const LEVELS = [1e-6, 2e-6, 4e-6, 8e-6, 1.6e-5, 3.2e-5, 6.4e-5, 1.28e-4];

/** A classifier whose float labels are its own argmax, with cell states on both layers, and its images. */
function setup(): { module: Module; data: LabelledBatches } {
  const module = createClassifier({ batch: 25, inputs: 12, hidden: 16, classes: 4, seed: 21 });
  const { images, counts } = createBatches(new Rng(22), 25, 12, 4, 10);
  const labels = new Int32Array(counts.reduce((a, b) => a + b, 0));
  let first = 0;
  images.forEach((x, b) => {
    labels.set(top1(interpretModule(module, new Map([["x", x]])).get("logits")!, counts[b]!), first);
    first += counts[b]!;
  });
  annotateCells(module, "fc1.weight", LEVELS, "differential");
  annotateCells(module, "fc2.weight", LEVELS, "differential");
  return { module, data: { images, counts, labels } };
}

function device(v: Partial<VariationSpec>): DeviceProfile {
  return testDevice(LEVELS, "differential", v);
}

describe("runMonteCarlo", () => {
  const { module, data } = setup();
  const printed = printModule(module, { weights: true });
  const base = { moduleText: printed.text, weights: printed.weights!, images: data.images, counts: data.counts, labels: data.labels };
  const nominalCorrect = countCorrect(module, data);

  beforeAll(() => ensureBackendBuilt());

  it("gives every run the ideal-device accuracy when σ is 0", async () => {
    const r = await runMonteCarlo({ ...base, device: device({ model: "lognormal", sigma: 0 }), runs: 3, seed: 1, workers: 1 });
    expect(r.images).toBe(85);
    expect(r.correct).toEqual([nominalCorrect, nominalCorrect, nominalCorrect]);
    expect(r.std).toBe(0);
  });

  it("returns identical per-run accuracies with 1 worker, 2 workers and in this thread", async () => {
    const dev = device({ model: "lognormal", sigma: 0.5 });
    const one = await runMonteCarlo({ ...base, device: dev, runs: 6, seed: 7, workers: 1 });
    const two = await runMonteCarlo({ ...base, device: dev, runs: 6, seed: 7, workers: 2 });
    const here = await runMonteCarlo({ ...base, device: dev, runs: 6, seed: 7, workers: 0 });
    expect(one.workers).toBe(1);
    expect(two.workers).toBe(2);
    expect(two.accuracies).toEqual(one.accuracies);
    expect(here.accuracies).toEqual(one.accuracies);
    // variation at σ = 0.5 moves accuracy, and not by the same amount in every run
    expect(new Set(one.correct).size).toBeGreaterThan(1);
    expect(one.mean).toBeLessThan(nominalCorrect / 85);
  });

  it("gives different runs for a different seed", async () => {
    const dev = device({ model: "lognormal", sigma: 0.5 });
    const a = await runMonteCarlo({ ...base, device: dev, runs: 6, seed: 7, workers: 0 });
    const b = await runMonteCarlo({ ...base, device: dev, runs: 6, seed: 8, workers: 0 });
    expect(b.correct).not.toEqual(a.correct);
  });

  it("evaluates run r the same way whatever else the evaluator ran before", () => {
    const ev = new MonteCarloEvaluator({ ...base, device: device({ model: "gaussian", sigma: 0.3 }), seed: 3 }, data);
    const r4 = ev.evaluateRun(4);
    ev.evaluateRun(0);
    expect(ev.evaluateNominal()).toBe(nominalCorrect);
    expect(ev.evaluateRun(4)).toBe(r4);
  });

  it("reports a worker's XbarcError with its code", async () => {
    const plain = createClassifier({ batch: 25, inputs: 12, hidden: 16, classes: 4, seed: 21 });
    const p = printModule(plain, { weights: true });
    const run = runMonteCarlo({ ...base, moduleText: p.text, weights: p.weights!, device: device({}), runs: 2, seed: 1, workers: 1 });
    await expect(run).rejects.toThrow(XbarcError);
    await expect(run).rejects.toMatchObject({ code: "XB6003" });
  });

  it("keeps the pool's threads between jobs and serves the next job after a failed one", async () => {
    const dev = device({ model: "lognormal", sigma: 0.5 });
    const first = await runMonteCarlo({ ...base, device: dev, runs: 4, seed: 9, workers: 2 });
    const pool = getWorkerPool();
    const threads = pool.size;
    expect(threads).toBeGreaterThanOrEqual(2);
    const plain = printModule(createClassifier({ batch: 25, inputs: 12, hidden: 16, classes: 4, seed: 21 }), { weights: true });
    await expect(runMonteCarlo({ ...base, moduleText: plain.text, weights: plain.weights!, device: dev, runs: 2, seed: 1, workers: 2 })).rejects.toMatchObject({ code: "XB6003" });
    const again = await runMonteCarlo({ ...base, device: dev, runs: 4, seed: 9, workers: 2 });
    expect(again.accuracies).toEqual(first.accuracies);
    expect(pool.size).toBe(threads);
  });

  it("runs jobs submitted together one after the other, each with its own results", async () => {
    const dev = device({ model: "lognormal", sigma: 0.5 });
    const [a, b] = await Promise.all([
      runMonteCarlo({ ...base, device: dev, runs: 3, seed: 7, workers: 2 }),
      runMonteCarlo({ ...base, device: dev, runs: 3, seed: 8, workers: 2 }),
    ]);
    expect(a.accuracies).toEqual((await runMonteCarlo({ ...base, device: dev, runs: 3, seed: 7, workers: 0 })).accuracies);
    expect(b.accuracies).toEqual((await runMonteCarlo({ ...base, device: dev, runs: 3, seed: 8, workers: 0 })).accuracies);
  });

  it("shares the images with the workers through one copy in shared memory, batch after batch", () => {
    const shared = shareBatches(data);
    const bytes = data.images[0]!.data.byteLength;
    shared.images.forEach((t, i) => {
      expect(t.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(t.data.buffer).toBe(shared.images[0]!.data.buffer);
      expect(t.data.byteOffset).toBe(i * bytes);
      expect(t.type).toEqual(data.images[i]!.type);
      expect(Array.from(t.data as Float32Array)).toEqual(Array.from(data.images[i]!.data as Float32Array));
    });
  });

  it("packs tensors of different element types each into its own buffer", () => {
    const f32 = { type: { dtype: "f32", shape: [3] }, data: Float32Array.of(1.5, -2, 3) } as Tensor;
    const f64 = { type: { dtype: "f64", shape: [2] }, data: Float64Array.of(0.1, 7) } as Tensor;
    const packed = packTensors([f32, f64, f32]);
    expect(packed.map((t) => Array.from(t.data as Float64Array))).toEqual([[1.5, -2, 3], [0.1, 7], [1.5, -2, 3]]);
    expect(packed[1]!.data).toBeInstanceOf(Float64Array);
    expect(new Set(packed.map((t) => t.data.buffer)).size).toBe(3);
    expect(packTensors([])).toEqual([]);
  });

  it("rejects labels that do not match the batches", async () => {
    await expect(runMonteCarlo({ ...base, labels: new Int32Array(3), device: device({}), runs: 1, seed: 1, workers: 0 })).rejects.toThrow(/85 images but 3 labels/);
  });
});

describe("summarizeAccuracies", () => {
  it("gives mean, sample standard deviation, min and max", () => {
    const s = summarizeAccuracies([0.5, 0.7, 0.9]);
    expect(s.mean).toBeCloseTo(0.7, 12);
    expect(s.std).toBeCloseTo(0.2, 12);
    expect([s.min, s.max]).toEqual([0.5, 0.9]);
  });
});

describe("summarizeAccuracies of identical runs", () => {
  it("gives exactly that accuracy and a standard deviation of 0", () => {
    expect(summarizeAccuracies([0.097, 0.097, 0.097])).toEqual({ mean: 0.097, std: 0, min: 0.097, max: 0.097 });
  });
});

import { describe, expect, it } from "vitest";
import type { EvalWeightsReport } from "@xbarc/cli";
import { fixture, MNIST_IMAGES, MNIST_LABELS, xbarc } from "./helpers.js";

const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
const SLICE = ["--images", MNIST_IMAGES, "--labels", MNIST_LABELS, "--offset", "8000", "--limit", "200"];

function evalWeights(...args: string[]): EvalWeightsReport {
  const r = xbarc("eval-weights", MLP, ...SLICE, "--json", ...args);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as EvalWeightsReport;
}

describe("xbarc eval-weights", () => {
  it("reports the same float baseline as eval-float on the same slice", () => {
    const report = evalWeights("--device", "exp-a3", "--quantizer", "mes-caq", "--mc", "4", "--variation", "lognormal:0.5");
    const float = JSON.parse(xbarc("eval-float", MLP, ...SLICE, "--json").stdout) as { accuracy: number; correct: number };
    expect(report.float).toEqual({ accuracy: float.accuracy, correct: float.correct });
    expect(report.images).toMatchObject({ offset: 8000, count: 200 });
    expect(report.pipeline).toBe('canonicalize,quantize{quantizer="mes-caq"},assign-levels');
    expect(report.device).toMatchObject({ name: "exp-a3", levels: 8, map: "differential", variation: "lognormal σ=0.5" });
    expect(report.notes.join(" ")).toMatch(/read noise: not modelled at weight level/);
    expect(report.montecarlo.runs).toBe(4);
    expect(report.montecarlo.accuracies).toHaveLength(4);
    const { accuracies, mean, min, max } = report.montecarlo;
    expect(mean).toBeCloseTo(accuracies.reduce((a, b) => a + b, 0) / 4, 12);
    expect([min, max]).toEqual([Math.min(...accuracies), Math.max(...accuracies)]);
    // σ = 0.5 on a 2187x-range device: every run loses accuracy against the ideal device
    expect(max).toBeLessThan(report.ideal.accuracy);
    expect(report.layers.map((l) => [l.layer, l.weight, l.quantizer, l.codes, l.map])).toEqual([
      ["/fc1/Gemm_output_0", "fc1.weight", "mes-caq", 57, "differential"],
      ["logits", "fc2.weight", "mes-caq", 57, "differential"],
    ]);
  });

  it("gives every Monte Carlo run the ideal-device accuracy on a device without variation (isaac, uniform)", () => {
    const report = evalWeights("--device", "isaac", "--quantizer", "uniform", "--mc", "4");
    expect(report.device.variation).toBe("none");
    expect(report.montecarlo.accuracies).toEqual([report.ideal.accuracy, report.ideal.accuracy, report.ideal.accuracy, report.ideal.accuracy]);
    expect(report.montecarlo.std).toBe(0);
    expect(report.layers.every((l) => l.quantizer === "uniform" && l.map === "offset-column")).toBe(true);
  });

  it("gives identical per-run accuracies with 1 and 2 workers, and different ones for another seed", () => {
    const args = ["--device", "pow-a2", "--quantizer", "uniform", "--variation", "lognormal:0.3", "--mc", "4"];
    const one = evalWeights(...args, "--workers", "1", "--seed", "5");
    const two = evalWeights(...args, "--workers", "2", "--seed", "5");
    const other = evalWeights(...args, "--workers", "2", "--seed", "6");
    expect(two.montecarlo.accuracies).toEqual(one.montecarlo.accuracies);
    expect(two.montecarlo.workers).toBe(2);
    expect(other.montecarlo.accuracies).not.toEqual(one.montecarlo.accuracies);
  });

  it("quantizes with output-error on calibration images disjoint from the evaluation slice", () => {
    const report = evalWeights("--device", "exp-a3", "--metric", "output-error", "--mc", "1",
      "--calib-images", MNIST_IMAGES, "--calib-labels", MNIST_LABELS, "--calib-offset", "0", "--calib-limit", "100");
    expect(report.calibration).toMatchObject({ offset: 0, count: 100, name: "t10k-images-idx3-ubyte.gz[0:100]" });
    expect(report.layers.every((l) => l.metric === "output-error")).toBe(true);
  });

  it("refuses calibration images that overlap the evaluation images of the same file", () => {
    const r = xbarc("eval-weights", MLP, ...SLICE, "--device", "exp-a3", "--calib-images", MNIST_IMAGES, "--calib-labels", MNIST_LABELS, "--calib-offset", "8100");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/error XB7001: the calibration images t10k-images-idx3-ubyte\.gz\[8100:8356\] overlap the evaluation images t10k-images-idx3-ubyte\.gz\[8000:8200\]/);
  });

  it("prints a text report naming the pipeline, the seed and what is not modelled", () => {
    const r = xbarc("eval-weights", MLP, ...SLICE, "--device", "isaac", "--quantizer", "uniform", "--mc", "2", "--seed", "3");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^pipeline: +canonicalize,quantize\{quantizer="uniform"\},assign-levels · seed 3$/m);
    expect(r.stdout).toMatch(/read noise: not modelled at weight level/);
    expect(r.stdout).toMatch(/^monte carlo: +mean [\d.]+%, std 0\.00%, min [\d.]+%, max [\d.]+% over 2 runs/m);
    expect(r.stdout).toMatch(/^ +\/fc1\/Gemm_output_0 +fc1\.weight +uniform /m);
  });

  it("exits 2 without a device", () => {
    const r = xbarc("eval-weights", MLP, ...SLICE);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error XB7001: no device: pass --device/);
  });

  it("exits 2 for a malformed --variation", () => {
    const r = xbarc("eval-weights", MLP, ...SLICE, "--device", "isaac", "--variation", "lognormal");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error XB7001: .*--variation.*"lognormal" is not a variation/);
  });
});

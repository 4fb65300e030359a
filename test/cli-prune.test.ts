/**
 * @fileoverview `xbarc compile --prune` as users run it on the MNIST MLP with seed 004's 32×32 crossbar: the report
 * (text and --json) names disjoint calibration and evaluation sets, its evaluation accuracy equals an independent
 * float evaluation of the pruned model, the budget holds on calibration data, crossbars shrink, and overlapping sets
 * or misused flags fail with a usage error and leave no program behind.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getWeightOps } from "@xbarc/passes";
import { fixture, makeTempDir, MNIST_IMAGES, MNIST_LABELS, xbarc } from "../packages/cli/test/helpers.js";
import { argmaxRows, countCorrect } from "./helpers/compare.js";
import { loadMnistTest, preprocessSamples, range } from "./helpers/datasets.js";
import { importModel, interpretFloat } from "./helpers/xbarc.js";

const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
const { dir, cleanup } = makeTempDir("prune");
afterAll(cleanup);
const DEVICE = join(dir, "isaac-32.json");
writeFileSync(DEVICE, JSON.stringify({ extends: "isaac", name: "isaac-32", crossbar: { rows: 32, cols: 32 } }));

interface PruneReport {
  rule: string;
  budget: number | null;
  calibration: string | null;
  evaluation?: string;
  crossbars: { before: number; after: number; saved: number; per_layer: { layer: string; before: number; after: number }[] };
  accuracy: { calibration?: { before: number; after: number; images: number }; evaluation?: { before: number; after: number; images: number } };
}

const CALIB = ["--calib-images", MNIST_IMAGES, "--calib-labels", MNIST_LABELS];
const EVAL = ["--eval-images", MNIST_IMAGES, "--eval-labels", MNIST_LABELS];

/** Top-1 accuracy of a float module on t10k[start:end] (batches of 100), by the test helpers. */
function accuracy(m: ReturnType<typeof importModel>, start: number, end: number): number {
  let correct = 0;
  for (let s = start; s < end; s += 100) {
    const { data, labels } = preprocessSamples(loadMnistTest(), range(s, s + 100), "unit");
    correct += countCorrect(argmaxRows(interpretFloat(m, data, [100, 784]).data, 10), labels);
  }
  return correct / (end - start);
}

describe("xbarc compile --prune", () => {
  it("--help teaches the prune rules, the budget and the held-back evaluation set", () => {
    const help = xbarc("compile", "--help").stdout;
    expect(help).toMatch(/--prune <rule>/);
    expect(help).toMatch(/--prune-budget <points>/);
    expect(help).toMatch(/--eval-images <file>/);
    expect(help).toMatch(/\$ xbarc compile .*mlp784-32-10-relu\.onnx/);
  });

  it("magnitude: the report names disjoint sets and its evaluation accuracy equals an independent float evaluation of the pruned model", () => {
    const out = join(dir, "mag.xbar.json");
    const r = xbarc("compile", MLP, "--device", DEVICE, "-o", out, ...CALIB, "--calib-limit", "200",
      "--prune", "magnitude", "--prune-sparsity", "0.5", ...EVAL, "--eval-offset", "8000", "--eval-limit", "1000", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = (JSON.parse(r.stdout) as { prune: PruneReport }).prune;
    expect(report).toMatchObject({ rule: "magnitude", budget: null, calibration: "t10k-images-idx3-ubyte.gz[0:200]", evaluation: "t10k-images-idx3-ubyte.gz[8000:9000]" });
    // the independent reference: zero the 50% smallest |w| of each layer (ties by index) of our own import
    const m = importModel(MLP, 100);
    const unpruned = accuracy(m, 8000, 9000);
    for (const op of getWeightOps(m)) {
      const w = op.operands[1]!.data as Float32Array;
      const order = Array.from(w.keys()).sort((a, b) => Math.abs(w[a]!) - Math.abs(w[b]!) || a - b);
      for (const i of order.slice(0, Math.round(0.5 * w.length))) w[i] = 0;
    }
    expect(report.accuracy.evaluation).toEqual({ before: unpruned, after: accuracy(m, 8000, 9000), images: 1000 });
    expect(report.accuracy.calibration).toEqual({ before: accuracy(importModel(MLP, 100), 0, 200), after: accuracy(m, 0, 200), images: 200 });
    expect(report.crossbars.per_layer.map((l) => l.layer)).toEqual(["/fc1/Gemm_output_0", "logits"]);
    expect(report.crossbars.after).toBe(report.crossbars.per_layer.reduce((s, l) => s + l.after, 0));
  });

  it("sensitivity: keeps the calibration accuracy within the budget and uses fewer crossbars", () => {
    const out = join(dir, "sens.xbar.json");
    const r = xbarc("compile", MLP, "--device", DEVICE, "-o", out, ...CALIB, "--calib-limit", "300",
      "--prune", "sensitivity", "--prune-budget", "1", ...EVAL, "--eval-offset", "8000", "--eval-limit", "500", "--json");
    expect(r.code).toBe(0);
    const report = (JSON.parse(r.stdout) as { prune: PruneReport }).prune;
    expect(report).toMatchObject({ rule: "sensitivity", budget: 1, calibration: "t10k-images-idx3-ubyte.gz[0:300]", evaluation: "t10k-images-idx3-ubyte.gz[8000:8500]" });
    const calib = report.accuracy.calibration!;
    expect((calib.before - calib.after) * 100).toBeLessThanOrEqual(1 + 1e-9);
    expect(report.crossbars.after).toBeLessThan(report.crossbars.before);
    expect(report.crossbars.saved).toBeCloseTo((report.crossbars.before - report.crossbars.after) / report.crossbars.before, 12);
    expect(existsSync(out)).toBe(true);
  });

  it("crossbar: prints the before/after table with both sets named", () => {
    const out = join(dir, "xbar.xbar.json");
    const r = xbarc("compile", MLP, "--device", DEVICE, "-o", out, ...CALIB, "--calib-limit", "300", "--prune", "crossbar", ...EVAL, "--eval-offset", "9000");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/prune: rule crossbar, budget 1 points, calibration t10k-images-idx3-ubyte\.gz\[0:300\], evaluation t10k-images-idx3-ubyte\.gz\[9000:10000\] \(held back\)/);
    const total = /total\s+(\d+)\s+(\d+)\s+\(([\d.]+)% saved\)/.exec(r.stdout);
    expect(total).not.toBeNull();
    expect(Number(total![2])).toBeLessThan(Number(total![1]));
    expect(r.stdout).toMatch(/float accuracy on evaluation \(1000 images\): [\d.]+% → [\d.]+%/);
  });

  it("rejects evaluation images that overlap the calibration images of the same file, with exit code 2 and no program", () => {
    const out = join(dir, "overlap.xbar.json");
    const r = xbarc("compile", MLP, "--device", DEVICE, "-o", out, ...CALIB, "--calib-limit", "300",
      "--prune", "magnitude", ...EVAL, "--eval-offset", "200", "--eval-limit", "500", "--json");
    expect(r.code).toBe(2);
    const error = (JSON.parse(r.stderr) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("XB7001");
    expect(error.message).toMatch(/\[200:700\] overlap the calibration images \[0:300\]/);
    expect(existsSync(out)).toBe(false);
  });

  it("rejects --prune-sparsity with a rule that chooses its own sparsity, and sensitivity without calibration images", () => {
    const out = join(dir, "bad.xbar.json");
    const a = xbarc("compile", MLP, "--device", DEVICE, "-o", out, ...CALIB, "--prune", "sensitivity", "--prune-sparsity", "0.5");
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/XB7001/);
    const b = xbarc("compile", MLP, "--device", DEVICE, "-o", out, "--prune", "sensitivity", "--json");
    expect(b.code).toBe(1);
    expect((JSON.parse(b.stderr) as { error: { code: string } }).error.code).toBe("XB5003");
    expect(existsSync(out)).toBe(false);
  });
});

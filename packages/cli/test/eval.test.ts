/**
 * @fileoverview `xbarc eval`: compile + run in one step gives the report `xbarc run` gives on the compiled program,
 * with eval-float's accuracy on the same images beside it; `xbarc run --variation` samples with the given variation
 * (as a program compiled for that variation does) and records it; help, text output, bad flags.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printProgramJson } from "@xbarc/backend-sim";
import { compileModel, evalFloat, type EvalModelReport, type RunProgramReport } from "@xbarc/cli";
import { expectHelpTeaches, fixture, makeTempDir, MNIST_IMAGES, MNIST_LABELS, REPO, xbarc } from "./helpers.js";

const { dir, cleanup } = makeTempDir("eval");
afterAll(cleanup);

const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
const PROGRAM = join(dir, "mlp.xbar.json");
const SIGMA3_PROGRAM = join(dir, "mlp-sigma3.xbar.json");
const IMAGES = ["--images", MNIST_IMAGES, "--labels", MNIST_LABELS];
const CALIBRATION = ["--calib-images", MNIST_IMAGES, "--calib-labels", MNIST_LABELS, "--calib-limit", "100"];

beforeAll(() => {
  // rram-4bit: log-normal σ = 0.1, so Monte Carlo runs differ from one another
  writeFileSync(PROGRAM, printProgramJson(compileModel({ model: join(REPO, MLP), device: "rram-4bit" }).program));
  writeFileSync(SIGMA3_PROGRAM, printProgramJson(compileModel({ model: join(REPO, MLP), device: "rram-4bit", variation: { model: "lognormal", sigma: 0.3 } }).program));
}, 120_000);

function json<T>(...args: string[]): T {
  const r = xbarc(...args, "--json");
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** What must agree between two reports of the same program on the same images and seed. */
function simulated(r: RunProgramReport): Pick<RunProgramReport, "model" | "device" | "hash" | "images" | "mode" | "seed" | "accuracy" | "baseline" | "timing" | "energy" | "correct_gops_per_joule"> {
  const { model, device, hash, images, mode, seed, accuracy, baseline, timing, energy, correct_gops_per_joule } = r;
  return { model, device, hash, images, mode, seed, accuracy, baseline, timing, energy, correct_gops_per_joule };
}

describe("xbarc eval", () => {
  it("--help teaches: description, an example, --json", () => {
    expectHelpTeaches(["eval"]);
  });

  it("reports what compile then run report on the program, with eval-float's accuracy on the same images as the float baseline", () => {
    const slice = ["--offset", "8000", "--limit", "150"];
    const evaluated = json<EvalModelReport>("eval", MLP, "--device", "rram-4bit", ...CALIBRATION, ...IMAGES, ...slice, "--mc", "3", "--seed", "5", "--workers", "0");
    const compiled = join(dir, "calibrated.xbar.json");
    const c = xbarc("compile", MLP, "--device", "rram-4bit", ...CALIBRATION, "--seed", "5", "-o", compiled);
    expect(c.code, c.stderr).toBe(0);
    const run = json<RunProgramReport>("run", compiled, ...IMAGES, ...slice, "--mc", "3", "--seed", "5", "--workers", "0");
    expect(simulated(evaluated)).toEqual(simulated(run));
    expect(evaluated.accuracy.runs).toBe(3);
    expect(evaluated.program).toBe(MLP);
    expect(run.float).toBeNull();
    const float = evalFloat({ model: join(REPO, MLP), images: join(REPO, MNIST_IMAGES), labels: join(REPO, MNIST_LABELS), offset: 8000, limit: 150 });
    expect(evaluated.float).toEqual({ correct: float.correct, accuracy: float.accuracy });
    expect(evaluated.pipeline).toContain("place-truncation");
  }, 180_000);

  it("prints the float and fixed-point baselines beside the Monte Carlo statistics as text", () => {
    const r = xbarc("eval", MLP, "--device", "rram-4bit", ...IMAGES, "--offset", "9000", "--limit", "50", "--mc", "2", "--workers", "0");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^program: {6}compiled in memory from .*mlp784-32-10-relu\.onnx \(model .* on rram-4bit; hash [0-9a-f]{12}…\)$/m);
    expect(r.stdout).toMatch(/^float: {8}\d+\.\d\d% \(\d+\/50\) — the ONNX model in the float reference interpreter$/m);
    expect(r.stdout).toMatch(/^fixed-point: {2}\d+\.\d\d% \(\d+\/50\)/m);
    expect(r.stdout).toMatch(/^monte carlo: {2}mean .* over 2 runs \(seed 0, 0 workers\)$/m);
    expect(r.stdout).toMatch(/^energy: .* nJ per image/m);
  }, 60_000);

  it("refuses a missing --device and a bad --variation as usage errors (exit 2, XB7001)", () => {
    const noDevice = xbarc("eval", MLP, ...IMAGES, "--limit", "10", "--ideal");
    expect(noDevice.code).toBe(2);
    expect(noDevice.stderr).toContain("error XB7001: no device");
    const bad = xbarc("eval", MLP, "--device", "isaac", "--variation", "lognormal:x", ...IMAGES, "--limit", "10");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("sigma must be a number");
  });
});

describe("xbarc run --variation", () => {
  it("samples as a program compiled for that variation does, and records it in the report", () => {
    const args = [...IMAGES, "--offset", "8000", "--limit", "100", "--mc", "3", "--seed", "2", "--workers", "0"];
    const overridden = json<RunProgramReport>("run", PROGRAM, ...args, "--variation", "lognormal:0.3");
    const compiledFor = json<RunProgramReport>("run", SIGMA3_PROGRAM, ...args);
    const plain = json<RunProgramReport>("run", PROGRAM, ...args);
    expect(overridden.variation).toBe("lognormal σ=0.3");
    expect(plain.variation).toBeNull();
    expect(overridden.accuracy.correct).toEqual(compiledFor.accuracy.correct);
    expect(overridden.accuracy.correct).not.toEqual(plain.accuracy.correct);
    // the program's own record of its device is unchanged
    expect(overridden.hash).toBe(plain.hash);
  }, 120_000);

  it("is ignored with --ideal (the ideal device has no variation)", () => {
    const r = json<RunProgramReport>("run", PROGRAM, ...IMAGES, "--offset", "8000", "--limit", "50", "--ideal", "--variation", "lognormal:0.3");
    expect(r.variation).toBeNull();
    expect(r.accuracy.correct).toEqual([r.baseline.correct]);
  }, 60_000);
});

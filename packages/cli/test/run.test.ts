/**
 * @fileoverview `xbarc run`: --ideal equals the fixed-point reference's accuracy on the same images (lenet5/isaac),
 * the same seed gives the same JSON with 1 and 2 workers, a changed or malformed program exits 1 with its code, help.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBuiltinProfile } from "@xbarc/ir";
import { fitProgramImages, loadImageSet, loadLabels, printProgramJson, runFixedPoint, top1, type Program } from "@xbarc/backend-sim";
import { compileModel, loadModel, runPasses, type RunProgramReport } from "@xbarc/cli";
import { expectHelpTeaches, fixture, makeTempDir, MNIST_IMAGES, MNIST_LABELS, REPO, xbarc } from "./helpers.js";

const { dir, cleanup } = makeTempDir("run");
afterAll(cleanup);

const LENET = fixture("models/trained/lenet5.onnx");
const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
const LENET_PROGRAM = join(dir, "lenet5.xbar.json");
const MLP_PROGRAM = join(dir, "mlp.xbar.json");
let lenet: { program: Program; pipeline: string };

beforeAll(() => {
  const r = compileModel({ model: join(REPO, LENET), device: "isaac" });
  lenet = { program: r.program, pipeline: r.pipeline };
  writeFileSync(LENET_PROGRAM, printProgramJson(r.program));
  // rram-4bit has log-normal variation σ = 0.1, so Monte Carlo runs differ from one another
  writeFileSync(MLP_PROGRAM, printProgramJson(compileModel({ model: join(REPO, MLP), device: "rram-4bit" }).program));
}, 120_000);

const IMAGES = ["--images", MNIST_IMAGES, "--labels", MNIST_LABELS];

/** The report without what legitimately depends on the machine (wall times) and on --workers. */
function withoutRunDetails(r: RunProgramReport): Omit<RunProgramReport, "seconds" | "workers"> {
  const { seconds: _s, workers: _w, ...rest } = r;
  return rest;
}

describe("xbarc run", () => {
  it("--help teaches: description, an example, --json", () => {
    expectHelpTeaches(["run"]);
  });

  it("--ideal reports the fixed-point reference's accuracy on the same images (lenet5 on isaac, t10k[8000:8300])", () => {
    const r = xbarc("run", LENET_PROGRAM, ...IMAGES, "--offset", "8000", "--limit", "300", "--ideal", "--json");
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RunProgramReport;
    // the reference: the same compile pipeline on the module, then runFixedPoint on the same fitted images
    const module = loadModel(join(REPO, LENET));
    runPasses(module, lenet.pipeline, { device: getBuiltinProfile("isaac")!, seed: 0, modelName: "lenet5.onnx" });
    const data = fitProgramImages(lenet.program, loadImageSet(join(REPO, MNIST_IMAGES)), loadLabels(join(REPO, MNIST_LABELS)), 8000, 300);
    let correct = 0;
    let first = 0;
    data.images.forEach((x, b) => {
      const y = runFixedPoint(module, new Map([[module.inputs[0]!.name, x]])).outputs.get(module.outputs[0]!.name)!;
      const classes = top1(y, data.counts[b]!);
      for (let i = 0; i < data.counts[b]!; i++) if (classes[i] === data.labels[first + i]) correct++;
      first += data.counts[b]!;
    });
    expect(report.mode).toBe("ideal");
    expect(report.images).toEqual({ file: MNIST_IMAGES, labels: MNIST_LABELS, offset: 8000, count: 300 });
    expect(report.accuracy.correct).toEqual([correct]);
    expect(report.accuracy.mean).toBe(correct / 300);
    expect(report.baseline.correct).toBe(correct);
    // timing and energy are the program's estimates, present and positive
    expect(report.timing.latencyNs).toBeGreaterThan(0);
    expect(report.energy.totalPj).toBeGreaterThan(0);
    expect(report.correct_gops_per_joule).toBeCloseTo((report.accuracy.mean * report.energy.operations) / (report.energy.totalPj * 1e-12) / 1e9, 6);
  }, 120_000);

  it("gives identical JSON for the same seed with --workers 1 and 2, and other runs for another seed", () => {
    const run = (...extra: string[]): RunProgramReport => {
      const r = xbarc("run", MLP_PROGRAM, ...IMAGES, "--offset", "8000", "--limit", "150", "--mc", "4", ...extra, "--json");
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as RunProgramReport;
    };
    const one = run("--seed", "3", "--workers", "1");
    const two = run("--seed", "3", "--workers", "2");
    expect(one.workers).toBe(1);
    expect(two.workers).toBe(2);
    expect(withoutRunDetails(two)).toEqual(withoutRunDetails(one));
    expect(one.accuracy.runs).toBe(4);
    expect(one.accuracy.min).toBeLessThanOrEqual(one.accuracy.p5);
    expect(one.accuracy.p95).toBeLessThanOrEqual(one.accuracy.max);
    expect(one.accuracy.mean).toBeCloseTo(one.accuracy.correct.reduce((a, b) => a + b, 0) / (4 * 150), 12);
    const other = run("--seed", "4", "--workers", "2");
    expect(other.accuracy.correct).not.toEqual(one.accuracy.correct);
  }, 120_000);

  it("prints the baseline and Monte Carlo statistics as text, without progress when not on a terminal", () => {
    const r = xbarc("run", MLP_PROGRAM, ...IMAGES, "--offset", "9000", "--limit", "50", "--mc", "2", "--workers", "0");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^program: {6}.*mlp\.xbar\.json \(model .* on rram-4bit; hash [0-9a-f]{12}… verified\)$/m);
    expect(r.stdout).toMatch(/^fixed-point: {2}\d+\.\d\d% \(\d+\/50\)/m);
    expect(r.stdout).toMatch(/^monte carlo: {2}mean \d+\.\d\d%, std .*, p5 .*, p50 .*, p95 .* over 2 runs \(seed 0, 0 workers\)$/m);
    expect(r.stdout).toMatch(/^latency: .* µs per image/m);
    expect(r.stdout).toMatch(/^energy: .* nJ per image/m);
  }, 60_000);

  it("refuses a program changed after compile with XB6004 (exit 1)", () => {
    const p = JSON.parse(JSON.stringify(lenet.program)) as Program;
    const cells = Buffer.from(p.tiles[0]!.cells, "base64");
    cells[0] = (cells[0]! + 1) % 4;
    p.tiles[0]!.cells = cells.toString("base64");
    const path = join(dir, "tampered.xbar.json");
    writeFileSync(path, JSON.stringify(p));
    const r = xbarc("run", path, ...IMAGES, "--limit", "10", "--ideal");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toContain("error XB6004: program content does not match its hash");
  });

  it("refuses a file that is not a program with XB4001 (exit 1), as JSON with --json", () => {
    const path = join(dir, "not-a-program.xbar.json");
    writeFileSync(path, JSON.stringify({ format: "xbarc-program", version: 1 }));
    const r = xbarc("run", path, ...IMAGES, "--limit", "10", "--json");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe("XB4001");
  });

  it("refuses an offset past the last image as a usage error (exit 2, XB7001)", () => {
    const r = xbarc("run", LENET_PROGRAM, ...IMAGES, "--offset", "10000", "--ideal");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("XB7001");
  });
});

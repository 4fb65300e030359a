import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, makeTempDir, MNIST_IMAGES, MNIST_LABELS, xbarc } from "./helpers.js";

const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
const tmp = makeTempDir("eval");
afterAll(tmp.cleanup);

describe("xbarc eval-float", () => {
  it("reproduces the 95.20% of mlp784-32-10-relu on t10k[8000:10000] stated in fixtures/README.md", () => {
    const r = xbarc("eval-float", MLP, "--images", MNIST_IMAGES, "--labels", MNIST_LABELS, "--offset", "8000", "--limit", "2000");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/accuracy: +95\.20% \(1904\/2000 correct\)/);
    expect(r.stdout).toMatch(/images\/s/);
  });

  it("prints a parseable JSON report with --json", () => {
    const r = xbarc("eval-float", MLP, "--images", MNIST_IMAGES, "--labels", MNIST_LABELS, "--offset", "8000", "--limit", "500", "--batch-size", "64", "--json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { model: string; images: number; correct: number; accuracy: number; preprocessing: { scale: number; mean: number; std: number }; seconds: number };
    expect(doc.model).toBe(MLP);
    expect(doc.images).toBe(500);
    expect(doc.accuracy).toBeCloseTo(doc.correct / 500, 12);
    expect(doc.accuracy).toBeGreaterThan(0.9);
    expect(doc.preprocessing).toEqual({ scale: 1 / 255, mean: 0, std: 1 });
    expect(doc.seconds).toBeGreaterThan(0);
  });

  it("gets the same count with batch 64 (last batch padded) as with batch 100", () => {
    const run = (b: string) => JSON.parse(xbarc("eval-float", MLP, "--images", MNIST_IMAGES, "--labels", MNIST_LABELS, "--offset", "8000", "--limit", "300", "--batch-size", b, "--json").stdout) as { correct: number };
    expect(run("64").correct).toBe(run("100").correct);
  });

  it("reports a missing dataset file as XB7002 naming it", () => {
    const missing = join(tmp.dir, "t10k-images.gz");
    const r = xbarc("eval-float", MLP, "--images", missing, "--labels", MNIST_LABELS);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB7002: /);
    expect(r.stderr).toContain("t10k-images.gz");
  });

  it("rejects images that do not fit the model's input with XB4002 (digits 8x8 into a 784 input)", () => {
    const digits = fixture("digits/digits.csv.gz");
    const r = xbarc("eval-float", MLP, "--images", digits, "--labels", digits, "--limit", "10");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB4002: /);
    expect(r.stderr).toContain("[8,8]");
    expect(r.stderr).toMatch(/f32\[\d+,784\]/);
  });

  it("exits 2 when --labels is missing, and mentions the option", () => {
    const r = xbarc("eval-float", MLP, "--images", MNIST_IMAGES);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error XB7001: .*--labels/);
    expect(r.stderr).toContain("xbarc eval-float --help");
  });
});

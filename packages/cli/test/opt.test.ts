import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, listFiles, makeTempDir, xbarc } from "./helpers.js";

const LENET = fixture("models/trained/lenet5.onnx");
const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
const tmp = makeTempDir("opt");
afterAll(tmp.cleanup);

describe("xbarc opt", () => {
  it("writes 00-import.xir and 01-canonicalize.xir with --dump-after all, and ir check accepts both", () => {
    const dumps = join(tmp.dir, "dumps-all");
    const out = join(tmp.dir, "lenet5.canon.xir");
    const r = xbarc("opt", LENET, "--passes", "canonicalize", "--dump-after", "all", "--dump-dir", dumps, "-o", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(listFiles(dumps)).toEqual(["00-import.xir", "01-canonicalize.xir"]);
    for (const f of listFiles(dumps)) {
      const check = xbarc("ir", "check", join(dumps, f));
      expect(check.stderr).toBe("");
      expect(check.code).toBe(0);
    }
    const canon = readFileSync(join(dumps, "01-canonicalize.xir"), "utf8");
    expect(canon).toMatch(/^\/\/ pipeline: canonicalize · seed 0$/m);
    // canonicalize turns the Gemm layers into linear ops
    expect(canon).toMatch(/= linear /);
    expect(canon).not.toMatch(/= gemm /);
    expect(readFileSync(out, "utf8")).toContain("= linear ");
  });

  it("writes only the named snapshots with --dump-after <pass list>", () => {
    const dumps = join(tmp.dir, "dumps-named");
    const r = xbarc("opt", MLP, "--passes", "canonicalize", "--dump-after", "canonicalize", "--dump-dir", dumps);
    expect(r.code).toBe(0);
    expect(listFiles(dumps)).toEqual(["01-canonicalize.xir"]);
    expect(r.stdout).toMatch(/^module /m);
  });

  it("runs on an .xir file written by import --weights and keeps the data with --weights-out", () => {
    const xir = join(tmp.dir, "mlp.xir");
    const weights = join(tmp.dir, "mlp.weights");
    expect(xbarc("import", MLP, "-o", xir, "--weights", weights).code).toBe(0);
    const out = join(tmp.dir, "mlp.canon.xir");
    const outWeights = join(tmp.dir, "mlp.canon.weights");
    const r = xbarc("opt", xir, "--weights", weights, "--passes", "canonicalize", "-o", out, "--weights-out", outWeights, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { pipeline: string; steps: { pass: string }[]; output: string };
    expect(doc.pipeline).toBe("canonicalize");
    expect(doc.steps.map((s) => s.pass)).toEqual(["canonicalize"]);
    expect(xbarc("ir", "check", out, "--weights", outWeights).code).toBe(0);
  });

  it("rejects an .xir with a syntax error: file:line:col, the source line and a caret, no output file", () => {
    const bad = join(tmp.dir, "bad.xir");
    writeFileSync(bad, "module @m {\n  input %x : f32[1,4]\n  %y = relu %x : f32[1,4\n  output %y\n}\n");
    const out = join(tmp.dir, "bad-out.xir");
    const r = xbarc("opt", bad, "--passes", "canonicalize", "-o", out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.xir:\d+:\d+: error XB2\d{3}: /);
    const [, line, col] = /bad\.xir:(\d+):(\d+):/.exec(r.stderr)!;
    const caretLine = r.stderr.split("\n").find((l) => /^\s*\^/.test(l))!;
    expect(caretLine).toBeDefined();
    // the caret sits under the reported column of the quoted source line
    expect(caretLine.indexOf("^") - 2).toBe(Number(col) - 1);
    expect(Number(line)).toBeGreaterThanOrEqual(3);
    expect(listFiles(tmp.dir)).not.toContain("bad-out.xir");
  });

  it("reports an unknown pass as XB5001 naming the known passes", () => {
    const r = xbarc("opt", MLP, "--passes", "canonicalise");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB5001: .*canonicalise/);
    expect(r.stderr).toContain("canonicalize");
  });

  it("exits 2 when the pipeline is missing", () => {
    const r = xbarc("opt", MLP);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/XB7001/);
    expect(r.stderr).toMatch(/--passes/);
  });

  it("exits 2 for an unknown pass in --dump-after", () => {
    const r = xbarc("opt", MLP, "--passes", "canonicalize", "--dump-after", "nonsense");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nonsense/);
  });
});

import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, listFiles, makeTempDir, REPO, xbarc } from "./helpers.js";

const LENET = fixture("models/trained/lenet5.onnx");
const tmp = makeTempDir("import");
afterAll(tmp.cleanup);

describe("xbarc import", () => {
  it("prints the IR of a real model: header comment, module line, typed input, output", () => {
    const r = xbarc("import", LENET);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\/\/ xbarc-ir 1 · model lenet5\.onnx · after 00-import\n/);
    expect(r.stdout).toMatch(/^module @\S+.*\{$/m);
    expect(r.stdout).toMatch(/^ {2}input %input : f32\[1,1,28,28\]$/m);
    expect(r.stdout).toMatch(/= conv %input, @/);
    expect(r.stdout).toMatch(/^ {2}output %logits$/m);
  });

  it("applies --batch to the symbolic batch dimension", () => {
    const r = xbarc("import", LENET, "--batch", "8");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/input %input : f32\[8,1,28,28\]/);
  });

  it("writes -o and --weights together, and ir check accepts the file with its weights", () => {
    const out = join(tmp.dir, "lenet5.xir");
    const weights = join(tmp.dir, "lenet5.weights");
    const r = xbarc("import", LENET, "-o", out, "--weights", weights);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const text = readFileSync(out, "utf8");
    expect(text).toMatch(/weights\(offset=0, bytes=\d+, sha256="[0-9a-f]{64}"\)/);
    // 61,706 f32 parameters (fixtures/README.md); the three biases of ≤ 16 values (6 + 16 + 10) print inline,
    // the other seven constants (5 weights, 2 biases) sit in the side file at 64-byte-aligned offsets
    const inSideFile = (61706 - 6 - 16 - 10) * 4;
    expect(statSync(weights).size).toBeGreaterThanOrEqual(inSideFile);
    expect(statSync(weights).size).toBeLessThan(inSideFile + 64 * 7);
    expect(text.match(/= weights\(/g)).toHaveLength(7);
    const check = xbarc("ir", "check", out, "--weights", weights);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("prints a JSON summary with --json", () => {
    const r = xbarc("import", LENET, "--json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { inputs: { name: string; type: { shape: number[] } }[]; outputs: { name: string }[]; ops: number; text: string };
    expect(doc.inputs).toEqual([{ name: "input", type: { dtype: "f32", shape: [1, 1, 28, 28] } }]);
    expect(doc.outputs.map((o) => o.name)).toEqual(["logits"]);
    expect(doc.ops).toBeGreaterThanOrEqual(10);
    expect(doc.text).toMatch(/^module /m);
  });

  it("rejects a truncated .onnx with an XB1 code naming the file, and writes nothing", () => {
    const bytes = readFileSync(join(REPO, LENET));
    const cut = join(tmp.dir, "cut.onnx");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = listFiles(tmp.dir);
    const r = xbarc("import", cut, "-o", join(tmp.dir, "cut.xir"), "--weights", join(tmp.dir, "cut.weights"));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/error XB1\d{3}: /);
    expect(r.stderr).toContain("cut.onnx");
    expect(listFiles(tmp.dir)).toEqual(before);
  });

  it("rejects a text file named .onnx with XB1002", () => {
    const fake = join(tmp.dir, "notes.onnx");
    writeFileSync(fake, "these are my notes about the model, not a model\n");
    const r = xbarc("import", fake);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB1002: /);
    expect(r.stderr).toContain("notes.onnx");
  });

  it("reports a missing model file as XB1001", () => {
    const r = xbarc("import", join(tmp.dir, "absent.onnx"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB1001: /);
    expect(r.stderr).toContain("absent.onnx");
  });

  it("rejects an unwritable -o path with XB7003 and leaves no weights file either", () => {
    const notADir = join(tmp.dir, "plain-file");
    writeFileSync(notADir, "x");
    const weights = join(tmp.dir, "orphan.weights");
    const r = xbarc("import", LENET, "-o", join(notADir, "out.xir"), "--weights", weights);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB7003: cannot write .*plain-file\/out\.xir/);
    expect(listFiles(tmp.dir).filter((f) => f.includes("orphan") || f.endsWith(".tmp"))).toEqual([]);
  });

  it("prints errors as one JSON document on stderr with --json", () => {
    const r = xbarc("import", join(tmp.dir, "absent.onnx"), "--json");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const doc = JSON.parse(r.stderr) as { error: { code: string; message: string; location: { file: string }; hint: string } };
    expect(doc.error.code).toBe("XB1001");
    expect(doc.error.location.file).toContain("absent.onnx");
    expect(typeof doc.error.hint).toBe("string");
  });
});

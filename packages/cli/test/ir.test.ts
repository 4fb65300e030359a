import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, makeTempDir, xbarc } from "./helpers.js";

const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
const tmp = makeTempDir("ir");
afterAll(tmp.cleanup);

describe("xbarc ir", () => {
  it("check exits 0 on imported IR and names the module in its summary", () => {
    const xir = join(tmp.dir, "mlp.xir");
    expect(xbarc("import", MLP, "-o", xir).code).toBe(0);
    const r = xbarc("ir", "check", xir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mlp\.xir: ok: module @\S+, 1 input\(s\)/);
    const j = xbarc("ir", "check", xir, "--json");
    expect(j.code).toBe(0);
    expect((JSON.parse(j.stdout) as { ok: boolean }).ok).toBe(true);
  });

  it("parse prints canonical text that parses to the same text again", () => {
    const xir = join(tmp.dir, "mlp2.xir");
    const weights = join(tmp.dir, "mlp2.weights");
    expect(xbarc("import", MLP, "-o", xir, "--weights", weights).code).toBe(0);
    const once = xbarc("ir", "parse", xir, "--weights", weights);
    expect(once.code).toBe(0);
    // the file differs from canonical text only by its header comments
    expect(once.stdout).toBe(readFileSync(xir, "utf8").replace(/^\/\/.*\n/gm, ""));
    const again = join(tmp.dir, "again.xir");
    writeFileSync(again, once.stdout);
    expect(xbarc("ir", "parse", again, "--weights", weights).stdout).toBe(once.stdout);
  });

  it("check reports a syntax error with file:line:col, the line and a caret under the bad token", () => {
    const bad = join(tmp.dir, "typo.xir");
    writeFileSync(bad, "module @m {\n  input %x : f32[1,4]\n  %y = relu %x f32[1,4]\n  output %y\n}\n");
    const r = xbarc("ir", "check", bad);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toMatch(/typo\.xir:3:\d+: error XB2001: /);
    const col = Number(/typo\.xir:3:(\d+):/.exec(lines[0]!)![1]);
    expect(lines[1]).toBe("    %y = relu %x f32[1,4]");
    expect(lines[2]!.indexOf("^")).toBe(2 + col - 1);
    // the caret points at the type written without its ":"
    expect("  %y = relu %x f32[1,4]".slice(col - 1)).toMatch(/^f32/);
  });

  it("check reports a verifier error (wrong result type) with an XB3 code", () => {
    const bad = join(tmp.dir, "types.xir");
    writeFileSync(bad, "module @m {\n  input %x : f32[1,4]\n  %y = relu %x : f32[1,5]\n  output %y\n}\n");
    const r = xbarc("ir", "check", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB3\d{3}: /);
    expect(r.stderr).toMatch(/f32\[1,5\]/);
  });
});

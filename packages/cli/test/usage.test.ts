import { describe, expect, it } from "vitest";
import { expectHelpTeaches, xbarc } from "./helpers.js";

const COMMANDS: string[][] = [
  ["import"], ["opt"], ["ir", "check"], ["ir", "parse"], ["infer"], ["eval-float"], ["passes"], ["devices"], ["device", "show"],
  ["eval-weights"], ["compile"], ["program", "check"], ["program", "show"], ["program", "convert"], ["program", "schema"], ["run"], ["eval"],
];

describe("xbarc command line", () => {
  for (const cmd of COMMANDS) {
    it(`${cmd.join(" ")} --help teaches: description, an example, the --json option`, () => {
      expectHelpTeaches(cmd);
    });
  }

  it("eval-float --help states the preprocessing defaults", () => {
    const r = xbarc("eval-float", "--help");
    expect(r.stdout).toMatch(/default: 1\/255/);
    expect(r.stdout).toMatch(/scale=1\/255, mean=0, std=1/);
  });

  it("exits 2 on an unknown command and suggests the closest one", () => {
    const r = xbarc("improt", "x.onnx");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error XB7001: unknown command 'improt'/);
    expect(r.stderr).toMatch(/Did you mean import\?/);
  });

  it("exits 2 on an unknown option and names the help command", () => {
    const r = xbarc("import", "m.onnx", "--fast");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--fast'");
    expect(r.stderr).toContain("xbarc import --help");
  });

  it("exits 2 on a missing argument, as JSON on stderr with --json", () => {
    const r = xbarc("import", "--json");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const doc = JSON.parse(r.stderr) as { error: { code: string; message: string } };
    expect(doc.error.code).toBe("XB7001");
    expect(doc.error.message).toMatch(/missing required argument/);
  });

  it("exits 2 on a malformed number", () => {
    const r = xbarc("import", "m.onnx", "--batch", "ten");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"ten" is not a whole number/);
  });

  it("exits 0 for `help <command>` and --version", () => {
    const help = xbarc("help", "infer");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: xbarc infer /);
    const version = xbarc("--version");
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("exits 2 without a command and prints the command list", () => {
    const r = xbarc();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/eval-float/);
  });

  it("lists passes and describes canonicalize", () => {
    const list = xbarc("passes");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^canonicalize\s+\S/m);
    const one = xbarc("passes", "canonicalize", "--json");
    expect(one.code).toBe(0);
    const doc = JSON.parse(one.stdout) as { name: string; summary: string; description: string; options: unknown[] };
    expect(doc.name).toBe("canonicalize");
    expect(doc.summary.length).toBeGreaterThan(10);
    expect(doc.description.length).toBeGreaterThan(doc.summary.length);
    const bad = xbarc("passes", "nope");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error XB5001: unknown pass "nope"/);
  });
});

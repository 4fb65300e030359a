/**
 * @fileoverview `xbarc program check|show|convert|schema` on a compiled program and on tampered copies: exit codes,
 * the errors that name what is wrong (hash, JSON pointer, tile, line and column), and conversions that keep content.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import { sealProgram, type Program } from "@xbarc/backend-sim";
import { expectHelpTeaches, fixture, makeTempDir, xbarc } from "./helpers.js";

const { dir, cleanup } = makeTempDir("program");
afterAll(cleanup);

const PROGRAM = join(dir, "lenet5.xbar.json");
const ASM = join(dir, "lenet5.xasm");
let original: Program;

beforeAll(() => {
  const r = xbarc("compile", fixture("models/trained/lenet5.onnx"), "--device", "isaac", "-o", PROGRAM, "--asm", ASM);
  if (r.code !== 0) throw new Error(`compile failed: ${r.stderr}`);
  original = JSON.parse(readFileSync(PROGRAM, "utf8")) as Program;
});

/** Writes a changed copy of the compiled program and returns its path. */
function writeChanged(name: string, change: (p: Program) => Program | void): string {
  const p = JSON.parse(JSON.stringify(original)) as Program;
  const out = change(p) ?? p;
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(out, null, 2));
  return path;
}

function setCell(p: Program, tile: number, index: number, level: number): void {
  const cells = Buffer.from(p.tiles[tile]!.cells, "base64");
  cells[index] = level;
  p.tiles[tile]!.cells = cells.toString("base64");
}

describe("xbarc program", () => {
  it("check, show, convert and schema --help teach: description, an example, --json", () => {
    for (const sub of ["check", "show", "convert", "schema"]) expectHelpTeaches(["program", sub]);
  });

  it("check accepts the compiled program as JSON and as assembly (exit 0)", () => {
    const json = xbarc("program", "check", PROGRAM);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(`${PROGRAM}: valid program for model lenet5 on isaac: 5 layer(s), 23 tile(s), 142 scheduled operations; hash ${original.hash} verified\n`);
    const asm = xbarc("program", "check", ASM, "--json");
    expect(asm.code).toBe(0);
    expect(JSON.parse(asm.stdout)).toEqual({ file: ASM, valid: true, hash: original.hash, hash_verified: true, model: "lenet5", device: "isaac", layers: 5, tiles: 23, schedule: 142 });
  });

  it("check rejects one cell state changed without updating the hash, naming the hash (exit 1)", () => {
    const path = writeChanged("tampered.xbar.json", (p) => setCell(p, 4, 100, (Buffer.from(p.tiles[4]!.cells, "base64")[100]! + 1) % 4));
    const r = xbarc("program", "check", path);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe(`${path}: error XB6004: program content does not match its hash: it was changed after compile (recompile, or use --no-verify-hash to inspect)`);
    expect(r.stdout).toBe("");
    const inspect = xbarc("program", "check", path, "--no-verify-hash");
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain("NOT verified (--no-verify-hash)");
  });

  it("check rejects a removed required field, naming the JSON pointer (exit 1)", () => {
    const path = writeChanged("removed.xbar.json", (p) => {
      delete (p.layers[2]!.formats as Partial<Program["layers"][number]["formats"]>).input;
    });
    const r = xbarc("program", "check", path, "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({
      error: { code: "XB4001", message: "/layers/2/formats/input is missing (a required field)", location: { kind: "json", file: path, pointer: "/layers/2/formats/input" } },
    });
  });

  it("check rejects a level index out of range even with a recomputed hash, naming the tile (exit 1)", () => {
    const path = writeChanged("level.xbar.json", (p) => {
      setCell(p, 7, 0, 9);
      return sealProgram(p);
    });
    const r = xbarc("program", "check", path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}: error XB6005: tile 7 (layer /f5/Gemm_output_0): cell (row 0, column 0) has level 9, but device isaac has 4 levels (0..3)`);
  });

  it("check points at the line and column of a syntax error in assembly, with a caret (exit 1)", () => {
    const lines = readFileSync(ASM, "utf8").split("\n");
    const at = lines.findIndex((l) => l.startsWith("accumulate "));
    lines[at] = lines[at]!.replace("tiles=[", "tiles=[[");
    const path = join(dir, "broken.xasm");
    writeFileSync(path, lines.join("\n"));
    const r = xbarc("program", "check", path);
    expect(r.code).toBe(1);
    const [head, source, caret] = r.stderr.split("\n");
    expect(head).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${at + 1}:\\d+: error XB6006: `));
    expect(source).toBe(`  ${lines[at]}`);
    expect(caret).toMatch(/^\s+\^/);
  });

  it("check exits 1 on a file that is not a program, and 2 without an argument", () => {
    const notJson = join(dir, "not.xbar.json");
    writeFileSync(notJson, "{ nope");
    const r = xbarc("program", "check", notJson);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB4001: \/ is not valid JSON/);
    expect(xbarc("program", "check", join(dir, "missing.xbar.json")).code).toBe(1);
    expect(xbarc("program", "check").code).toBe(2);
  });

  it("show prints the per-layer table with totals, and the same figures as JSON", () => {
    // LeNet-5 on 128×128 with 4 slices and a 4-column offset column per tile: f5 (400×120) takes 4 row tiles and
    // ceil(120 / floor(124/4)) = 4 column tiles; cells = rows × (120·4 + 4 column tiles · 4 offset columns)
    const f5Cells = 400 * (120 * 4 + 4 * 4);
    const cells = 25 * (6 * 4 + 4) + 150 * (16 * 4 + 4) + f5Cells + 120 * (84 * 4 + 3 * 4) + 84 * (10 * 4 + 4);
    // per image: output positions × 8 input steps per tile (conv 28·28 and 10·10 positions, linear 1); conversions also
    // × the columns a tile uses (31 weight columns · 4 + 4 offset = 128 in a full column tile)
    const reads = 28 * 28 * 8 * 1 + 10 * 10 * 8 * 2 + 8 * 16 + 8 * 3 + 8 * 1;
    const conversions = 28 * 28 * 8 * 28 + 10 * 10 * 8 * 2 * 68 + 8 * 4 * (128 * 3 + 112) + 8 * (128 * 2 + 92) + 8 * 44;
    const text = xbarc("program", "show", ASM);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^/f5/Gemm_output_0\\s+linear\\s+offset-unsigned\\s+16\\s+16\\s+${f5Cells}\\s+${(f5Cells / (16 * 128 * 128)).toFixed(3)}\\s+\\d+/16\\s+128\\s+${8 * 4 * (128 * 3 + 112)}$`, "m"));
    expect(text.stdout).toMatch(new RegExp(`^total\\s+23\\s+23\\s+${cells}\\s+${(cells / (23 * 128 * 128)).toFixed(3)}\\s+\\d+/23\\s+${reads}\\s+${conversions}$`, "m"));
    const json = JSON.parse(xbarc("program", "show", PROGRAM, "--json").stdout) as { total: Record<string, number>; layers: unknown[] };
    expect(json.total).toMatchObject({ layers: 5, tiles: 23, crossbars: 23, cells, cells_available: 23 * 128 * 128, mvm_steps: reads, adc_conversions: conversions });
    expect(json.layers).toHaveLength(5);
  });

  it("convert turns JSON into assembly and back into the same JSON text", () => {
    const asm = join(dir, "converted.xasm");
    const json = join(dir, "converted.xbar.json");
    expect(xbarc("program", "convert", PROGRAM, "-o", asm).code).toBe(0);
    expect(readFileSync(asm, "utf8")).toBe(readFileSync(ASM, "utf8"));
    const r = xbarc("program", "convert", asm, "-o", json, "--json");
    expect(JSON.parse(r.stdout)).toEqual({ input: asm, output: json, format: "json", hash: original.hash });
    expect(readFileSync(json, "utf8")).toBe(readFileSync(PROGRAM, "utf8"));
  });

  it("schema prints a JSON schema that accepts the compiled program", () => {
    const schema = JSON.parse(xbarc("program", "schema").stdout) as object;
    const validate = new Ajv({ strict: false, discriminator: true }).compile(schema);
    expect(validate(original)).toBe(true);
    expect(validate({ ...original, tiles: "none" })).toBe(false);
  });
});

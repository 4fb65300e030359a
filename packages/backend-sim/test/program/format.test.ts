/**
 * @fileoverview The program format on compiled fixture programs: JSON → asm → JSON and asm → JSON → asm identities,
 * the canonical JSON and content hash, and tampered programs being refused with an error that names what is wrong.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { renderError, XbarcError } from "@xbarc/ir";
import {
  canonicalJson, checkProgram, decodeBase64, hashProgram, parseProgramAsm, parseProgramText, printProgramAsm, printProgramJson,
  PROGRAM_SCHEMA, sealProgram, type Program,
} from "@xbarc/backend-sim";
import { catchXbarcError } from "../../../../test/helpers/errors.js";
import { COMPILE_PIPELINE, compileFixture, copyProgram, device, isaac32 } from "./compile-fixture.js";

const LENET5 = "trained/lenet5.onnx";
const DIGITS = "trained/digits-mlp64-32-10.onnx";

/** Programs that exercise every part of the format: offset column, bias row, differential pairs, analog levels, packing. */
const CASES: { name: string; program: () => Program }[] = [
  { name: "lenet5 on isaac (offset column, 4 slices, 2 conv + 3 linear)", program: () => compileFixture(LENET5, device("isaac")).program },
  { name: "lenet5 on halawani-16l-10x (bias row, 16-level cells)", program: () => compileFixture(LENET5, device("halawani-16l-10x")).program },
  { name: "mlp784 on rram-4bit (differential pairs)", program: () => compileFixture("trained/mlp784-32-10-relu.onnx", device("rram-4bit")).program },
  { name: "the PyTorch 1.3 LeNet (batch 10, reshape with a constant, softmax) on 32×32 crossbars", program: () => compileFixture("public/lenet5-pytorch1.3-opset9-batch10.onnx", isaac32()).program },
  {
    name: "digits MLP with MES-CAQ analog levels on exp-a3",
    program: () => compileFixture(DIGITS, device("exp-a3"), COMPILE_PIPELINE.replace('quantize{quantizer="fixed-point",bits=8}', 'quantize{quantizer="mes-caq"}')).program,
  },
  {
    name: "digits MLP with tiles packed into shared crossbars",
    program: () => compileFixture(DIGITS, device("isaac"), COMPILE_PIPELINE.replace(",tile,", ",tile{pack=true},")).program,
  },
];

describe("program JSON and text assembly", () => {
  for (const c of CASES) {
    it(`${c.name}: JSON → asm → JSON is the identity, hash included`, () => {
      const program = c.program();
      const back = parseProgramAsm(printProgramAsm(program), "p.xasm");
      expect(back).toEqual(program);
      expect(hashProgram(back)).toBe(program.hash);
      expect(checkProgram(back, "p.xasm")).toBe(back);
    });

    it(`${c.name}: asm → JSON → asm gives the same text, and the JSON file text reads back to the same program`, () => {
      const program = c.program();
      const asm = printProgramAsm(program);
      expect(printProgramAsm(parseProgramAsm(asm))).toBe(asm);
      const json = printProgramJson(program);
      expect(JSON.parse(json)).toEqual(program);
      expect(printProgramJson(JSON.parse(json) as Program)).toBe(json);
    });
  }

  it("covers the schedule's operation kinds and every weight scheme across the cases", () => {
    const programs = CASES.map((c) => c.program());
    const ops = new Set(programs.flatMap((p) => p.schedule.map((o) => o.op)));
    expect([...ops].sort()).toEqual(["accumulate", "activation", "adc", "bias", "move", "mvm", "pool", "program", "quantize", "reshape", "shift-add", "truncate"]);
    const schemes = new Set(programs.flatMap((p) => p.layers.map((l) => l.formats.weight.scheme)));
    expect([...schemes].sort()).toEqual(["analog-levels", "differential-magnitude", "offset-unsigned"]);
    expect(new Set(programs.flatMap((p) => p.layers.map((l) => l.bias?.mode)))).toEqual(new Set(["digital", "row", "float"]));
    expect(programs.some((p) => p.buffers.some((b) => b.role === "constant"))).toBe(true);
    // packing puts several tiles on one crossbar
    const packed = CASES[5]!.program();
    expect(new Set(packed.tiles.map((t) => t.xbar)).size).toBeLessThan(packed.tiles.length);
  });
});

describe("canonical JSON and the content hash", () => {
  const program = (): Program => compileFixture(LENET5, device("isaac")).program;

  it("is sha256 of the canonical JSON of everything but the hash, keys in schema order and no whitespace", () => {
    const p = program();
    const { hash, ...content } = p;
    const canonical = canonicalJson(content);
    expect(hash).toBe(createHash("sha256").update(canonical).digest("hex"));
    expect(Object.keys(JSON.parse(canonical) as object)).toEqual(Object.keys(PROGRAM_SCHEMA.properties).filter((k) => k !== "hash"));
    // no whitespace outside strings: JSON.stringify of the parsed text (same key order) gives it back exactly
    expect(JSON.stringify(JSON.parse(canonical))).toBe(canonical);
    expect(canonicalJson(JSON.parse(canonical))).toBe(canonical);
  });

  it("does not depend on the order of keys in the document", () => {
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverseKeys)
      : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]))
      : v;
    const shuffled = reverseKeys(copyProgram(program())) as Program;
    expect(Object.keys(shuffled)[0]).toBe("schedule");
    expect(hashProgram(shuffled)).toBe(program().hash);
    expect(() => checkProgram(shuffled)).not.toThrow();
  });

  it("changes when any recorded setting changes", () => {
    const p = copyProgram(program());
    p.input.preprocessing.mean = 0.1307;
    expect(hashProgram(p)).not.toBe(program().hash);
  });
});

describe("checkProgram refuses a changed program and names what is wrong", () => {
  const original = (): Program => compileFixture(LENET5, device("isaac")).program;

  /** Changes cell `index` of tile `tile` to `level`. */
  function setCell(p: Program, tile: number, index: number, level: number): void {
    const cells = decodeBase64(p.tiles[tile]!.cells)!;
    cells[index] = level;
    p.tiles[tile]!.cells = Buffer.from(cells).toString("base64");
  }

  it("rejects one cell state changed without updating the hash, naming the hash", () => {
    const p = copyProgram(original());
    const cells = decodeBase64(p.tiles[3]!.cells)!;
    setCell(p, 3, 17, (cells[17]! + 1) % 4);
    const e = catchXbarcError(() => checkProgram(p, "lenet5.xbar.json"));
    expect(e.code).toBe("XB6004");
    expect(e.message).toBe("program content does not match its hash: it was changed after compile (recompile, or use --no-verify-hash to inspect)");
    expect(e.location).toEqual({ kind: "json", file: "lenet5.xbar.json", pointer: "/hash", schema: "program.schema.json" });
    expect(e.notes.join("\n")).toContain(`hash in the file: ${original().hash}`);
    // inspecting it anyway is allowed
    expect(checkProgram(p, "lenet5.xbar.json", { verifyHash: false }).tiles[3]!.cells).toBe(p.tiles[3]!.cells);
  });

  it("rejects a removed required field, naming its JSON pointer", () => {
    for (const [remove, pointer] of [
      [(p: Program) => delete (p.tiles[2] as Partial<Program["tiles"][number]>).cells, "/tiles/2/cells"],
      [(p: Program) => delete (p.device.crossbar as Partial<Program["device"]["crossbar"]>).adc_bits, "/device/crossbar/adc_bits"],
      [(p: Program) => delete (p.schedule[24] as { tile?: number }).tile, "/schedule/24/tile"],
      [(p: Program) => delete (p as Partial<Program>).layers, "/layers"],
    ] as const) {
      const p = copyProgram(original());
      remove(p);
      const e = catchXbarcError(() => checkProgram(p, "lenet5.xbar.json"));
      expect(e.code).toBe("XB4001");
      expect(e.message).toBe(`${pointer} is missing (a required field)`);
      expect(e.location).toMatchObject({ kind: "json", pointer });
    }
  });

  it("rejects a level index the device does not have even when the hash was recomputed, naming the tile", () => {
    const p = copyProgram(original());
    setCell(p, 3, 5, 4); // isaac cells have levels 0..3
    const e = catchXbarcError(() => checkProgram(sealProgram(p), "lenet5.xbar.json"));
    expect(e.code).toBe("XB6005");
    expect(e.message).toBe("tile 3 (layer /f5/Gemm_output_0): cell (row 0, column 5) has level 4, but device isaac has 4 levels (0..3)");
    expect(e.location).toMatchObject({ kind: "json", pointer: "/tiles/3/cells" });
  });

  it("rejects a cell array of the wrong length, an unknown buffer, a tile read before it is programmed, and overlapping tiles", () => {
    const cases: [(p: Program) => void, string, RegExp][] = [
      [(p) => { p.tiles[0]!.cells = Buffer.from(decodeBase64(p.tiles[0]!.cells)!.subarray(1)).toString("base64"); }, "/tiles/0/cells", /tile 0 \(layer \/c1\/Conv_output_0\): cells hold 699 bytes, but rows_used × cols_used = 25 × 28 = 700/],
      [(p) => { const op = p.schedule.find((o) => o.op === "quantize")!; (op as { from: string }).from = "nowhere"; }, "/schedule/23/from", /schedule entry 23 \(quantize\): from "nowhere" names no buffer/],
      [(p) => { p.schedule = [...p.schedule.slice(1), p.schedule[0]!]; }, "/schedule/23/tile", /tile 0 is read before a program entry writes its cells/],
      [(p) => { p.tiles[1]!.xbar = 0; }, "/tiles/1", /tile 1 \(layer \/c3\/Conv_output_0\) overlaps tile 0 on crossbar 0/],
    ];
    for (const [change, pointer, message] of cases) {
      const p = copyProgram(original());
      change(p);
      const e = catchXbarcError(() => checkProgram(sealProgram(p)));
      expect(e.code).toBe("XB6005");
      expect(e.message).toMatch(message);
      expect(e.location).toMatchObject({ pointer });
    }
  });

  it("rejects an unknown schedule operation, another format and another version by their pointers", () => {
    const p = copyProgram(original());
    (p.schedule[40] as { op: string }).op = "teleport";
    expect(catchXbarcError(() => checkProgram(p)).location).toMatchObject({ pointer: "/schedule/40/op" });
    const v = copyProgram(original()) as unknown as { version: number };
    v.version = 2;
    const e = catchXbarcError(() => checkProgram(v));
    expect([e.code, e.message]).toEqual(["XB4001", "/version is 2, but this xbarc reads program version 1"]);
    expect(catchXbarcError(() => checkProgram({ format: "onnx" })).message).toMatch(/^\/format must be "xbarc-program"/);
  });
});

describe("program assembly errors", () => {
  const asm = (): string => printProgramAsm(compileFixture(DIGITS, device("isaac")).program);

  it("reports a syntax error with file:line:col, the source line and a caret", () => {
    const lines = asm().split("\n");
    const at = lines.findIndex((l) => l.startsWith("mvm "));
    lines[at] = lines[at]!.replace(/ steps=(\d+)/, " steps=$1]");
    const e = catchXbarcError(() => parseProgramAsm(lines.join("\n"), "digits.xasm"));
    expect([e.code, e.message]).toEqual(["XB6006", 'expected a field (key=value) or a statement (a keyword like tile, layer, mvm), found "]"']);
    const column = lines[at]!.indexOf("]") + 1;
    expect(e.location).toMatchObject({ kind: "text", file: "digits.xasm", line: at + 1, column });
    const rendered = renderError(e).split("\n");
    expect(rendered[0]).toBe(`digits.xasm:${at + 1}:${column}: error XB6006: ${e.message}`);
    expect(rendered[1]).toBe(`  ${lines[at]}`);
    expect(rendered[2]).toBe(`  ${" ".repeat(column - 1)}^`);
  });

  it("names an unknown statement, a repeated field and a repeated header", () => {
    const text = asm();
    const unknown = catchXbarcError(() => parseProgramAsm(`${text}teleport tile=0\n`, "d.xasm"));
    expect([unknown.code, unknown.message]).toEqual(["XB6006", 'unknown statement "teleport"']);
    expect(unknown.location).toMatchObject({ line: text.split("\n").length, column: 1 });
    const twice = catchXbarcError(() => parseProgramAsm(text.replace("adc layer=", "adc bits=3 layer="), "d.xasm"));
    expect(twice.message).toBe('field "bits" is given twice');
    const header = catchXbarcError(() => parseProgramAsm(`${text}xbarc-program version=1\n`, "d.xasm"));
    expect(header.message).toBe('"xbarc-program" is given twice; a program has one');
  });

  it("points a problem the checks find in an .xasm at its line", () => {
    const lines = asm().split("\n");
    const at = lines.findIndex((l) => l.startsWith("mvm "));
    lines[at] = lines[at]!.replace(/ tile=\d+/, " tile=99");
    const e = catchXbarcError(() => parseProgramText(lines.join("\n"), "d.xasm", "asm", { verifyHash: false }));
    expect(e.code).toBe("XB6005");
    expect(e.message).toMatch(/tile 99 does not exist \(the program has 3\) \(at \/schedule\/\d+\/tile\)$/);
    expect(e.location).toMatchObject({ kind: "text", file: "d.xasm", line: at + 1, column: lines[at]!.indexOf("tile=99") + 1 });
  });

  it("either reads a randomly edited text or throws an XbarcError with a location, never another error", () => {
    const text = asm();
    const alphabet = ["=", "%", '"', "{", "}", "[", "]", ",", " ", "\n", "x", "1", "-", "tile", "null"];
    fc.assert(
      fc.property(fc.nat({ max: text.length - 1 }), fc.nat({ max: 3 }), fc.constantFrom(...alphabet), (at, cut, insert) => {
        const edited = text.slice(0, at) + insert + text.slice(at + cut);
        try {
          parseProgramText(edited, "e.xasm", "asm");
        } catch (e) {
          if (!(e instanceof XbarcError)) throw e;
          expect(e.location).toBeDefined();
        }
      }),
      { numRuns: 60, seed: 4 },
    );
  });
});

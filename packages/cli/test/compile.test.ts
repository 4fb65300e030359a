/**
 * @fileoverview `xbarc compile` as users run it: outputs written whole (JSON and assembly with the same content), the
 * --json report, per-pass dumps, calibration, and failures that exit with the right code and leave no output file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Program, ProgramSummary } from "@xbarc/backend-sim";
import { DT, encodeModel, node, rawFloatTensor, valueInfo } from "../../frontend/test/onnx-builder.js";
import { expectHelpTeaches, fixture, listFiles, makeTempDir, MNIST_IMAGES, MNIST_LABELS, xbarc } from "./helpers.js";

const LENET5 = fixture("models/trained/lenet5.onnx");
const DIGITS = fixture("models/trained/digits-mlp64-32-10.onnx");
const PIPELINE = 'canonicalize,quantize{quantizer="fixed-point",bits=8},assign-levels,tile,bit-slice,place-truncation';

const { dir, cleanup } = makeTempDir("compile");
afterAll(cleanup);

interface CompileReport {
  model: string;
  device: string;
  pipeline: string;
  seed: number;
  truncation: string;
  hash: string;
  outputs: { program: string; asm?: string };
  dumps: string[];
  notes: string[];
  summary: ProgramSummary;
}

/** A model x → Cast(float) → MatMul(W [4, 2]), x of element type `elemType` (ONNX code), and a second input when `twoInputs`. */
function tinyModel(elemType: number, twoInputs: boolean): Uint8Array {
  return encodeModel({
    nodes: [
      node("Cast", ["x"], ["xf"], { to: DT.FLOAT }, "cast"),
      node("MatMul", ["xf", "w"], ["y0"], {}, "fc"),
      twoInputs ? node("Add", ["y0", "bias"], ["y"], {}, "add") : node("Identity", ["y0"], ["y"], {}, "id"),
    ],
    initializers: [rawFloatTensor("w", [4, 2], [1, -1, 0.5, 2, -0.25, 1, 0, 3])],
    inputs: [valueInfo("x", elemType, [1, 4]), ...(twoInputs ? [valueInfo("bias", DT.FLOAT, [1, 2])] : [])],
    outputs: [valueInfo("y", DT.FLOAT, [1, 2])],
  });
}

describe("xbarc compile", () => {
  it("--help teaches the pipeline, that prune is not in it yet, an example and --json", () => {
    expectHelpTeaches(["compile"]);
    const help = xbarc("compile", "--help").stdout;
    expect(help).toContain(PIPELINE);
    expect(help).toMatch(/prune is not in it yet/);
  });

  it("writes the program as JSON and as assembly with the same content, and reports the summary and paths with --json", () => {
    const out = join(dir, "lenet5.xbar.json");
    const asm = join(dir, "lenet5.xasm");
    const r = xbarc("compile", LENET5, "--device", "isaac", "-o", out, "--asm", asm, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as CompileReport;
    expect(report).toMatchObject({ model: LENET5, device: "isaac", pipeline: PIPELINE, seed: 0, truncation: "place-truncation", outputs: { program: out, asm }, notes: [] });
    const program = JSON.parse(readFileSync(out, "utf8")) as Program;
    expect(program.hash).toBe(report.hash);
    expect(program.compile.pipeline).toBe(PIPELINE);
    expect(program.input.preprocessing).toEqual({ scale: 1 / 255, mean: 0, std: 1 });
    // the summary is the one `program show` computes from the file
    const { file, pipeline, seed, truncation, ...shown } = JSON.parse(xbarc("program", "show", out, "--json").stdout) as ProgramSummary & Record<string, unknown>;
    expect([file, pipeline, seed, truncation]).toEqual([out, PIPELINE, 0, "place-truncation"]);
    expect(report.summary).toEqual(shown);
    expect(report.summary.total).toMatchObject({ layers: 5, tiles: 23, crossbars: 23 });
    // the assembly converts back to exactly the JSON file
    const back = join(dir, "lenet5.back.xbar.json");
    expect(xbarc("program", "convert", asm, "-o", back).code).toBe(0);
    expect(readFileSync(back, "utf8")).toBe(readFileSync(out, "utf8"));
    expect(listFiles(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("--merge zeros keeps all-zero weight rows and columns off the crossbars: fewer tiles, and a row map covering every matrix row", () => {
    const plain = JSON.parse(xbarc("compile", LENET5, "--device", "isaac", "-o", join(dir, "plain.xbar.json"), "--json").stdout) as CompileReport;
    const out = join(dir, "zeros.xbar.json");
    const r = xbarc("compile", LENET5, "--device", "isaac", "-o", out, "--merge", "zeros", "--json");
    expect(r.code).toBe(0);
    const merged = JSON.parse(r.stdout) as CompileReport;
    expect(merged.pipeline).toBe(PIPELINE.replace(",tile,", ',tile{merge="zeros"},'));
    expect(merged.summary.total.tiles).toBeLessThan(plain.summary.total.tiles);
    // the program's row map accounts for every matrix row: kept ones on a physical row, dropped ones at −1
    const program = JSON.parse(readFileSync(out, "utf8")) as Program;
    const compacted = program.layers.filter((l) => l.row_map !== undefined);
    expect(compacted.length).toBeGreaterThan(0);
    for (const l of compacted) expect(l.row_map!.length).toBe(l.weight_shape.slice(1).reduce((a, b) => a * b, 1));
    expect(xbarc("program", "check", out).code).toBe(0);
  });

  it("refuses an unknown --merge mode with exit 2, naming the choices", () => {
    const out = join(dir, "bad-merge.xbar.json");
    const r = xbarc("compile", LENET5, "--device", "isaac", "-o", out, "--merge", "diagonal");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/none, zeros, columns, rows, all/);
    expect(existsSync(out)).toBe(false);
  });

  it("prints the resource table and the written paths without --json", () => {
    const out = join(dir, "digits.xbar.json");
    const r = xbarc("compile", DIGITS, "--device", "isaac", "-o", out, "--scale", "1/16");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^program digits_mlp64_32_10 on isaac \(128×128 crossbars\), hash [0-9a-f]{16}…$/m);
    expect(r.stdout).toMatch(/^layer\s+op\s+scheme\s+tiles\s+xbars\s+cells\s+util\s+lossless\s+mvm\/img\s+adc\/img$/m);
    expect(r.stdout).toMatch(/^total\s+3\s+3\s+\d+/m);
    expect(r.stdout).toContain(`wrote ${out} (pipeline ${PIPELINE} · seed 0)`);
    expect((JSON.parse(readFileSync(out, "utf8")) as Program).input.preprocessing.scale).toBe(1 / 16);
  });

  it("records a non-default preprocessing and passes its input range to place-truncation", () => {
    const out = join(dir, "lenet-norm.xbar.json");
    const r = xbarc("compile", LENET5, "--device", "isaac", "-o", out, "--mean", "0.1307", "--std", "0.3081", "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as CompileReport;
    expect(report.pipeline).toBe(PIPELINE.replace(/place-truncation$/, `place-truncation{input_range=[${(0 - 0.1307) / 0.3081},${(1 - 0.1307) / 0.3081}]}`));
    expect(report.notes).toEqual(["no calibration images: the input range [-0.4242, 2.821] assumes raw·scale lies in [0, 1]"]);
    expect((JSON.parse(readFileSync(out, "utf8")) as Program).input.preprocessing).toEqual({ scale: 1 / 255, mean: 0.1307, std: 0.3081 });
  });

  it("runs place-truncation's Algorithm 1 on calibration images and writes one dump per pass", () => {
    const out = join(dir, "calibrated.xbar.json");
    const dumps = join(dir, "dumps");
    const r = xbarc("compile", DIGITS, "--device", "isaac", "-o", out, "--scale", "1/16", "--json", "--dump-after", "all", "--dump-dir", dumps,
      "--calib-images", fixture("digits/digits.csv.gz"), "--calib-labels", fixture("digits/digits.csv.gz"), "--calib-limit", "64");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as CompileReport;
    expect(listFiles(dumps)).toEqual(["00-import.xir", "01-canonicalize.xir", "02-quantize.xir", "03-assign-levels.xir", "04-tile.xir", "05-bit-slice.xir", "06-place-truncation.xir"]);
    expect(report.dumps).toHaveLength(7);
    const program = JSON.parse(readFileSync(out, "utf8")) as Program;
    expect(program.layers.map((l) => l.formats.trunc!.rule)).toEqual(["algorithm-1", "algorithm-1"]);
    expect(readFileSync(join(dumps, "06-place-truncation.xir"), "utf8")).toMatch(/#trunc\{.*rule="algorithm-1"/);
  });

  it("takes the device and seed from --config, and a flag over the config", () => {
    const config = join(dir, "compile-config.json");
    writeFileSync(config, JSON.stringify({ device: "halawani-16l-10x", seed: 3 }));
    const a = JSON.parse(xbarc("compile", DIGITS, "--config", config, "-o", join(dir, "a.xbar.json"), "--json").stdout) as CompileReport;
    expect([a.device, a.seed]).toEqual(["halawani-16l-10x", 3]);
    const b = JSON.parse(xbarc("compile", DIGITS, "--config", config, "--device", "isaac", "--seed", "4", "-o", join(dir, "b.xbar.json"), "--json").stdout) as CompileReport;
    expect([b.device, b.seed]).toEqual(["isaac", 4]);
  });

  it("exits 2 without a device or without -o, and writes nothing", () => {
    const out = join(dir, "none.xbar.json");
    const noDevice = xbarc("compile", LENET5, "-o", out);
    expect(noDevice.code).toBe(2);
    expect(noDevice.stderr).toMatch(/error XB7001: no device: pass --device/);
    const noOutput = xbarc("compile", LENET5, "--device", "isaac");
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toMatch(/required option '-o, --output <prog.xbar.json>' not specified/);
    expect(existsSync(out)).toBe(false);
  });

  it("exits 1 on a model whose input is not float images, or that has two inputs, saying why, and writes nothing", () => {
    const sub = makeTempDir("compile-inputs");
    try {
      const out = join(sub.dir, "p.xbar.json");
      const ids = join(sub.dir, "ids.onnx");
      writeFileSync(ids, tinyModel(DT.INT64, false));
      const r = xbarc("compile", ids, "--device", "isaac", "-o", out, "--json");
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stderr)).toMatchObject({
        error: { code: "XB6007", message: `${ids}: input %x is i64[1,4]; a program takes float images (f16, f32 or f64)` },
      });
      // the same model with a float input compiles
      const floats = join(sub.dir, "floats.onnx");
      writeFileSync(floats, tinyModel(DT.FLOAT, false));
      expect(xbarc("compile", floats, "--device", "isaac", "-o", out).code).toBe(0);
      const two = join(sub.dir, "two.onnx");
      writeFileSync(two, tinyModel(DT.FLOAT, true));
      const r2 = xbarc("compile", two, "--device", "isaac", "-o", join(sub.dir, "q.xbar.json"));
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain(`error XB6007: ${two} has 2 inputs; a program takes exactly one (the images)`);
      expect(listFiles(sub.dir)).toEqual(["floats.onnx", "ids.onnx", "p.xbar.json", "two.onnx"]);
    } finally {
      sub.cleanup();
    }
  });

  it("exits 1 on a bad device file or a missing model, naming it, and leaves no output file", () => {
    const sub = makeTempDir("compile-fail");
    try {
      const bad = join(sub.dir, "bad-device.json");
      writeFileSync(bad, JSON.stringify({ extends: "isaac", name: "bad", crossbar: { rows: 0 } }));
      const out = join(sub.dir, "p.xbar.json");
      const r = xbarc("compile", LENET5, "--device", bad, "-o", out, "--asm", join(sub.dir, "p.xasm"));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${bad}: error XB4001: /crossbar/rows must be >= 1`);
      const missing = xbarc("compile", "nope.onnx", "--device", "isaac", "-o", out, "--json");
      expect(missing.code).toBe(1);
      expect(JSON.parse(missing.stderr)).toMatchObject({ error: { code: "XB1001" } });
      expect((JSON.parse(missing.stderr) as { error: { message: string } }).error.message).toMatch(/nope\.onnx.*(no such file|cannot be read)/);
      expect(listFiles(sub.dir)).toEqual(["bad-device.json"]);
    } finally {
      sub.cleanup();
    }
  });
});

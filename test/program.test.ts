/**
 * @fileoverview Compiling every bundled fixture model into a crossbar program, on isaac (128×128) and on a 32×32
 * device given as a profile file: compile succeeds, the resource summary matches a recount from the weight shapes
 * and the device alone, and the program reads back identically through its JSON and assembly forms.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { numel } from "@xbarc/ir";
import { compileModel } from "@xbarc/cli";
import { checkProgram, parseProgramAsm, printProgramAsm, printProgramJson, type Program, type ProgramSummary } from "@xbarc/backend-sim";
import { FIXTURES_DIR, fixturePath } from "./helpers/paths.js";

/** Every .onnx model under fixtures/models, sorted. */
function fixtureModels(): string[] {
  const dir = fixturePath("models");
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".onnx"))
    .map((f) => join(dir, f))
    .sort();
}

const temp = mkdtempSync(join(tmpdir(), "xbarc-program-"));
const ISAAC_32 = join(temp, "isaac-32.json");
writeFileSync(ISAAC_32, JSON.stringify({ extends: "isaac", name: "isaac-32", crossbar: { rows: 32, cols: 32 } }));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Per layer: tiles, cells, reads and conversions counted from the weight shape and the device, not from the tiles. */
function recount(program: Program): { tiles: number; cells: number; mvm: number; adc: number }[] {
  const dev = program.device;
  const R = dev.crossbar.rows;
  const C = dev.crossbar.cols;
  const differential = dev.mapping.signed === "differential";
  return program.layers.map((layer) => {
    const w = layer.formats.weight;
    const groups = layer.op === "conv" ? Number(layer.attrs["group"] ?? 1) : 1;
    // a compacted layer (row_map / col_map) lays only its distinct nonzero rows and columns onto crossbars
    const distinct = (map: readonly number[]): number => new Set(map.filter((p) => p >= 0)).size;
    const K = layer.row_map ? distinct(layer.row_map) : numel(layer.weight_shape.slice(1));
    const N = layer.col_map ? distinct(layer.col_map) : layer.weight_shape[0]! / groups;
    const outChannels = layer.weight_shape[0]! / groups;
    // S slices per weight on adjacent columns (Diware et al., §2.2.2), doubled for G+/G−; one offset column per tile
    const S = w.scheme === "analog-levels" ? 1 : Math.ceil(w.bits! / dev.cell.bits);
    const P = S * (differential ? 2 : 1);
    const offset = differential ? 0 : S;
    const biasRow = dev.mapping.bias === "row" && layer.bias !== undefined ? 1 : 0;
    const rowTiles = Math.ceil((K + biasRow) / R);
    const colTiles = Math.ceil(N / Math.floor((C - offset) / P));
    const positions = numel(layer.output_shape) / (outChannels * groups) / program.input.shape[0]!;
    // k merged rows are driven with a sum of k inputs: ceil(log2 k) more bits
    const merged = layer.row_map ? Math.max(...[...new Set(layer.row_map)].filter((p) => p >= 0).map((p) => layer.row_map!.filter((q) => q === p).length)) : 1;
    const steps = Math.ceil((layer.formats.input.bits + Math.ceil(Math.log2(merged))) / dev.crossbar.dac_bits);
    const columns = N * P + offset * colTiles;
    return {
      tiles: groups * rowTiles * colTiles,
      cells: groups * (K + biasRow) * columns,
      mvm: groups * rowTiles * colTiles * positions * steps,
      adc: groups * rowTiles * columns * positions * steps,
    };
  });
}

function expectSummaryMatchesRecount(summary: ProgramSummary, program: Program): void {
  const expected = recount(program);
  expect(summary.layers.map((l) => ({ tiles: l.tiles, cells: l.cells, mvm: l.mvm_steps, adc: l.adc_conversions }))).toEqual(expected);
  const tiles = expected.reduce((s, l) => s + l.tiles, 0);
  const cells = expected.reduce((s, l) => s + l.cells, 0);
  const [R, C] = [program.device.crossbar.rows, program.device.crossbar.cols];
  // unpacked: one crossbar per tile
  expect(summary.total).toMatchObject({
    tiles, crossbars: tiles, cells, cells_available: tiles * R * C,
    mvm_steps: expected.reduce((s, l) => s + l.mvm, 0), adc_conversions: expected.reduce((s, l) => s + l.adc, 0),
  });
  expect(summary.total.utilization).toBeCloseTo(cells / (tiles * R * C), 12);
  for (const l of summary.layers) expect(l.utilization).toBeCloseTo(l.cells / (l.tiles * R * C), 12);
}

describe("xbarc compile on every fixture model", () => {
  const models = fixtureModels();

  it("finds the bundled models", () => {
    expect(models.map((m) => relative(FIXTURES_DIR, m))).toEqual([
      "models/public/lenet5-pytorch1.3-opset9-batch10.onnx",
      "models/public/lenet5-pytorch2.0-opset10.onnx",
      "models/public/zoo-mnist-8-cntk2.5.1-opset8.onnx",
      "models/trained/cnn-3conv-2fc.onnx",
      "models/trained/digits-mlp64-32-10.onnx",
      "models/trained/lenet5.onnx",
      "models/trained/mlp784-32-10-relu.onnx",
      "models/trained/mlp784-32-10-sigmoid.onnx",
    ]);
  });

  for (const model of models) {
    for (const [label, dev] of [["isaac", "isaac"], ["a 32×32 device file", ISAAC_32]] as const) {
      it(`compiles ${relative(FIXTURES_DIR, model)} for ${label}: the summary matches a recount and the program reads back identically`, () => {
        const { program, summary, pipeline } = compileModel({ model, device: dev });
        expect(pipeline).toBe('canonicalize,quantize{quantizer="fixed-point",bits=8},assign-levels,tile,bit-slice,place-truncation');
        expect(program.compile.truncation).toBe("place-truncation");
        expect(program.device.crossbar.rows).toBe(dev === "isaac" ? 128 : 32);
        expectSummaryMatchesRecount(summary, program);
        // JSON → asm → JSON and asm → JSON → asm
        const asm = printProgramAsm(program);
        const back = parseProgramAsm(asm);
        expect(back).toEqual(program);
        expect(printProgramAsm(back)).toBe(asm);
        expect(checkProgram(JSON.parse(printProgramJson(program)), model)).toEqual(program);
      });
    }
  }
});

/**
 * @fileoverview The tile pass on real fixture models and a grouped conv: tile counts, rows/columns used and cell
 * totals equal a recount by ceil arithmetic (and a few hand-computed figures), on isaac (128×128), a 32×32 variant,
 * a differential device, a bias-row device and analog layers; packing; stats; errors.
 */
import { describe, expect, it } from "vitest";
import { createRng, getBuiltinProfile, Module, parseModule, printModule, resolveDeviceProfile, type DeviceProfile, type Op } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { getLayerMatrix, getModuleTilePlan, getWeightOps, planTiles, runPipeline, type PipelineResult } from "@xbarc/passes";
import { fixturePath } from "../../../../test/helpers/paths.js";

const MODELS = ["lenet5", "cnn-3conv-2fc", "mlp784-32-10-relu"] as const;
const FIXED8 = `canonicalize,quantize{quantizer="fixed-point", bits=8}`;

const isaac = getBuiltinProfile("isaac")!;
const isaac32 = resolveDeviceProfile({ extends: "isaac", name: "isaac-32", crossbar: { rows: 32, cols: 32 } });

function compile(model: string, device: DeviceProfile, pipeline = `${FIXED8},tile`): { m: Module; result: PipelineResult } {
  const m = loadOnnxFile(fixturePath("models", "trained", `${model}.onnx`));
  const result = runPipeline(m, pipeline, { device, checkNoopChanges: true });
  return { m, result };
}

/** The #tiles data of a layer, by its weight constant's name. */
function tilesOf(m: Module, weight: string): Record<string, any> {
  const op = getWeightOps(m).find((o) => o.operands[1]!.name === weight);
  if (!op) throw new Error(`no layer with weight @${weight}`);
  return op.getAnnotation("tiles")!.data as Record<string, any>;
}

/** What a layer should use, recounted from its weight shape alone (no code shared with the planner). */
function recount(op: Op, device: DeviceProfile, wBits: number | undefined): { grid: number[]; rows: number[]; cols: number[]; cells: number; tiles: number } {
  const [cout, ...rest] = op.operands[1]!.type.shape;
  const group = op.opcode === "conv" ? Number(op.attrs.group) : 1;
  const K = rest.reduce((a, b) => a * b, 1);
  const N = cout! / group;
  const S = wBits ? Math.ceil(wBits / device.cell.bits) : 1;
  const P = device.mapping.signed === "differential" ? 2 * S : S;
  const off = device.mapping.signed === "offset-column" ? S : 0;
  const bias = device.mapping.bias === "row" && op.operands[2] ? 1 : 0;
  const R = device.crossbar.rows;
  const perTile = Math.floor((device.crossbar.cols - off) / P);
  const rowTiles = Math.ceil((K + bias) / R);
  const colTiles = Math.ceil(N / perTile);
  const rows = Array.from({ length: rowTiles }, (_, i) => Math.min(R, K + bias - i * R));
  const cols = Array.from({ length: colTiles }, (_, j) => Math.min(perTile, N - j * perTile) * P + off);
  const cells = group * rows.reduce((a, r) => a + r * cols.reduce((b, c) => b + c, 0), 0);
  return { grid: [rowTiles, colTiles], rows, cols, cells, tiles: group * rowTiles * colTiles };
}

describe("tile on the fixture models", () => {
  for (const model of MODELS) {
    for (const device of [isaac, isaac32]) {
      it(`lays ${model} on ${device.name} with the tile counts, rows, columns and cells of a recount`, () => {
        const { m, result } = compile(model, device);
        const ops = getWeightOps(m);
        let tiles = 0;
        let cells = 0;
        for (const op of ops) {
          const want = recount(op, device, 8);
          const t = op.getAnnotation("tiles")!.data as Record<string, any>;
          expect(t, op.results[0]!.name).toMatchObject({
            xbar: [device.crossbar.rows, device.crossbar.cols],
            grid: want.grid,
            tiles: want.tiles,
            rows_used: want.rows,
            cols_used: want.cols,
            phys_cols_per_weight_col: 4,
            offset_cols: 4,
            groups: 1,
            cells: want.cells,
          });
          expect(t.util).toBeCloseTo(want.cells / (want.tiles * device.crossbar.rows * device.crossbar.cols), 12);
          tiles += want.tiles;
          cells += want.cells;
        }
        const stats = result.steps.at(-1)!.stats;
        expect(stats).toEqual({
          "tiled-layers": ops.length,
          tiles,
          crossbars: tiles,
          "cells-used": cells,
          "cells-available": tiles * device.crossbar.rows * device.crossbar.cols,
        });
        // one remark per layer and one for the total
        expect(result.steps.at(-1)!.diagnostics.filter((d) => d.severity === "remark")).toHaveLength(ops.length + 1);
      });
    }
  }

  it("tiles lenet5's f5 (K = 400, N = 120) as counted by hand: 4 × 4 tiles on isaac, 13 × 18 on 32 × 32", () => {
    // isaac: S = 8/2 = 4 columns per weight + 4 offset columns per tile → 31 weights per 128 columns;
    // rows 400 = 3·128 + 16; columns 120 = 3·31 + 27 → 27·4 + 4 = 112
    expect(tilesOf(compile("lenet5", isaac).m, "f5.weight")).toMatchObject({
      grid: [4, 4], tiles: 16, rows_used: [128, 128, 128, 16], cols_used: [128, 128, 128, 112], cells: 384 * 496 + 16 * 496,
    });
    // 32×32: 7 weights per tile (7·4 + 4 = 32); rows 400 = 12·32 + 16; columns 120 = 17·7 + 1 → 1·4 + 4 = 8
    const t = tilesOf(compile("lenet5", isaac32).m, "f5.weight");
    expect(t).toMatchObject({ grid: [13, 18], tiles: 234 });
    expect(t.rows_used.at(-1)).toBe(16);
    expect(t.cols_used.at(-1)).toBe(8);
  });

  it("needs 23 crossbars for lenet5 on isaac and 304 on 32 × 32 (hand count: 1+2+16+3+1 and 1+15+234+48+6)", () => {
    expect(compile("lenet5", isaac).result.steps.at(-1)!.stats.crossbars).toBe(23);
    expect(compile("lenet5", isaac32).result.steps.at(-1)!.stats.crossbars).toBe(304);
  });

  it("gives a differential layer two columns per slice and no offset column (rram-4bit: S = 2, P = 4)", () => {
    const device = getBuiltinProfile("rram-4bit")!;
    const t = tilesOf(compile("lenet5", device).m, "f5.weight");
    // 32 weights per 128 columns; 120 = 3·32 + 24 → 24·4 = 96
    expect(t).toMatchObject({ grid: [4, 4], cols_used: [128, 128, 128, 96], phys_cols_per_weight_col: 4, offset_cols: 0 });
  });

  it("puts the bias on one row of the first row tile on a bias-row device (halawani-16l-10x)", () => {
    const device = getBuiltinProfile("halawani-16l-10x")!;
    const { m } = compile("lenet5", device);
    const t = tilesOf(m, "f5.weight");
    // 4-bit cells: S = 2, P = 2, 2 offset columns → 63 weights per tile; 401 rows = 3·128 + 17
    expect(t).toMatchObject({ grid: [4, 2], rows_used: [128, 128, 128, 17], cols_used: [128, 116], bias_row: true });
    for (const op of getWeightOps(m)) {
      const want = recount(op, device, 8);
      expect(op.getAnnotation("tiles")!.data).toMatchObject({ grid: want.grid, rows_used: want.rows, cols_used: want.cols, cells: want.cells });
    }
  });

  it("gives layers quantized onto analog levels one slice per weight (mes-caq on exp-a3: P = 2)", () => {
    const device = getBuiltinProfile("exp-a3")!;
    const { m } = compile("lenet5", device, `canonicalize,quantize{quantizer="mes-caq"},assign-levels,tile`);
    for (const op of getWeightOps(m)) {
      const want = recount(op, device, undefined);
      expect(op.getAnnotation("tiles")!.data).toMatchObject({ grid: want.grid, rows_used: want.rows, cols_used: want.cols, phys_cols_per_weight_col: 2, offset_cols: 0 });
    }
  });

  it("packs lenet5 into 22 crossbars on isaac: c3's small second row tile shares c1's crossbar", () => {
    const { m, result } = compile("lenet5", isaac, `${FIXED8},tile{pack=true}`);
    expect(result.steps.at(-1)!.stats.crossbars).toBe(22);
    expect(tilesOf(m, "c1.weight")).toMatchObject({ xbar_ids: [0], xbar_rows: [0], xbar_cols: [0] });
    // c1 uses 25 rows × 28 columns of crossbar 0; c3's 128-row tile needs a new one; its 22-row tile fits below-right
    expect(tilesOf(m, "c3.weight")).toMatchObject({ xbar_ids: [1, 0], xbar_rows: [0, 25], xbar_cols: [0, 28] });
  });
});

describe("tile", () => {
  /** x f32[1,4,5,5] → conv with 6 output channels in 2 groups, 3×3 kernel: each group is an 18 × 3 matrix. */
  function groupedConv(): Module {
    const m = new Module("grouped");
    const x = m.addInput("x", { dtype: "f32", shape: [1, 4, 5, 5] });
    const rng = createRng(5, "weights");
    const w = m.addConstant("w", { dtype: "f32", shape: [6, 2, 3, 3] }, Float32Array.from({ length: 108 }, () => rng.uniform(-1, 1)));
    const op = m.addOp("conv", [x, w, null], [{ name: "y", type: { dtype: "f32", shape: [1, 6, 3, 3] } }], { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 2 });
    m.outputs.push(op.results[0]!);
    return m;
  }

  it("lays each group of a grouped conv on tiles of its own (2 groups × 3 row tiles on an 8 × 16 crossbar)", () => {
    const m = groupedConv();
    const device = resolveDeviceProfile({ extends: "isaac", name: "tiny", crossbar: { rows: 8, cols: 16 } });
    runPipeline(m, `quantize{quantizer="fixed-point", bits=8},tile`, { device, checkNoopChanges: true, roundTripEach: true });
    // rows per group 2·3·3 = 18 = 8 + 8 + 2; columns 3 · 4 + 4 offset = 16
    expect(m.ops[0]!.getAnnotation("tiles")!.data).toMatchObject({ grid: [3, 1], tiles: 6, groups: 2, rows_used: [8, 8, 2], cols_used: [16], cells: 2 * 18 * 16 });
    const { plan } = getModuleTilePlan(m);
    expect(plan.layers[0]!.tiles.map((t) => [t.group, t.row0, t.rows, t.col0, t.cols, t.xbar])).toEqual([
      [0, 0, 8, 0, 3, 0], [0, 8, 8, 0, 3, 1], [0, 16, 2, 0, 3, 2],
      [1, 0, 8, 0, 3, 3], [1, 8, 8, 0, 3, 4], [1, 16, 2, 0, 3, 5],
    ]);
  });

  it("records a plan that survives print and parse and equals planTiles on the layers (getModuleTilePlan)", () => {
    for (const pack of [false, true]) {
      const { m } = compile("lenet5", isaac32, `${FIXED8},tile{pack=${pack}}`);
      const { text, weights } = printModule(m, { weights: true });
      const again = parseModule(text, { weights });
      const { ops, plan } = getModuleTilePlan(again);
      expect(ops.map((o) => o.results[0]!.name)).toEqual(getWeightOps(m).map((o) => o.results[0]!.name));
      const layers = getWeightOps(m).map((op) => getLayerMatrix(m, op, isaac32));
      const fresh = planTiles(layers, { rows: 32, cols: 32 }, { pack });
      expect(plan).toEqual(fresh);
    }
  });

  it("reports no change when run again", () => {
    const { m } = compile("mlp784-32-10-relu", isaac);
    const again = runPipeline(m, "tile", { device: isaac, checkNoopChanges: true });
    expect(again.steps[0]!.changed).toBe(false);
  });

  it("refuses to run without a device, or before quantize", () => {
    const m = loadOnnxFile(fixturePath("models", "trained", "digits-mlp64-32-10.onnx"));
    expect(() => runPipeline(m, "canonicalize,tile", { device: isaac })).toThrow(expect.objectContaining({ code: "XB5001", message: expect.stringMatching(/"tile" needs #quant/) }));
    runPipeline(m, FIXED8, { device: isaac });
    expect(() => runPipeline(m, "tile", {})).toThrow(expect.objectContaining({ code: "XB5003", message: "tile needs a device profile" }));
  });

  it("rejects a crossbar too narrow for one output column and names the layer", () => {
    const narrow = resolveDeviceProfile({ extends: "isaac", name: "narrow", crossbar: { rows: 32, cols: 6 } });
    let err: any;
    try {
      compile("digits-mlp64-32-10", narrow);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "XB5003", location: { kind: "ir", value: "/fc1/Gemm_output_0", op: "linear" } });
    expect(err.message).toMatch(/needs 8 physical columns \(4 slice\(s\) \+ 4 offset\), but the crossbar has 6/);
  });
});

/**
 * @fileoverview Emission on fixture models: the cell states of every tile, decoded by the layout the schema documents,
 * rebuild each integer weight exactly once (and the offset column and bias row hold what they should); analog
 * layers hold #cells' levels; placement follows the tile pass; formats, windows and preprocessing are recorded;
 * modules that are not ready are refused naming the layer.
 */
import { describe, expect, it } from "vitest";
import { getLevels, readNumbers, type Module, type Op } from "@xbarc/ir";
import { getModuleTilePlan, runPipeline } from "@xbarc/passes";
import { loadOnnxFile } from "@xbarc/frontend";
import { decodeBase64, emitProgram, getFixedPointLayers, type Program } from "@xbarc/backend-sim";
import { catchXbarcError } from "../../../../test/helpers/errors.js";
import { COMPILE_PIPELINE, compileFixture, device, FIXTURES, isaac32 } from "./compile-fixture.js";

const LENET5 = "trained/lenet5.onnx";
const DIGITS = "trained/digits-mlp64-32-10.onnx";

/** The op of a layer by its result name. */
function opOf(module: Module, name: string): Op {
  const op = module.ops.find((o) => o.results[0]!.name === name);
  if (!op) throw new Error(`no op %${name}`);
  return op;
}

/** A u8 constant's data by name. */
function u8(module: Module, name: unknown): Uint8Array {
  const c = module.constants.find((v) => v.name === name);
  if (!c?.data) throw new Error(`no constant @${String(name)}`);
  return c.data as Uint8Array;
}

/** w_int = code − 2^(W_WL−1) of a fixed-point layer, from its #quant codes (out-channel-major). */
function integerWeights(module: Module, op: Op, wBits: number): Int32Array {
  const codes = u8(module, op.getAnnotation("quant")!.data.codes_of);
  return Int32Array.from(codes, (c) => c - 2 ** (wBits - 1));
}

/**
 * For every bit-sliced layer: decode each tile's cells as the schema documents (weight column j at physical columns
 * j·P + s, G− at j·P + S + s, the offset column last, the bias row after the weight rows), shift and add the slices,
 * and compare with the module's integer weights; every matrix element must be covered exactly once.
 */
function expectCellsRebuildWeights(module: Module, program: Program): number {
  let checked = 0;
  for (const layer of program.layers) {
    const w = layer.formats.weight;
    if (w.scheme === "analog-levels") continue;
    const op = opOf(module, layer.name);
    const wInt = integerWeights(module, op, w.bits!);
    const covered = new Uint8Array(wInt.length);
    const S = w.slices;
    const cb = w.cell_bits;
    const half = 2 ** (w.bits! - 1);
    const value = (cells: Uint8Array, row: number, col: number, C: number, differential: boolean): number => {
      let v = 0;
      for (let s = 0; s < S; s++) {
        v += 2 ** (s * cb) * cells[row * C + col + s]!;
        if (differential) v -= 2 ** (s * cb) * cells[row * C + col + S + s]!;
      }
      return differential ? v : v - half;
    };
    for (const id of layer.tiles) {
      const t = program.tiles[id]!;
      const cells = decodeBase64(t.cells)!;
      const C = t.cols_used;
      const P = t.phys_cols_per_weight_col;
      const differential = w.scheme === "differential-magnitude";
      expect(cells.length).toBe(t.rows_used * C);
      for (let r = 0; r < t.rows; r++) {
        for (let j = 0; j < t.cols; j++) {
          // a compacted layer's physical row (column) stands for every matrix row (column) mapped to it
          for (const mr of members(layer.row_map, t.row0 + r)) {
            for (const mc of members(layer.col_map, t.col0 + j)) {
              const index = (t.group * layer.matrix.cols + mc) * layer.matrix.rows + mr;
              expect((layer.col_sign?.[mc] ?? 1) * value(cells, r, j * P, C, differential) + 0).toBe(wInt[index]);
              covered[index]!++;
              checked++;
            }
          }
        }
        // Halawani et al.: the offset column holds 2^(W_WL−1) on every row
        if (t.offset_cols > 0) expect(value(cells, r, t.cols * P, C, false) + half).toBe(half);
      }
      if (t.bias_row) {
        const bias = layer.bias!;
        expect(bias.mode).toBe("row");
        for (let j = 0; j < t.cols; j++) {
          for (const mc of members(layer.col_map, t.col0 + j)) {
            expect(value(cells, t.rows, j * P, C, differential)).toBe(bias.values[t.group * layer.matrix.cols + mc]);
          }
        }
      }
    }
    // what no cell holds is a dropped (all-zero) row or column: its weights must be 0
    for (let i = 0; i < covered.length; i++) {
      if (covered[i] === 0 && wInt[i] === 0) {
        covered[i] = 1;
        checked++;
      }
    }
    expect(covered.every((c) => c === 1)).toBe(true);
  }
  return checked;
}

/** The matrix rows (columns) a compacted layer's map sends to physical index p; without a map, p itself. */
function members(map: readonly number[] | undefined, p: number): number[] {
  if (!map) return [p];
  const out: number[] = [];
  map.forEach((q, i) => {
    if (q === p) out.push(i);
  });
  return out;
}

describe("emitProgram: cell states", () => {
  it("rebuild every integer weight of lenet5 on isaac (offset-unsigned slices, offset column), each exactly once", () => {
    const { module, program } = compileFixture(LENET5, device("isaac"));
    expect(expectCellsRebuildWeights(module, program)).toBe(6 * 25 + 16 * 150 + 120 * 400 + 84 * 120 + 10 * 84);
  });

  it("rebuild every integer weight on 32×32 crossbars, where layers split into many row and column tiles", () => {
    const { module, program } = compileFixture(LENET5, isaac32());
    expect(program.layers.find((l) => l.name === "/f5/Gemm_output_0")!.grid[0]).toBe(13);
    expectCellsRebuildWeights(module, program);
  });

  it("rebuild every integer weight from G+ and G− magnitude slices on a differential device (rram-4bit)", () => {
    const { module, program } = compileFixture("trained/mlp784-32-10-relu.onnx", device("rram-4bit"));
    expect(program.layers.every((l) => l.formats.weight.scheme === "differential-magnitude" && l.formats.weight.slices === 2)).toBe(true);
    expectCellsRebuildWeights(module, program);
  });

  it("hold the bias on the bias row, driven by 2^e, in the weight format (halawani-16l-10x)", () => {
    const { module, program } = compileFixture(LENET5, device("halawani-16l-10x"));
    expectCellsRebuildWeights(module, program);
    for (const layer of program.layers) {
      const bias = layer.bias!;
      if (bias.mode !== "row") throw new Error(`${layer.name}: bias ${bias.mode}`);
      const op = opOf(module, layer.name);
      const trunc = op.getAnnotation("trunc")!.data;
      expect(bias.input).toBe(trunc.bias_input);
      expect(bias.fl).toBe(Number(trunc.a_fl) + Number(trunc.w_fl));
      // round half to even of b·2^(fl − e), clamped to the 8-bit weight range
      const b = readNumbers({ type: op.operands[2]!.type, data: op.operands[2]!.data! });
      const e = Math.log2(bias.input);
      const expected = [...b].map((x) => {
        const y = x * 2 ** (bias.fl - e);
        let r = Math.round(y);
        if (r - y === 0.5 && r % 2 !== 0) r -= 1;
        return Math.min(127, Math.max(-128, r)) + 0; // JSON has no -0
      });
      expect(bias.values).toEqual(expected);
    }
  });

  it("hold #cells' plus and minus levels for layers quantized onto analog levels (MES-CAQ on exp-a3)", () => {
    const pipeline = COMPILE_PIPELINE.replace('quantize{quantizer="fixed-point",bits=8}', 'quantize{quantizer="mes-caq"}');
    const { module, program } = compileFixture(DIGITS, device("exp-a3"), pipeline);
    expect(program.compile.truncation).toBe("none");
    for (const layer of program.layers) {
      const op = opOf(module, layer.name);
      const cells = op.getAnnotation("cells")!.data;
      expect(layer.formats.weight).toEqual({ scheme: "analog-levels", cell_bits: 3, slices: 1 });
      expect(layer.cells).toEqual({ map: "differential", scale: cells.scale, offset: cells.offset });
      expect(layer.bias?.mode).toBe("float");
      const plus = u8(module, cells.plus);
      const minus = u8(module, cells.minus);
      for (const id of layer.tiles) {
        const t = program.tiles[id]!;
        const c = decodeBase64(t.cells)!;
        for (let r = 0; r < t.rows; r++) {
          for (let j = 0; j < t.cols; j++) {
            const index = (t.col0 + j) * layer.matrix.rows + t.row0 + r;
            expect([c[r * t.cols_used + 2 * j], c[r * t.cols_used + 2 * j + 1]]).toEqual([plus[index], minus[index]]);
          }
        }
      }
    }
  });

  it("use only levels the device has", () => {
    for (const dev of [device("isaac"), device("halawani-16l-10x")]) {
      const { program } = compileFixture(LENET5, dev);
      const levels = getLevels(dev.cell).length;
      const max = Math.max(...program.tiles.map((t) => Math.max(...decodeBase64(t.cells)!)));
      expect(max).toBeLessThan(levels);
      expect(max).toBe(levels - 1);
    }
  });
});

describe("emitProgram: placement, formats and records", () => {
  it("places tiles as the tile pass planned them", () => {
    const { module, program } = compileFixture(LENET5, isaac32());
    const { ops, plan } = getModuleTilePlan(module);
    expect(program.layers.map((l) => l.name)).toEqual(ops.map((o) => o.results[0]!.name));
    const planned = plan.layers.flatMap((l) => l.tiles.map((t) => [t.group, t.rowTile, t.colTile, t.row0, t.rows, t.col0, t.cols, t.biasRow, t.physRows, t.physCols, t.xbar, t.xbarRow, t.xbarCol]));
    const emitted = program.tiles.map((t) => [t.group, t.row_tile, t.col_tile, t.row0, t.rows, t.col0, t.cols, t.bias_row, t.rows_used, t.cols_used, t.xbar, t.xbar_row, t.xbar_col]);
    expect(emitted).toEqual(planned);
    expect(new Set(program.tiles.map((t) => t.xbar)).size).toBe(plan.crossbars);
  });

  it("records the formats and window of #slice and #trunc, and a schedule that follows them tile by tile", () => {
    const { module, program } = compileFixture(LENET5, device("isaac"));
    expect(program.compile.truncation).toBe("place-truncation");
    for (const layer of program.layers) {
      const op = opOf(module, layer.name);
      const trunc = op.getAnnotation("trunc")!.data;
      const slice = op.getAnnotation("slice")!.data;
      expect(layer.formats.input).toEqual({ bits: trunc.a_wl, fl: trunc.a_fl, signed: trunc.a_signed, dac_bits: 1, steps: 8 });
      expect(layer.formats.weight).toEqual({ scheme: "offset-unsigned", bits: slice.w_bits, fl: slice.w_fl, cell_bits: 2, slices: 4, offset: 128 });
      expect(layer.formats.output_fl).toBe(trunc.out_fl);
      expect(layer.formats.trunc).toMatchObject({ o_wl: trunc.o_wl, d_h: trunc.d_h, d_l: trunc.d_l, keep: trunc.keep, o_rwl: trunc.o_rwl, adc_bits: 8 });
      const ops = program.schedule.filter((o) => "layer" in o && o.layer === layer.name).map((o) => o.op);
      const perTile = ["mvm", "adc", "shift-add", "truncate"];
      expect(ops).toEqual(["quantize", ...layer.tiles.flatMap(() => perTile), "accumulate", "bias"]);
      // lossless exactly when R·(2^1 − 1)·(2^2 − 1) ≤ 255
      for (const id of layer.tiles) {
        const adc = program.schedule.find((o) => o.op === "adc" && o.tile === id) as { lossless: boolean };
        expect(adc.lossless).toBe(program.tiles[id]!.rows_used * 3 <= 255);
      }
    }
    // the model's ops in order: conv, relu, maxpool, conv, relu, maxpool, flatten, linear, relu, linear, relu, linear
    const kinds = program.schedule.filter((o) => o.op === "move" || "kind" in o).map((o) => ("kind" in o ? o.kind : "layer"));
    expect(kinds).toEqual(["layer", "relu", "maxpool", "layer", "relu", "maxpool", "flatten", "layer", "relu", "layer", "relu", "layer"]);
  });

  it("gives each layer the formats, window, row tiles and bias the fixed-point reference reads from the same module", () => {
    for (const dev of [device("isaac"), device("halawani-16l-10x"), isaac32()]) {
      const { module, program } = compileFixture(LENET5, dev);
      const reference = getFixedPointLayers(module);
      expect(reference.size).toBe(program.layers.length);
      for (const layer of program.layers) {
        const ref = reference.get(opOf(module, layer.name))!;
        const f = layer.formats;
        expect([f.input.bits, f.input.fl, f.input.signed, f.weight.bits, f.weight.fl]).toEqual([ref.aBits, ref.aFl, ref.aSigned, ref.wBits, ref.wFl]);
        expect([f.trunc!.d_l, f.trunc!.o_rwl, f.output_fl]).toEqual([ref.dL, ref.oRwl, ref.outFl]);
        const rowsUsed = layer.tiles.map((id) => program.tiles[id]!).filter((t) => t.col_tile === 0 && t.group === 0).map((t) => t.rows_used);
        expect(rowsUsed).toEqual(ref.rowsUsed);
        expect(layer.bias?.mode ?? "none").toBe(ref.bias);
        if (layer.bias?.mode === "row") expect(layer.bias.input).toBe(ref.biasInput);
      }
    }
  });

  it("keeps the full accumulator window in every layer when place-truncation does not run", () => {
    const { program } = compileFixture(LENET5, device("isaac"), COMPILE_PIPELINE.replace(",place-truncation", ""));
    expect(program.compile.truncation).toBe("full");
    for (const layer of program.layers) {
      const f = layer.formats;
      const rows = layer.tiles.map((id) => program.tiles[id]!).filter((t) => t.col_tile === 0).map((t) => t.rows_used);
      const oWl = rows.map((r) => 8 + 8 + Math.ceil(Math.log2(r)));
      expect(f.trunc).toEqual({ adc_bits: 8, lossless: rows.every((r) => r * 3 <= 255), o_wl: oWl, o_rwl: Math.max(...oWl), d_h: oWl.map(() => 0), d_l: 0, keep: [0, Math.max(...oWl)], rule: "full" });
      expect(f.output_fl).toBe(f.input.fl + f.weight.fl!);
    }
  });

  it("records the preprocessing, the model input and the run's settings", () => {
    const module = loadOnnxFile(`${FIXTURES}models/public/lenet5-pytorch1.3-opset9-batch10.onnx`);
    const dev = device("isaac");
    const result = runPipeline(module, COMPILE_PIPELINE, { device: dev, seed: 7 });
    const program = emitProgram(module, { device: dev, pipeline: result.pipeline, seed: 7, preprocessing: { scale: 1 / 255, mean: 0.1307, std: 0.3081 }, source: "lenet.onnx" });
    expect(program.input).toEqual({ name: "input_0", dtype: "f32", shape: [10, 1, 28, 28], batch: 10, preprocessing: { scale: 1 / 255, mean: 0.1307, std: 0.3081 } });
    expect(program.compile).toEqual({ pipeline: COMPILE_PIPELINE, seed: 7, truncation: "place-truncation" });
    expect(program.model.source).toBe("lenet.onnx");
    expect(program.device).toEqual(dev);
    // the reshape's shape constant travels as a constant buffer
    const reshape = program.schedule.find((o) => "kind" in o && o.kind === "reshape") as { inputs: string[] };
    const constant = program.buffers.find((b) => b.name === reshape.inputs[1])!;
    expect(constant.role).toBe("constant");
    expect([...new BigInt64Array(new Uint8Array(decodeBase64(constant.data!)!).buffer)].map(Number)).toEqual([-1, 400]);
    expect(program.layers[0]!.output_shape[0]).toBe(10);
  });
});

describe("emitProgram refuses a module that is not ready, naming the layer", () => {
  it("without #tiles", () => {
    const module = loadOnnxFile(`${FIXTURES}models/${DIGITS}`);
    runPipeline(module, 'canonicalize,quantize{quantizer="fixed-point",bits=8}', { device: device("isaac") });
    const e = catchXbarcError(() => emitProgram(module, { device: device("isaac"), pipeline: "p" }));
    expect([e.code, e.message]).toEqual(["XB6007", "layer %/fc1/Gemm_output_0: has no #tiles: its weights are not laid onto crossbars"]);
    expect(e.location).toMatchObject({ kind: "ir", loc: "/fc1/Gemm", value: "/fc1/Gemm_output_0" });
  });

  it("with #tiles but no #slice", () => {
    const module = loadOnnxFile(`${FIXTURES}models/${DIGITS}`);
    runPipeline(module, 'canonicalize,quantize{quantizer="fixed-point",bits=8},tile', { device: device("isaac") });
    expect(catchXbarcError(() => emitProgram(module, { device: device("isaac"), pipeline: "p" })).message).toBe("layer %/fc1/Gemm_output_0: has #tiles but no #slice");
  });

  it("for another device than the passes ran with", () => {
    const module = loadOnnxFile(`${FIXTURES}models/${DIGITS}`);
    runPipeline(module, COMPILE_PIPELINE, { device: device("isaac") });
    const e = catchXbarcError(() => emitProgram(module, { device: isaac32(), pipeline: "p" }));
    expect([e.code, e.message]).toEqual(["XB6007", "layer %/fc1/Gemm_output_0: #tiles was planned for 128×128 crossbars, but the device has 32×32"]);
  });
});

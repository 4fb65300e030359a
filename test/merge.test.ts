/**
 * @fileoverview Crossbar compaction and weight merging (tile{merge=...}; Ma et al., Integrated Circuits and Systems
 * 2(4), 2025) on real fixture models whose weights are partly zeroed (pruned rows and output channels) and duplicated
 * (copied rows and columns, a negated column) before quantize: fewer crossbars, counted independently from the
 * integer weights; the compacted program simulates bit-exactly equal to the fixed-point reference on the ideal device
 * with lossless ADCs, and equal to the uncompacted program where the row-tile truncation cannot differ; tampered maps
 * are refused by checkProgram; #tiles with maps and the program's .xasm form round-trip.
 */
import { describe, expect, it } from "vitest";
import {
  getBuiltinProfile, parseModule, printModule, resolveDeviceProfile, type DeviceProfile, type Module, type Op, type Tensor, type XbarcError,
} from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { compactMatrix, getCrossbarCount, getLayerMatrix, getModuleTilePlan, getWeightOps, planTiles, runPipeline, type MergeMode } from "@xbarc/passes";
import {
  checkProgram, emitProgram, parseProgramAsm, printProgramAsm, runFixedPoint, sealProgram, simulateProgram, type Program,
} from "@xbarc/backend-sim";
import { listFixtureModels, samplesFor, sampleSize, type FixtureModel } from "./helpers/models.js";
import { range } from "./helpers/datasets.js";
import { catchXbarcError } from "./helpers/errors.js";
import { bitDifference, expectSimulationEqualsFixedPoint } from "./helpers/compare.js";

const BATCH = 16;
const REST = (merge: MergeMode, truncate = true): string =>
  `quantize{quantizer="fixed-point", bits=8},assign-levels,tile{merge="${merge}"},bit-slice${truncate ? ",place-truncation" : ""}`;

function model(id: string): FixtureModel {
  const m = listFixtureModels().find((f) => f.id === id);
  if (!m) throw new Error(`no fixture model ${id}`);
  return m;
}

function weightOf(module: Module, op: Op): Float32Array {
  return op.operands[1]!.data as Float32Array;
}

/**
 * The MLP's first layer (w[32, 784]) pruned and duplicated: 40% of its input rows zeroed (k mod 5 < 2), input row 403
 * copied onto rows 404 and 408 (a 3-row merge), output channel 5 a copy of 4, channel 7 the negation of 6, channel 9
 * zeroed; the second layer's input rows 3 and 11 zeroed.
 */
function editMlp(module: Module): void {
  const [first, second] = getWeightOps(module);
  const w = weightOf(module, first!);
  const K = 784;
  for (let n = 0; n < 32; n++) {
    for (let k = 0; k < K; k++) if (k % 5 < 2) w[n * K + k] = 0;
    w[n * K + 404] = w[n * K + 408] = w[n * K + 403]!;
  }
  for (let k = 0; k < K; k++) {
    w[5 * K + k] = w[4 * K + k]!;
    w[7 * K + k] = -w[6 * K + k]!;
    w[9 * K + k] = 0;
  }
  const w2 = weightOf(module, second!);
  for (let n = 0; n < 10; n++) w2[n * 32 + 3] = w2[n * 32 + 11] = 0;
}

/** LeNet-5's first conv (w[6, 1, 5, 5]): output channels 1 and 3 zeroed, channel 4 a copy of channel 2 (and its bias). */
function editLenet(module: Module): void {
  const conv = getWeightOps(module)[0]!;
  const w = weightOf(module, conv);
  for (let i = 0; i < 25; i++) {
    w[25 + i] = 0;
    w[75 + i] = 0;
    w[100 + i] = w[50 + i]!;
  }
  const b = conv.operands[2]?.data as Float32Array | undefined;
  if (b) b[4] = b[2]!;
}

/** The fixture model canonicalized, edited, then compiled with `rest` on `device`. */
function compile(id: string, device: DeviceProfile, rest: string, edit?: (m: Module) => void): Module {
  const module = loadOnnxFile(model(id).path, { batch: model(id).fixedBatch ?? BATCH });
  runPipeline(module, "canonicalize", { device });
  edit?.(module);
  runPipeline(module, rest, { device });
  return module;
}

function emit(module: Module, device: DeviceProfile): Program {
  return emitProgram(module, { device, pipeline: "test" });
}

/** w_int of a layer from its #quant codes (out-channel-major). */
function integerWeights(module: Module, op: Op): Int32Array {
  const quant = op.getAnnotation("quant")!.data;
  const codes = module.constants.find((c) => c.name === quant.codes_of)!.data!;
  const half = (module.constants.find((c) => c.name === quant.codebook)!.data!.length) / 2;
  return Int32Array.from(codes as ArrayLike<number>, (c) => Number(c) - half);
}

/**
 * Physical rows and columns of a group-1 matrix counted the plain way: vectors as strings, zero ones skipped,
 * identical ones (and, with `sign`, negated ones) counted once; the largest row merge.
 */
function countDistinct(wInt: Int32Array, rows: number, cols: number, mergeCols: boolean, mergeRows: boolean, sign: boolean): { rows: number; cols: number; largestRow: number } {
  const rowKeys = new Map<string, number>();
  for (let r = 0; r < rows; r++) {
    const v = Array.from({ length: cols }, (_, c) => wInt[c * rows + r]!);
    if (v.every((x) => x === 0)) continue;
    const key = mergeRows ? v.join(",") : `row${r}`;
    rowKeys.set(key, (rowKeys.get(key) ?? 0) + 1);
  }
  const colKeys = new Set<string>();
  for (let c = 0; c < cols; c++) {
    const v = Array.from(wInt.subarray(c * rows, (c + 1) * rows));
    if (v.every((x) => x === 0)) continue;
    const neg = v.map((x) => -x + 0).join(",");
    if (mergeCols && sign && colKeys.has(neg)) continue;
    colKeys.add(mergeCols ? v.join(",") : `col${c}`);
  }
  return { rows: rowKeys.size, cols: colKeys.size, largestRow: Math.max(...rowKeys.values()) };
}

/** MNIST test images t10k[8000:8032] as [BATCH, ...] tensors of the program's input shape. */
function images(id: string, program: Program): Tensor[] {
  const m = model(id);
  const { data } = samplesFor(m, range(8000, 8032));
  const size = sampleSize(m);
  const out: Tensor[] = [];
  for (let i = 0; i < 32; i += BATCH) out.push({ type: { dtype: "f32", shape: [...program.input.shape] }, data: data.slice(i * size, (i + BATCH) * size) });
  return out;
}

/**
 * Applies each change to a copy of `program` (resealed, so only the change is wrong) and expects checkProgram to refuse
 * it with XB6005 at a JSON pointer matching the case's; returns the errors.
 */
function refusals(program: Program, cases: readonly [(p: Program) => void, RegExp][]): XbarcError[] {
  return cases.map(([change, pointer]) => {
    const p = JSON.parse(JSON.stringify(program)) as Program;
    change(p);
    const e = catchXbarcError(() => checkProgram(sealProgram(p)));
    expect(e.code).toBe("XB6005");
    expect((e.location as { pointer?: string } | undefined)?.pointer).toMatch(pointer);
    return e;
  });
}

/** Simulation (both paths, ideal, lossless ADCs) equals runFixedPoint layer by layer and on the outputs, bit for bit. */
function expectBitExact(module: Module, program: Program, id: string): void {
  for (const input of images(id, program)) {
    const ref = runFixedPoint(module, new Map([[module.inputs[0]!.name, input]]), { recordInts: true });
    for (const path of ["faithful", "fast"] as const) {
      expectSimulationEqualsFixedPoint(simulateProgram(program, input, { path, adcLossless: true, recordInts: true }), ref, program.layers, path);
    }
  }
}

/** The outputs of two programs on the same images are equal bit for bit (ideal device, lossless ADCs). */
function expectSameOutputs(a: Program, b: Program, id: string): void {
  for (const input of images(id, a)) {
    const x = simulateProgram(a, input, { path: "fast", adcLossless: true });
    const y = simulateProgram(b, input, { path: "fast", adcLossless: true });
    for (const name of a.outputs) expect(bitDifference(x.outputs.get(name)!.data as Float64Array, y.outputs.get(name)!.data as Float64Array), `output ${name}`).toBe("");
  }
}

const isaac = getBuiltinProfile("isaac") as DeviceProfile;
const rram = getBuiltinProfile("rram-4bit") as DeviceProfile;
const halawani = getBuiltinProfile("halawani-16l-10x") as DeviceProfile;

describe("compactMatrix", () => {
  it("drops zero rows and columns, merges equal ones by mode, and keeps the maps identity-ordered", () => {
    // group 0 (rows × cols = 4 × 3), out-channel-major: column c is elements [c·4, c·4 + 4)
    //   col0 = [1, 0, 1, 2], col1 = [0, 0, 0, 0], col2 = [-1, 0, -1, -2]  → row 1 zero, rows 0 and 2 equal
    const w = [1, 0, 1, 2, 0, 0, 0, 0, -1, 0, -1, -2];
    const base = { rows: 4, cols: 3, groups: 1, differential: true, biasRow: false } as const;
    const zeros = compactMatrix(w, { ...base, mode: "zeros" });
    expect([...zeros.rowMap]).toEqual([0, -1, 1, 2]);
    expect([...zeros.colMap]).toEqual([0, -1, 1]);
    const rows = compactMatrix(w, { ...base, mode: "rows" });
    expect([...rows.rowMap]).toEqual([0, -1, 0, 1]);
    expect(rows.cols).toBe(2);
    const all = compactMatrix(w, { ...base, mode: "all" });
    expect([...all.colMap]).toEqual([0, -1, 0]);
    expect([...all.colSign]).toEqual([1, 1, -1]);
    // no sign merge on an offset-column device, and none for a column carrying a bias on the bias row
    expect(compactMatrix(w, { ...base, differential: false, mode: "all" }).cols).toBe(2);
    expect(compactMatrix(w, { ...base, biasRow: true, bias: [0, 0, 0.5], mode: "all" }).cols).toBe(2);
    // a zero column with a bias on the bias row keeps its column
    expect([...compactMatrix(w, { ...base, biasRow: true, bias: [0, 0.25, 0], mode: "zeros" }).colMap]).toEqual([0, 1, 2]);
    expect([...compactMatrix(w, { ...base, mode: "none" }).rowMap]).toEqual([0, 1, 2, 3]);
  });

  it("keeps one row and one column of an all-zero matrix", () => {
    const c = compactMatrix(new Array(6).fill(0), { rows: 3, cols: 2, groups: 1, mode: "all", differential: true, biasRow: false });
    expect([c.rows, c.cols, [...c.rowMap], [...c.colMap]]).toEqual([1, 1, [-1, -1, 0], [-1, 0]]);
  });
});

describe("tile{merge} on a pruned and duplicated MLP (mlp784-32-10-relu, isaac)", () => {
  const id = "mlp784-32-10-relu";
  const merged = compile(id, isaac, REST("rows"), editMlp);
  const program = emit(merged, isaac);

  it("uses as many tiles as the nonzero, distinct rows and columns need, fewer than without compaction", () => {
    const none = compile(id, isaac, REST("none"), editMlp);
    let saved = 0;
    getWeightOps(merged).forEach((op, i) => {
      const shape = op.operands[1]!.type.shape;
      const counts = countDistinct(integerWeights(merged, op), shape[1]!, shape[0]!, true, true, false);
      // isaac: 128×128, S = 4 slices of 2-bit cells, offset column: 31 weight columns per tile
      const expected = Math.ceil(counts.rows / 128) * Math.ceil(counts.cols / 31);
      const tiles = merged.ops.find((o) => o === op)!.getAnnotation("tiles")!.data;
      expect(tiles.tiles, `layer ${i}`).toBe(expected);
      expect(tiles.uncompacted).toMatchObject({ rows: shape[1], cols: shape[0] });
      const layer = program.layers[i]!;
      expect(new Set(layer.row_map!.filter((p) => p >= 0)).size).toBe(counts.rows);
      expect(layer.formats.input.steps).toBe(Math.ceil((layer.formats.input.bits + Math.ceil(Math.log2(counts.largestRow))) / 1));
      saved += Number(getWeightOps(none)[i]!.getAnnotation("tiles")!.data.tiles) - expected;
    });
    expect(program.layers[0]!.row_map!.filter((p) => p < 0).length).toBeGreaterThanOrEqual(Math.floor(0.4 * 784));
    expect(saved).toBeGreaterThan(0);
  });

  it("simulates bit-exactly equal to the fixed-point reference on the ideal device with lossless ADCs", () => {
    expectBitExact(merged, program, id);
  });

  it("gives the uncompacted program's outputs when no row-tile window truncates (no place-truncation)", () => {
    const a = emit(compile(id, isaac, REST("rows", false), editMlp), isaac);
    const b = emit(compile(id, isaac, REST("none", false), editMlp), isaac);
    expect(a.tiles.length).toBeLessThan(b.tiles.length);
    expectSameOutputs(a, b, id);
  });

  it("gives the uncompacted program's outputs under truncation when every layer has one row tile", () => {
    const tall = resolveDeviceProfile({ extends: "isaac", name: "isaac-1024", crossbar: { rows: 1024, cols: 128 } });
    const a = emit(compile(id, tall, REST("rows"), editMlp), tall);
    const b = emit(compile(id, tall, REST("none"), editMlp), tall);
    expect(a.layers.every((l) => l.grid[0] === 1) && b.layers.every((l) => l.grid[0] === 1)).toBe(true);
    expect(a.tiles.reduce((n, t) => n + t.rows_used * t.cols_used, 0)).toBeLessThan(b.tiles.reduce((n, t) => n + t.rows_used * t.cols_used, 0));
    expectSameOutputs(a, b, id);
  });

  it("records maps in #tiles that survive print, parse and print, and equal planTiles on the layers", () => {
    const { text, weights } = printModule(merged, { weights: true });
    const again = parseModule(text, { weights });
    expect(printModule(again, { weights: true }).text).toBe(text);
    expect(text).toMatch(/row_map=\[/);
    const fresh = planTiles(getWeightOps(merged).map((op) => getLayerMatrix(merged, op, isaac, { merge: "rows" })), { rows: 128, cols: 128 });
    expect(getModuleTilePlan(again).plan).toEqual(fresh);
  });

  it("reads back identically from its .xasm text form", () => {
    expect(parseProgramAsm(printProgramAsm(program))).toEqual(program);
  });

  it("is refused by checkProgram when its maps are tampered with, naming the field", () => {
    const cases: [(p: Program) => void, RegExp][] = [
      [(p) => { p.layers[0]!.row_map![1] = 100_000; }, /\/layers\/0\/row_map/],
      [(p) => { p.layers[0]!.row_map!.pop(); }, /\/layers\/0\/row_map/],
      [(p) => { const m = p.layers[0]!.col_map!; m[m.indexOf(0)] = -1; }, /\/layers\/0\/col_map/],
      [(p) => { p.layers[0]!.col_sign = p.layers[0]!.col_map!.map(() => -1); }, /\/layers\/0\/col_sign/],
      [(p) => { p.layers[0]!.formats.input.steps -= 2; }, /\/layers\/0\/formats\/input\/steps/],
    ];
    for (const e of refusals(program, cases)) expect(e.message).toMatch(/layer "\/fc1\/Gemm_output_0"|schedule entry/);
    // the hash alone refuses an edit that keeps the maps well formed (row 403 leaves its merge for row 2's place)
    const p = JSON.parse(JSON.stringify(program)) as Program;
    const map = p.layers[0]!.row_map!;
    expect(map[2]).not.toBe(map[403]);
    [map[2], map[403]] = [map[403]!, map[2]!];
    expect(() => checkProgram(p, "<edited>", { verifyHash: false })).not.toThrow();
    expect(catchXbarcError(() => checkProgram(p)).code).toBe("XB6004");
  });
});

describe("tile{merge} on a conv (lenet5) and with sign merges", () => {
  it("drops pruned conv output channels and merges a duplicated one, bit-exact with the reference (isaac and halawani's bias row)", () => {
    for (const device of [isaac, halawani]) {
      const module = compile("lenet5", device, REST("columns"), editLenet);
      const program = emit(module, device);
      const conv = program.layers[0]!;
      // channels 1 and 3 dropped (on a bias row their nonzero bias keeps a column each), 4 shares channel 2's column
      // (its bias copied too, so also on the bias row)
      const bias = device.mapping.bias === "row";
      expect(conv.col_map).toEqual(bias ? [0, 1, 2, 3, 2, 4] : [0, -1, 1, -1, 1, 2]);
      expect(program.tiles.filter((t) => t.layer === conv.name).reduce((n, t) => n + t.cols, 0)).toBe(bias ? 5 : 3);
      expectBitExact(module, program, "lenet5");
    }
  });

  it("merges a negated column on a differential device in \"all\" mode, and stays bit-exact under truncation", () => {
    const id = "mlp784-32-10-relu";
    const module = compile(id, rram, REST("all"), editMlp);
    const program = emit(module, rram);
    const first = program.layers[0]!;
    expect(first.col_sign![7]).toBe(-1);
    expect(first.col_map![7]).toBe(first.col_map![6]);
    expect(first.col_map![5]).toBe(first.col_map![4]);
    const op = getWeightOps(module)[0]!;
    const counts = countDistinct(integerWeights(module, op), 784, 32, true, true, true);
    expect(new Set(first.col_map!.filter((p) => p >= 0)).size).toBe(counts.cols);
    // on an offset-column device the same mode merges no signs
    expect(emit(compile(id, isaac, REST("all"), editMlp), isaac).layers[0]!.col_sign).toBeUndefined();
    expectBitExact(module, program, id);
  });
});

/** The analog-level compile: a clustering quantizer (one weight per cell pair), its cell states, tile{merge}, bit-slice. */
const ANALOG = (quantizer: string, bits: number, merge: MergeMode): string =>
  `quantize{quantizer="${quantizer}", bits=${bits}},assign-levels,tile{merge="${merge}"},bit-slice`;

/** The data of the constant a #quant / #cells field names. */
function constantOf(module: Module, name: unknown): ArrayLike<number> {
  return module.constants.find((c) => c.name === name)!.data! as ArrayLike<number>;
}

/**
 * Physical rows and columns of an analog-level layer counted the plain way, from what it programs: each weight as
 * "code|G+|G−" (#quant codes, #cells plus/minus), a vector as their joined string; a vector is zero when every weight's
 * codebook value and realised value (the weight after assign-levels) is exactly 0; identical strings counted once.
 */
function countDistinctCodes(module: Module, op: Op, mergeRows: boolean): { rows: number; cols: number } {
  const [N, K] = op.operands[1]!.type.shape as [number, number];
  const quant = op.getAnnotation("quant")!.data;
  const cells = op.getAnnotation("cells")!.data;
  const codes = constantOf(module, quant.codes_of);
  const codebook = constantOf(module, quant.codebook);
  const plus = constantOf(module, cells.plus);
  const minus = constantOf(module, cells.minus);
  const realized = weightOf(module, op);
  const word = (i: number): string => `${codes[i]}|${plus[i]}|${minus[i]}`;
  const zero = (i: number): boolean => codebook[codes[i]!] === 0 && realized[i] === 0;
  const rowKeys = new Set<string>();
  for (let k = 0; k < K; k++) {
    const idx = Array.from({ length: N }, (_, n) => n * K + k);
    if (idx.every(zero)) continue;
    rowKeys.add(mergeRows ? idx.map(word).join(",") : `row${k}`);
  }
  const colKeys = new Set<string>();
  for (let n = 0; n < N; n++) {
    const idx = Array.from({ length: K }, (_, k) => n * K + k);
    if (idx.every(zero)) continue;
    colKeys.add(idx.map(word).join(","));
  }
  return { rows: rowKeys.size, cols: colKeys.size };
}

/** Every original row/column's realised weights equal its physical representative's (negated by col_sign); dropped ones are 0. */
function expectMapsExactOnIdealDevice(module: Module, op: Op, layer: Program["layers"][number]): void {
  const [N, K] = op.operands[1]!.type.shape as [number, number];
  const w = weightOf(module, op);
  const rowMap = layer.row_map ?? Array.from({ length: K }, (_, k) => k);
  const colMap = layer.col_map ?? Array.from({ length: N }, (_, n) => n);
  const sign = layer.col_sign ?? colMap.map(() => 1);
  const firstRow = new Map<number, number>();
  rowMap.forEach((p, k) => { if (p >= 0 && !firstRow.has(p)) firstRow.set(p, k); });
  const firstCol = new Map<number, number>();
  colMap.forEach((q, n) => { if (q >= 0 && !firstCol.has(q)) firstCol.set(q, n); });
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const v = w[n * K + k]!;
      if (rowMap[k]! < 0 || colMap[n]! < 0) {
        expect(v, `weight (${n}, ${k}) of a dropped row/column`).toBe(0);
        continue;
      }
      const rep = w[firstCol.get(colMap[n]!)! * K + firstRow.get(rowMap[k]!)!]!;
      if (v !== sign[n]! * rep) expect(`weight (${n}, ${k}) = ${v}`).toBe(`${sign[n]} × its physical cell's ${rep}`);
    }
  }
}

describe("tile{merge} on analog-level layers (spectral and kmeans clustering, rram-4bit)", () => {
  const id = "mlp784-32-10-relu";
  // rram-4bit: 128×128, differential (P = 2: 64 weight columns per tile), digital bias
  const cases = [
    { quantizer: "spectral", bits: 2, merge: "columns" as const },
    { quantizer: "spectral", bits: 2, merge: "rows" as const },
    { quantizer: "kmeans", bits: 3, merge: "rows" as const },
  ];
  for (const { quantizer, bits, merge } of cases) {
    it(`counts as many tiles as the distinct nonzero code vectors need (${quantizer}, ${bits} bits, merge="${merge}")`, () => {
      const module = compile(id, rram, ANALOG(quantizer, bits, merge), editMlp);
      const none = compile(id, rram, ANALOG(quantizer, bits, "none"), editMlp);
      const program = emit(module, rram);
      let expectedTotal = 0;
      getWeightOps(module).forEach((op, i) => {
        expect(op.getAnnotation("quant")!.data.scheme).toBe(quantizer);
        const counts = countDistinctCodes(module, op, merge === "rows");
        const tiles = op.getAnnotation("tiles")!.data;
        const expected = Math.ceil(counts.rows / 128) * Math.ceil(counts.cols / 64);
        expect(tiles.tiles, `layer ${i} tiles`).toBe(expected);
        const layer = program.layers[i]!;
        const physRows = program.tiles.filter((t) => t.layer === layer.name && t.col_tile === 0).reduce((n, t) => n + t.rows, 0);
        const physCols = program.tiles.filter((t) => t.layer === layer.name && t.row_tile === 0).reduce((n, t) => n + t.cols, 0);
        expect([physRows, physCols], `layer ${i} physical matrix`).toEqual([counts.rows, counts.cols]);
        expectMapsExactOnIdealDevice(module, op, layer);
        expectedTotal += expected;
      });
      expect(getCrossbarCount(module).total).toBe(expectedTotal);
      // the edit zeroes 40% of the first layer's inputs; the clustering gives 0 the centroid of its cluster, which is not
      // exactly 0, so those rows are not dropped, but they all hold that one code: "rows" merges them into one row
      const first = program.layers[0]!;
      const zeroed = Array.from({ length: 784 }, (_, k) => k).filter((k) => k % 5 < 2);
      const zeroedRows = new Set(zeroed.map((k) => first.row_map?.[k] ?? k));
      expect(zeroedRows.size).toBe(merge === "rows" ? 1 : zeroed.length);
      // channel 5 is a copy of channel 4: the same codes, one column
      expect(first.col_map![5]).toBe(first.col_map![4]);
      const cells = (m: Module): number => getWeightOps(m).reduce((n, op) => n + Number(op.getAnnotation("tiles")!.data.cells), 0);
      expect(cells(module)).toBeLessThan(cells(none));
      expect(getCrossbarCount(module).total)[merge === "rows" ? "toBeLessThan" : "toBeLessThanOrEqual"](getCrossbarCount(none).total);
      expect(() => checkProgram(sealProgram(program))).not.toThrow();
      expect(parseProgramAsm(printProgramAsm(program))).toEqual(program);
    });
  }

  it("is refused by checkProgram when an analog layer's maps are tampered with", () => {
    const program = emit(compile(id, rram, ANALOG("spectral", 2, "rows"), editMlp), rram);
    expect(program.layers[0]!.formats.weight.scheme).toBe("analog-levels");
    const cases: [(p: Program) => void, RegExp][] = [
      [(p) => { p.layers[0]!.row_map![0] = 100_000; }, /\/layers\/0\/row_map/],
      [(p) => { const m = p.layers[0]!.col_map!; m[m.indexOf(0)] = -1; }, /\/layers\/0\/col_map/],
      [(p) => { p.layers[0]!.col_sign = p.layers[0]!.col_map!.map(() => -1); }, /\/layers\/0\/col_sign/],
      [(p) => { delete p.layers[0]!.row_map; }, /\/layers\/0\/tiles/],
    ];
    refusals(program, cases);
  });

  it("sign-merges a column only when its codes' values and cell states are the exact negation of another's (differential, offset 0)", () => {
    // spectral's 4 centroids have no exact negations; make the codebook symmetric (−a, −b, b, a) with code 3−c programmed
    // as code c's states swapped (G+ ↔ G−), then give output channel 7 the negated codes of channel 6
    const symmetrize = (module: Module): void => {
      const op = getWeightOps(module)[0]!;
      const quant = op.getAnnotation("quant")!.data;
      expect(quant.offset).toBe(0);
      const codebook = module.constants.find((c) => c.name === quant.codebook)!.data as Float32Array;
      expect(codebook.length).toBe(4);
      codebook[2] = -codebook[1]!;
      codebook[3] = -codebook[0]!;
      const levels = module.constants.find((c) => c.name === quant.code_levels)!.data as Uint8Array;
      for (const c of [0, 1]) {
        levels[2 * (3 - c)] = levels[2 * c + 1]!;
        levels[2 * (3 - c) + 1] = levels[2 * c]!;
      }
      const codes = module.constants.find((c) => c.name === quant.codes_of)!.data as Uint8Array;
      for (let k = 0; k < 784; k++) codes[7 * 784 + k] = 3 - codes[6 * 784 + k]!;
    };
    const rest = (merge: MergeMode): string => `assign-levels,tile{merge="${merge}"},bit-slice`;
    const quantized = (merge: MergeMode, device: DeviceProfile): Module => {
      const m = compile(id, device, `quantize{quantizer="spectral", bits=2}`, editMlp);
      symmetrize(m);
      runPipeline(m, rest(merge), { device });
      return m;
    };
    const all = quantized("all", rram);
    const program = emit(all, rram);
    const first = program.layers[0]!;
    expect(first.col_map![7]).toBe(first.col_map![6]);
    expect(first.col_sign![7]).toBe(-1);
    expect(first.col_sign!.filter((s) => s < 0).length).toBeGreaterThanOrEqual(1);
    expectMapsExactOnIdealDevice(all, getWeightOps(all)[0]!, first);
    expect(() => checkProgram(sealProgram(program))).not.toThrow();
    // "rows" merges no signs: channel 7 keeps a column of its own
    const rows = emit(quantized("rows", rram), rram).layers[0]!;
    expect(rows.col_map![7]).not.toBe(rows.col_map![6]);
    expect(rows.col_sign).toBeUndefined();
  });
});

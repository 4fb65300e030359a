/**
 * @fileoverview The WebAssembly tile kernels (issue 6) against the plain-TypeScript kernels, bit for bit: the
 * integer-cell bit-packed read (and the TS bit-packed read) vs bitSerialReadImpl, its sparse-input kernel (and the
 * automatic choice between the two), the float-cell read vs bitSerialReadImpl, the i16 SIMD MVM (both its kernels, and
 * the choice between them) vs integerMvmImpl — on seeded random tiles and on the tile reads every fixture model's
 * program makes on real images (recorded from the simulator's own calls to the TS kernels).
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getBuiltinProfile, Rng, type DeviceProfile, type Tensor } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { compilePipeline, printPipeline, runPipeline } from "@xbarc/passes";
import {
  CHOICE_SAMPLE_VECTORS, GROUP_TABLE_MIN_VECTORS, SPARSE_MAX_COLUMN_SUM, WasmFloatCellTile, WasmIntegerCellTile, WasmIntegerMvm, bitPackedReadImpl, bitSerialReadImpl, buildAdcTable, emitProgram,
  integerMvmImpl, largestColumnSum, packBitPackedTile, sampleProgramInstance, simulateProgram, type IntegerMvmKernelOption, type Program,
} from "@xbarc/backend-sim";
import { FIXTURE_PREPROCESSING, listFixtureModels, samplesFor, sampleSize } from "./helpers/models.js";
import { catchXbarcError } from "./helpers/errors.js";
import { range } from "./helpers/datasets.js";
import { bitDifference } from "./helpers/compare.js";

/** One call the simulator made to a TS kernel, with copies of its inputs and its result. */
interface ReadCall {
  xu: Int32Array; outer: number; rowsUsed: number; cells: Float64Array; physCols: number; steps: number; dacBits: number;
  adcMin: number; adcMax: number; noise: number; out: Float64Array;
}
interface MvmCall { xu: Int32Array; outer: number; rowsUsed: number; w: Float64Array; cols: number; out: Float64Array }

const recorder = vi.hoisted(() => ({ on: false, reads: [] as unknown[], mvms: [] as unknown[] }));

// Wraps the simulator's kernels (functional.ts imports them from this file) to record the reads of real programs.
vi.mock("../packages/backend-sim/src/sim/kernels.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../packages/backend-sim/src/sim/kernels.js")>();
  return {
    ...actual,
    bitSerialReadImpl: (...args: Parameters<typeof actual.bitSerialReadImpl>) => {
      const out = actual.bitSerialReadImpl(...args);
      if (recorder.on) {
        const [xu, outer, rowsUsed, cells, physCols, steps, dacBits, adcMin, adcMax, noise] = args;
        recorder.reads.push({ xu: xu.slice(), outer, rowsUsed, cells, physCols, steps, dacBits, adcMin, adcMax, noise, out: out.slice() });
      }
      return out;
    },
    integerMvmImpl: (...args: Parameters<typeof actual.integerMvmImpl>) => {
      const out = actual.integerMvmImpl(...args);
      if (recorder.on) {
        const [xu, outer, rowsUsed, w, cols] = args;
        recorder.mvms.push({ xu: xu.slice(), outer, rowsUsed, w, cols, out: out.slice() });
      }
      return out;
    },
  };
});

/** Deterministic uniform [0, 1): the project's seeded stream. */
function rng(seed: number): () => number {
  const stream = new Rng(seed);
  return () => stream.next();
}

/** A random tile read: shape, integer levels, offset-encoded inputs (some with many zeros, some over the full range), ADC. */
interface TileCase {
  name: string; rows: number; physCols: number; cellBits: number; dacBits: number; steps: number; outer: number;
  levels: Float64Array; xu: Int32Array; adcMin: number; adcMax: number;
}

const ROW_CHOICES = [1, 2, 31, 63, 64, 65, 100, 127, 128, 129, 191, 200, 256, 257, 300];
const COL_CHOICES = [1, 2, 3, 7, 8, 9, 13, 16, 33, 64, 67];

/** A random case with cells of 1..4 bits (`wideCells`: 5..8 bits, the general kernel's cell widths). */
function randomCase(seed: number, wideCells = false): TileCase {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const rows = pick(ROW_CHOICES);
  const physCols = pick(COL_CHOICES);
  const cellBits = (wideCells ? 5 : 1) + Math.floor(random() * 4);
  const dacBits = 1 + Math.floor(random() * 2);
  const steps = 1 + Math.floor(random() * 9);
  const outer = 1 + Math.floor(random() * 6);
  const levels = new Float64Array(rows * physCols).map(() => Math.floor(random() * 2 ** cellBits));
  const inBits = steps * dacBits;
  const zeroFraction = pick([0, 0.5, 0.9, 1]);
  const xu = new Int32Array(outer * rows).map(() => {
    if (random() < zeroFraction) return 0;
    // full range, the top value often
    return random() < 0.2 ? 2 ** inBits - 1 : Math.floor(random() * 2 ** inBits);
  });
  const lossless = random() < 0.4;
  // clipping ADCs narrow enough that many reads clip
  const adcBits = 1 + Math.floor(random() * 8);
  return {
    name: `seed ${seed}: ${rows}×${physCols}, ${cellBits}-bit cells, ${steps} steps of ${dacBits} bits, ${outer} vectors, ${lossless ? "lossless" : `${adcBits}-bit`} ADC`,
    rows, physCols, cellBits, dacBits, steps, outer, levels, xu, adcMin: lossless ? -Infinity : 0, adcMax: lossless ? Infinity : 2 ** adcBits - 1,
  };
}

const CASES = range(1, 161).map((seed) => randomCase(seed));
const WIDE_CELL_CASES = range(161, 181).map((seed) => randomCase(seed, true));

function reference(c: TileCase, cells: Float64Array = c.levels): Float64Array {
  return bitSerialReadImpl(c.xu, c.outer, c.rows, cells, c.physCols, c.steps, c.dacBits, c.adcMin, c.adcMax, 0, undefined, new Float64Array(c.outer * c.physCols));
}

describe("the WebAssembly integer-cell read (kernel a) and the TS bit-packed read", () => {
  it("the random cases cover every edge the kernels branch on", () => {
    expect(new Set(CASES.map((c) => c.cellBits))).toEqual(new Set([1, 2, 3, 4]));
    expect(new Set(CASES.map((c) => c.dacBits))).toEqual(new Set([1, 2]));
    expect(CASES.some((c) => c.rows % 64 !== 0 && c.rows > 64)).toBe(true);
    expect(CASES.some((c) => c.physCols % 2 === 1 && c.physCols > 1)).toBe(true);
    // the WebAssembly kernels work on blocks of four columns: partial last blocks, with each specialised cell width
    for (const cellBits of [1, 2, 3, 4]) {
      for (const dacBits of [1, 2]) {
        expect(CASES.some((c) => c.cellBits === cellBits && c.dacBits === dacBits && c.physCols % 4 !== 0), `${cellBits}-bit cells, ${dacBits}-bit DAC`).toBe(true);
      }
    }
    // the register kernels (1-bit DAC, ≤ 128 rows: one or two 64-row words) and the block kernels beyond
    for (const cellBits of [1, 2, 3, 4]) {
      for (const [lo, hi] of [[1, 64], [65, 128], [129, 300]] as const) {
        expect(CASES.some((c) => c.cellBits === cellBits && c.dacBits === 1 && c.rows >= lo && c.rows <= hi), `${cellBits}-bit cells, ${lo}..${hi} rows`).toBe(true);
      }
    }
    expect(new Set(WIDE_CELL_CASES.map((c) => c.cellBits))).toEqual(new Set([5, 6, 7, 8]));
    expect(CASES.some((c) => c.adcMax === Infinity)).toBe(true);
    // some clipping cases really clip
    expect(CASES.some((c) => c.adcMax !== Infinity && reference(c).some((v) => v === c.adcMax * (2 ** (c.steps * c.dacBits) - 1) / (2 ** c.dacBits - 1)))).toBe(true);
  });

  it("equals bitSerialReadImpl bit for bit on 160 random tiles", () => {
    for (const c of CASES) {
      const ref = reference(c);
      const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits);
      expect(tile, c.name).toBeDefined();
      const got = tile!.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, new Float64Array(c.outer * c.physCols));
      expect(bitDifference(got, ref), c.name).toBe("");
      const packed = packBitPackedTile(c.levels, c.rows, c.physCols, c.cellBits)!;
      const ts = bitPackedReadImpl(packed, c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, new Float64Array(c.outer * c.physCols));
      expect(bitDifference(ts, ref), `${c.name} (TS bit-packed)`).toBe("");
    }
  });

  it("equals bitSerialReadImpl bit for bit on 20 random tiles of 5- to 8-bit cells (the general kernel)", () => {
    for (const c of WIDE_CELL_CASES) {
      const ref = reference(c);
      const got = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax,
        new Float64Array(c.outer * c.physCols));
      expect(bitDifference(got, ref), c.name).toBe("");
      const ts = bitPackedReadImpl(packBitPackedTile(c.levels, c.rows, c.physCols, c.cellBits)!, c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax,
        new Float64Array(c.outer * c.physCols));
      expect(bitDifference(ts, ref), `${c.name} (TS bit-packed)`).toBe("");
    }
  });

  it("keeps a packed tile reusable across reads of other ADCs, step counts and batch sizes, growing its memory", () => {
    const c = CASES.find((k) => k.rows >= 100 && k.physCols >= 8)!;
    const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
    const random = rng(99);
    for (const [outer, steps, dacBits, adcMax] of [[3, 4, 2, 15], [1, 8, 1, 255], [700, 2, 1, Infinity], [5, 4, 2, 15]] as const) {
      const xu = new Int32Array(outer * c.rows).map(() => Math.floor(random() * 2 ** (steps * dacBits)));
      const adcMin = adcMax === Infinity ? -Infinity : 0;
      const ref = bitSerialReadImpl(xu, outer, c.rows, c.levels, c.physCols, steps, dacBits, adcMin, adcMax, 0, undefined, new Float64Array(outer * c.physCols));
      const got = tile.read(xu, outer, steps, dacBits, adcMin, adcMax, new Float64Array(outer * c.physCols));
      expect(bitDifference(got, ref), `${outer} vectors, ${steps}×${dacBits} bits, ADC max ${adcMax}`).toBe("");
    }
  });

  it("reads through any ADC table: a companding transfer equals the per-step definition and the TS bit-packed kernel", () => {
    for (const c of CASES.slice(0, 40)) {
      const maxSum = largestColumnSum(c.rows, c.dacBits, c.cellBits);
      const table = buildAdcTable(maxSum, (i) => Math.min(63, Math.floor(Math.sqrt(8 * i))) - 3);
      // the definition: per vector, column and step, the integer column sum looked up, shift-added over steps
      const expected = new Float64Array(c.outer * c.physCols);
      for (let o = 0; o < c.outer; o++) {
        for (let col = 0; col < c.physCols; col++) {
          let acc = 0;
          for (let t = 0; t < c.steps; t++) {
            let sum = 0;
            for (let r = 0; r < c.rows; r++) sum += ((c.xu[o * c.rows + r]! >>> (t * c.dacBits)) & (2 ** c.dacBits - 1)) * c.levels[r * c.physCols + col]!;
            acc += 2 ** (t * c.dacBits) * table[sum]!;
          }
          expected[o * c.physCols + col] = acc;
        }
      }
      const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
      const got = tile.readWithTable(c.xu, c.outer, c.steps, c.dacBits, table, new Float64Array(c.outer * c.physCols));
      expect(bitDifference(got, expected), c.name).toBe("");
      const ts = bitPackedReadImpl(packBitPackedTile(c.levels, c.rows, c.physCols, c.cellBits)!, c.xu, c.outer, c.steps, c.dacBits, 0, 0,
        new Float64Array(c.outer * c.physCols), table);
      expect(bitDifference(ts, expected), `${c.name} (TS bit-packed)`).toBe("");
    }
  });

  it("declines cells that are not integer levels of the cell width, so the caller keeps the TS kernel", () => {
    const c = CASES[0]!;
    const fractional = c.levels.slice();
    fractional[fractional.length - 1] = 0.5;
    expect(WasmIntegerCellTile.pack(fractional, c.rows, c.physCols, c.cellBits)).toBeUndefined();
    const tooHigh = c.levels.slice();
    tooHigh[0] = 2 ** c.cellBits;
    expect(WasmIntegerCellTile.pack(tooHigh, c.rows, c.physCols, c.cellBits)).toBeUndefined();
    expect(packBitPackedTile(tooHigh, c.rows, c.physCols, c.cellBits)).toBeUndefined();
  });

  it("rejects inconsistent dimensions with XB6002 naming the argument", () => {
    const c = CASES[0]!;
    const short = catchXbarcError(() => WasmIntegerCellTile.pack(c.levels.subarray(1), c.rows, c.physCols, c.cellBits));
    expect(short.code).toBe("XB6002");
    expect(short.message).toMatch(/cells hold \d+ values, expected rowsUsed·physCols/);
    const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
    const smallOut = catchXbarcError(() => tile.read(c.xu, c.outer, c.steps, c.dacBits, 0, 255, new Float64Array(1 + c.outer * c.physCols - 2)));
    expect(smallOut.message).toMatch(/out holds/);
    const wide = catchXbarcError(() => tile.read(c.xu, c.outer, 17, 2, 0, 255, new Float64Array(c.outer * c.physCols)));
    expect(wide.message).toMatch(/17 steps of 2 DAC bits/);
  });
});

/** `outer` input vectors of `rows` values whose `steps·dacBits` low bits are each set with probability `density`. */
function inputsOfDensity(random: () => number, outer: number, rows: number, steps: number, dacBits: number, density: number): Int32Array {
  return new Int32Array(outer * rows).map(() => {
    let x = 0;
    for (let b = 0; b < steps * dacBits; b++) if (random() < density) x |= 1 << b;
    return x;
  });
}

/** The (vector, row, step) whose DAC digit (x >>> t·dacBits) & (2^dacBits − 1) is not 0, counted directly. */
function activeDigits(xu: Int32Array, steps: number, dacBits: number): number {
  let n = 0;
  for (const x of xu) for (let t = 0; t < steps; t++) if ((x >>> (t * dacBits)) & (2 ** dacBits - 1)) n++;
  return n;
}

describe("the sparse-input integer-cell read and the automatic kernel choice", () => {
  const DENSITIES = [0, 0.03, 0.5, 1];

  it("equals bitSerialReadImpl bit for bit with either kernel forced on 160 random tiles, at bit densities from all-zero to dense", () => {
    for (const c of CASES) {
      const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
      expect(tile.sparseAvailable(c.dacBits), c.name).toBe(true);
      const random = rng(c.rows * 131 + c.physCols);
      const inputs = [c.xu, ...DENSITIES.map((d) => inputsOfDensity(random, c.outer, c.rows, c.steps, c.dacBits, d))];
      for (const [i, xu] of inputs.entries()) {
        const what = `${c.name}, ${i === 0 ? "the case's inputs" : `bit density ${DENSITIES[i - 1]}`}`;
        const ref = bitSerialReadImpl(xu, c.outer, c.rows, c.levels, c.physCols, c.steps, c.dacBits, c.adcMin, c.adcMax, 0, undefined, new Float64Array(c.outer * c.physCols));
        for (const kernel of ["sparse", "dense"] as const) {
          const got = tile.read(xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, new Float64Array(c.outer * c.physCols), kernel);
          expect(tile.lastKernel, what).toBe(kernel);
          expect(bitDifference(got, ref), `${what} (${kernel})`).toBe("");
        }
      }
    }
  });

  it("reads through any ADC table with the sparse kernel, as the dense kernel does", () => {
    for (const c of CASES.slice(0, 40)) {
      const table = buildAdcTable(largestColumnSum(c.rows, c.dacBits, c.cellBits), (i) => Math.min(63, Math.floor(Math.sqrt(8 * i))) - 3);
      const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
      const dense = tile.readWithTable(c.xu, c.outer, c.steps, c.dacBits, table, new Float64Array(c.outer * c.physCols), "dense");
      const sparse = tile.readWithTable(c.xu, c.outer, c.steps, c.dacBits, table, new Float64Array(c.outer * c.physCols), "sparse");
      expect(bitDifference(sparse, dense), c.name).toBe("");
      // the table is not the identity, so the outputs are not the column sums (a kernel that skipped the table would fail)
      const identity = tile.readWithTable(c.xu, c.outer, c.steps, c.dacBits, buildAdcTable(largestColumnSum(c.rows, c.dacBits, c.cellBits), (i) => i),
        new Float64Array(c.outer * c.physCols), "sparse");
      if (c.xu.some((x) => x !== 0)) expect(bitDifference(sparse, identity), c.name).not.toBe("");
    }
  });

  it("keeps column sums exact up to the 65535 its 16-bit lanes hold (past the signed 32767)", () => {
    for (const [rows, dacBits, steps] of [[257, 1, 8], [85, 2, 4]] as const) {
      const cellBits = 8;
      expect(largestColumnSum(rows, dacBits, cellBits)).toBeLessThanOrEqual(SPARSE_MAX_COLUMN_SUM);
      const physCols = 5;
      const random = rng(rows);
      // column 0 all 255 (the largest sum, with every input bit set), the others random
      const levels = new Float64Array(rows * physCols).map((_, i) => (i % physCols === 0 ? 255 : Math.floor(random() * 256)));
      const xu = new Int32Array(2 * rows).map((_, i) => (i < rows ? 2 ** (steps * dacBits) - 1 : Math.floor(random() * 2 ** (steps * dacBits))));
      const ref = bitSerialReadImpl(xu, 2, rows, levels, physCols, steps, dacBits, -Infinity, Infinity, 0, undefined, new Float64Array(2 * physCols));
      expect(ref[0]).toBe(largestColumnSum(rows, dacBits, cellBits) * (2 ** (steps * dacBits) - 1) / (2 ** dacBits - 1));
      const tile = WasmIntegerCellTile.pack(levels, rows, physCols, cellBits)!;
      const got = tile.read(xu, 2, steps, dacBits, -Infinity, Infinity, new Float64Array(2 * physCols), "sparse");
      expect(bitDifference(got, ref), `${rows} rows of 8-bit cells, ${steps} steps of ${dacBits} bits`).toBe("");
    }
  });

  it("on 5- to 8-bit cells, reads sparse where the column sums fit 16 bits and otherwise refuses with XB6002, the automatic choice staying dense", () => {
    let sparseRead = 0;
    let refused = 0;
    for (const c of WIDE_CELL_CASES) {
      const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
      const out = new Float64Array(c.outer * c.physCols);
      const zeros = new Int32Array(c.outer * c.rows);
      if (largestColumnSum(c.rows, c.dacBits, c.cellBits) <= SPARSE_MAX_COLUMN_SUM) {
        expect(tile.sparseAvailable(c.dacBits), c.name).toBe(true);
        expect(bitDifference(tile.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, out, "sparse"), reference(c)), c.name).toBe("");
        sparseRead++;
      } else {
        expect(tile.sparseAvailable(c.dacBits), c.name).toBe(false);
        const e = catchXbarcError(() => tile.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, out, "sparse"));
        expect(e.code).toBe("XB6002");
        expect(e.message).toMatch(/the sparse kernel cannot read this tile: its column sums reach \d+, beyond the 65535 of its 16-bit lanes/);
        // even all-zero inputs, where the sparse kernel would cost nothing, read dense
        expect(tile.chooseKernel(zeros, c.outer, c.steps, c.dacBits), c.name).toBe("dense");
        refused++;
      }
    }
    expect(sparseRead).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it("counts the non-zero DAC digits of the inputs, ignoring bits beyond steps·dacBits", () => {
    for (const c of CASES.slice(0, 60)) {
      const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
      expect(tile.countActive(c.xu, c.outer, c.steps, c.dacBits), c.name).toBe(activeDigits(c.xu, c.steps, c.dacBits));
      // bits above the read's steps·dacBits (even the sign bit) are not driven, by either kernel
      const random = rng(c.rows + c.steps);
      const high = c.xu.map((x) => (x | (Math.floor(random() * 2 ** 31) << (c.steps * c.dacBits))) | (random() < 0.3 ? 1 << 31 : 0));
      if (c.steps * c.dacBits < 32) {
        expect(tile.countActive(high, c.outer, c.steps, c.dacBits), c.name).toBe(activeDigits(c.xu, c.steps, c.dacBits));
        const got = tile.read(high, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, new Float64Array(c.outer * c.physCols), "sparse");
        expect(bitDifference(got, reference(c)), c.name).toBe("");
      }
    }
  });

  it("picks the sparse kernel on very sparse inputs and the dense one on dense inputs, with the same results", () => {
    const random = rng(4242);
    // the benchmark's MVM (128×128 8-bit weights as 128×512 2-bit cells, 8 one-bit steps) and a 2-bit DAC read
    for (const [rows, physCols, steps, dacBits] of [[128, 512, 8, 1], [128, 128, 4, 2], [26, 24, 8, 1]] as const) {
      const levels = new Float64Array(rows * physCols).map(() => Math.floor(random() * 4));
      const tile = WasmIntegerCellTile.pack(levels, rows, physCols, 2)!;
      const outer = 8;
      for (const [density, expected] of [[0, "sparse"], [0.005, "sparse"], [0.7, "dense"], [1, "dense"]] as const) {
        const what = `${rows}×${physCols}, ${steps} steps of ${dacBits} bits, bit density ${density}`;
        const xu = inputsOfDensity(random, outer, rows, steps, dacBits, density);
        expect(tile.chooseKernel(xu, outer, steps, dacBits), what).toBe(expected);
        const got = tile.read(xu, outer, steps, dacBits, 0, 255, new Float64Array(outer * physCols));
        expect(tile.lastKernel, what).toBe(expected);
        const ref = bitSerialReadImpl(xu, outer, rows, levels, physCols, steps, dacBits, 0, 255, 0, undefined, new Float64Array(outer * physCols));
        expect(bitDifference(got, ref), what).toBe("");
      }
    }
  });

  it("judges calls of more than CHOICE_SAMPLE_VECTORS vectors on a sample spread over the whole call", () => {
    const random = rng(77);
    const [rows, physCols, steps] = [26, 24, 8];
    const levels = new Float64Array(rows * physCols).map(() => Math.floor(random() * 4));
    const tile = WasmIntegerCellTile.pack(levels, rows, physCols, 2)!;
    const outer = 4 * CHOICE_SAMPLE_VECTORS;
    // the first half all zero (a sample of the first vectors alone would find nothing to add), the second all ones
    const xu = new Int32Array(outer * rows).map((_, i) => (i < (outer / 2) * rows ? 0 : 255));
    expect(tile.countActive(xu, outer, steps, 1)).toBe((outer / 2) * rows * steps);
    expect(tile.chooseKernel(xu, outer, steps, 1)).toBe("dense");
    expect(tile.chooseKernel(xu.subarray(0, (outer / 2) * rows), outer / 2, steps, 1)).toBe("sparse");
    const got = tile.read(xu, outer, steps, 1, 0, 255, new Float64Array(outer * physCols));
    expect(tile.lastKernel).toBe("dense");
    const ref = bitSerialReadImpl(xu, outer, rows, levels, physCols, steps, 1, 0, 255, 0, undefined, new Float64Array(outer * physCols));
    expect(bitDifference(got, ref)).toBe("");
  });

  it("makes the same choice for inputs already in its memory (readAt, as the layer kernels call it)", () => {
    const c = CASES.find((k) => k.rows >= 100 && k.physCols >= 8)!;
    const tile = WasmIntegerCellTile.pack(c.levels, c.rows, c.physCols, c.cellBits)!;
    const random = rng(7);
    for (const density of [0, 1]) {
      const xu = inputsOfDensity(random, c.outer, c.rows, c.steps, c.dacBits, density);
      const { arena } = tile;
      const mark = arena.mark();
      const xAt = arena.scratch(c.outer * c.rows * 4);
      const outAt = arena.scratch(c.outer * tile.colsPadded * 8);
      arena.i32(xAt, c.outer * c.rows).set(xu);
      tile.readAt(xAt, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, outAt);
      const got = new Float64Array(c.outer * c.physCols);
      const heap = arena.f64(outAt, c.outer * tile.colsPadded);
      for (let o = 0; o < c.outer; o++) got.set(heap.subarray(o * tile.colsPadded, o * tile.colsPadded + c.physCols), o * c.physCols);
      arena.release(mark);
      expect(tile.lastKernel).toBe(tile.chooseKernel(xu, c.outer, c.steps, c.dacBits));
      expect(tile.lastKernel).toBe(density === 0 ? "sparse" : "dense");
      const ref = bitSerialReadImpl(xu, c.outer, c.rows, c.levels, c.physCols, c.steps, c.dacBits, c.adcMin, c.adcMax, 0, undefined, new Float64Array(c.outer * c.physCols));
      expect(bitDifference(got, ref), `${c.name}, bit density ${density}`).toBe("");
    }
  });
});

describe("the WebAssembly float-cell read (kernel b)", () => {
  it("equals bitSerialReadImpl bit for bit on 160 random tiles with varied, stuck and negative cells and exact .5 sums", () => {
    for (const c of CASES) {
      const random = rng(c.rows * 7919 + c.physCols);
      const cells = c.levels.map((k) => {
        const u = random();
        if (u < 0.05) return 0; // stuck off
        if (u < 0.1) return 2 ** c.cellBits - 1; // stuck on
        if (u < 0.3) return k + (random() < 0.5 ? 0.5 : -0.5); // sums landing on ties of Math.round
        return k * Math.exp(0.2 * (random() - 0.5)) - 0.1 * random(); // log-normal spread, baseline removed (can dip below 0)
      });
      const ref = reference(c, cells);
      const got = WasmFloatCellTile.pack(cells, c.rows, c.physCols).read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, new Float64Array(c.outer * c.physCols));
      expect(bitDifference(got, ref), c.name).toBe("");
    }
  });

  it("converts the zero reads of undriven steps when the ADC's range excludes 0 (no step is skipped then)", () => {
    for (const c of CASES.slice(0, 40)) {
      const random = rng(c.rows * 131 + c.physCols);
      const cells = c.levels.map((k) => k * Math.exp(0.2 * (random() - 0.5)));
      for (const [adcMin, adcMax] of [[1, 6], [-7, -2]] as const) {
        const ref = bitSerialReadImpl(c.xu, c.outer, c.rows, cells, c.physCols, c.steps, c.dacBits, adcMin, adcMax, 0, undefined, new Float64Array(c.outer * c.physCols));
        const got = WasmFloatCellTile.pack(cells, c.rows, c.physCols).read(c.xu, c.outer, c.steps, c.dacBits, adcMin, adcMax, new Float64Array(c.outer * c.physCols));
        expect(bitDifference(got, ref), `${c.name}, ADC [${adcMin}, ${adcMax}]`).toBe("");
      }
    }
  });

  it("rejects a non-finite cell with XB6002", () => {
    const cells = new Float64Array(6).fill(1);
    cells[4] = Infinity;
    const e = catchXbarcError(() => WasmFloatCellTile.pack(cells, 2, 3));
    expect(e.code).toBe("XB6002");
    expect(e.message).toMatch(/cell 4 is Infinity, expected a finite value/);
  });
});

/** Standard normal deviates from a uniform stream (Box–Muller). */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A sampled-instance read for the float32 kernel: log-normal cells around levels 0..3, some stuck, zero or negative. */
interface SampledCase {
  name: string; rows: number; physCols: number; dacBits: number; steps: number; outer: number;
  cells: Float64Array; xu: Int32Array; adcMin: number; adcMax: number;
}

const SAMPLED_ROWS = [1, 5, 16, 25, 31, 64, 100, 127, 128, 129, 300];
const SAMPLED_COLS = [1, 3, 4, 7, 9, 13, 24, 25, 28, 32, 36, 44, 48, 52, 56, 68, 100, 128];
const SAMPLED_ADCS: readonly (readonly [number, number])[] = [[0, 255], [0, 15], [-Infinity, Infinity], [-8, 7], [1, 6], [-7, -2]];

function sampledCase(seed: number): SampledCase {
  const random = rng(seed);
  const normal = gaussian(random);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const rows = pick(SAMPLED_ROWS);
  const physCols = pick(SAMPLED_COLS);
  const dacBits = 1 + Math.floor(random() * 2);
  // 8 steps mostly; 10 one-bit steps take the kernel's general input path (its bit-plane path handles ≤ 8); 5 steps
  // leave input bits beyond the DAC's reach, which every kernel ignores
  const u = random();
  const steps = dacBits === 1 && u < 0.2 ? 10 : u > 0.8 ? 5 : 8;
  const outer = 1 + Math.floor(random() * 12);
  const sigma = 0.1 + 0.4 * random();
  const cells = new Float64Array(rows * physCols).map(() => {
    const u = random();
    const level = Math.floor(random() * 4);
    if (u < 0.04) return 0; // stuck off
    if (u < 0.06) return -0;
    if (u < 0.1) return -level * Math.exp(sigma * normal()); // a differential layout's negative side
    return level * Math.exp(sigma * normal());
  });
  const density = pick([0, 0.05, 0.3, 0.9]);
  const bits = steps * dacBits + (steps === 5 ? 3 : 0);
  const xu = new Int32Array(outer * rows).map(() => {
    let x = 0;
    for (let b = 0; b < bits; b++) if (random() < density) x |= 1 << b;
    return x;
  });
  // an undriven first vector in about a third of the cases: among driven ones, it takes the kernel's early exit
  if (random() < 0.3) xu.fill(0, 0, rows);
  const [adcMin, adcMax] = pick(SAMPLED_ADCS);
  return {
    name: `seed ${seed}: ${rows}×${physCols}, σ ${sigma.toFixed(2)}, ${steps} steps of ${dacBits} bits, ${outer} vectors, density ${density}, ADC [${adcMin}, ${adcMax}]`,
    rows, physCols, dacBits, steps, outer, cells, xu, adcMin, adcMax,
  };
}

function sampledReference(c: SampledCase): Float64Array {
  return bitSerialReadImpl(c.xu, c.outer, c.rows, c.cells, c.physCols, c.steps, c.dacBits, c.adcMin, c.adcMax, 0, undefined, new Float64Array(c.outer * c.physCols));
}

describe("the WebAssembly float-cell read's float32 kernel (f32 sums, exact f64 fallback)", () => {
  const SAMPLED = range(1, 151).map((seed) => sampledCase(5000 + seed));

  it("the sampled cases cover every path of the kernel", () => {
    for (const dacBits of [1, 2]) expect(SAMPLED.some((c) => c.dacBits === dacBits), `${dacBits}-bit DAC`).toBe(true);
    expect(SAMPLED.some((c) => c.steps === 10)).toBe(true);
    for (const dacBits of [1, 2]) {
      expect(SAMPLED.some((c) => c.steps === 5 && c.dacBits === dacBits && c.xu.some((x) => x >>> (5 * dacBits) !== 0)), `bits beyond 5 steps of ${dacBits} bits`).toBe(true);
    }
    // blocks of 28 columns, alone or followed by a narrower last block of every width
    for (const rest of [0, 4, 8, 12, 16, 20, 24]) {
      expect(SAMPLED.some((c) => c.physCols > 28 && Math.ceil(c.physCols / 4) * 4 % 28 === rest), `28-column blocks and a last block of ${rest} columns`).toBe(true);
    }
    // an all-zero input vector among driven ones (the kernel's early exit), where the ADC reads 0 as 0 and where it does not
    const vectors = (c: SampledCase) => range(0, c.outer).map((o) => c.xu.subarray(o * c.rows, (o + 1) * c.rows));
    const mixed = (c: SampledCase) => vectors(c).some((v) => v.every((x) => x === 0)) && vectors(c).some((v) => v.some((x) => x !== 0));
    expect(SAMPLED.some((c) => mixed(c) && c.adcMin <= 0 && c.adcMax >= 0), "undriven vector, ADC reads 0 as 0").toBe(true);
    expect(SAMPLED.some((c) => mixed(c) && c.adcMin > 0), "undriven vector, ADC range above 0").toBe(true);
    expect(SAMPLED.some((c) => c.rows > 256)).toBe(true);
    // group tables: more than one 64-row word, and a last group of fewer than eight rows
    const grouped = (c: SampledCase) => c.dacBits === 1 && c.steps <= 8 && c.rows > 64;
    expect(SAMPLED.some((c) => grouped(c) && c.rows > 128 && c.xu.some((x) => x !== 0)), "group tables over several words").toBe(true);
    expect(SAMPLED.some((c) => grouped(c) && c.rows % 8 !== 0 && c.xu.some((x) => x !== 0)), "group tables, partial last group").toBe(true);
    expect(SAMPLED.some((c) => c.dacBits === 1 && c.steps <= 8 && c.rows <= 64 && c.rows % 8 !== 0 && c.xu.some((x) => x !== 0)), "group tables walked from a plane").toBe(true);
    expect(SAMPLED.some((c) => c.rows % 16 !== 0 && c.rows > 16)).toBe(true);
    expect(SAMPLED.some((c) => c.adcMin > 0)).toBe(true);
    expect(SAMPLED.some((c) => c.xu.every((x) => x === 0))).toBe(true);
  });

  it("equals bitSerialReadImpl bit for bit on 150 sampled tiles (every kernel that applies, and the automatic choice)", () => {
    let fallbacks = 0;
    let sums = 0;
    for (const c of SAMPLED) {
      const ref = sampledReference(c);
      const tile = WasmFloatCellTile.pack(c.cells, c.rows, c.physCols);
      expect(tile.float32Available(c.steps, c.dacBits, c.adcMin, c.adcMax), c.name).toBe(true);
      const out = (): Float64Array => new Float64Array(c.outer * c.physCols);
      expect(bitDifference(tile.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, out(), "float32"), ref), `${c.name} (float32)`).toBe("");
      expect(tile.lastKernel).toBe("float32");
      fallbacks += tile.lastFallbacks;
      sums += c.outer * c.steps * c.physCols;
      if (tile.groupTablesApply(c.steps, c.dacBits)) {
        expect(bitDifference(tile.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, out(), "float32-groups"), ref), `${c.name} (float32-groups)`).toBe("");
        expect(tile.lastKernel).toBe("float32-groups");
        fallbacks += tile.lastFallbacks;
        sums += c.outer * c.steps * c.physCols;
      }
      expect(bitDifference(tile.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, out(), "float64"), ref), `${c.name} (float64)`).toBe("");
      expect(tile.lastKernel).toBe("float64");
      expect(tile.lastFallbacks).toBe(0);
      expect(bitDifference(tile.read(c.xu, c.outer, c.steps, c.dacBits, c.adcMin, c.adcMax, out()), ref), `${c.name} (auto)`).toBe("");
    }
    // the fallback ran, and stayed rare (about 2·B of the sums, B ≈ (rows + 3)·2^-24·Σ|cells|)
    expect(fallbacks).toBeGreaterThan(0);
    expect(fallbacks / sums).toBeLessThan(0.05);
  });

  for (const rows of [64, 130]) it(`recomputes the sums that land on or within 1e-9 of a half-integer, and still equals the reference (${rows} rows)`, () => {
    const physCols = 48;
    const steps = 8;
    const random = rng(77);
    const normal = gaussian(random);
    const cells = new Float64Array(rows * physCols);
    for (let c = 0; c < physCols; c++) {
      const k = c % 7;
      const kind = c % 4;
      if (kind === 0) {
        // dyadic cells: every sum exact in f32 and f64, the full one exactly k + 0.5 (a tie Math.round sends up and
        // round-to-even sends to k when k is even)
        let sum = 0;
        for (let r = 0; r < rows - 1; r++) {
          const g = Math.round(64 * (1 + 0.2 * normal())) / 1024;
          cells[r * physCols + c] = g;
          sum += g;
        }
        cells[(rows - 1) * physCols + c] = k + 0.5 - sum;
        continue;
      }
      // log-normal cells; the last row's makes the full f64 sum k + 0.5 + δ, δ = ±1e-9 or 0, far below f32's error
      let sum = 0;
      for (let r = 0; r < rows - 1; r++) {
        const g = Math.exp(0.3 * normal()) / 16;
        cells[r * physCols + c] = g;
        sum += g;
      }
      const delta = kind === 1 ? 1e-9 : kind === 2 ? -1e-9 : 0;
      cells[(rows - 1) * physCols + c] = k + 0.5 + delta - sum;
    }
    // every row driven at every step (the crafted full sums), then random inputs
    const outer = 6;
    const xu = new Int32Array(outer * rows).map((_, i) => (i < 2 * rows ? 255 : Math.floor(random() * 256)));
    for (const [adcMin, adcMax] of [[0, 255], [-Infinity, Infinity], [0, 3]] as const) {
      const ref = bitSerialReadImpl(xu, outer, rows, cells, physCols, steps, 1, adcMin, adcMax, 0, undefined, new Float64Array(outer * physCols));
      const tile = WasmFloatCellTile.pack(cells, rows, physCols);
      for (const kernel of tile.groupTablesApply(steps, 1) ? ["float32", "float32-groups"] as const : ["auto"] as const) {
        const got = tile.read(xu, outer, steps, 1, adcMin, adcMax, new Float64Array(outer * physCols), kernel);
        expect(tile.lastKernel).toBe(kernel === "auto" ? "float32" : kernel);
        expect(bitDifference(got, ref), `ADC [${adcMin}, ${adcMax}], ${kernel}`).toBe("");
        // every (vector, step, column) of the two fully driven vectors is ambiguous; with at most 64 rows their one
        // plane is read once, and its other 2·steps − 1 reads take its exact codes from the plane cache
        expect(tile.lastFallbacks).toBeGreaterThanOrEqual(rows <= 64 ? physCols : 2 * steps * physCols);
      }
    }
  });

  it("recomputes a step's sum whose f32 rounding errors carry it past a half-integer, whatever the step's row count and its cells' signs", () => {
    // One column, one vector driving rows 0..m − 1 at step 0 (alone in its tile, so no other sum sends the block to the
    // exact fallback): s0 = h − a·δ in row 0, then terms t = 0.6·δ, δ the f32 spacing at h. In f32, each s + t rounds
    // up to s + δ, so F ends above the half-integer h while the exact sum stays below. Without negative cells h = 2.5
    // (δ = 2^-22) and the m − 1 rows after the first are t; with one, h = 102.5 (δ = 2^-17), rows 1..m − 2 are t and
    // row m − 1 is −100 (F − 100 is exact). F rounds to 3, the reference to 2: only the bounds on |F − R| for m rows
    // (the column's, then the step's own) send the sum to the exact f64 fallback; with a negative cell |F| says little
    // about the terms' sizes. The other rows hold random cells.
    const cases = [4, 5, 8, 9, 16, 17, 32, 33, 64, 65, 100, 130].map((m) => ({ m, negative: false }))
      .concat([5, 8, 9, 16, 17, 33, 65, 130].map((m) => ({ m, negative: true })));
    const rows = 130;
    const random = rng(2024);
    for (const { m, negative } of cases) {
      const name = `m = ${m}${negative ? ", a negative cell" : ""}`;
      const [h, spacing, terms] = negative ? [102.5, 2 ** -17, m - 2] : [2.5, 2 ** -22, m - 1];
      const a = Math.floor(0.6 * terms) + 1;
      expect(a, name).toBeLessThan(terms);
      const cells = new Float64Array(rows).map(() => random() / 64);
      cells[0] = h - a * spacing;
      for (let r = 1; r <= terms; r++) cells[r] = 0.6 * spacing;
      if (negative) cells[m - 1] = -100;
      const xu = new Int32Array(rows).map((_, r) => (r < m ? 1 : 0));
      // the danger is real in the order float32 adds (rows ascending from 0)
      let f = 0;
      for (let r = 0; r < m; r++) f = Math.fround(f + Math.fround(cells[r]!));
      let exact = 0;
      for (let r = 0; r < m; r++) exact += cells[r]!;
      expect([f > 2.5, exact < 2.5], name).toEqual([true, true]);
      const ref = bitSerialReadImpl(xu, 1, rows, cells, 1, 8, 1, 0, 255, 0, undefined, new Float64Array(1));
      expect(ref[0], `${name}: the reference's code`).toBe(2);
      const tile = WasmFloatCellTile.pack(cells, rows, 1);
      for (const kernel of ["float32", "float32-groups"] as const) {
        expect(tile.read(xu, 1, 8, 1, 0, 255, new Float64Array(1), kernel)[0], `${name}, ${kernel}`).toBe(2);
        if (kernel === "float32") expect(tile.lastFallbacks, name).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it(`reads with group tables from ${GROUP_TABLE_MIN_VECTORS} vectors on, where they apply, with the same results`, () => {
    const random = rng(123);
    const normal = gaussian(random);
    const rows = 150;
    const physCols = 40;
    const cells = new Float64Array(rows * physCols).map(() => Math.floor(random() * 4) * Math.exp(0.2 * normal()));
    // neighbouring rows share their inputs, as a convolution's taps do
    const xu = new Int32Array((GROUP_TABLE_MIN_VECTORS + 1) * rows).map((_, i) => (i % 3 === 0 ? Math.floor(random() * 256) : 0));
    for (let i = 0; i < xu.length; i++) if (i % 3 !== 0) xu[i] = xu[i - (i % 3)]!;
    const tile = WasmFloatCellTile.pack(cells, rows, physCols);
    for (const [outer, steps, dacBits, kernel] of [
      [GROUP_TABLE_MIN_VECTORS, 8, 1, "float32-groups"], [GROUP_TABLE_MIN_VECTORS - 1, 8, 1, "float32"], [GROUP_TABLE_MIN_VECTORS + 1, 10, 1, "float32"], [GROUP_TABLE_MIN_VECTORS, 4, 2, "float32"],
    ] as const) {
      const ref = bitSerialReadImpl(xu, outer, rows, cells, physCols, steps, dacBits, 0, 255, 0, undefined, new Float64Array(outer * physCols));
      const got = tile.read(xu, outer, steps, dacBits, 0, 255, new Float64Array(outer * physCols));
      expect(tile.lastKernel, `${outer} vectors, ${steps} steps of ${dacBits} bits`).toBe(kernel);
      expect(bitDifference(got, ref), `${outer} vectors, ${steps} steps of ${dacBits} bits`).toBe("");
    }
    // on a tile of 64 rows, whose steps walk their bit-planes, group tables give the same results too
    const small = WasmFloatCellTile.pack(cells.subarray(0, 64 * physCols), 64, physCols);
    const smallInputs = xu.subarray(0, GROUP_TABLE_MIN_VECTORS * 64);
    const smallRef = bitSerialReadImpl(smallInputs, GROUP_TABLE_MIN_VECTORS, 64, cells.subarray(0, 64 * physCols), physCols, 8, 1, 0, 255, 0, undefined,
      new Float64Array(GROUP_TABLE_MIN_VECTORS * physCols));
    expect(bitDifference(small.read(smallInputs, GROUP_TABLE_MIN_VECTORS, 8, 1, 0, 255, new Float64Array(GROUP_TABLE_MIN_VECTORS * physCols)), smallRef)).toBe("");
    expect(small.lastKernel).toBe("float32-groups");
    // forced where they do not apply: a clear refusal
    const e = catchXbarcError(() => small.read(xu, 2, 4, 2, 0, 255, new Float64Array(2 * physCols), "float32-groups"));
    expect(e.code).toBe("XB6002");
    expect(e.message).toMatch(/group tables need a 1-bit DAC, at most 8 steps and a table of at most 8388608 bytes; this read has 4 steps of 2 bits on 64 rows \(a table of 393216 bytes\)/);
    // a tile whose table would pass 8 MiB (520 rows × 516 columns: 65 groups × 256 × 516 × 4 bytes) reads without one
    const wide = WasmFloatCellTile.pack(new Float64Array(520 * 516).fill(0.25), 520, 516);
    expect(wide.groupTablesApply(8, 1)).toBe(false);
    const wideInputs = new Int32Array(GROUP_TABLE_MIN_VECTORS * 520).map((_, i) => (i * 7) & 3);
    const wideRef = bitSerialReadImpl(wideInputs, GROUP_TABLE_MIN_VECTORS, 520, new Float64Array(520 * 516).fill(0.25), 516, 8, 1, 0, 255, 0, undefined,
      new Float64Array(GROUP_TABLE_MIN_VECTORS * 516));
    expect(bitDifference(wide.read(wideInputs, GROUP_TABLE_MIN_VECTORS, 8, 1, 0, 255, new Float64Array(GROUP_TABLE_MIN_VECTORS * 516)), wideRef)).toBe("");
    expect(wide.lastKernel).toBe("float32");
  });

  it("reads with the float64 kernel when column sums reach the float32 limit or the ADC range is not integral", () => {
    const rows = 128;
    const physCols = 20;
    const random = rng(91);
    // cells up to 3·2^15: Σ over 128 rows passes 2^21
    const cells = new Float64Array(rows * physCols).map(() => Math.floor(random() * 4) * 2 ** 15 * (1 + 0.1 * random()));
    const xu = new Int32Array(4 * rows).map(() => Math.floor(random() * 256));
    const tile = WasmFloatCellTile.pack(cells, rows, physCols);
    expect(tile.float32Available(8, 1, -Infinity, Infinity)).toBe(false);
    const ref = bitSerialReadImpl(xu, 4, rows, cells, physCols, 8, 1, -Infinity, Infinity, 0, undefined, new Float64Array(4 * physCols));
    expect(bitDifference(tile.read(xu, 4, 8, 1, -Infinity, Infinity, new Float64Array(4 * physCols)), ref)).toBe("");
    expect(tile.lastKernel).toBe("float64");
    const e = catchXbarcError(() => tile.read(xu, 4, 8, 1, -Infinity, Infinity, new Float64Array(4 * physCols), "float32"));
    expect(e.code).toBe("XB6002");
    expect(e.message).toMatch(/float32 kernel cannot read this tile with 8 steps of 1 DAC bits/);

    // the same tile scaled down fits, but an ADC bound that is not an integer (or min > max) takes the float64 kernel
    const smallCells = cells.map((g) => g / 2 ** 15);
    const small = WasmFloatCellTile.pack(smallCells, rows, physCols);
    expect(small.float32Available(8, 1, 0, 255)).toBe(true);
    expect(small.float32Available(8, 1, 0, 255.5)).toBe(false);
    expect(small.float32Available(8, 1, 3, 2)).toBe(false);
    const ref2 = bitSerialReadImpl(xu, 4, rows, smallCells, physCols, 8, 1, 0, 255.5, 0, undefined, new Float64Array(4 * physCols));
    expect(bitDifference(small.read(xu, 4, 8, 1, 0, 255.5, new Float64Array(4 * physCols)), ref2)).toBe("");
    expect(small.lastKernel).toBe("float64");
  });
});

/**
 * `vectors` `[rows]` multiplied by `mvm` with its fused finish by `kernel` into accumulators of random start values:
 * what it added (`got`), what finish_i32's definition says it adds given the exact sums `ref` `[vectors, cols]`
 * (`expected`: acc[o, colBase + j] += wrap(window(sum − correction[j])), the window D_L = 2, O_RWL 12 bits), and the
 * kernel that ran.
 */
function fusedFinish(mvm: WasmIntegerMvm, vectors: readonly Int32Array[], cols: number, ref: Float64Array, random: () => number,
  kernel: IntegerMvmKernelOption): { got: number[]; expected: number[]; kernel: string } {
  const { arena } = mvm;
  const outer = vectors.length;
  const mark = arena.mark();
  const xAt = arena.scratch(outer * mvm.rowsPadded * 2);
  const x16 = arena.i16(xAt, outer * mvm.rowsPadded).fill(0);
  vectors.forEach((v, o) => x16.set(v, o * mvm.rowsPadded));
  const correctionAt = arena.scratch(mvm.colsPadded * 4);
  // (a copy: the call may grow the memory, detaching views of it)
  const correction = Int32Array.from({ length: mvm.colsPadded }, (_, j) => (j < cols ? Math.floor(random() * 2001) - 1000 : 0));
  arena.i32(correctionAt, mvm.colsPadded).set(correction);
  const accStride = cols + 3;
  const accAt = arena.scratch(outer * accStride * 4 + 32);
  const start = Int32Array.from({ length: outer * accStride }, () => Math.floor(random() * 201) - 100);
  arena.i32(accAt, outer * accStride).set(start);
  const ran = mvm.mvmNarrowAt(xAt, outer, 0, true, { correctionAt, dL: 2, wrapShift: 20, accAt, accStride, colBase: 2 }, kernel);
  const expected = Int32Array.from(start);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < cols; j++) expected[o * accStride + 2 + j]! += ((ref[o * cols + j]! - correction[j]!) >> 2) << 20 >> 20;
  }
  const got = Array.from(arena.i32(accAt, outer * accStride));
  arena.release(mark);
  return { got, expected: Array.from(expected), kernel: ran };
}

describe("the WebAssembly integer MVM (kernel c)", () => {
  it("equals integerMvmImpl bit for bit on 160 random tiles of signed integer weights (declining inputs beyond i16)", () => {
    let computed = 0;
    for (const c of CASES) {
      const random = rng(c.rows + 31 * c.physCols);
      const span = 2 ** (c.cellBits + 3);
      const w = new Float64Array(c.rows * c.physCols).map(() => Math.floor(random() * 2 * span) - span);
      const ref = integerMvmImpl(c.xu, c.outer, c.rows, w, c.physCols, new Float64Array(c.outer * c.physCols));
      const mvm = WasmIntegerMvm.pack(w, c.rows, c.physCols);
      expect(mvm, c.name).toBeDefined();
      const got = new Float64Array(c.outer * c.physCols);
      const fits = c.xu.every((x) => Math.abs(x) <= mvm!.maxInput);
      expect(mvm!.mvm(c.xu, c.outer, got), c.name).toBe(fits);
      if (!fits) continue;
      computed++;
      expect(bitDifference(got, ref), c.name).toBe("");
    }
    expect(computed).toBeGreaterThanOrEqual(100);
  });

  it("skips an input's zero 8-row chunks without changing a sum: every zero-chunk pattern, either side of the switch to the listed loop", () => {
    const random = rng(97);
    for (const rows of [8, 61, 64, 128, 200]) {
      const chunks = Math.ceil(rows / 8);
      for (const cols of [1, 8, 13, 24]) {
        const w = new Float64Array(rows * cols).map(() => Math.floor(random() * 255) - 127);
        const mvm = WasmIntegerMvm.pack(w, rows, cols)!;
        // per vector, which chunks are all 0: none, all, one, all but one, alternate, and counts either side of an eighth
        const patterns: ((k: number) => boolean)[] = [
          () => false, () => true, (k) => k === 0, (k) => k !== chunks - 1, (k) => k % 2 === 1,
          (k) => k < Math.floor(chunks / 8), (k) => k <= Math.floor(chunks / 8), (k) => k >= chunks - Math.ceil(chunks / 8) - 1,
          () => random() < 0.4,
        ];
        const outer = patterns.length;
        const xu = new Int32Array(outer * rows);
        patterns.forEach((zero, o) => {
          for (let r = 0; r < rows; r++) if (!zero(r >> 3)) xu[o * rows + r] = Math.floor(random() * 256) * (random() < 0.9 ? 1 : 0);
        });
        const ref = integerMvmImpl(xu, outer, rows, w, cols, new Float64Array(outer * cols));
        const got = new Float64Array(outer * cols);
        expect(mvm.mvm(xu, outer, got)).toBe(true);
        expect(bitDifference(got, ref), `${rows}×${cols}`).toBe("");
      }
    }
  });

  it("gives a pair of vectors equal to the previous pair that pair's sums, written out or finished into accumulators", () => {
    const random = rng(131);
    for (const [rows, cols] of [[9, 5], [128, 32], [40, 13]]) {
      const w = new Float64Array(rows * cols).map(() => Math.floor(random() * 255) - 127);
      const mvm = WasmIntegerMvm.pack(w, rows, cols)!;
      // runs of one vector 1 to 7 long, and of two alternating (a pair repeated whole), so that repeated pairs start at
      // either parity, an odd count; with 0 or 600 distinct vectors first (past the kernel's first 256 compared pairs,
      // after which it keeps comparing only while repeats are common)
      const vector = (): Int32Array => Int32Array.from({ length: rows }, () => (random() < 0.5 ? 0 : Math.floor(random() * 256)));
      for (const distinct of [0, 600]) {
        const vectors: Int32Array[] = range(0, distinct).map(vector);
        for (let run = 0; vectors.length < distinct + 901; run++) {
          const [a, b] = [vector(), vector()];
          for (let k = 0; k <= run % 7; k++) vectors.push(a);
          for (let k = 0; k <= run % 5; k++) vectors.push(a, b);
        }
        const outer = vectors.length;
        const xu = new Int32Array(outer * rows);
        vectors.forEach((v, o) => xu.set(v, o * rows));
        const ref = integerMvmImpl(xu, outer, rows, w, cols, new Float64Array(outer * cols));
        const got = new Float64Array(outer * cols);
        const name = `${rows}×${cols}, ${distinct} distinct vectors first`;
        expect(mvm.mvm(xu, outer, got)).toBe(true);
        expect(bitDifference(got, ref), name).toBe("");

        // the fused finish, by either kernel (mvm_i16_pairs recomputes a repeated vector)
        for (const kernel of ["chunks", "pairs"] as const) {
          const { got, expected } = fusedFinish(mvm, vectors, cols, ref, random, kernel);
          expect(got, `${name}, fused, ${kernel}`).toEqual(expected);
        }
      }
    }
  });

  it("gives the same fused sums with mvm_i16_pairs on 120 random tiles, at row-pair densities from all-zero to dense", () => {
    const random = rng(137);
    const shapes = [[9, 5], [16, 1], [40, 13], [128, 32], [128, 64], [130, 17], [64, 128], [300, 70], [8, 16], [72, 33]];
    for (let trial = 0; trial < 120; trial++) {
      const [rows, cols] = shapes[trial % shapes.length]!;
      const maxW = [1, 127, 32767][trial % 3]!;
      const w = new Float64Array(rows * cols).map(() => Math.floor(random() * (2 * maxW + 1)) - maxW);
      const mvm = WasmIntegerMvm.pack(w, rows, cols)!;
      const density = [0, 0.05, 0.3, 0.7, 1][trial % 5]!;
      // signed inputs up to maxInput, a pair of rows non-zero with the density's probability (one of its two rows, or both)
      const vectors = range(0, 1 + Math.floor(random() * 70)).map(() => {
        const v = new Int32Array(rows);
        for (let r = 0; r < rows; r += 2) {
          if (random() >= density) continue;
          const value = (): number => Math.round((2 * random() - 1) * mvm.maxInput);
          v[r] = random() < 0.7 ? value() : 0;
          if (r + 1 < rows) v[r + 1] = value();
        }
        return v;
      });
      const xu = new Int32Array(vectors.length * rows);
      vectors.forEach((v, o) => xu.set(v, o * rows));
      const ref = integerMvmImpl(xu, vectors.length, rows, w, cols, new Float64Array(vectors.length * cols));
      const { got, expected, kernel } = fusedFinish(mvm, vectors, cols, ref, random, "pairs");
      expect(kernel).toBe("pairs");
      expect(got, `${rows}×${cols}, |w| ≤ ${maxW}, density ${density}, ${vectors.length} vectors`).toEqual(expected);
    }
  });

  it("picks mvm_i16_pairs where a vector's zeros are scattered and mvm_i16 on dense inputs, either way with the same sums", () => {
    const random = rng(139);
    const [rows, cols] = [128, 64];
    const w = new Float64Array(rows * cols).map(() => Math.floor(random() * 255) - 127);
    const mvm = WasmIntegerMvm.pack(w, rows, cols)!;
    // scattered: one non-zero pair of rows in each 8-row chunk (every chunk of mvm_i16 non-zero, a quarter of the pairs)
    const scattered = range(0, 200).map(() => Int32Array.from({ length: rows }, (_, r) => ((r >> 1) % 4 === (r >> 3) % 4 ? 1 + Math.floor(random() * 255) : 0)));
    const dense = range(0, 200).map(() => Int32Array.from({ length: rows }, () => 1 + Math.floor(random() * 255)));
    for (const [vectors, choice] of [[scattered, "pairs"], [dense, "chunks"]] as const) {
      const xu = new Int32Array(vectors.length * rows);
      vectors.forEach((v, o) => xu.set(v, o * rows));
      const ref = integerMvmImpl(xu, vectors.length, rows, w, cols, new Float64Array(vectors.length * cols));
      const { got, expected, kernel } = fusedFinish(mvm, vectors, cols, ref, random, "auto");
      expect(kernel).toBe(choice);
      expect(got, choice).toEqual(expected);
    }
  });

  it("says up front when weights or inputs do not fit i16 operands and an i32 sum, leaving out untouched", () => {
    const rows = 300;
    expect(WasmIntegerMvm.pack(new Float64Array(rows).fill(40000), rows, 1)).toBeUndefined();
    expect(WasmIntegerMvm.pack(new Float64Array(rows).fill(2.5), rows, 1)).toBeUndefined();
    const w = new Float64Array(rows).fill(-30000);
    const mvm = WasmIntegerMvm.pack(w, rows, 1)!;
    // 300 · 30000 · x must stay below 2^31: x ≤ 238
    expect(mvm.maxInput).toBe(Math.floor((2 ** 31 - 1) / (rows * 30000)));
    const out = new Float64Array(1).fill(7);
    expect(mvm.mvm(new Int32Array(rows).fill(mvm.maxInput + 1), 1, out)).toBe(false);
    expect(out[0]).toBe(7);
    expect(mvm.mvm(new Int32Array(rows).fill(mvm.maxInput), 1, out)).toBe(true);
    expect(out[0]).toBe(integerMvmImpl(new Int32Array(rows).fill(mvm.maxInput), 1, rows, w, 1, new Float64Array(1))[0]);
  });
});

describe("the WebAssembly kernels on the tile reads of every fixture model's program", () => {
  const device = getBuiltinProfile("isaac") as DeviceProfile;
  const IMAGES = 4;

  beforeEach(() => {
    recorder.reads.length = 0;
    recorder.mvms.length = 0;
  });

  for (const model of listFixtureModels()) {
    it(`equals the TS kernels on ${model.id}: faithful reads (8-bit and lossless ADC, ideal and sampled cells) and fast-path MVMs`, () => {
      const module = loadOnnxFile(model.path, { batch: model.fixedBatch ?? IMAGES });
      const result = runPipeline(module, printPipeline(compilePipeline), { device });
      const program: Program = emitProgram(module, { device, pipeline: result.pipeline, preprocessing: FIXTURE_PREPROCESSING[model.preprocess] });
      const batch = program.input.shape[0]!;
      const indices = model.dataset === "digits" ? model.evalIndices.slice(0, batch) : range(8000, 8000 + batch);
      const { data } = samplesFor(model, indices);
      const input: Tensor = { type: { dtype: "f32", shape: [...program.input.shape] }, data: data.slice(0, batch * sampleSize(model)) };
      const sampled = sampleProgramInstance(program, 6, 0, { ...program.device.variation, model: "lognormal", sigma: 0.05, read_noise: 0 });
      recorder.on = true;
      try {
        // the TS reference kernels (the simulator's default is the WebAssembly kernels under test)
        simulateProgram(program, input, { path: "faithful", kernels: "ts" });
        simulateProgram(program, input, { path: "faithful", adcLossless: true, kernels: "ts" });
        simulateProgram(program, input, { path: "faithful", instance: sampled, kernels: "ts" });
        simulateProgram(program, input, { path: "fast", adcLossless: true, kernels: "ts" });
      } finally {
        recorder.on = false;
      }
      const reads = recorder.reads as ReadCall[];
      const mvms = recorder.mvms as MvmCall[];
      expect(reads.length).toBeGreaterThanOrEqual(3 * program.tiles.length);
      expect(mvms.length).toBeGreaterThanOrEqual(program.tiles.length);
      const cellBits = device.cell.bits;
      let integerReads = 0;
      for (const [i, r] of reads.entries()) {
        const what = `${model.id} read ${i} (${r.rowsUsed}×${r.physCols}, ${r.outer} vectors, ADC ≤ ${r.adcMax})`;
        expect(r.noise, what).toBe(0);
        const out = new Float64Array(r.outer * r.physCols);
        const tile = WasmIntegerCellTile.pack(r.cells, r.rowsUsed, r.physCols, cellBits);
        if (tile) {
          integerReads++;
          expect(bitDifference(tile.read(r.xu, r.outer, r.steps, r.dacBits, r.adcMin, r.adcMax, out), r.out), what).toBe("");
          // whichever kernel the automatic choice took, the other one too
          const other = tile.lastKernel === "dense" ? "sparse" : "dense";
          if (other === "dense" || tile.sparseAvailable(r.dacBits)) {
            expect(bitDifference(tile.read(r.xu, r.outer, r.steps, r.dacBits, r.adcMin, r.adcMax, out, other), r.out), `${what} (${other} kernel)`).toBe("");
          }
        }
        const floatTile = WasmFloatCellTile.pack(r.cells, r.rowsUsed, r.physCols);
        expect(bitDifference(floatTile.read(r.xu, r.outer, r.steps, r.dacBits, r.adcMin, r.adcMax, out), r.out), `${what} (float kernel)`).toBe("");
      }
      // the ideal device's reads (two of the three simulations) all go through the integer kernel
      expect(integerReads).toBeGreaterThanOrEqual(2 * program.tiles.length);
      for (const [i, m] of mvms.entries()) {
        const what = `${model.id} MVM ${i} (${m.rowsUsed}×${m.cols}, ${m.outer} vectors)`;
        const mvm = WasmIntegerMvm.pack(m.w, m.rowsUsed, m.cols);
        expect(mvm, what).toBeDefined();
        const out = new Float64Array(m.outer * m.cols);
        expect(mvm!.mvm(m.xu, m.outer, out), what).toBe(true);
        expect(bitDifference(out, m.out), what).toBe("");
      }
    });
  }
});

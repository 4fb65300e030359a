/**
 * @fileoverview Kernel (a): the faithful bit-sliced read of a tile whose cells are integer level indices, in
 * WebAssembly — weights packed once per tile as bit-planes, inputs packed per call, column sums by AND + i64.popcnt,
 * the ADC a lookup table, shift-and-add in registers (xbarc crossbar spec; Diware, Yaldagard, Bishnoi, ICCAD 2024,
 * §2.2.2) — or, on sparse inputs, the sparse kernel (read_sparse: only the non-zero input digits add their level row
 * into i16x8 column sums), chosen per call by a cost model measured by `npm run bench:kernels`. Both are
 * bit-identical to bitSerialReadImpl with noiseSigma = 0 on such tiles, so the choice never changes a result.
 */
import { buildAdcTable, checkShiftAddExact, largestAbsCode, largestColumnSum, roundClampTransfer } from "./adc-table.js";
import { KernelArena, argError, roundUp, type BlockReadKernel, type RegisterReadKernel } from "./module.js";

const KERNEL = "WebAssembly integer-cell read";

/** An integer-cell read kernel: "dense" (input bit-planes, AND + popcnt) or "sparse" (only the non-zero input digits). */
export type IntegerCellKernel = "dense" | "sparse";
/** The kernel a read runs: one forced, or "auto" (the cheaper one by the cost model, on the call's own inputs). */
export type IntegerCellKernelOption = IntegerCellKernel | "auto";

/** Largest column sum the sparse kernel's 16-bit lanes hold exactly (rows·(2^dacBits − 1)·(2^cellBits − 1)). */
export const SPARSE_MAX_COLUMN_SUM = 65535;

/*
 * The automatic kernel choice (per read call) compares modelled costs in dense units — one (vector, input plane,
 * column, 64-row word, cell bit) of the dense kernels: an AND + i64.popcnt — with the sparse kernel's, counted in
 * sparse units — one i16x8 multiply-add of a level row into the column sums:
 *   dense  = outer · steps·dacBits · colsPadded · words · cellBits  (× DENSE_BLOCK_KERNEL_COST unless the register
 *            kernel runs: 1-bit DAC steps, ≤ 4-bit cells, ≤ 128 rows)
 *   sparse = SPARSE_COST_RATIO · (activePairs · (sparseStride/8 + SPARSE_PAIR_OVERHEAD) + outer · SPARSE_VECTOR_OVERHEAD)
 * (activePairs: the (vector, row, step) with a non-zero DAC digit, counted per call by count_active; the ADC and
 * shift-add, the same work in both kernels, left out). The constants are fitted by `npm run bench:kernels` (density
 * sweeps 0..60 % set input bits, 16 vectors per call, least squares over the sweep points: the first three on three
 * 1-bit-DAC tiles — 128×512 cells as the 128×128 8-bit-weight MVM, 128×128, 26×24 — the block factor on a 128×128
 * tile read in 4 steps of 2 bits), on the 2-core dev machine; medians of three runs, whose fits gave ratio
 * 1.103 / 1.107 / 1.113, pair overhead 4.08 / 4.37 / 3.80, vector overhead 168 / 151 / 193, block factor 1.92 / 1.99 /
 * 1.91. The measured crossovers (sparse − dense turning ≥ 0), with the active pairs per MVM these constants put them
 * at: the 128×128 8-bit-weight MVM at 20 % set bits, ~210 of 1024 pairs (model 215; per MVM sparse 1.9 µs vs dense
 * 4.5 µs at 0 %, 9.6 vs 4.8 µs at 60 %), the 128×128 tile at 17 %, 176 pairs (model 176), the 26×24 tile at 5.5 %,
 * 11 of 208 pairs (model 22: small tiles are judged least well, both kernels there costing ~0.2 µs), the 2-bit DAC
 * tile at 47 %, 367 of 512 pairs (model 345), and a 100×96 tile of 3-bit cells, fitted on nothing, at 36 %, 291 of
 * 800 pairs (model 248). A single ratio without the two overheads (dense ∝ units, sparse ∝ pairs·stride/8) put the
 * 26×24 tile's crossover at 46 % instead of 5.5 %, hence them.
 */
/** Cost of one sparse unit in dense units (the ratio of the two kernels' per-unit costs, measured; see above). */
export const SPARSE_COST_RATIO = 1.107;
/** Per active (vector, row, step): the list entry and the per-group setup, in sparse units (measured; see above). */
export const SPARSE_PAIR_OVERHEAD = 4.08;
/** Per input vector: listing, zeroing and per-step setup beyond the dense kernels' own, in sparse units (measured; see above). */
export const SPARSE_VECTOR_OVERHEAD = 168;
/** Cost of a dense unit in the four-columns-per-pass and general kernels relative to the register kernels (measured; see above). */
export const DENSE_BLOCK_KERNEL_COST = 1.92;

/** Input vectors of a read call whose non-zero digits the automatic choice counts (a sample of larger calls). */
export const CHOICE_SAMPLE_VECTORS = 256;

/** True when every one of `count` cells is an integer level index in [0, 2^cellBits − 1]. */
export function isIntegerCellTile(cells: Float64Array, count: number, cellBits: number): boolean {
  const top = 2 ** cellBits - 1;
  for (let i = 0; i < count; i++) {
    const v = cells[i]!;
    if (!Number.isInteger(v) || v < 0 || v > top) return false;
  }
  return true;
}

/**
 * Checks the shared arguments of the integer-cell kernels (the WebAssembly one and the TypeScript bit-packed one).
 */
export function checkIntegerCellArgs(kernel: string, cells: Float64Array, rowsUsed: number, physCols: number, cellBits: number): void {
  if (!(Number.isInteger(rowsUsed) && rowsUsed >= 1 && Number.isInteger(physCols) && physCols >= 1)) argError(kernel, `rowsUsed ${rowsUsed} and physCols ${physCols} must be positive integers`);
  if (!(Number.isInteger(cellBits) && cellBits >= 1 && cellBits <= 8)) argError(kernel, `cellBits ${cellBits} must be 1..8`);
  if (!(cells.length >= rowsUsed * physCols)) argError(kernel, `cells hold ${cells.length} values, expected rowsUsed·physCols = ${rowsUsed * physCols}`);
}

/** Checks the per-read arguments shared by the integer-cell kernels. */
export function checkReadArgs(kernel: string, xu: Int32Array, outer: number, rowsUsed: number, physCols: number, steps: number, dacBits: number, out: Float64Array): void {
  if (!(Number.isInteger(outer) && outer >= 0)) argError(kernel, `outer ${outer} must be a non-negative integer`);
  if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(dacBits) && dacBits >= 1 && steps * dacBits <= 32)) argError(kernel, `${steps} steps of ${dacBits} DAC bits: expected positive integers with steps·dacBits ≤ 32`);
  if (!(xu.length >= outer * rowsUsed)) argError(kernel, `xu holds ${xu.length} values, expected outer·rowsUsed = ${outer * rowsUsed}`);
  if (!(out.length >= outer * physCols)) argError(kernel, `out holds ${out.length} values, expected outer·physCols = ${outer * physCols}`);
}

/**
 * A tile packed into WebAssembly memory for faithful reads: per physical column, per 64-row word, per cell bit b, the
 * rows whose level has bit b set (columns in blocks of four, see kernels.wat), and (when its column sums can fit 16
 * bits) the levels themselves as i16 rows for the sparse kernel. Pack once (`pack`), then `read` any number of input
 * batches. Each read counts its non-zero input digits (count_active) and runs the kernel with the lower modelled cost
 * (SPARSE_COST_RATIO): the sparse one, whose cost scales with those digits, or the dense one specialised for the
 * tile's cell width: a column's planes held in registers (1-bit DAC steps, ≤ 128 rows), four columns per pass (other
 * DAC widths or more rows), or the general one (5..8-bit cells).
 */
export class WasmIntegerCellTile {
  private readonly words: number;
  /** physCols rounded up to the kernels' block of four columns (the padding columns hold no set cell), and the f64 row length `readAt` writes. */
  readonly colsPadded: number;
  /** Address of the packed planes in the arena. */
  private readonly planesAt: number;
  /** physCols rounded up to 16 (the sparse kernel's two i16x8 lane groups per iteration): its level rows' length. */
  readonly sparseStride: number;
  /** Address of the levels as i16 `[rowsUsed, sparseStride]` (undefined: no column sum of this tile fits 16 bits). */
  private readonly levelsAt: number | undefined;
  /** The kernel the latest read ran (undefined before the first). */
  lastKernel: IntegerCellKernel | undefined;
  private readonly tables = new Map<string, { table: Int32Array; maxAbsCode: number }>();
  /** The kernel for 1-bit DAC steps with a column's planes in registers (cellBits ≤ 4 and ≤ 2 words), if any. */
  private readonly registerKernel: RegisterReadKernel | undefined;
  /** The four-columns-per-pass kernel of this cell width (cellBits ≤ 4), if any; else read_int. */
  private readonly blockKernel: BlockReadKernel | undefined;
  /** The ADC of the last `read` (so repeated reads skip building the map key). */
  private lastAdc: { dacBits: number; adcMin: number; adcMax: number; table: Int32Array; maxAbsCode: number } | undefined;

  private constructor(readonly arena: KernelArena, readonly rowsUsed: number, readonly physCols: number, readonly cellBits: number, cells: Float64Array) {
    this.words = Math.ceil(rowsUsed / 64);
    this.colsPadded = roundUp(physCols, 4);
    const planesBytes = this.colsPadded * this.words * cellBits * 8;
    const k = arena.exports;
    this.registerKernel = cellBits > 4 || this.words > 2 ? undefined
      : [[k.read_c1w1, k.read_c1w2], [k.read_c2w1, k.read_c2w2], [k.read_c3w1, k.read_c3w2], [k.read_c4w1, k.read_c4w2]][cellBits - 1]![this.words - 1];
    this.blockKernel = cellBits > 4 ? undefined : [k.read_c1, k.read_c2, k.read_c3, k.read_c4][cellBits - 1];
    this.planesAt = arena.alloc(planesBytes);
    const g = arena.u32(this.planesAt, planesBytes / 4);
    // blocks of four columns (see read_int in kernels.wat): i64 word (c, w, b) is at i64 index
    // ((c >> 2)·W + w)·4·cb + (c & 3)·cb + b, i.e. u32 words 2·that (bits 0..31) and +1 (bits 32..63), little-endian
    const cb = cellBits;
    for (let r = 0; r < rowsUsed; r++) {
      const w = r >>> 6;
      const half = (r >>> 5) & 1;
      const bit = 1 << (r & 31);
      for (let c = 0; c < physCols; c++) {
        const level = cells[r * physCols + c]!;
        if (level === 0) continue;
        const base = (((c >>> 2) * this.words + w) * 4 * cb + (c & 3) * cb) * 2 + half;
        for (let b = 0; b < cb; b++) if ((level >>> b) & 1) g[base + 2 * b]! |= bit;
      }
    }
    // the sparse kernel's levels, if a read of 1-bit DAC steps (the smallest sums) fits its 16-bit lanes
    this.sparseStride = roundUp(physCols, 16);
    if (largestColumnSum(rowsUsed, 1, cellBits) <= SPARSE_MAX_COLUMN_SUM) {
      this.levelsAt = arena.alloc(rowsUsed * this.sparseStride * 2);
      const levels = arena.i16(this.levelsAt, rowsUsed * this.sparseStride);
      for (let r = 0; r < rowsUsed; r++) {
        for (let c = 0; c < physCols; c++) levels[r * this.sparseStride + c] = cells[r * physCols + c]!;
      }
    }
  }

  /**
   * Packs `cells` `[rowsUsed, physCols]` (level indices) into `arena` (default: an arena of its own), or returns
   * undefined when a cell is not an integer in [0, 2^cellBits − 1] (a sampled instance: keep bitSerialReadImpl).
   * Throws XB6002 on inconsistent dimensions.
   */
  static pack(cells: Float64Array, rowsUsed: number, physCols: number, cellBits: number, arena?: KernelArena): WasmIntegerCellTile | undefined {
    checkIntegerCellArgs(KERNEL, cells, rowsUsed, physCols, cellBits);
    if (!isIntegerCellTile(cells, rowsUsed * physCols, cellBits)) return undefined;
    return new WasmIntegerCellTile(arena ?? new KernelArena(), rowsUsed, physCols, cellBits, cells);
  }

  /**
   * = bitSerialReadImpl(xu, outer, rowsUsed, cells, physCols, steps, dacBits, adcMin, adcMax, 0, undefined, out),
   * bit for bit: `xu` `[outer, rowsUsed]`, `out` `[outer, physCols]`; adcMin/adcMax integers or ±Infinity.
   */
  read(xu: Int32Array, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, out: Float64Array,
    kernel: IntegerCellKernelOption = "auto"): Float64Array {
    const { table, maxAbsCode } = this.getAdcTable(dacBits, adcMin, adcMax);
    return this.readTable(xu, outer, steps, dacBits, table, maxAbsCode, out, kernel);
  }

  /** read on inputs already in the arena: i32 `[outer, rowsUsed]` at `xAt`; writes f64 `[outer, colsPadded]` at `outAt`. */
  readAt(xAt: number, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, outAt: number,
    kernel: IntegerCellKernelOption = "auto"): void {
    const { table, maxAbsCode } = this.getAdcTable(dacBits, adcMin, adcMax);
    this.readTableAt(xAt, outer, steps, dacBits, table, maxAbsCode, outAt, kernel);
  }

  /**
   * The same read with the ADC given as a table (`table[I]` = code of column sum I, length ≥ largestColumnSum + 1;
   * see buildAdcTable): out[o, c] = Σ_t 2^(t·db)·table[I_t(o, c)].
   */
  readWithTable(xu: Int32Array, outer: number, steps: number, dacBits: number, table: Int32Array, out: Float64Array,
    kernel: IntegerCellKernelOption = "auto"): Float64Array {
    return this.readTable(xu, outer, steps, dacBits, table, largestAbsCode(table), out, kernel);
  }

  /** True when the sparse kernel can read this tile with `dacBits`-bit steps (every column sum fits 16 bits). */
  sparseAvailable(dacBits: number): boolean {
    return this.levelsAt !== undefined && largestColumnSum(this.rowsUsed, dacBits, this.cellBits) <= SPARSE_MAX_COLUMN_SUM;
  }

  /** The number of (vector, row, step) whose DAC value (xu[o, r] >>> t·dacBits) & (2^dacBits − 1) is not 0. */
  countActive(xu: Int32Array, outer: number, steps: number, dacBits: number): number {
    return this.withInputs(xu, outer, steps, dacBits, (xAt) => this.arena.exports.count_active(xAt, outer, this.rowsUsed, steps, dacBits, 1));
  }

  /** The kernel an "auto" read of these inputs runs. */
  chooseKernel(xu: Int32Array, outer: number, steps: number, dacBits: number): IntegerCellKernel {
    return this.withInputs(xu, outer, steps, dacBits, (xAt) => this.chooseKernelAt(xAt, outer, steps, dacBits));
  }

  /**
   * The modelled costs, in dense units, of a read of `outer` vectors with `activePairs` non-zero (vector, row, step)
   * digits (see SPARSE_COST_RATIO): an "auto" read runs the sparse kernel when its cost is the lower.
   */
  modelledCosts(outer: number, steps: number, dacBits: number, activePairs: number): { dense: number; sparse: number } {
    return {
      dense: outer * steps * dacBits * this.colsPadded * this.words * this.cellBits * (this.usesRegisterKernel(dacBits) ? 1 : DENSE_BLOCK_KERNEL_COST),
      sparse: SPARSE_COST_RATIO * (activePairs * (this.sparseStride / 8 + SPARSE_PAIR_OVERHEAD) + outer * SPARSE_VECTOR_OVERHEAD),
    };
  }

  /** True when a dense read with `dacBits`-bit steps runs a register kernel (read_c<cb>w<W>), else a block or the general one. */
  usesRegisterKernel(dacBits: number): boolean {
    return dacBits === 1 && this.registerKernel !== undefined;
  }

  /**
   * The kernel an "auto" read of the inputs at `xAt` runs: sparse when available and modelled cheaper. The active
   * pairs are counted on at most CHOICE_SAMPLE_VECTORS vectors spread evenly over the call (all of them in smaller
   * calls) and scaled up: counting every vector of a large batch cost ~10 % of the reads it chose for (lenet5 on
   * MNIST).
   */
  private chooseKernelAt(xAt: number, outer: number, steps: number, dacBits: number): IntegerCellKernel {
    if (outer === 0 || !this.sparseAvailable(dacBits)) return "dense";
    const every = Math.ceil(outer / CHOICE_SAMPLE_VECTORS);
    const sampled = Math.ceil(outer / every);
    const active = this.arena.exports.count_active(xAt, outer, this.rowsUsed, steps, dacBits, every) * (outer / sampled);
    const { dense, sparse } = this.modelledCosts(outer, steps, dacBits, active);
    return sparse < dense ? "sparse" : "dense";
  }

  /** Runs `body` on a scratch copy of `xu` in the arena (checked like a read's inputs). */
  private withInputs<T>(xu: Int32Array, outer: number, steps: number, dacBits: number, body: (xAt: number) => T): T {
    const { rowsUsed, arena } = this;
    if (!(Number.isInteger(outer) && outer >= 0)) argError(KERNEL, `outer ${outer} must be a non-negative integer`);
    if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(dacBits) && dacBits >= 1 && steps * dacBits <= 32)) argError(KERNEL, `${steps} steps of ${dacBits} DAC bits: expected positive integers with steps·dacBits ≤ 32`);
    if (!(xu.length >= outer * rowsUsed)) argError(KERNEL, `xu holds ${xu.length} values, expected outer·rowsUsed = ${outer * rowsUsed}`);
    const mark = arena.mark();
    try {
      const xAt = arena.scratch(outer * rowsUsed * 4);
      const n = outer * rowsUsed;
      arena.heap32.set(xu.length === n ? xu : xu.subarray(0, n), xAt >>> 2);
      return body(xAt);
    } finally {
      arena.release(mark);
    }
  }

  /** The ADC table of (dacBits, adcMin, adcMax), built once per tile. */
  private getAdcTable(dacBits: number, adcMin: number, adcMax: number): { table: Int32Array; maxAbsCode: number } {
    const last = this.lastAdc;
    if (last && last.dacBits === dacBits && Object.is(last.adcMin, adcMin) && Object.is(last.adcMax, adcMax)) return last;
    const key = `${dacBits}:${adcMin}:${adcMax}`;
    let entry = this.tables.get(key);
    if (!entry) {
      const table = buildAdcTable(largestColumnSum(this.rowsUsed, dacBits, this.cellBits), roundClampTransfer(adcMin, adcMax));
      entry = { table, maxAbsCode: largestAbsCode(table) };
      this.tables.set(key, entry);
    }
    this.lastAdc = { dacBits, adcMin, adcMax, table: entry.table, maxAbsCode: entry.maxAbsCode };
    return entry;
  }

  private readTable(xu: Int32Array, outer: number, steps: number, dacBits: number, table: Int32Array, maxAbsCode: number, out: Float64Array,
    kernel: IntegerCellKernelOption): Float64Array {
    const { rowsUsed, physCols, colsPadded, arena } = this;
    checkReadArgs(KERNEL, xu, outer, rowsUsed, physCols, steps, dacBits, out);
    arena.runOnCopy(xu, outer, rowsUsed, colsPadded, physCols, out, (xAt, outAt) => this.readTableAt(xAt, outer, steps, dacBits, table, maxAbsCode, outAt, kernel));
    return out;
  }

  private readTableAt(xAt: number, outer: number, steps: number, dacBits: number, table: Int32Array, maxAbsCode: number, outAt: number,
    kernel: IntegerCellKernelOption): void {
    const { rowsUsed, colsPadded, cellBits, words, arena } = this;
    if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(dacBits) && dacBits >= 1 && steps * dacBits <= 32)) argError(KERNEL, `${steps} steps of ${dacBits} DAC bits: expected positive integers with steps·dacBits ≤ 32`);
    const maxSum = largestColumnSum(rowsUsed, dacBits, cellBits);
    if (!(table.length >= maxSum + 1)) argError(KERNEL, `the ADC table has ${table.length} entries, expected ${maxSum + 1} (column sums 0..${maxSum})`);
    checkShiftAddExact(KERNEL, maxAbsCode, steps, dacBits);
    if (kernel !== "auto" && kernel !== "dense" && kernel !== "sparse") argError(KERNEL, `kernel "${String(kernel)}": expected "auto", "dense" or "sparse"`);
    if (kernel === "sparse" && !this.sparseAvailable(dacBits)) {
      argError(KERNEL, `the sparse kernel cannot read this tile: its column sums reach ${maxSum}, beyond the ${SPARSE_MAX_COLUMN_SUM} of its 16-bit lanes`);
    }
    const chosen = kernel === "auto" ? this.chooseKernelAt(xAt, outer, steps, dacBits) : kernel;
    this.lastKernel = chosen;
    const planes = steps * dacBits;
    const mark = arena.mark();
    const lutAt = arena.scratch((maxSum + 1) * 4);
    arena.i32(lutAt, maxSum + 1).set(table.subarray(0, maxSum + 1));
    const k = arena.exports;
    if (chosen === "sparse") {
      const countsAt = arena.scratch(planes * 4);
      const listsAt = arena.scratch(planes * rowsUsed * 8);
      const sumsAt = arena.scratch(steps * this.sparseStride * 2);
      k.read_sparse(this.levelsAt!, this.sparseStride, colsPadded, xAt, outer, rowsUsed, steps, dacBits, lutAt, countsAt, listsAt, sumsAt, outAt);
      arena.release(mark);
      return;
    }
    const xpAt = arena.scratch(outer * planes * words * 8);
    k.pack_inputs(xAt, outer, rowsUsed, planes, words, xpAt);
    // the kernel specialised for this cell width (and 1-bit DAC steps, ≤ 128 rows), else the general one
    const blocks = colsPadded >>> 2;
    if (this.usesRegisterKernel(dacBits)) this.registerKernel!(this.planesAt, blocks, xpAt, outer, steps, lutAt, outAt);
    else if (this.blockKernel) this.blockKernel(this.planesAt, blocks, words, xpAt, outer, steps, dacBits, lutAt, outAt);
    else k.read_int(this.planesAt, colsPadded, cellBits, words, xpAt, outer, steps, dacBits, lutAt, outAt);
    arena.release(mark);
  }
}

/**
 * @fileoverview Kernel (a): the faithful bit-sliced read of a tile whose cells are integer level indices, in
 * WebAssembly — weights packed once per tile as bit-planes, inputs packed per call, column sums by AND + i64.popcnt,
 * the ADC a lookup table, shift-and-add in registers (xbarc crossbar spec; Diware, Yaldagard, Bishnoi, ICCAD 2024,
 * §2.2.2). Bit-identical to bitSerialReadImpl with noiseSigma = 0 on such tiles.
 */
import { buildAdcTable, checkShiftAddExact, largestAbsCode, largestColumnSum, roundClampTransfer } from "./adc-table.js";
import { KernelArena, argError, copyRows, roundUp, type BlockReadKernel, type RegisterReadKernel } from "./module.js";

const KERNEL = "WebAssembly integer-cell read";

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
 * rows whose level has bit b set (columns in blocks of four, see kernels.wat). Pack once (`pack`), then `read` any
 * number of input batches. The read picks the kernel specialised for the tile's cell width: a column's planes held in
 * registers (1-bit DAC steps, ≤ 128 rows), four columns per pass (other DAC widths or more rows), or the general one
 * (5..8-bit cells).
 */
export class WasmIntegerCellTile {
  private readonly words: number;
  /** physCols rounded up to the kernels' block of four columns (the padding columns hold no set cell), and the f64 row length `readAt` writes. */
  readonly colsPadded: number;
  /** Address of the packed planes in the arena. */
  private readonly planesAt: number;
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
  read(xu: Int32Array, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, out: Float64Array): Float64Array {
    const { table, maxAbsCode } = this.getAdcTable(dacBits, adcMin, adcMax);
    return this.readTable(xu, outer, steps, dacBits, table, maxAbsCode, out);
  }

  /** read on inputs already in the arena: i32 `[outer, rowsUsed]` at `xAt`; writes f64 `[outer, colsPadded]` at `outAt`. */
  readAt(xAt: number, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, outAt: number): void {
    const { table, maxAbsCode } = this.getAdcTable(dacBits, adcMin, adcMax);
    this.readTableAt(xAt, outer, steps, dacBits, table, maxAbsCode, outAt);
  }

  /**
   * The same read with the ADC given as a table (`table[I]` = code of column sum I, length ≥ largestColumnSum + 1;
   * see buildAdcTable): out[o, c] = Σ_t 2^(t·db)·table[I_t(o, c)].
   */
  readWithTable(xu: Int32Array, outer: number, steps: number, dacBits: number, table: Int32Array, out: Float64Array): Float64Array {
    return this.readTable(xu, outer, steps, dacBits, table, largestAbsCode(table), out);
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

  private readTable(xu: Int32Array, outer: number, steps: number, dacBits: number, table: Int32Array, maxAbsCode: number, out: Float64Array): Float64Array {
    const { rowsUsed, physCols, colsPadded, arena } = this;
    checkReadArgs(KERNEL, xu, outer, rowsUsed, physCols, steps, dacBits, out);
    const mark = arena.mark();
    try {
      const xAt = arena.scratch(outer * rowsUsed * 4);
      const outAt = arena.scratch(outer * colsPadded * 8);
      const n = outer * rowsUsed;
      arena.heap32.set(xu.length === n ? xu : xu.subarray(0, n), xAt >>> 2);
      this.readTableAt(xAt, outer, steps, dacBits, table, maxAbsCode, outAt);
      copyRows(arena.heapF64, outAt >>> 3, colsPadded, out, physCols, outer);
      return out;
    } finally {
      arena.release(mark);
    }
  }

  private readTableAt(xAt: number, outer: number, steps: number, dacBits: number, table: Int32Array, maxAbsCode: number, outAt: number): void {
    const { rowsUsed, colsPadded, cellBits, words, arena } = this;
    if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(dacBits) && dacBits >= 1 && steps * dacBits <= 32)) argError(KERNEL, `${steps} steps of ${dacBits} DAC bits: expected positive integers with steps·dacBits ≤ 32`);
    const maxSum = largestColumnSum(rowsUsed, dacBits, cellBits);
    if (!(table.length >= maxSum + 1)) argError(KERNEL, `the ADC table has ${table.length} entries, expected ${maxSum + 1} (column sums 0..${maxSum})`);
    checkShiftAddExact(KERNEL, maxAbsCode, steps, dacBits);
    const planes = steps * dacBits;
    const mark = arena.mark();
    const lutAt = arena.scratch((maxSum + 1) * 4);
    const xpAt = arena.scratch(outer * planes * words * 8);
    arena.i32(lutAt, maxSum + 1).set(table.subarray(0, maxSum + 1));
    const k = arena.exports;
    k.pack_inputs(xAt, outer, rowsUsed, planes, words, xpAt);
    // the kernel specialised for this cell width (and 1-bit DAC steps, ≤ 128 rows), else the general one
    const blocks = colsPadded >>> 2;
    if (dacBits === 1 && this.registerKernel) this.registerKernel(this.planesAt, blocks, xpAt, outer, steps, lutAt, outAt);
    else if (this.blockKernel) this.blockKernel(this.planesAt, blocks, words, xpAt, outer, steps, dacBits, lutAt, outAt);
    else k.read_int(this.planesAt, colsPadded, cellBits, words, xpAt, outer, steps, dacBits, lutAt, outAt);
    arena.release(mark);
  }
}

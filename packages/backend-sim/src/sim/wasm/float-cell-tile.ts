/**
 * @fileoverview Kernel (b): the faithful read of a tile with any finite cell values (a sampled instance: variation,
 * stuck-at), in WebAssembly with f64x2 across columns — bit-identical to bitSerialReadImpl with noiseSigma = 0 (each
 * column still sums its rows in ascending order, one multiply then one add per term, skipping rows and steps driven
 * at 0 exactly like the TypeScript code).
 */
import { KernelArena, argError, roundUp } from "./module.js";

const KERNEL = "WebAssembly float-cell read";

/** A tile's cells copied once into WebAssembly memory (rows padded to a multiple of 12 columns) for faithful reads. */
export class WasmFloatCellTile {
  private readonly arena = new KernelArena();
  /** Columns per stored row: physCols rounded up to 12 (the kernel's block of six f64x2 accumulators). */
  private readonly stride: number;
  private readonly cellsEnd: number;

  private constructor(readonly rowsUsed: number, readonly physCols: number, cells: Float64Array) {
    this.stride = roundUp(physCols, 12);
    this.cellsEnd = rowsUsed * this.stride * 8;
    this.arena.ensure(this.cellsEnd);
    const stored = this.arena.f64(0, rowsUsed * this.stride);
    for (let r = 0; r < rowsUsed; r++) stored.set(cells.subarray(r * physCols, (r + 1) * physCols), r * this.stride);
  }

  /**
   * Copies `cells` `[rowsUsed, physCols]` into a new instance's memory. Throws XB6002 on inconsistent dimensions or a
   * non-finite cell (an infinite cell makes 0·G a NaN the reference never forms, so results could differ).
   */
  static pack(cells: Float64Array, rowsUsed: number, physCols: number): WasmFloatCellTile {
    if (!(Number.isInteger(rowsUsed) && rowsUsed >= 1 && Number.isInteger(physCols) && physCols >= 1)) argError(KERNEL, `rowsUsed ${rowsUsed} and physCols ${physCols} must be positive integers`);
    if (!(cells.length >= rowsUsed * physCols)) argError(KERNEL, `cells hold ${cells.length} values, expected rowsUsed·physCols = ${rowsUsed * physCols}`);
    for (let i = 0; i < rowsUsed * physCols; i++) if (!(Number.isFinite(cells[i]!))) argError(KERNEL, `cell ${i} is ${cells[i]}, expected a finite value`);
    return new WasmFloatCellTile(rowsUsed, physCols, cells);
  }

  /**
   * = bitSerialReadImpl(xu, outer, rowsUsed, cells, physCols, steps, dacBits, adcMin, adcMax, 0, undefined, out), bit
   * for bit: `xu` `[outer, rowsUsed]`, `out` `[outer, physCols]`.
   */
  read(xu: Int32Array, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, out: Float64Array): Float64Array {
    const { rowsUsed, physCols, stride, arena } = this;
    if (!(Number.isInteger(outer) && outer >= 0)) argError(KERNEL, `outer ${outer} must be a non-negative integer`);
    if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(dacBits) && dacBits >= 1 && steps * dacBits <= 32)) argError(KERNEL, `${steps} steps of ${dacBits} DAC bits: expected positive integers with steps·dacBits ≤ 32`);
    if (!(xu.length >= outer * rowsUsed)) argError(KERNEL, `xu holds ${xu.length} values, expected outer·rowsUsed = ${outer * rowsUsed}`);
    if (!(out.length >= outer * physCols)) argError(KERNEL, `out holds ${out.length} values, expected outer·physCols = ${outer * physCols}`);
    const xAt = this.cellsEnd;
    const countsAt = xAt + roundUp(outer * rowsUsed * 4, 16);
    const idxAt = countsAt + roundUp(steps * 4, 16);
    const valsAt = idxAt + roundUp(steps * rowsUsed * 4, 16);
    const sumsAt = valsAt + steps * rowsUsed * 8;
    const outAt = sumsAt + 12 * 8;
    arena.ensure(outAt + outer * stride * 8);
    const n = outer * rowsUsed;
    arena.heap32.set(xu.length === n ? xu : xu.subarray(0, n), xAt >>> 2);
    arena.exports.read_float(0, stride, xAt, outer, rowsUsed, steps, dacBits, adcMin, adcMax, countsAt, idxAt, valsAt, sumsAt, outAt);
    const result = arena.heapF64;
    const at = outAt >>> 3;
    if (stride === physCols) out.set(result.subarray(at, at + outer * physCols));
    else for (let o = 0; o < outer; o++) out.set(result.subarray(at + o * stride, at + o * stride + physCols), o * physCols);
    return out;
  }
}

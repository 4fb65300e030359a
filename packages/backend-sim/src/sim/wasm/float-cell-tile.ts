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
  /** Columns per stored row, and of the f64 rows `readAt` writes: physCols rounded up to 12 (the kernel's block of six f64x2 accumulators). */
  readonly stride: number;
  private readonly cellsAt: number;

  private constructor(readonly arena: KernelArena, readonly rowsUsed: number, readonly physCols: number, cells: Float64Array) {
    this.stride = roundUp(physCols, 12);
    this.cellsAt = arena.alloc(rowsUsed * this.stride * 8);
    const stored = arena.f64(this.cellsAt, rowsUsed * this.stride);
    for (let r = 0; r < rowsUsed; r++) stored.set(cells.subarray(r * physCols, (r + 1) * physCols), r * this.stride);
  }

  /**
   * Copies `cells` `[rowsUsed, physCols]` into `arena` (default: an arena of its own). Throws XB6002 on inconsistent
   * dimensions or a non-finite cell (an infinite cell makes 0·G a NaN the reference never forms, so results could differ).
   */
  static pack(cells: Float64Array, rowsUsed: number, physCols: number, arena?: KernelArena): WasmFloatCellTile {
    if (!(Number.isInteger(rowsUsed) && rowsUsed >= 1 && Number.isInteger(physCols) && physCols >= 1)) argError(KERNEL, `rowsUsed ${rowsUsed} and physCols ${physCols} must be positive integers`);
    if (!(cells.length >= rowsUsed * physCols)) argError(KERNEL, `cells hold ${cells.length} values, expected rowsUsed·physCols = ${rowsUsed * physCols}`);
    for (let i = 0; i < rowsUsed * physCols; i++) if (!(Number.isFinite(cells[i]!))) argError(KERNEL, `cell ${i} is ${cells[i]}, expected a finite value`);
    return new WasmFloatCellTile(arena ?? new KernelArena(), rowsUsed, physCols, cells);
  }

  /**
   * = bitSerialReadImpl(xu, outer, rowsUsed, cells, physCols, steps, dacBits, adcMin, adcMax, 0, undefined, out), bit
   * for bit: `xu` `[outer, rowsUsed]`, `out` `[outer, physCols]`.
   */
  read(xu: Int32Array, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, out: Float64Array): Float64Array {
    const { rowsUsed, physCols, stride, arena } = this;
    if (!(Number.isInteger(outer) && outer >= 0)) argError(KERNEL, `outer ${outer} must be a non-negative integer`);
    if (!(xu.length >= outer * rowsUsed)) argError(KERNEL, `xu holds ${xu.length} values, expected outer·rowsUsed = ${outer * rowsUsed}`);
    if (!(out.length >= outer * physCols)) argError(KERNEL, `out holds ${out.length} values, expected outer·physCols = ${outer * physCols}`);
    arena.runOnCopy(xu, outer, rowsUsed, stride, physCols, out, (xAt, outAt) => this.readAt(xAt, outer, steps, dacBits, adcMin, adcMax, outAt));
    return out;
  }

  /** read on inputs already in the arena: i32 `[outer, rowsUsed]` at `xAt`; writes f64 `[outer, stride]` at `outAt`. */
  readAt(xAt: number, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, outAt: number): void {
    const { rowsUsed, stride, arena } = this;
    if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(dacBits) && dacBits >= 1 && steps * dacBits <= 32)) argError(KERNEL, `${steps} steps of ${dacBits} DAC bits: expected positive integers with steps·dacBits ≤ 32`);
    const mark = arena.mark();
    const countsAt = arena.scratch(steps * 4);
    const idxAt = arena.scratch(steps * rowsUsed * 4);
    const valsAt = arena.scratch(steps * rowsUsed * 8);
    const sumsAt = arena.scratch(12 * 8);
    arena.exports.read_float(this.cellsAt, stride, xAt, outer, rowsUsed, steps, dacBits, adcMin, adcMax, countsAt, idxAt, valsAt, sumsAt, outAt);
    arena.release(mark);
  }
}

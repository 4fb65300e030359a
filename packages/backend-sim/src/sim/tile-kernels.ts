/**
 * @fileoverview Which kernel executes a tile read: the WebAssembly kernels (sim/wasm) wherever they apply, else the
 * plain-TypeScript reference kernels (sim/kernels.ts), which they equal bit for bit. A tile's cells are packed once
 * per instance (cached by the cell array) and reused for every image.
 */
import { bitSerialReadImpl, integerMvmImpl } from "./kernels.js";
import { WasmFloatCellTile } from "./wasm/float-cell-tile.js";
import { WasmIntegerCellTile } from "./wasm/integer-cell-tile.js";
import { WasmIntegerMvm } from "./wasm/integer-mvm.js";

/** "wasm": the WebAssembly kernels where they apply (the default); "ts": the TypeScript reference kernels only. */
export type KernelChoice = "wasm" | "ts";

/** One tile's cells on one instance, as the faithful read sees them. */
export interface TileCells {
  /** `[rowsUsed, physCols]`, in level steps */
  readonly cells: Float64Array;
  readonly rowsUsed: number;
  readonly physCols: number;
  readonly cellBits: number;
}

/**
 * Cells packed for the WebAssembly reads, by cell array: integer level indices as bit-planes (AND + popcount), any
 * other values (a sampled instance) as f64 rows.
 */
const packedCells = new WeakMap<Float64Array, WasmIntegerCellTile | WasmFloatCellTile>();

function getPackedCells(t: TileCells): WasmIntegerCellTile | WasmFloatCellTile {
  let packed = packedCells.get(t.cells);
  if (!packed) {
    packed = WasmIntegerCellTile.pack(t.cells, t.rowsUsed, t.physCols, t.cellBits) ?? WasmFloatCellTile.pack(t.cells, t.rowsUsed, t.physCols);
    packedCells.set(t.cells, packed);
  }
  return packed;
}

/**
 * The faithful read of one tile (bitSerialReadImpl's contract). Read noise draws from `normal` in the reference
 * kernel's order, so a noisy read always runs there.
 */
export function readTile(
  t: TileCells, xu: Int32Array, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number,
  noiseSigma: number, normal: (() => number) | undefined, kernels: KernelChoice, out: Float64Array,
): Float64Array {
  if (kernels === "wasm" && noiseSigma === 0) return getPackedCells(t).read(xu, outer, steps, dacBits, adcMin, adcMax, out);
  return bitSerialReadImpl(xu, outer, t.rowsUsed, t.cells, t.physCols, steps, dacBits, adcMin, adcMax, noiseSigma, normal, out);
}

/** Integer effective weights packed for the WebAssembly MVM (null: not integers or too large for its i16 lanes). */
const packedWeights = new WeakMap<Float64Array, WasmIntegerMvm | null>();

/** The fast path's one MVM per tile (integerMvmImpl's contract): WebAssembly when weights and inputs fit its lanes. */
export function multiplyTile(xu: Int32Array, outer: number, rowsUsed: number, w: Float64Array, cols: number, kernels: KernelChoice, out: Float64Array): Float64Array {
  if (kernels === "wasm") {
    let packed = packedWeights.get(w);
    if (packed === undefined) {
      packed = WasmIntegerMvm.pack(w, rowsUsed, cols) ?? null;
      packedWeights.set(w, packed);
    }
    if (packed && packed.mvm(xu, outer, out)) return out;
  }
  return integerMvmImpl(xu, outer, rowsUsed, w, cols, out);
}

/**
 * @fileoverview Kernel (c): the ideal path's one integer MVM per tile (sim spec, "Fast path"), in WebAssembly SIMD
 * with i16 operands and i32x4.dot_i16x8_s — bit-identical to integerMvmImpl whenever the weights are integers and
 * the worst-case column sum fits in i32 (then every float64 partial sum of the reference is an exact integer too).
 */
import { KernelArena, argError, roundUp } from "./module.js";

const KERNEL = "WebAssembly integer MVM";
const I32_MAX = 2 ** 31 - 1;

/** finish_i32's arguments, for an MVM that finishes its sums into the accumulators itself (mvmNarrowAt). */
export interface FusedFinish {
  readonly correctionAt: number;
  readonly dL: number;
  readonly wrapShift: number;
  readonly accAt: number;
  readonly accStride: number;
  readonly colBase: number;
}

/**
 * A weight matrix `[rowsUsed, cols]` stored transposed as i16 in WebAssembly memory. `pack` says up front whether the
 * weights qualify; `mvm` says per call whether the inputs do (else the caller keeps integerMvmImpl).
 */
export class WasmIntegerMvm {
  /** Rows of the i16 input rows `mvmNarrowAt` reads (rowsUsed rounded up to 8). */
  readonly rowsPadded: number;
  /** Columns of the f64 rows `mvmAt` writes (cols rounded up to 8). */
  readonly colsPadded: number;
  /** Address of the packed weights in the arena. */
  private readonly weightsAt: number;
  /** Largest |x| for which rowsUsed·|x|·max|w| fits in i32 and x in i16: larger inputs make `mvm` return false. */
  readonly maxInput: number;
  /** max |w| over the matrix. */
  readonly maxAbsWeight: number;

  private constructor(readonly arena: KernelArena, readonly rowsUsed: number, readonly cols: number, w: Float64Array, maxAbsWeight: number) {
    this.rowsPadded = roundUp(rowsUsed, 8);
    this.colsPadded = roundUp(cols, 8);
    this.weightsAt = arena.alloc(this.colsPadded * this.rowsPadded * 2);
    this.maxAbsWeight = maxAbsWeight;
    this.maxInput = maxAbsWeight === 0 ? 32767 : Math.min(32767, Math.floor(I32_MAX / (rowsUsed * maxAbsWeight)));
    // blocks of 8 columns × 8 rows, each column's 8 rows contiguous (see mvm_i16 in kernels.wat)
    const t = arena.i16(this.weightsAt, this.colsPadded * this.rowsPadded);
    const chunks = this.rowsPadded >>> 3;
    for (let r = 0; r < rowsUsed; r++) {
      for (let c = 0; c < cols; c++) t[((c >>> 3) * chunks + (r >>> 3)) * 64 + (c & 7) * 8 + (r & 7)] = w[r * cols + c]!;
    }
  }

  /**
   * Stores `w` `[rowsUsed, cols]` in `arena` (default: an arena of its own), or returns undefined when a weight is not
   * an integer in [−32767, 32767] or no non-zero input could be summed within i32 (keep integerMvmImpl). Throws XB6002
   * on inconsistent dimensions.
   */
  static pack(w: Float64Array, rowsUsed: number, cols: number, arena?: KernelArena): WasmIntegerMvm | undefined {
    if (!(Number.isInteger(rowsUsed) && rowsUsed >= 1 && Number.isInteger(cols) && cols >= 1)) argError(KERNEL, `rowsUsed ${rowsUsed} and cols ${cols} must be positive integers`);
    if (!(w.length >= rowsUsed * cols)) argError(KERNEL, `w holds ${w.length} values, expected rowsUsed·cols = ${rowsUsed * cols}`);
    let maxAbs = 0;
    for (let i = 0; i < rowsUsed * cols; i++) {
      const v = w[i]!;
      if (!Number.isInteger(v) || Math.abs(v) > 32767) return undefined;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    if (maxAbs > 0 && rowsUsed * maxAbs > I32_MAX) return undefined;
    return new WasmIntegerMvm(arena ?? new KernelArena(), rowsUsed, cols, w, maxAbs);
  }

  /**
   * out[o, c] = Σ_r xu[o, r]·w[r, c] (= integerMvmImpl(xu, outer, rowsUsed, w, cols, out), bit for bit) and true; or
   * false, with `out` untouched, when some |xu| exceeds `maxInput`.
   */
  mvm(xu: Int32Array, outer: number, out: Float64Array): boolean {
    const { rowsUsed, cols, colsPadded, arena } = this;
    if (!(Number.isInteger(outer) && outer >= 0)) argError(KERNEL, `outer ${outer} must be a non-negative integer`);
    if (!(xu.length >= outer * rowsUsed)) argError(KERNEL, `xu holds ${xu.length} values, expected outer·rowsUsed = ${outer * rowsUsed}`);
    if (!(out.length >= outer * cols)) argError(KERNEL, `out holds ${out.length} values, expected outer·cols = ${outer * cols}`);
    return arena.runOnCopy(xu, outer, rowsUsed, colsPadded, cols, out, (xAt, outAt) => this.mvmAt(xAt, outer, outAt));
  }

  /**
   * mvm on inputs already in the arena: i32 `[outer, rowsUsed]` at `xAt`; writes f64 `[outer, colsPadded]` at `outAt`
   * (padding columns 0) and returns true, or returns false (nothing written) when some |x| exceeds `maxInput`.
   */
  mvmAt(xAt: number, outer: number, outAt: number): boolean {
    const { arena } = this;
    const mark = arena.mark();
    const narrowAt = arena.scratch(outer * this.rowsPadded * 2);
    const done = arena.exports.mvm(this.weightsAt, this.rowsUsed, this.rowsPadded, this.colsPadded, xAt, outer, narrowAt, this.maxInput, outAt,
      arena.scratch(this.rowsPadded / 2));
    arena.release(mark);
    return done !== 0;
  }

  /**
   * The multiply alone, on inputs already narrowed: i16 `[outer, rowsPadded]` at `xAt` (the padding rows may hold
   * anything: their weights are 0; gather_runs leaves run overhang there), every |x| ≤
   * `maxInput` (the caller's guarantee: larger values would wrap); writes `[outer, colsPadded]` at `outAt`, f64 or
   * (asI32) the exact i32 sums — or, given `finish`, adds those sums finished as kernels.wat finish_i32 does into the
   * i32 accumulators it names instead (see mvm_i16: its correction has colsPadded entries, and its accumulators room
   * for 28 bytes past their last row).
   */
  mvmNarrowAt(xAt: number, outer: number, outAt: number, asI32 = false, finish?: FusedFinish): void {
    const { arena } = this;
    const mark = arena.mark();
    // the list of a vector's non-zero 8-row chunks: an i32 per chunk
    const listAt = arena.scratch(this.rowsPadded / 2);
    // a fused finish keeps the last pair's finished sums, for a next pair equal to it
    const savedAt = finish ? arena.scratch(this.colsPadded * 8) : 0;
    arena.exports.mvm_i16(this.weightsAt, this.rowsPadded, this.colsPadded, xAt, outer, outAt, asI32 || finish ? 1 : 0, listAt, finish?.correctionAt ?? 0,
      finish?.dL ?? 0, finish?.wrapShift ?? 0, finish?.accAt ?? 0, finish?.accStride ?? 0, finish?.colBase ?? 0, savedAt);
    arena.release(mark);
  }
}

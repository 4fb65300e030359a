/**
 * @fileoverview Kernel (c): the ideal path's one integer MVM per tile (sim spec, "Fast path"), in WebAssembly SIMD
 * with i16 operands and i32x4.dot_i16x8_s — bit-identical to integerMvmImpl whenever the weights are integers and
 * the worst-case column sum fits in i32 (then every float64 partial sum of the reference is an exact integer too).
 * A fused MVM (its sums finished into the layer's accumulators) runs whichever of two kernels its inputs make cheaper:
 * mvm_i16, which skips the 8-row chunks that are 0 in both vectors of a pair, or mvm_i16_pairs, which skips each
 * vector's pairs of rows that are 0 (see chooseKernelAt). Both give the same integers, so the choice never changes a result.
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

/** An integer MVM kernel: "chunks" (mvm_i16) or "pairs" (mvm_i16_pairs, fused finish only). */
export type IntegerMvmKernel = "chunks" | "pairs";
/** The kernel a fused MVM runs: one forced, or "auto" (the cheaper one by the cost model, on the call's own inputs). */
export type IntegerMvmKernelOption = IntegerMvmKernel | "auto";

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
  /** Columns of mvm_i16_pairs's weight rows (cols rounded up to 16), and their address. */
  private readonly pairCols: number;
  private readonly pairWeightsAt: number;
  private readonly offsetTableAt: number;
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
    // and in pairs of rows for mvm_i16_pairs: row 2i in the low half of pair i's i32, row 2i + 1 in the high half
    this.pairCols = roundUp(cols, 16);
    this.pairWeightsAt = arena.alloc(this.rowsPadded * this.pairCols * 2);
    const pairs = arena.i16(this.pairWeightsAt, this.rowsPadded * this.pairCols);
    for (let r = 0; r < rowsUsed; r++) {
      for (let c = 0; c < cols; c++) pairs[((r >>> 1) * this.pairCols + c) * 2 + (r & 1)] = w[r * cols + c]!;
    }
    // mvm_i16_pairs's table: for each mask m of four pairs, the byte offsets of its set bits in order
    this.offsetTableAt = arena.alloc(16 * 16);
    const table = arena.i32(this.offsetTableAt, 16 * 4);
    for (let m = 0; m < 16; m++) {
      let k = 0;
      for (let l = 0; l < 4; l++) if (m & (1 << l)) table[m * 4 + k++] = 4 * l;
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
   * for 28 bytes past their last row), by `kernel` (mvm_i16 without `finish`). Returns the kernel that ran.
   */
  mvmNarrowAt(xAt: number, outer: number, outAt: number, asI32 = false, finish?: FusedFinish, kernel: IntegerMvmKernelOption = "auto"): IntegerMvmKernel {
    const { arena } = this;
    const mark = arena.mark();
    const chosen = !finish ? "chunks" : kernel === "auto" ? this.chooseKernelAt(xAt, outer) : kernel;
    if (finish && chosen === "pairs") {
      arena.exports.mvm_i16_pairs(this.pairWeightsAt, this.pairCols, xAt, this.rowsPadded, outer, arena.scratch(this.rowsPadded * 2), this.offsetTableAt,
        roundUp(this.cols, 4), finish.correctionAt, finish.dL, finish.wrapShift, finish.accAt, finish.accStride, finish.colBase);
    } else {
      // the list of a vector's non-zero 8-row chunks: an i32 per chunk
      const listAt = arena.scratch(this.rowsPadded / 2);
      // a fused finish keeps the last pair's finished sums, for a next pair equal to it
      const savedAt = finish ? arena.scratch(this.colsPadded * 8) : 0;
      arena.exports.mvm_i16(this.weightsAt, this.rowsPadded, this.colsPadded, xAt, outer, outAt, asI32 || finish ? 1 : 0, listAt, finish?.correctionAt ?? 0,
        finish?.dL ?? 0, finish?.wrapShift ?? 0, finish?.accAt ?? 0, finish?.accStride ?? 0, finish?.colBase ?? 0, savedAt);
    }
    arena.release(mark);
    return chosen;
  }

  /**
   * The kernel an "auto" fused MVM of these inputs (as for mvmNarrowAt) runs: the one with the fewer products, on
   * every SAMPLE_EVERY-th pair of vectors (nonzero_counts), mvm_i16_pairs's weighed by PAIRS_COST.
   */
  chooseKernelAt(xAt: number, outer: number): IntegerMvmKernel {
    const { arena } = this;
    const mark = arena.mark();
    const countsAt = arena.scratch(8);
    arena.i32(countsAt, 2).fill(0);
    arena.exports.nonzero_counts(xAt, this.rowsPadded, outer, SAMPLE_EVERY, countsAt);
    const [chunks, pairs] = arena.i32(countsAt, 2);
    arena.release(mark);
    // mvm_i16: 2·colsPadded products (of 8) per non-zero chunk of a pair of vectors; mvm_i16_pairs: pairCols/4 per
    // non-zero pair of rows of a vector
    return PAIRS_COST * pairs! * (this.pairCols / 4) < chunks! * 2 * this.colsPadded ? "pairs" : "chunks";
  }
}

/** Pairs of vectors nonzero_counts skips between two it counts: its time, about 1 % of the MVM's. */
const SAMPLE_EVERY = 16;
/**
 * mvm_i16_pairs's time per product over mvm_i16's (each splat input pair meets its own weight load). Measured on the
 * ideal pass, each kernel forced on every call: 1.2–1.6 on the CNN fixture's tiles; then "auto" picks mvm_i16_pairs for
 * every tile but its second convolution's (whose repeated pairs of vectors only mvm_i16 skips).
 */
const PAIRS_COST = 1.45;

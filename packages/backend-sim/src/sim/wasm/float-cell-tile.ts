/**
 * @fileoverview Kernel (b): the faithful read of a tile with any finite cell values (a sampled instance: variation,
 * stuck-at), in WebAssembly — bit-identical to bitSerialReadImpl with noiseSigma = 0. Two kernels: read_float sums in
 * f64x2 exactly as the TypeScript code does (each column its rows in ascending order, one multiply then one add per
 * term, skipping rows and steps driven at 0); read_float32, about twice as fast, sums in f32x4 and recomputes in f64
 * the rare column sums too close to a rounding boundary of the ADC to decide (the bound: `roundingThresholds`); with
 * a 1-bit DAC it may add each step's driven rows eight at a time from group tables
 * ("float32-groups").
 */
import { KernelArena, argError, roundUp } from "./module.js";

const KERNEL = "WebAssembly float-cell read";

/**
 * Which kernel reads a float-cell tile: f64 sums throughout, or f32 sums with an exact f64 fallback, adding each
 * driven row or (float32-groups) the sum of the driven rows of each group of eight from a table built for the read.
 */
export type FloatCellKernel = "float64" | "float32" | "float32-groups";
/**
 * A kernel, or "auto": float32 when it applies (float32Available) and its f64 fallback stays rare, with group tables
 * when they apply (groupTablesApply) to at least GROUP_TABLE_MIN_VECTORS vectors; else float64.
 */
export type FloatCellKernelOption = FloatCellKernel | "auto";

/** Columns per block of read_float (six f64x2 accumulators): the row stride of the stored cells and of `out`. */
const STRIDE_COLUMNS = 12;
/** read_float32 reads columns in blocks of 28, 24, …, 8 or 4 (f32x4 lanes): it computes physCols rounded up to 4. */
const LANE_COLUMNS = 4;
/**
 * read_float32's threshold tables: table k < THRESHOLD_TABLES − 1 holds for steps that drive at most 2^k rows, the
 * last for any number (read_float32 picks table ⌈log2 m⌉ for a step of m rows, or the last past it: its table 7 is
 * this − 1). The bound on |F − R| grows with the rows summed and with their cells, at most the m largest of the
 * column's, so steps of few rows (sparse inputs) fall back to the exact f64 sum far less often than the whole
 * column's bound would make them.
 */
const THRESHOLD_TABLES = 8;
/**
 * Vectors from which "auto" reads with group tables: a convolution's reads (a pass's images × output positions), whose
 * inputs are neighbouring pixels that share their bits. Building a table costs about as much as reading 30 vectors
 * (measured on 128 × 136 and 128 × 268 tiles of conv-like inputs: it pays for itself after 64–96); on a linear
 * layer's reads (a vector per image) groups of four rows measured slower (the MLP fixture's first layer, whose MNIST
 * pixels are sparse).
 */
export const GROUP_TABLE_MIN_VECTORS = 1024;
/**
 * Rows of the tables' groups (kernels.wat read_float32 with groups, group_rows_f32, and wat-kernels.mjs
 * float32GroupLists): 2^8 table rows per group, the sums of each subset of its rows. Against groups of four (16 table
 * rows, a quarter of the bytes) the CNN fixture's faithful reads of its 128 × 136 and 128 × 268 tiles measured 9 % and
 * 5 % faster, LeNet-5's 128 × 68 7–15 %, though these tables (2.4 and 4.5 MB) no longer fit the L2 cache: each step
 * adds half as many table rows.
 */
const GROUP_ROWS = 8;
/**
 * Largest group table a read builds (8 MiB: a 128-row tile of 268 columns takes 4.5 MB). The table is 32 times the
 * cells; past the caches it stops paying (measured up to 4.5 MB only), and a crossbar of thousands of rows and
 * columns would ask for gigabytes.
 */
const GROUP_TABLE_MAX_BYTES = 8 * 2 ** 20;
/** Largest plane cache a read_float32 call keeps (its slots hold a plane and its codes for every column). */
const PLANE_CACHE_MAX_BYTES = 2 ** 20;
/** read_float32's widest block (seven f32x4 accumulators), for the size of its scratch. */
const BLOCK_COLUMNS = 28;
/**
 * read_float32 applies while every column's (2^db − 1)·Σ|cell| stays below this: its f32 sums stay well inside
 * (−2^22, 2^22), where F + 1.5·2^23 rounds F to an integer exactly and the codes are exact in f32 and i32.
 */
export const FLOAT32_READ_MAX_COLUMN_SUM = 2 ** 21;
/** read_float32 applies to tiles of at most this many rows (its error bound assumes rows·2^-24 ≤ 2^-12). */
export const FLOAT32_READ_MAX_ROWS = 4096;
/**
 * "auto" takes read_float32 only when every column's bound B[c] is at most this: about 2·B of the column sums take
 * its scalar f64 fallback, each costing as much as ~24 columns' vector sums, so beyond a few percent it stops paying.
 */
const FLOAT32_AUTO_MAX_BOUND = 2 ** -6;

/** read_float32's per-column thresholds for one DAC width, and whether "auto" should use them. */
interface RoundingThresholds {
  /**
   * What read_float32 reads at `thresholds`: per table k, 0.5 − B[c] rounded down to f32 (0 when B[c] ≥ 0.5),
   * `[THRESHOLD_TABLES, cols]`; then its second look's H[k][c], `[THRESHOLD_TABLES, cols]`, and K[k], `[THRESHOLD_TABLES]`
   * (see roundingThresholds).
   */
  readonly thresholds: Float32Array;
  /** max_c (2^db − 1)·Σ_r |G[r, c]|. */
  readonly largestAbsSum: number;
  /** max_c B[c] ≤ FLOAT32_AUTO_MAX_BOUND. */
  readonly worthIt: boolean;
}

/** A tile's cells copied once into WebAssembly memory (f64 and f32, rows padded to a multiple of 12 columns) for faithful reads. */
export class WasmFloatCellTile {
  /** Columns per stored row, and of the f64 rows `readAt` writes: physCols rounded up to 12 (read_float's block of six f64x2 accumulators). */
  readonly stride: number;
  /** The kernel the latest read ran (undefined before the first). */
  lastKernel: FloatCellKernel | undefined;
  /** How many (vector, step, column) sums the latest read recomputed in f64 (read_float32's fallback; 0 after read_float). */
  lastFallbacks = 0;
  /** Columns read_float32 computes: physCols rounded up to 4 (≤ stride). */
  private readonly cols: number;
  private readonly cellsAt: number;
  private readonly cells32At: number;
  /** Σ_r |G[r, c]| per column `[cols]` (padding columns 0), for the rounding bounds. */
  private readonly absColumnSums: Float64Array;
  /** max_r |G[r, c]| per column `[cols]` (padding columns 0): a step of n rows sums at most n times it. */
  private readonly absColumnMaxima: Float64Array;
  /** max_r max(0, −G[r, c]) per column `[cols]`: how far below 0 its cells reach (a level-0 cell varied down). */
  private readonly negativeColumnMaxima: Float64Array;
  /** read_float32's thresholds per DAC width (undefined: its bound does not apply, read_float reads). */
  private readonly thresholdCache = new Map<number, RoundingThresholds | undefined>();

  private constructor(readonly arena: KernelArena, readonly rowsUsed: number, readonly physCols: number, cells: Float64Array) {
    this.stride = roundUp(physCols, STRIDE_COLUMNS);
    this.cols = roundUp(physCols, LANE_COLUMNS);
    const stride = this.stride;
    this.cellsAt = arena.alloc(rowsUsed * stride * 8);
    this.cells32At = arena.alloc(rowsUsed * stride * 4);
    // views after both allocations (an allocation may grow the memory, which detaches earlier views)
    const stored = arena.f64(this.cellsAt, rowsUsed * stride);
    // a Float32Array store rounds to the nearest f32 (ties to even): relative error ≤ 2^-24
    const stored32 = new Float32Array(arena.bytes.buffer, this.cells32At, rowsUsed * stride);
    this.absColumnSums = new Float64Array(this.cols);
    this.absColumnMaxima = new Float64Array(this.cols);
    this.negativeColumnMaxima = new Float64Array(this.cols);
    for (let r = 0; r < rowsUsed; r++) {
      const row = cells.subarray(r * physCols, (r + 1) * physCols);
      stored.set(row, r * stride);
      stored32.set(row, r * stride);
      for (let c = 0; c < physCols; c++) {
        const g = Math.abs(row[c]!);
        this.absColumnSums[c]! += g;
        this.absColumnMaxima[c] = Math.max(this.absColumnMaxima[c]!, g);
        this.negativeColumnMaxima[c] = Math.max(this.negativeColumnMaxima[c]!, -row[c]!);
      }
    }
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
   * for bit: `xu` `[outer, rowsUsed]`, `out` `[outer, physCols]`. `kernel` forces one kernel (both give that result).
   */
  read(xu: Int32Array, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, out: Float64Array,
    kernel: FloatCellKernelOption = "auto"): Float64Array {
    const { rowsUsed, physCols, stride, arena } = this;
    if (!(Number.isInteger(outer) && outer >= 0)) argError(KERNEL, `outer ${outer} must be a non-negative integer`);
    if (!(xu.length >= outer * rowsUsed)) argError(KERNEL, `xu holds ${xu.length} values, expected outer·rowsUsed = ${outer * rowsUsed}`);
    if (!(out.length >= outer * physCols)) argError(KERNEL, `out holds ${out.length} values, expected outer·physCols = ${outer * physCols}`);
    arena.runOnCopy(xu, outer, rowsUsed, stride, physCols, out, (xAt, outAt) => this.readAt(xAt, outer, steps, dacBits, adcMin, adcMax, outAt, kernel));
    return out;
  }

  /**
   * True when read_float32 can read this tile with these steps and ADC: at most 4096 rows, every column's
   * (2^db − 1)·Σ|cell| < 2^21, an ADC range adcMin ≤ adcMax of integers or ±Infinity, and every output below 2^31.
   */
  float32Available(steps: number, dacBits: number, adcMin: number, adcMax: number): boolean {
    const rounding = this.roundingThresholds(dacBits);
    return rounding !== undefined && fitsIntegerShiftAdd(rounding.largestAbsSum, steps, dacBits, adcMin, adcMax);
  }

  /**
   * True when read_float32 can add this tile's rows from group tables ("float32-groups"): a 1-bit DAC, at most 8
   * steps (its bit-plane path) and a table of at most GROUP_TABLE_MAX_BYTES. (On tiles of up to 64 rows, whose steps
   * walk their planes, the CNN fixture's 16- and 32-row tiles measured 8 % and 12 % faster with them.)
   */
  groupTablesApply(steps: number, dacBits: number): boolean {
    return dacBits === 1 && steps <= 8 && this.groupTableBytes() <= GROUP_TABLE_MAX_BYTES;
  }

  /**
   * Slots of read_float32's plane cache for a read of `outer` vectors (a power of two, 0: none): where it walks each
   * step's bit-plane (a 1-bit DAC, at most 8 steps, at most 64 rows), enough for every step of every vector up to
   * PLANE_CACHE_MAX_BYTES.
   */
  private planeCacheSlots(outer: number, steps: number, dacBits: number): number {
    if (!(dacBits === 1 && steps <= 8 && this.rowsUsed <= 64)) return 0;
    const fit = Math.floor(Math.log2(PLANE_CACHE_MAX_BYTES / this.planeCacheSlotBytes()));
    return 2 ** Math.max(0, Math.min(fit, Math.ceil(Math.log2(outer * steps))));
  }

  /** The bytes of one plane-cache slot (kernels.wat read_float32): a 16-byte tag, then the codes i32 [cols]. */
  private planeCacheSlotBytes(): number {
    return 16 + this.cols * 4;
  }

  /** The bytes of this tile's group table: 2^8 rows of `stride` f32 per group of eight rows. */
  private groupTableBytes(): number {
    return Math.ceil(this.rowsUsed / GROUP_ROWS) * 2 ** GROUP_ROWS * this.stride * 4;
  }

  /**
   * When the "auto" kernel reads this tile with read_float32 (which can then write its exact integers as i32,
   * `readAt`'s outI32), the largest |out| it can write (< 2^31); else undefined.
   */
  float32OutputBound(steps: number, dacBits: number, adcMin: number, adcMax: number): number | undefined {
    const rounding = this.roundingThresholds(dacBits);
    if (!rounding?.worthIt || !fitsIntegerShiftAdd(rounding.largestAbsSum, steps, dacBits, adcMin, adcMax)) return undefined;
    return shiftAddBound(rounding.largestAbsSum, steps, dacBits, adcMin, adcMax);
  }

  /**
   * read on inputs already in the arena: i32 `[outer, rowsUsed]` at `xAt`; writes f64 `[outer, stride]` at `outAt`, or
   * with `outI32` the same integers as i32 (only where the float32 kernel reads: float32OutputBound is defined).
   */
  readAt(xAt: number, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number, outAt: number,
    kernel: FloatCellKernelOption = "auto", outI32 = false): void {
    const { rowsUsed, stride, cols, arena } = this;
    if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(dacBits) && dacBits >= 1 && steps * dacBits <= 32)) argError(KERNEL, `${steps} steps of ${dacBits} DAC bits: expected positive integers with steps·dacBits ≤ 32`);
    if (kernel !== "auto" && kernel !== "float64" && kernel !== "float32" && kernel !== "float32-groups") {
      argError(KERNEL, `kernel "${String(kernel)}": expected "auto", "float64", "float32" or "float32-groups"`);
    }
    let rounding = kernel === "float64" ? undefined : this.roundingThresholds(dacBits);
    if (rounding && !fitsIntegerShiftAdd(rounding.largestAbsSum, steps, dacBits, adcMin, adcMax)) rounding = undefined;
    if (kernel !== "auto" && kernel !== "float64" && !rounding) {
      argError(KERNEL, `the float32 kernel cannot read this tile with ${steps} steps of ${dacBits} DAC bits and ADC range [${adcMin}, ${adcMax}] (see float32Available)`);
    }
    if (kernel === "float32-groups" && !this.groupTablesApply(steps, dacBits)) {
      argError(KERNEL, `group tables need a 1-bit DAC, at most 8 steps and a table of at most ${GROUP_TABLE_MAX_BYTES} bytes; this read has ${steps} steps of ${dacBits} bits on ${rowsUsed} rows (a table of ${this.groupTableBytes()} bytes)`);
    }
    if (kernel === "auto" && rounding && !rounding.worthIt) rounding = undefined;
    if (outI32 && !rounding) argError(KERNEL, "i32 output needs the float32 kernel, which does not read this tile with these settings (see float32OutputBound)");
    const groups = rounding !== undefined && (kernel === "float32-groups" || (kernel === "auto" && outer >= GROUP_TABLE_MIN_VECTORS && this.groupTablesApply(steps, dacBits)));
    const mark = arena.mark();
    // with group tables: each step's count of rows after its count of list entries (8 + 8 i32), and a spare list
    const countsAt = arena.scratch(groups ? 64 : steps * 4);
    const idxAt = arena.scratch((groups ? steps + 1 : steps) * rowsUsed * 4);
    if (rounding) {
      // the DAC values of the active rows, f32 [steps, rows], or (1-bit DAC, ≤ 8 steps, ≤ 64 rows) the steps' bit-planes
      const valsAt = arena.scratch(Math.max(steps * rowsUsed * 4, 64));
      // the kernel reads the inputs sixteen rows at a time: up to 64 bytes past them must exist (their values are unused)
      arena.ensure(xAt + outer * rowsUsed * 4 + 64);
      // a block's f32 sums, then every column's i32 shift-add sums
      const sumsAt = arena.scratch((BLOCK_COLUMNS + cols) * 4);
      const thresholdsAt = arena.scratch(rounding.thresholds.length * 4);
      new Float32Array(arena.bytes.buffer, thresholdsAt, rounding.thresholds.length).set(rounding.thresholds);
      // the ADC range in i32 (no code reaches beyond: |code| ≤ 2^21 + 1)
      const min = Math.max(adcMin, -(2 ** 31));
      const max = Math.min(adcMax, 2 ** 31 - 1);
      let groupsAt = 0;
      if (groups) {
        groupsAt = arena.scratch(this.groupTableBytes());
        arena.exports.group_rows_f32(this.cells32At, rowsUsed, stride, groupsAt);
      }
      const cache = this.planeCacheSlots(outer, steps, dacBits);
      const cacheAt = cache === 0 ? 0 : arena.scratch(cache * this.planeCacheSlotBytes());
      this.lastFallbacks = arena.exports.read_float32(this.cellsAt, this.cells32At, stride, cols, thresholdsAt, xAt, outer, rowsUsed, steps, dacBits, min, max,
        countsAt, idxAt, valsAt, sumsAt, outAt, outI32 ? 1 : 0, groupsAt, cacheAt, cache - 1);
      this.lastKernel = groups ? "float32-groups" : "float32";
    } else {
      const valsAt = arena.scratch(steps * rowsUsed * 8);
      const sumsAt = arena.scratch(12 * 8);
      arena.exports.read_float(this.cellsAt, stride, xAt, outer, rowsUsed, steps, dacBits, adcMin, adcMax, countsAt, idxAt, valsAt, sumsAt, outAt);
      this.lastFallbacks = 0;
      this.lastKernel = "float64";
    }
    arena.release(mark);
  }

  /**
   * read_float32's thresholds for `dacBits`-bit steps (cached), or undefined when its bound does not apply:
   * THRESHOLD_TABLES tables, table k for steps of m ≤ n = 2^k rows, the last for any m (n = rowsUsed; n is at most
   * rowsUsed in every table).
   *
   * The bound: with u = 2^-24 and A = Σ_active |v·G[r, c]| ≤ (2^db − 1)·min(n·M[c], S[c]) (M[c] = max_r |G[r, c]|,
   * S[c] = Σ_r |G[r, c]|: the m ≤ n rows a step drives hold at most n of the column's cells) over those rows, each
   * f32 term p = fl32(v·fl32(G)) is within (2u + u²)|v·G| of v·G (the product is exact for v = 1, 2), and f32
   * summation of the m terms from 0, in any order and grouping (so also the group tables' sums of up to eight of them,
   * then the sum of those), adds at most γ_(m−1)·Σ|p|, γ_k =
   * ku/(1 − ku) (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 2002, §3.1 and §4.2); the
   * reference's f64 sum R errs by at most γ_m·A in unit 2^-53. For n ≤ 4096, γ_(m−1)(1 + u)² ≤ (n − 1)(1 + 2^-11)·u,
   * so |F − R| ≤ ((n − 1)(1 + 2^-11) + 2 + 2^-16)·u·A ≤ (n + 3)·u·A, and
   *   B[c] = (n + 3)·u·(2^db − 1)·min(n·M[c], S[c])·1.001 + 2^-40
   * bounds it with room: the factor 1.001 covers the f64 rounding of S, n·M, B and 0.5 − B, the 2^-40 the absolute
   * (not relative) rounding errors of subnormal f32 terms. The kernel compares the exact |F − Rn| with 0.5 − B[c],
   * rounded down to f32. It applies while (2^db − 1)·S[c] < 2^21 for every column (|F|, |R| < 2^22 then).
   *
   * The second look, for the rare sums that bound leaves ambiguous, bounds A by the step's own sum instead: with
   * V = 2^db − 1 and N[c] = max_r max(0, −G[r, c]), A = E + 2·Σ_active v·max(0, −G) ≤ |E| + 2·V·n·N[c] (E the exact
   * signed sum), and |E| ≤ |F| + (n + 3)·u·1.001·A + 2^-40 (the bound above, E for R), so
   * A ≤ 1.000245·(|F| + 2·V·n·N[c] + 2^-40) for n ≤ 4096, and
   *   B ≤ (n + 3)·u·1.0013·(|F| + 2·V·n·N[c]) + 2^-39.
   * The kernel takes a sum as decided when fl32(|F − Rn| + fl32(K·|F|)) < H[c], K = (n + 3)·u·1.0013·(1 + 2^-20)
   * rounded up and H[c] = 0.5 − 2^-22 − (n + 3)·u·1.0014·2·V·n·N[c] rounded down (0 when ≤ 0): the two f32 roundings
   * lose less than 2^-24 of 0.5 and K·|F| at most u of itself (2^-149 if it underflows), all inside the 2^-22 kept
   * back with the 2^-39, so then |F − Rn| < 0.5 − B: the same conclusion as the first test. Sums of cells that are
   * not negative (N = 0) usually sit far below the column's whole Σ|G|, so most of the first test's ambiguous sums
   * are decided here without the exact f64 sum.
   */
  private roundingThresholds(dacBits: number): RoundingThresholds | undefined {
    if (this.thresholdCache.has(dacBits)) return this.thresholdCache.get(dacBits);
    const { rowsUsed, cols, absColumnSums, absColumnMaxima, negativeColumnMaxima } = this;
    const scale = 2 ** dacBits - 1;
    let largestAbsSum = 0;
    for (const s of absColumnSums) largestAbsSum = Math.max(largestAbsSum, scale * s);
    let rounding: RoundingThresholds | undefined;
    if (rowsUsed <= FLOAT32_READ_MAX_ROWS && largestAbsSum < FLOAT32_READ_MAX_COLUMN_SUM) {
      // one table per bound on the rows a step drives (the kernel takes the tightest that holds for the step), then the
      // second look's tables H and factors K
      const thresholds = new Float32Array(THRESHOLD_TABLES * (2 * cols + 1));
      let largestBound = 0;
      for (let table = 0; table < THRESHOLD_TABLES; table++) {
        const n = table < THRESHOLD_TABLES - 1 ? Math.min(2 ** table, rowsUsed) : rowsUsed;
        for (let c = 0; c < cols; c++) {
          const largestStepSum = Math.min(n * absColumnMaxima[c]!, absColumnSums[c]!);
          const bound = (n + 3) * 2 ** -24 * scale * largestStepSum * 1.001 + 2 ** -40;
          largestBound = Math.max(largestBound, bound);
          // 0: every sum of the column is recomputed (|F − Rn| ≥ 0 always holds)
          thresholds[table * cols + c] = bound >= 0.5 ? 0 : roundToFloat32(0.5 - bound, false);
          const negativePart = (n + 3) * 2 ** -24 * 1.0014 * 2 * scale * n * negativeColumnMaxima[c]!;
          const h = 0.5 - 2 ** -22 - negativePart;
          thresholds[(THRESHOLD_TABLES + table) * cols + c] = h <= 0 ? 0 : roundToFloat32(h, false);
        }
        thresholds[2 * THRESHOLD_TABLES * cols + table] = roundToFloat32((n + 3) * 2 ** -24 * 1.0013 * (1 + 2 ** -20), true);
      }
      rounding = { thresholds, largestAbsSum, worthIt: largestBound <= FLOAT32_AUTO_MAX_BOUND };
    }
    this.thresholdCache.set(dacBits, rounding);
    return rounding;
  }
}

/**
 * True when read_float32's i32 shift-add is exact for this ADC: adcMin ≤ adcMax, each an integer or ±Infinity, and
 * every |Σ_t 2^(t·db)·code_t| < 2^31, given |code| ≤ ⌊(1 + 2^-10)·largestAbsSum⌋ + 1 before the clamp (|R| exceeds
 * the largest Σ|v·G| by far less than 2^-10 of it).
 */
function fitsIntegerShiftAdd(largestAbsSum: number, steps: number, dacBits: number, adcMin: number, adcMax: number): boolean {
  const integral = (v: number): boolean => Number.isInteger(v) || v === Infinity || v === -Infinity;
  if (!(integral(adcMin) && integral(adcMax) && adcMin <= adcMax)) return false;
  return shiftAddBound(largestAbsSum, steps, dacBits, adcMin, adcMax) < 2 ** 31;
}

/** The largest |Σ_t 2^(t·db)·code_t| over clamped codes |code| ≤ ⌊(1 + 2^-10)·largestAbsSum⌋ + 1 (see fitsIntegerShiftAdd). */
function shiftAddBound(largestAbsSum: number, steps: number, dacBits: number, adcMin: number, adcMax: number): number {
  const largestCode = Math.floor((1 + 2 ** -10) * largestAbsSum) + 1;
  const clamp = (code: number): number => (code < adcMin ? adcMin : code > adcMax ? adcMax : code);
  const largestClamped = Math.max(Math.abs(clamp(-largestCode)), Math.abs(clamp(largestCode)));
  return largestClamped * (2 ** (steps * dacBits) - 1);
}

/** One f32 and its bit pattern, for roundToFloat32 (each Monte Carlo instance rounds thousands of thresholds). */
const f32Scratch = new Float32Array(1);
const f32ScratchBits = new Uint32Array(f32Scratch.buffer);

/** `x` rounded to an f32, up or down (0 < x < the largest f32). */
function roundToFloat32(x: number, up: boolean): number {
  const nearest = Math.fround(x);
  if (up ? nearest >= x : nearest <= x) return nearest;
  // the neighbouring f32: positive f32 bit patterns order like the values
  f32Scratch[0] = nearest;
  f32ScratchBits[0]! += up ? 1 : -1;
  return f32Scratch[0]!;
}

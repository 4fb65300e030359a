/**
 * @fileoverview Loads the simulator's WebAssembly kernels (kernels.wat, compiled at build time into
 * kernels.generated.ts) synchronously; a KernelArena is one instance with its linear memory, holding one or several
 * packed tiles and the scratch of their calls, grown on demand.
 */
import { XbarcError } from "@xbarc/ir";
import { KERNELS_WASM_BASE64 } from "./kernels.generated.js";

/** The parts of the WebAssembly JS API used here (the project's `lib` has no DOM, so no WebAssembly typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
/** A compiled WebAssembly module (opaque). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** read_c<cellBits>w<words>: kernel (a) for 1-bit DAC steps with a column's cell-bit words held in registers. */
export type RegisterReadKernel = (g: number, blocks: number, xp: number, outer: number, steps: number, lut: number, out: number) => void;
/** read_c<cellBits>: kernel (a) four columns per pass, any DAC width. */
export type BlockReadKernel = (g: number, blocks: number, words: number, xp: number, outer: number, steps: number, dacBits: number, lut: number, out: number) => void;

/** The exports of kernels.wat (addresses are byte offsets into `memory`; see the contracts in kernels.wat). */
export interface KernelExports {
  memory: WasmMemory;
  pack_inputs(x: number, outer: number, rows: number, planes: number, words: number, dst: number): void;
  read_int(g: number, physCols: number, cellBits: number, words: number, xp: number, outer: number, steps: number, dacBits: number, lut: number, out: number): void;
  read_c1: BlockReadKernel; read_c2: BlockReadKernel; read_c3: BlockReadKernel; read_c4: BlockReadKernel;
  read_c1w1: RegisterReadKernel; read_c1w2: RegisterReadKernel; read_c2w1: RegisterReadKernel; read_c2w2: RegisterReadKernel;
  read_c3w1: RegisterReadKernel; read_c3w2: RegisterReadKernel; read_c4w1: RegisterReadKernel; read_c4w2: RegisterReadKernel;
  count_active(x: number, outer: number, rows: number, steps: number, dacBits: number, every: number): number;
  read_sparse(levels: number, stride: number, cols: number, x: number, outer: number, rows: number, steps: number, dacBits: number, lut: number,
    counts: number, lists: number, sums: number, out: number): void;
  read_float(cells: number, stride: number, xu: number, outer: number, rows: number, steps: number, dacBits: number, adcMin: number, adcMax: number,
    counts: number, idx: number, vals: number, sums: number, out: number): void;
  read_float32(cells: number, cells32: number, stride: number, cols: number, thresholds: number, xu: number, outer: number, rows: number,
    steps: number, dacBits: number, adcMin: number, adcMax: number, counts: number, idx: number, vals: number, sums: number, out: number, outI32: number, groups: number,
    planeCache: number, cacheMask: number): number;
  group_rows_f32(cells32: number, rows: number, stride: number, dst: number): void;
  narrow_inputs(x: number, outer: number, rows: number, rowsPadded: number, dst: number): number;
  mvm_i16(w: number, rowsPadded: number, colsPadded: number, x: number, outer: number, out: number, asI32: number, list: number,
    correction: number, dL: number, wrapShift: number, acc: number, accStride: number, colBase: number, saved: number): void;
  mvm_i16_pairs(w: number, pairCols: number, x: number, rowsPadded: number, outer: number, list: number, table: number, cols: number, correction: number,
    dL: number, wrapShift: number, acc: number, accStride: number, colBase: number): void;
  nonzero_counts(x: number, rowsPadded: number, outer: number, every: number, out: number): void;
  mvm(w: number, rows: number, rowsPadded: number, colsPadded: number, x: number, outer: number, narrow: number, maxInput: number, out: number, list: number): number;
  gather(x: number, images: number, imageStride: number, positions: number, offsets: number, rows: number, biasRow: number, biasInput: number,
    inputOffset: number, narrowPadded: number, dst: number): void;
  gather_runs(x: number, images: number, imageStride: number, positions: number, starts: number, runs: number, rows: number, biasRow: number,
    biasInput: number, inputOffset: number, rowsPadded: number, dst: number): void;
  pad_inputs(x: number, planes: number, height: number, width: number, padTop: number, padLeft: number, paddedHeight: number, paddedWidth: number,
    inputOffset: number, dst: number, narrow: number): void;
  gather_padded(x: number, images: number, imageStride: number, outHeight: number, outWidth: number, paddedWidth: number, runs: number, runCount: number,
    rows: number, biasRow: number, biasInput: number, rowsPadded: number, dst: number): void;
  gather_padded_i16(x: number, images: number, imageStride: number, outHeight: number, outWidth: number, paddedWidth: number, taps: number,
    groups: number, full: number, masks: number, dst: number): void;
  conv_i16(x: number, images: number, imageStride: number, outHeight: number, outWidth: number, paddedWidth: number, taps: number, pairs: number,
    w: number, init: number, colsPadded: number, out: number, correction: number, dL: number, wrapShift: number, acc: number, accStride: number,
    colBase: number): void;
  finish(src: number, srcStride: number, outer: number, cols: number, scheme: number, slices: number, place: number, correction: number,
    truncate: number, down: number, m: number, acc: number, outBase: number, colBase: number, channelStride: number, rowMap: number): void;
  epilogue(acc: number, accI32: number, batch: number, positions: number, channels: number, bias: number, moveScale: number, relu: number,
    tapStarts: number, taps: number, outPositions: number, qScale: number, lo: number, hi: number, out: number,
    shift: number, aLo: number, aHi: number, L: number, H: number, range: number): void;
  finish_i32(src: number, outer: number, srcStride: number, cols: number, correction: number, dL: number, wrapShift: number, acc: number, accStride: number, colBase: number): void;
  finish_slices_i32(src: number, srcStride: number, outer: number, cols: number, scheme: number, slices: number, cellBits: number, correction: number,
    dL: number, wrapShift: number, acc: number, accStride: number, colBase: number): void;
  add_rows_i32(src: number, cols: number, map: number, outer: number, acc: number, accStride: number, colBase: number): void;
  dedup_rows(x: number, outer: number, rows: number, table: number, tableBits: number, map: number, probe: number): number;
  to_i32(src: number, n: number, dst: number, range: number, quantize: number, scale: number, lo: number, hi: number): number;
  quantize_f32(src: number, n: number, dst: number, range: number, scale: number, lo: number, hi: number): void;
}

let compiled: WasmModule | undefined;

/** The compiled kernel module (compiled once per process, synchronously: it is a few kilobytes). */
export function getKernelModule(): WasmModule {
  if (!compiled) {
    const bytes = Uint8Array.from(Buffer.from(KERNELS_WASM_BASE64, "base64"));
    try {
      compiled = new wasmApi.Module(bytes);
    } catch (e) {
      throw new XbarcError("XB6002", `the simulator's WebAssembly kernels cannot be compiled: ${(e as Error).message}`, {
        hint: "run on Node ≥ 20 (WebAssembly SIMD), or keep the TypeScript kernels",
      });
    }
  }
  return compiled;
}

const PAGE = 65536;

/** Rounds `n` up to a multiple of `m`. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Bytes below the first allocation: no array lies at address 0 (0 means "none" to some kernels) or right after it (gather reads the 4 bytes before its input). */
const RESERVED_BYTES = 16;

/**
 * One instance of the kernels and its memory, laid out as two stacks: packed data that lives as long as the arena
 * (`alloc`: a tile's planes or weights, several tiles per arena), then per-call scratch above it (`scratch`, released
 * to a `mark`). A caller may hold scratch across calls (a layer's inputs, read by every tile of the layer) as long as it
 * allocates nothing persistent meanwhile. Views are rebuilt after the memory grows (growing detaches the old
 * ArrayBuffer).
 */
export class KernelArena {
  readonly exports: KernelExports;
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  /** The whole memory as Int32 / Float64 (valid until the next `ensure`; index = byte address / 4 or / 8). */
  heap32: Int32Array;
  heapF64: Float64Array;
  /** End of the persistent allocations (bytes, 16-aligned); the first 16 bytes stay unused (see RESERVED_BYTES). */
  private persistentTop = RESERVED_BYTES;
  /** End of the scratch in use (bytes, 16-aligned, ≥ persistentTop). */
  private scratchTop = RESERVED_BYTES;

  constructor() {
    this.exports = new wasmApi.Instance(getKernelModule(), {}).exports as unknown as KernelExports;
    this.buffer = this.exports.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.heap32 = new Int32Array(this.buffer);
    this.heapF64 = new Float64Array(this.buffer);
  }

  /** Reserves `bytes` for the arena's lifetime, zeroed (earlier scratch may have used them), and returns their address. Throws if scratch is in use. */
  alloc(bytes: number): number {
    if (this.scratchTop !== this.persistentTop) throw new Error("KernelArena.alloc while scratch is in use");
    const at = this.persistentTop;
    this.persistentTop = this.scratchTop = roundUp(at + bytes, 16);
    this.ensure(this.persistentTop);
    this.u8.fill(0, at, this.persistentTop);
    return at;
  }

  /** Frees everything, persistent allocations included, for reuse by new tiles (the memory keeps its size). */
  reset(): void {
    this.persistentTop = this.scratchTop = RESERVED_BYTES;
  }

  /** The current scratch top, to `release` to later. */
  mark(): number {
    return this.scratchTop;
  }

  /** Reserves `bytes` of scratch (until `release`) and returns their address. */
  scratch(bytes: number): number {
    const at = this.scratchTop;
    this.scratchTop = roundUp(at + bytes, 16);
    this.ensure(this.scratchTop);
    return at;
  }

  /** Frees the scratch reserved since `mark`. */
  release(mark: number): void {
    this.scratchTop = mark;
  }

  /**
   * A kernel on inputs from JS: copies `xu` `[outer, rows]` into scratch, runs `kernel(xAt, outAt)` with room for
   * `[outer, stride]` f64 results at outAt, copies their first `cols` per row into `out` and releases the scratch.
   * Returns false (out untouched) when the kernel returns false.
   */
  runOnCopy(xu: Int32Array, outer: number, rows: number, stride: number, cols: number, out: Float64Array, kernel: (xAt: number, outAt: number) => boolean | void): boolean {
    const mark = this.mark();
    try {
      const xAt = this.scratch(outer * rows * 4);
      const outAt = this.scratch(outer * stride * 8);
      const n = outer * rows;
      this.heap32.set(xu.length === n ? xu : xu.subarray(0, n), xAt >>> 2);
      if (kernel(xAt, outAt) === false) return false;
      copyRows(this.heapF64, outAt >>> 3, stride, out, cols, outer);
      return true;
    } finally {
      this.release(mark);
    }
  }

  /** Makes the memory at least `bytes` long. */
  ensure(bytes: number): void {
    const have = this.exports.memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > 2 ** 32 - PAGE) {
        throw new XbarcError("XB6002", `a WebAssembly tile read needs ${bytes} bytes, more than the 4 GiB a memory holds`, {
          hint: "read fewer output vectors per call",
        });
      }
      // at least double, so that a growing scratch does not grow page by page
      const want = Math.min(2 ** 32 - PAGE, Math.max(bytes, 2 * have));
      this.exports.memory.grow(Math.ceil((want - have) / PAGE));
    }
    if (this.exports.memory.buffer !== this.buffer) {
      this.buffer = this.exports.memory.buffer;
      this.u8 = new Uint8Array(this.buffer);
      this.heap32 = new Int32Array(this.buffer);
      this.heapF64 = new Float64Array(this.buffer);
    }
  }

  /** The memory as bytes (valid until the next `ensure`). */
  get bytes(): Uint8Array {
    return this.u8;
  }

  /** A typed view of `length` elements at byte address `at` (valid until the next `ensure`). */
  f64(at: number, length: number): Float64Array {
    return new Float64Array(this.buffer, at, length);
  }

  /** A Float32 view of `length` elements at byte address `at` (valid until the next `ensure`). */
  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.buffer, at, length);
  }

  /** An Int32 view of `length` elements at byte address `at` (valid until the next `ensure`). */
  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.buffer, at, length);
  }

  /** An Int16 view of `length` elements at byte address `at` (valid until the next `ensure`). */
  i16(at: number, length: number): Int16Array {
    return new Int16Array(this.buffer, at, length);
  }

  /** A Uint32 view of `length` elements at byte address `at` (valid until the next `ensure`). */
  u32(at: number, length: number): Uint32Array {
    return new Uint32Array(this.buffer, at, length);
  }
}

/**
 * Copies `rows` rows of `cols` values from `heap` (rows `stride` apart from index `at`) into `out` (packed rows).
 */
export function copyRows(heap: Float64Array, at: number, stride: number, out: Float64Array, cols: number, rows: number): void {
  if (stride === cols) out.set(heap.subarray(at, at + rows * cols));
  else for (let o = 0; o < rows; o++) out.set(heap.subarray(at + o * stride, at + o * stride + cols), o * cols);
}

/**
 * Throws XB6002 naming the kernel and the argument. Hot paths call it as `if (!cond) argError(…)`, so the message's
 * template string is built only on failure.
 */
export function argError(kernel: string, message: string): never {
  throw new XbarcError("XB6002", `${kernel}: ${message}`, { hint: "pass the tile's own dimensions and arrays of matching length" });
}

/**
 * @fileoverview Stride-1 convolutions on padded inputs (kernels.wat `pad_inputs`) against plain TypeScript: the ideal
 * path's convolution without the im2col (`conv_i16`, wrapped by WasmDirectConv) — each output position's rows read
 * from the unpadded input (0 in the padding, plus the input offset) and multiplied by the tile's integer weights, the
 * bias row's input times its weights added — and the gather of those rows (`gather_padded`, i32 and i16). Random
 * geometries: kernels 1×1 to 5×5, dilations, asymmetric padding, output rows not a multiple of 8 wide, tiles starting
 * and ending mid-channel, odd row counts, 1 to 13 columns, signed weights and offset inputs. Their use inside the
 * layer engine, fused finish included, is compared with the reference engine in layer-engine and sim-bit-exact.
 */
import { describe, expect, it } from "vitest";
import { getInputRuns } from "../packages/backend-sim/src/sim/layer-plan.js";
import { channelChunkOrder, gatherPaddedI16, getPaddedTaps, padInputs, paddedImageElements, WasmDirectConv, type PaddedPlanes } from "../packages/backend-sim/src/sim/wasm/direct-conv.js";
import { KernelArena } from "../packages/backend-sim/src/sim/wasm/module.js";
import { seededInts } from "./helpers/datasets.js";

interface Case {
  readonly planes: PaddedPlanes;
  readonly kernel: [number, number];
  readonly dilations: [number, number];
  readonly images: number;
  readonly row0: number;
  readonly rows: number;
  readonly cols: number;
  readonly inputOffset: number;
  readonly biasInput: number | undefined;
}

/**
 * A random case; `wide` gives output rows at least 8 wide (gatherPaddedI16's) and tiles of up to 140 rows from up to
 * 16 channels (whole groups of eight rows, and a partial last one).
 */
function randomCase(random: (n: number) => number, wide = false): Case {
  const channels = 1 + random(wide ? 16 : 4);
  const height = 1 + random(11);
  const width = wide ? 8 + random(24) : 1 + random(19);
  const kernel: [number, number] = [1 + random(5), 1 + random(5)];
  const dilations: [number, number] = [1 + random(2), 1 + random(2)];
  // pads up to the kernel's reach, so that every output row has at least one position
  const pads = kernel.flatMap((k, d) => [random(k * dilations[d]!), random(k * dilations[d]!)]);
  const [padTop, padLeft, padBottom, padRight] = [pads[0]!, pads[2]!, pads[1]!, pads[3]!];
  const outHeight = height + padTop + padBottom - (kernel[0] - 1) * dilations[0];
  const outWidth = width + padLeft + padRight - (kernel[1] - 1) * dilations[1];
  if (outHeight < 1 || outWidth < (wide ? 8 : 1)) return randomCase(random, wide);
  const matrixRows = channels * kernel[0] * kernel[1];
  const row0 = random(matrixRows);
  const rows = 1 + random(Math.min(wide ? 140 : 31, matrixRows - row0));
  return {
    planes: { channels, height, width, padTop, padLeft, paddedHeight: height + padTop + padBottom, paddedWidth: width + padLeft + padRight, outHeight, outWidth },
    kernel, dilations, images: 1 + random(3), row0, rows, cols: 1 + random(13),
    inputOffset: random(2) === 0 ? 0 : 128, biasInput: random(2) === 0 ? undefined : 1 + random(200),
  };
}

/** Each output position's rows (and bias row) as gather reads them, `[images·positions, rows + bias]`, in plain TypeScript. */
function referenceGather(c: Case, x: Int32Array): Int32Array {
  const { planes, kernel, dilations } = c;
  const positions = planes.outHeight * planes.outWidth;
  const width = c.rows + (c.biasInput === undefined ? 0 : 1);
  const out = new Int32Array(c.images * positions * width);
  const taps = kernel[0] * kernel[1];
  for (let b = 0; b < c.images; b++) {
    for (let y = 0; y < planes.outHeight; y++) {
      for (let xo = 0; xo < planes.outWidth; xo++) {
        const o = (b * positions + y * planes.outWidth + xo) * width;
        for (let r = 0; r < c.rows; r++) {
          const m = c.row0 + r;
          const ch = Math.floor(m / taps);
          const iy = y - planes.padTop + Math.floor((m % taps) / kernel[1]) * dilations[0];
          const ix = xo - planes.padLeft + ((m % taps) % kernel[1]) * dilations[1];
          const inside = iy >= 0 && iy < planes.height && ix >= 0 && ix < planes.width;
          out[o + r] = (inside ? x[((b * planes.channels + ch) * planes.height + iy) * planes.width + ix]! : 0) + c.inputOffset;
        }
        if (c.biasInput !== undefined) out[o + c.rows] = c.biasInput;
      }
    }
  }
  return out;
}

/** Each output position's sums as gather + integer MVM give them, in plain TypeScript. */
function referenceSums(c: Case, x: Int32Array, w: Float64Array): Int32Array {
  const rows = referenceGather(c, x);
  const width = c.rows + (c.biasInput === undefined ? 0 : 1);
  const outer = rows.length / width;
  const out = new Int32Array(outer * c.cols);
  for (let o = 0; o < outer; o++) for (let r = 0; r < width; r++) for (let j = 0; j < c.cols; j++) out[o * c.cols + j]! += rows[o * width + r]! * w[r * c.cols + j]!;
  return out;
}

/** A case's random inputs `[images, channels, height, width]` in `arena`'s scratch, with the 28 readable bytes after them. */
function inputsOf(c: Case, random: (n: number) => number, arena: KernelArena): { x: Int32Array; xAt: number } {
  const { planes } = c;
  const count = c.images * planes.channels * planes.height * planes.width;
  const x = Int32Array.from({ length: count }, () => (c.inputOffset ? random(256) - 128 : random(256)));
  const xAt = arena.scratch(count * 4 + 32);
  arena.i32(xAt, count).set(x);
  return { x, xAt };
}

const matrixRowsOf = (c: Case): Int32Array => Int32Array.from({ length: c.rows }, (_, r) => c.row0 + r);

describe("stride-1 convolutions on padded inputs (pad_inputs)", () => {
  it("conv_i16 equals gathering each position's rows and multiplying them, on 300 random tiles", () => {
    const random = seededInts(2026);
    for (let n = 0; n < 300; n++) {
      const c = randomCase(random);
      const name = JSON.stringify(c);
      const arena = new KernelArena();
      const w = Float64Array.from({ length: (c.rows + 1) * c.cols }, () => random(255) - 127);
      // the weights are packed (persistent) before any scratch is taken
      const direct = new WasmDirectConv(arena, w, c.rows, c.cols, getPaddedTaps(c.planes, c.kernel[0], c.kernel[1], c.dilations, 0, matrixRowsOf(c)), c.biasInput);
      const { x, xAt } = inputsOf(c, random, arena);
      const { planes } = c;
      const outer = c.images * planes.outHeight * planes.outWidth;
      // a sentinel row past the 7 rows of room: nothing may reach it
      const outAt = arena.scratch((outer + 8) * direct.colsPadded * 4);
      arena.i32(outAt + (outer + 7) * direct.colsPadded * 4, direct.colsPadded).fill(0x5a5a5a5a);
      direct.runAt(planes, c.images, padInputs(arena, planes, c.images, xAt, c.inputOffset, true), outAt);
      const got = arena.i32(outAt, (outer + 8) * direct.colsPadded);
      const expected = referenceSums(c, x, w);
      const mismatches: string[] = [];
      for (let o = 0; o < outer && mismatches.length < 3; o++) {
        for (let j = 0; j < c.cols; j++) if (got[o * direct.colsPadded + j] !== expected[o * c.cols + j]) mismatches.push(`position ${o} column ${j}: ${got[o * direct.colsPadded + j]} ≠ ${expected[o * c.cols + j]}`);
        // columns past the tile's: weights 0, sums 0
        for (let j = c.cols; j < direct.colsPadded; j++) if (got[o * direct.colsPadded + j] !== 0) mismatches.push(`position ${o} padding column ${j}: ${got[o * direct.colsPadded + j]}`);
      }
      expect(mismatches, name).toEqual([]);
      expect(Array.from(got.subarray((outer + 7) * direct.colsPadded)), name).toEqual(new Array(direct.colsPadded).fill(0x5a5a5a5a));
    }
  });

  for (const narrow of [false, true]) {
    it(`gather_padded gives each position's rows and bias row as gather does (${narrow ? "i16" : "i32"}), on 300 random tiles`, () => {
      const random = seededInts(narrow ? 7 : 8);
      for (let n = 0; n < 300; n++) {
        const c = randomCase(random);
        const name = JSON.stringify(c);
        const arena = new KernelArena();
        const { x, xAt } = inputsOf(c, random, arena);
        const { planes } = c;
        const taps = getPaddedTaps(planes, c.kernel[0], c.kernel[1], c.dilations, 0, matrixRowsOf(c));
        const runs = getInputRuns(taps, 1, c.rows).runs;
        const runsAt = arena.scratch(runs.length * 4);
        arena.i32(runsAt, runs.length).set(runs);
        const bias = c.biasInput === undefined ? 0 : 1;
        const width = c.rows + bias;
        // i16 rows are padded to a multiple of 8 (mvm_i16's rowsPadded); + 32: the last run's overhang
        const rowsPadded = narrow ? Math.ceil(width / 8) * 8 : 0;
        const stride = narrow ? rowsPadded : width;
        const outer = c.images * planes.outHeight * planes.outWidth;
        const dstAt = arena.scratch(outer * stride * (narrow ? 2 : 4) + 32);
        arena.exports.gather_padded(padInputs(arena, planes, c.images, xAt, c.inputOffset, narrow), c.images, paddedImageElements(planes),
          planes.outHeight, planes.outWidth, planes.paddedWidth, runsAt, runs.length / 2, c.rows, bias, c.biasInput ?? 0, rowsPadded, dstAt);
        const got = narrow ? arena.i16(dstAt, outer * stride) : arena.i32(dstAt, outer * stride);
        const expected = referenceGather(c, x);
        const mismatches: string[] = [];
        for (let o = 0; o < outer && mismatches.length < 3; o++) {
          for (let r = 0; r < width; r++) if (got[o * stride + r] !== expected[o * width + r]) mismatches.push(`position ${o} row ${r}: ${got[o * stride + r]} ≠ ${expected[o * width + r]}`);
        }
        expect(mismatches, name).toEqual([]);
      }
    });
  }

  it("gatherPaddedI16 gives each position's rows, its bias row and 0 up to the padded width, on 300 random tiles with rows ≥ 8 wide", () => {
    const random = seededInts(9);
    for (let n = 0; n < 300; n++) {
      const c = randomCase(random, true);
      const name = JSON.stringify(c);
      const arena = new KernelArena();
      const { x, xAt } = inputsOf(c, random, arena);
      const { planes } = c;
      const taps = getPaddedTaps(planes, c.kernel[0], c.kernel[1], c.dilations, 0, matrixRowsOf(c));
      const width = c.rows + (c.biasInput === undefined ? 0 : 1);
      // sometimes a whole group of padding more than mvm_i16 needs
      const rowsPadded = Math.ceil(width / 8) * 8 + 8 * random(2);
      const outer = c.images * planes.outHeight * planes.outWidth;
      const dstAt = arena.scratch(outer * rowsPadded * 2 + 16);
      arena.i16(dstAt + outer * rowsPadded * 2, 8).fill(0x5a5a);
      gatherPaddedI16(arena, planes, c.images, padInputs(arena, planes, c.images, xAt, c.inputOffset, true), taps, c.biasInput, rowsPadded, dstAt);
      const got = arena.i16(dstAt, outer * rowsPadded);
      const expected = referenceGather(c, x);
      const mismatches: string[] = [];
      for (let o = 0; o < outer && mismatches.length < 3; o++) {
        for (let r = 0; r < rowsPadded; r++) {
          const want = r < width ? expected[o * width + r]! : 0;
          if (got[o * rowsPadded + r] !== want) mismatches.push(`position ${o} row ${r}: ${got[o * rowsPadded + r]} ≠ ${want}`);
        }
      }
      expect(mismatches, name).toEqual([]);
      expect(Array.from(arena.i16(dstAt + outer * rowsPadded * 2, 8)), name).toEqual(new Array(8).fill(0x5a5a));
    }
  });

  it("channelChunkOrder is a permutation of the rows whose chunks hold one channel's rows, each channel's rows in eights first, on 300 random tiles", () => {
    const random = seededInts(10);
    for (let n = 0; n < 300; n++) {
      const c = randomCase(random, true);
      const name = JSON.stringify(c);
      const taps = getPaddedTaps(c.planes, c.kernel[0], c.kernel[1], c.dilations, 0, matrixRowsOf(c));
      const order = Array.from(channelChunkOrder(taps, c.planes));
      expect([...order].sort((a, b) => a - b), name).toEqual(Array.from({ length: c.rows }, (_, r) => r));
      const channel = (r: number): number => Math.floor((c.row0 + r) / (c.kernel[0] * c.kernel[1]));
      const rowsOf = new Map<number, number>();
      for (let r = 0; r < c.rows; r++) rowsOf.set(channel(r), (rowsOf.get(channel(r)) ?? 0) + 1);
      // whole chunks: each channel's rows, eight at a time (in their order), channel after channel
      const whole = [...rowsOf.entries()].flatMap(([ch, count]) => {
        const first = order.findIndex((r) => channel(r) === ch);
        return Array.from({ length: count - (count % 8) }, (_, i) => order[first + i]!);
      });
      expect(order.slice(0, whole.length), name).toEqual([...whole].sort((a, b) => a - b));
      for (let i = 0; i < whole.length; i += 8) expect(new Set(order.slice(i, i + 8).map(channel)).size, name).toBe(1);
      // then the rest, fewer than eight of each channel, in their order
      const rest = order.slice(whole.length);
      expect(rest, name).toEqual([...rest].sort((a, b) => a - b));
      for (const count of new Map(rest.map((r) => [channel(r), rest.filter((q) => channel(q) === channel(r)).length])).values()) expect(count, name).toBeLessThan(8);
    }
  });

  it("gatherPaddedI16 refuses output rows under 8 wide and a padded width short of the rows", () => {
    const arena = new KernelArena();
    const planes: PaddedPlanes = { channels: 1, height: 5, width: 7, padTop: 1, padLeft: 1, paddedHeight: 7, paddedWidth: 9, outHeight: 5, outWidth: 7 };
    const taps = getPaddedTaps(planes, 3, 3, [1, 1], 0, Int32Array.from({ length: 9 }, (_, r) => r));
    expect(() => gatherPaddedI16(arena, planes, 1, 0, taps, undefined, 16, 0)).toThrow(/output rows 7 wide/);
    const wide = { ...planes, width: 9, paddedWidth: 11, outWidth: 9 };
    expect(() => gatherPaddedI16(arena, wide, 1, 0, taps, 3, 8, 0)).toThrow(/10 rows into 8/);
  });
});

/**
 * @fileoverview The ideal path's convolution without the im2col (kernels.wat `narrow_padded` and `conv_i16`, wrapped by
 * WasmDirectConv) against plain TypeScript: each output position's rows read from the unpadded input (0 in the
 * padding, plus the input offset) and multiplied by the tile's integer weights, the bias row's input times its
 * weights added. Random stride-1 geometries: kernels 1×1 to 5×5, dilations, asymmetric padding, output rows not a
 * multiple of 8 wide, tiles starting and ending mid-channel, odd row counts, 1 to 13 columns, signed weights and
 * offset inputs. Its use inside the layer engine, fused finish included, is compared with the reference engine in
 * layer-engine and sim-bit-exact.
 */
import { describe, expect, it } from "vitest";
import { getPaddedTaps, padInputs, WasmDirectConv, type PaddedPlanes } from "../packages/backend-sim/src/sim/wasm/direct-conv.js";
import { KernelArena } from "../packages/backend-sim/src/sim/wasm/module.js";

function lcg(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

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

function randomCase(random: (n: number) => number): Case {
  const channels = 1 + random(4);
  const height = 1 + random(11);
  const width = 1 + random(19);
  const kernel: [number, number] = [1 + random(5), 1 + random(5)];
  const dilations: [number, number] = [1 + random(2), 1 + random(2)];
  // pads up to the kernel's reach, so that every output row has at least one position
  const pads = kernel.flatMap((k, d) => [random(k * dilations[d]!), random(k * dilations[d]!)]);
  const [padTop, padLeft, padBottom, padRight] = [pads[0]!, pads[2]!, pads[1]!, pads[3]!];
  const outHeight = height + padTop + padBottom - (kernel[0] - 1) * dilations[0];
  const outWidth = width + padLeft + padRight - (kernel[1] - 1) * dilations[1];
  if (outHeight < 1 || outWidth < 1) return randomCase(random);
  const matrixRows = channels * kernel[0] * kernel[1];
  const row0 = random(matrixRows);
  const rows = 1 + random(Math.min(31, matrixRows - row0));
  return {
    planes: { channels, height, width, padTop, padLeft, paddedHeight: height + padTop + padBottom, paddedWidth: width + padLeft + padRight, outHeight, outWidth },
    kernel, dilations, images: 1 + random(3), row0, rows, cols: 1 + random(13),
    inputOffset: random(2) === 0 ? 0 : 128, biasInput: random(2) === 0 ? undefined : 1 + random(200),
  };
}

/** Each output position's sums as gather + integer MVM give them, in plain TypeScript. */
function referenceSums(c: Case, x: Int32Array, w: Float64Array): Int32Array {
  const { planes, kernel, dilations } = c;
  const positions = planes.outHeight * planes.outWidth;
  const out = new Int32Array(c.images * positions * c.cols);
  const taps = kernel[0] * kernel[1];
  for (let b = 0; b < c.images; b++) {
    for (let y = 0; y < planes.outHeight; y++) {
      for (let xo = 0; xo < planes.outWidth; xo++) {
        const o = (b * positions + y * planes.outWidth + xo) * c.cols;
        for (let r = 0; r < c.rows; r++) {
          const m = c.row0 + r;
          const ch = Math.floor(m / taps);
          const iy = y - planes.padTop + Math.floor((m % taps) / kernel[1]) * dilations[0];
          const ix = xo - planes.padLeft + ((m % taps) % kernel[1]) * dilations[1];
          const inside = iy >= 0 && iy < planes.height && ix >= 0 && ix < planes.width;
          const v = (inside ? x[((b * planes.channels + ch) * planes.height + iy) * planes.width + ix]! : 0) + c.inputOffset;
          for (let j = 0; j < c.cols; j++) out[o + j]! += v * w[r * c.cols + j]!;
        }
        if (c.biasInput !== undefined) for (let j = 0; j < c.cols; j++) out[o + j]! += c.biasInput * w[c.rows * c.cols + j]!;
      }
    }
  }
  return out;
}

describe("the direct convolution kernel (conv_i16 on narrow_padded inputs)", () => {
  it("equals gathering each position's rows and multiplying them, on 300 random stride-1 tiles", () => {
    const random = lcg(2026);
    for (let n = 0; n < 300; n++) {
      const c = randomCase(random);
      const name = JSON.stringify(c);
      const arena = new KernelArena();
      const w = Float64Array.from({ length: (c.rows + 1) * c.cols }, () => random(255) - 127);
      const matrixRows = Int32Array.from({ length: c.rows }, (_, r) => c.row0 + r);
      const direct = new WasmDirectConv(arena, w, c.rows, c.cols, getPaddedTaps(c.planes, c.kernel[0], c.kernel[1], c.dilations, 0, matrixRows), c.biasInput);
      const { planes } = c;
      const count = c.images * planes.channels * planes.height * planes.width;
      const x = Int32Array.from({ length: count }, () => (c.inputOffset ? random(256) - 128 : random(256)));
      const xAt = arena.scratch(count * 4 + 32);
      arena.i32(xAt, count).set(x);
      const outer = c.images * planes.outHeight * planes.outWidth;
      // a sentinel row past the 7 rows of room: nothing may reach it
      const outAt = arena.scratch((outer + 8) * direct.colsPadded * 4);
      arena.i32(outAt + (outer + 7) * direct.colsPadded * 4, direct.colsPadded).fill(0x5a5a5a5a);
      direct.runAt(planes, c.images, padInputs(arena, planes, c.images, xAt, c.inputOffset), outAt);
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
});

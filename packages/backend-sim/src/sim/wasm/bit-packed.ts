/**
 * @fileoverview The plain-TypeScript bit-packed faithful read (same contract as kernel (a), WasmIntegerCellTile):
 * Int32 words, AND + a SWAR popcount, the ADC as a table, shift-and-add. A second reference for the WebAssembly
 * kernel and the baseline of its benchmark.
 */
import { buildAdcTable, checkShiftAddExact, largestAbsCode, largestColumnSum, roundClampTransfer } from "./adc-table.js";
import { checkIntegerCellArgs, checkReadArgs, isIntegerCellTile } from "./integer-cell-tile.js";
import { argError } from "./module.js";

const KERNEL = "TypeScript bit-packed read";

/** A tile's cells packed as bit-planes in 32-bit words: `[physCols, words, cellBits]`, bit r%32 of word r/32. */
export interface BitPackedTile {
  readonly rowsUsed: number;
  readonly physCols: number;
  readonly cellBits: number;
  /** 32-row words per column. */
  readonly words: number;
  /** The planes as Int32 words (Int32, not Uint32: words ≥ 2^31 would leave V8's small-integer fast path). */
  readonly planes: Int32Array;
}

/**
 * Packs `cells` `[rowsUsed, physCols]` (integer level indices), or returns undefined when a cell is not an integer in
 * [0, 2^cellBits − 1]. Throws XB6002 on inconsistent dimensions.
 */
export function packBitPackedTile(cells: Float64Array, rowsUsed: number, physCols: number, cellBits: number): BitPackedTile | undefined {
  checkIntegerCellArgs(KERNEL, cells, rowsUsed, physCols, cellBits);
  if (!isIntegerCellTile(cells, rowsUsed * physCols, cellBits)) return undefined;
  const words = Math.ceil(rowsUsed / 32);
  const planes = new Int32Array(physCols * words * cellBits);
  for (let r = 0; r < rowsUsed; r++) {
    const bit = 1 << (r & 31);
    const w = r >>> 5;
    for (let c = 0; c < physCols; c++) {
      const level = cells[r * physCols + c]!;
      const base = (c * words + w) * cellBits;
      for (let b = 0; b < cellBits; b++) if ((level >>> b) & 1) planes[base + b]! |= bit;
    }
  }
  return { rowsUsed, physCols, cellBits, words, planes };
}

/** 2^k for k = 0..32 (shift-add weights; `1 << 31` would be negative). */
const POW2 = Float64Array.from({ length: 33 }, (_, k) => 2 ** k);

/** The packed input planes of one vector, reused across calls (grown on demand). */
let inputScratch = new Int32Array(64);
/** The ADC table of the last call without an explicit table (rebuilt when the shape or the ADC range changes). */
let lastTable: { maxSum: number; adcMin: number; adcMax: number; lut: Int32Array; maxAbsCode: number } | undefined;

/**
 * = bitSerialReadImpl(xu, outer, rowsUsed, cells, physCols, steps, dacBits, adcMin, adcMax, 0, undefined, out) on a
 * packed tile, bit for bit; `table` (optional) replaces the clamp-and-round ADC (see buildAdcTable).
 *
 * The column sum of one step is Σ_j 2^j Σ_w Σ_b 2^b popcount(X_j,w & G_w,b); each popcount is SWAR (Hacker's Delight
 * §5-1) with the cell bits' byte counts weighted and added before the final byte sum, so a 2-bit cell costs one
 * multiply per word. Branch-free inner loops, no allocation per call (the last ADC table is cached).
 */
export function bitPackedReadImpl(
  tile: BitPackedTile, xu: Int32Array, outer: number, steps: number, dacBits: number, adcMin: number, adcMax: number,
  out: Float64Array, table?: Int32Array,
): Float64Array {
  const { rowsUsed, physCols, cellBits, words, planes } = tile;
  checkReadArgs(KERNEL, xu, outer, rowsUsed, physCols, steps, dacBits, out);
  const maxSum = largestColumnSum(rowsUsed, dacBits, cellBits);
  let lut: Int32Array;
  let maxAbsCode: number;
  if (table) {
    lut = table;
    maxAbsCode = largestAbsCode(table);
  } else {
    if (!lastTable || lastTable.maxSum !== maxSum || !Object.is(lastTable.adcMin, adcMin) || !Object.is(lastTable.adcMax, adcMax)) {
      const built = buildAdcTable(maxSum, roundClampTransfer(adcMin, adcMax));
      lastTable = { maxSum, adcMin, adcMax, lut: built, maxAbsCode: largestAbsCode(built) };
    }
    lut = lastTable.lut;
    maxAbsCode = lastTable.maxAbsCode;
  }
  if (!(lut.length >= maxSum + 1)) argError(KERNEL, `the ADC table has ${lut.length} entries, expected ${maxSum + 1}`);
  checkShiftAddExact(KERNEL, maxAbsCode, steps, dacBits);
  const inPlanes = steps * dacBits;
  const mask = inPlanes >= 32 ? -1 : (1 << inPlanes) - 1;
  if (inputScratch.length < inPlanes * words) inputScratch = new Int32Array(inPlanes * words);
  const packed = inputScratch;
  const colWords = words * cellBits;
  for (let o = 0; o < outer; o++) {
    // the input vector's bit-planes: bit r of plane i = bit i of x_u[o, r]
    packed.fill(0, 0, inPlanes * words);
    const xBase = o * rowsUsed;
    for (let r = 0; r < rowsUsed; r++) {
      let v = xu[xBase + r]! & mask;
      const bit = 1 << (r & 31);
      const w = r >>> 5;
      while (v !== 0) {
        const i = 31 - Math.clz32(v & -v);
        packed[i * words + w]! |= bit;
        v &= v - 1;
      }
    }
    const oBase = o * physCols;
    if (dacBits === 1 && cellBits === 2) readCells2(planes, packed, physCols, words, steps, lut, out, oBase);
    else if (dacBits === 1 && cellBits === 1) readCells1(planes, packed, physCols, words, steps, lut, out, oBase);
    else readGeneric(planes, packed, physCols, words, cellBits, colWords, steps, dacBits, lut, out, oBase);
  }
  return out;
}

/** One vector through 2-bit cells, 1-bit DAC: per column, per step, Σ_w popcnt(x & g0) + 2·popcnt(x & g1). */
function readCells2(planes: Int32Array, packed: Int32Array, physCols: number, words: number, steps: number, lut: Int32Array, out: Float64Array, oBase: number): void {
  const colWords = 2 * words;
  for (let c = 0; c < physCols; c++) {
    const gBase = c * colWords;
    let acc = 0;
    for (let t = 0, xb = 0; t < steps; t++, xb += words) {
      let s = 0;
      for (let w = 0; w < words; w++) {
        const x = packed[xb + w]!;
        let a = x & planes[gBase + 2 * w]!;
        let b = x & planes[gBase + 2 * w + 1]!;
        a = (a - ((a >>> 1) & 0x55555555)) | 0;
        b = (b - ((b >>> 1) & 0x55555555)) | 0;
        a = (a & 0x33333333) + ((a >>> 2) & 0x33333333);
        b = (b & 0x33333333) + ((b >>> 2) & 0x33333333);
        // byte counts ≤ 8 + 2·8 = 24, so the four bytes' total (≤ 96) fits the multiply's top byte
        const bytes = ((a + (a >>> 4)) & 0x0f0f0f0f) + (((b + (b >>> 4)) & 0x0f0f0f0f) << 1);
        s += Math.imul(bytes, 0x01010101) >>> 24;
      }
      acc += POW2[t]! * lut[s]!;
    }
    out[oBase + c] = acc;
  }
}

/** One vector through 1-bit cells, 1-bit DAC: per column, per step, Σ_w popcnt(x & g). */
function readCells1(planes: Int32Array, packed: Int32Array, physCols: number, words: number, steps: number, lut: Int32Array, out: Float64Array, oBase: number): void {
  for (let c = 0; c < physCols; c++) {
    const gBase = c * words;
    let acc = 0;
    for (let t = 0, xb = 0; t < steps; t++, xb += words) {
      let s = 0;
      for (let w = 0; w < words; w++) {
        let a = packed[xb + w]! & planes[gBase + w]!;
        a = (a - ((a >>> 1) & 0x55555555)) | 0;
        a = (a & 0x33333333) + ((a >>> 2) & 0x33333333);
        s += Math.imul((a + (a >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      }
      acc += POW2[t]! * lut[s]!;
    }
    out[oBase + c] = acc;
  }
}

/** One vector, any cell width and DAC width: full SWAR popcount per (word, cell bit), weighted by 2^(j+b). */
function readGeneric(planes: Int32Array, packed: Int32Array, physCols: number, words: number, cellBits: number, colWords: number, steps: number, dacBits: number,
  lut: Int32Array, out: Float64Array, oBase: number): void {
  for (let c = 0; c < physCols; c++) {
    const gBase = c * colWords;
    let acc = 0;
    let xb = 0;
    for (let t = 0; t < steps; t++) {
      let sum = 0;
      for (let j = 0; j < dacBits; j++, xb += words) {
        for (let w = 0; w < words; w++) {
          const x = packed[xb + w]!;
          const g = gBase + w * cellBits;
          for (let b = 0; b < cellBits; b++) {
            let a = x & planes[g + b]!;
            a = (a - ((a >>> 1) & 0x55555555)) | 0;
            a = (a & 0x33333333) + ((a >>> 2) & 0x33333333);
            sum += (Math.imul((a + (a >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) << (j + b);
          }
        }
      }
      acc += POW2[t * dacBits]! * lut[sum]!;
    }
    out[oBase + c] = acc;
  }
}

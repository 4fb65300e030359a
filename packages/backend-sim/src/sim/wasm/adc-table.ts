/**
 * @fileoverview The ADC of a bit-packed faithful read as a lookup table indexed by the integer column sum, so that
 * any transfer function (clamp-and-round, a non-linear or offset ADC) costs the same one load per conversion.
 */
import { XbarcError } from "@xbarc/ir";

/** An ADC transfer function: the integer code of an integer column sum I ≥ 0. */
export type AdcTransfer = (columnSum: number) => number;

/**
 * The ADC of bitSerialReadImpl: code = clamp(Math.round(I), adcMin, adcMax) (adcMin/adcMax integers or ±Infinity:
 * ±Infinity is a lossless ADC).
 */
export function roundClampTransfer(adcMin: number, adcMax: number): AdcTransfer {
  if (!(Number.isInteger(adcMin) || adcMin === -Infinity) || !(Number.isInteger(adcMax) || adcMax === Infinity) || (adcMin === Infinity) || adcMax === -Infinity) {
    throw new XbarcError("XB6002", `ADC range [${adcMin}, ${adcMax}]: expected integer bounds or ±Infinity`, {
      hint: "use [0, 2^adc_bits − 1], or [−Infinity, Infinity] for a lossless ADC",
    });
  }
  return (sum) => {
    let code = Math.round(sum);
    if (code < adcMin) code = adcMin;
    else if (code > adcMax) code = adcMax;
    return code;
  };
}

/** Largest integer column sum of one read: rows · (2^dacBits − 1) · (2^cellBits − 1). */
export function largestColumnSum(rows: number, dacBits: number, cellBits: number): number {
  return rows * (2 ** dacBits - 1) * (2 ** cellBits - 1);
}

/**
 * table[I] = transfer(I) for I = 0..maxSum, as Int32. Throws XB6002 if a code is not an integer within ±2^31 (an
 * unbounded lossless ADC stays exact: its codes are the sums themselves).
 */
export function buildAdcTable(maxSum: number, transfer: AdcTransfer): Int32Array {
  const table = new Int32Array(maxSum + 1);
  for (let i = 0; i <= maxSum; i++) {
    const code = transfer(i);
    if (!Number.isInteger(code) || code < -(2 ** 31) || code >= 2 ** 31) {
      throw new XbarcError("XB6002", `ADC table: the code of column sum ${i} is ${code}, expected an integer within ±2^31`, {
        hint: "give the ADC transfer function integer codes",
      });
    }
    table[i] = code;
  }
  return table;
}

/** Largest |code| in a table. */
export function largestAbsCode(table: Int32Array): number {
  let max = 0;
  for (let i = 0; i < table.length; i++) max = Math.max(max, Math.abs(table[i]!));
  return max;
}

/**
 * Throws XB6002 unless every shift-added output Σ_t 2^(t·db)·code_t stays below 2^53 in magnitude (where float64 and
 * the kernels' integer registers agree exactly); `maxAbsCode` is largestAbsCode of the ADC table.
 */
export function checkShiftAddExact(kernel: string, maxAbsCode: number, steps: number, dacBits: number): void {
  const bound = maxAbsCode * (2 ** (steps * dacBits) - 1) / (2 ** dacBits - 1);
  if (bound >= 2 ** 53) {
    throw new XbarcError("XB6002", `${kernel}: ${steps} steps of ${dacBits} bits with ADC codes up to ${maxAbsCode} can reach ${bound}, beyond exact integers (2^53)`, {
      hint: "use fewer input bits or a narrower ADC, or keep the TypeScript kernel",
    });
  }
}

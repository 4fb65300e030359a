/**
 * @fileoverview Canonical number printing for the IR text: the shortest decimal that reads back to the same
 * value in the element's own precision (f16, f32, f64), so print → parse → print is the identity.
 */
import { floatToHalf } from "../tensor.js";

/** `nan`, `inf`, `-inf` and `-0` have no JS `String` spelling that reads back, so they get their own words. */
function formatSpecial(x: number): string | undefined {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  return undefined;
}

/**
 * The shortest decimal `s` (fewest significant digits) with `roundTo(Number(s)) === roundTo(x)`.
 * `toPrecision(p)` gives the nearest p-digit decimal; `String(Number(...))` then spells it the way JS does.
 */
function shortestReadingBack(x: number, roundTo: (v: number) => number, maxDigits: number): string {
  const target = roundTo(x);
  for (let p = 1; p <= maxDigits; p++) {
    const candidate = Number(x.toPrecision(p));
    if (roundTo(candidate) === target) return String(candidate);
  }
  return String(x);
}

/** A double as the shortest decimal that reads back to it (JS `String`), with `nan`, `inf`, `-inf`, `-0`. */
export function formatNumber(x: number): string {
  return formatSpecial(x) ?? String(x);
}

/** A float32 value as the shortest decimal that reads back to the same `Math.fround`. */
export function formatNumberF32(x: number): string {
  const f = Math.fround(x);
  // 9 significant digits always identify a float32
  return formatSpecial(f) ?? shortestReadingBack(f, Math.fround, 9);
}

/** A float16 value (already decoded to a number) as the shortest decimal that reads back to the same half. */
export function formatNumberF16(x: number): string {
  const special = formatSpecial(x);
  if (special !== undefined) return special;
  // compare half bit patterns: floatToHalf is the same conversion the parser uses
  return shortestReadingBack(x, floatToHalf, 17);
}

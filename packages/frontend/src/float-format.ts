/** @fileoverview Float32 attribute values as the shortest decimal that reads back to the same float32. */

/**
 * The shortest decimal (as a JS number) that rounds to the same float32 as `x`: ONNX stores float
 * attributes as float32, so LeakyRelu's alpha arrives as 0.009999999776482582 and we keep 0.01.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const f = Math.fround(x);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  // 9 significant digits always identify a float32, so this is never reached
  return f;
}

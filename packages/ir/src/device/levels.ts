/** @fileoverview Conductance levels of a cell from its profile: measured, or from the models of Huang et al. 2022. */
import type { CellSpec } from "./profile.js";

/** Shape f(k), k = 1..L, of each level model before scaling to siemens. */
function levelShape(spec: CellSpec["levels"], k: number): number {
  switch (spec.model) {
    // Huang et al., Micromachines 13:667 (2022), eq. 10: g_k = C·k + δ_k; δ_k alternates sign so the
    // deviation is deterministic: δ_k = (−1)^k · δ · C
    case "deviated-linear": return k + (k % 2 === 0 ? spec.delta : -spec.delta);
    // eq. 10: g_k = C·k^a
    case "power": return k ** spec.a;
    // eq. 10: g_k = C·a^k
    case "exponential": return spec.a ** k;
    // eq. 9: g_k = A·e^{s·k}
    case "e-exponential": return Math.exp(spec.s * k);
    case "linear":
    case "listed":
      return k;
  }
}

/**
 * The cell's conductance levels in siemens, increasing. Listed levels are taken as given. `linear` spaces
 * levels evenly from g_min to g_max (Halawani et al., IEEE Access: levels within the dynamic range).
 * The non-linear models are evaluated at k = 1..L and scaled so the top level is g_max (C = g_max / f(L));
 * their g_min then follows from the model and is reported, not imposed.
 */
export function getLevels(cell: CellSpec): Float64Array {
  const spec = cell.levels;
  if (spec.model === "listed") return Float64Array.from(spec.values);
  const count = spec.count;
  const out = new Float64Array(count);
  if (spec.model === "linear") {
    for (let k = 0; k < count; k++) out[k] = count === 1 ? cell.g_max : cell.g_min + ((cell.g_max - cell.g_min) * k) / (count - 1);
    return out;
  }
  const top = levelShape(spec, count);
  for (let k = 1; k <= count; k++) out[k - 1] = (cell.g_max * levelShape(spec, k)) / top;
  return out;
}

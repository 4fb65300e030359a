/** @fileoverview The pass registry: every pass by its kebab-case name, as the CLI, pipeline strings and dumps spell it. */
import type { AnyPass } from "./pass.js";
import { canonicalize } from "./canonicalize/index.js";
import { quantize } from "./quantize/index.js";
import { assignLevels } from "./assign-levels/index.js";
import { tile } from "./tile/index.js";
import { bitSlice } from "./bit-slice/index.js";
import { placeTruncation } from "./place-truncation/index.js";
import { prune } from "./prune/index.js";

const passes = new Map<string, AnyPass>();

/** Adds a pass; names are kebab-case and unique. Tests register test-only passes with names of their own. */
export function registerPass(pass: AnyPass): void {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(pass.name)) {
    throw new Error(`pass name "${pass.name}" must be kebab-case`);
  }
  const existing = passes.get(pass.name);
  if (existing && existing !== pass) throw new Error(`a different pass named "${pass.name}" is already registered`);
  passes.set(pass.name, pass);
}

/** The pass called `name`, or undefined. */
export function getPass(name: string): AnyPass | undefined {
  return passes.get(name);
}

/** Every registered pass, in registration order (built-in passes first, in pipeline order). */
export function listPasses(): AnyPass[] {
  return [...passes.values()];
}

// built-in passes, in the order they run in the default pipeline
registerPass(canonicalize);
// quantize before assign-levels: levels need the codebook and each code's cell states (#quant)
registerPass(quantize as AnyPass);
registerPass(assignLevels as AnyPass);
// tile after quantize: tile sizes count physical columns, S = ceil(W_WL / cell_bits) per output column, and W_WL
// is read from #quant (tile computes S itself, so it does not need bit-slice's output)
registerPass(tile as AnyPass);
// bit-slice after tile: tile sizes already account for the slices, and only tiled layers are sliced (#tiles)
registerPass(bitSlice as AnyPass);
// place-truncation after bit-slice: windows depend on rows per tile (log2 R); it fixes the input formats bit-slice
// left provisional and re-slices a layer whose W_FL Algorithm 1 changes
registerPass(placeTruncation as AnyPass);
// prune after canonicalize and before quantize: the codebook is fitted to the surviving weights only (registered
// last so the built-in order above stays as it was; pipelines, not registration order, decide where it runs)
registerPass(prune as AnyPass);

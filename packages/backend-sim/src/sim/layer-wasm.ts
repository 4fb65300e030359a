/**
 * @fileoverview The WebAssembly layer engine: all tiles of a weight layer run inside one WebAssembly memory per
 * instance — a layer whose tiles are all on the fast path a few images at a time, so that its accumulators stay in the
 * cache; the layer's inputs converted once, each row range gathered (im2col) once for every tile that reads it
 * (on the fast path in pieces, each multiplied while in the cache; for a small stride-1 convolution
 * tile on the fast path, its input padded once and read in place),
 * each row range's column tiles read together (one fast MVM, or one faithful bit-serial read of their cells side by
 * side, of each distinct vector once on a convolution) and each tile finished
 * (slice combine, signed-input correction, truncation window, scatter-add into the layer's accumulators) without
 * leaving it; only the layer's result is copied out (a fused tail's x_int stays for the next layer). Every step is the
 * TypeScript reference's arithmetic in the same order (kernels.wat; only integer contributions, exact in any order,
 * are added group by group or in i32), so results are equal bit for bit; layers it does not take (compacted maps, read
 * noise, recorded integers, weights or inputs outside the i16 MVM) stay with the reference engine.
 */
import type { Program, ScheduleOp } from "../program/types.js";
import type { SimInstance } from "./instance.js";
import { getIntegerRange, WIDEST_WRAP } from "../fixed-point/kernels.js";
import type { Epilogue } from "./epilogue.js";
import { getEffectiveWeights, type LayerPlan, type TilePlan } from "./layer-plan.js";
import { WasmFloatCellTile } from "./wasm/float-cell-tile.js";
import { WasmIntegerCellTile } from "./wasm/integer-cell-tile.js";
import { WasmIntegerMvm, type FusedFinish } from "./wasm/integer-mvm.js";
import { channelChunkOrder, gatherPaddedI16, padInputs, paddedImageElements, WasmDirectConv } from "./wasm/direct-conv.js";
import { KernelArena } from "./wasm/module.js";

/**
 * A layer's input integers x_int held in an instance's memory as i32: quantized there (quantizeLayerInputWasm), or
 * left there by the previous layer's fused tail (accumulateLayerWasm).
 */
export interface WasmLayerInput {
  readonly owner: InstanceArena;
  readonly at: number;
  readonly length: number;
  /** range over 0 and the values */
  readonly min: number;
  readonly max: number;
}

/** A held layer input as float64 (its values are integers within i32, so exactly), for readers outside the engine. */
export function readLayerInput(input: WasmLayerInput): Float64Array {
  return Float64Array.from(input.owner.arena.i32(input.at, input.length));
}

/** A tile's schedule ops as recorded until its layer's accumulate. */
export interface PendingTile {
  readonly plan: TilePlan;
  /** the layer's input integers x_int (the mvm op's `from`): as float64, or already in the instance's memory */
  readonly x: Float64Array | WasmLayerInput;
  readonly inputOffset: number;
  readonly steps: number;
  readonly dacBits: number;
  /** set by the adc op */
  read?: { readonly fast: boolean; readonly adcMin: number; readonly adcMax: number };
  /** set by the shift-add op */
  shiftAdd?: { readonly slices: number; readonly cellBits: number };
  /** set by the truncate op */
  truncate?: { readonly dL: number; readonly oRwl: number };
  /** the tile's schedule ops so far, for the reference engine to replay when this engine cannot take the layer */
  readonly ops: Extract<ScheduleOp, { op: "mvm" | "adc" | "shift-add" | "truncate" }>[];
}

/** The digital ops after a layer's accumulate that the engine runs with it: the digital bias (if any) and a fused chain. */
export interface LayerTail {
  /** per output channel, added before the move (the layer's digital bias) */
  readonly bias?: ArrayLike<number>;
  /** its max pool, if any, reads the layer's output positions (pool plane = layer positions) */
  readonly epilogue: Epilogue;
}

/**
 * One MVM for a group of fast-path column tiles, and each tile's max |W_eff| (for its own accumulation bound); for a
 * stride-1 convolution also the same sums without the im2col (used where they measured faster, see directConvPays).
 */
interface FastGroup {
  readonly mvm: WasmIntegerMvm;
  readonly maxAbsWeights: readonly number[];
  readonly direct?: WasmDirectConv;
  /** the taps of the rows gathered for the MVM eight positions at a time (gatherPaddedI16), in its rows' order */
  readonly gatherTaps?: Int32Array;
}

/** One instance's arena and the tiles packed into it, per path. */
interface InstanceArena {
  readonly arena: KernelArena;
  /** the fast path's MVMs, one per group of column tiles (key: their ids) */
  readonly fast: Map<string, FastGroup | null>;
  /** the faithful path's reads, one per group of column tiles (key: their ids) */
  readonly faithful: Map<string, WasmIntegerCellTile | WasmFloatCellTile>;
  /** per quantize op (schedule index): where its i32 x_int lives, reused by every pass, and how many it holds */
  readonly inputs: Map<number, { readonly at: number; readonly capacity: number }>;
}

const arenas = new WeakMap<SimInstance, InstanceArena>();

/** Arenas of released instances, reused before a new WebAssembly memory is made (a Monte Carlo run each samples one). */
const spareArenas: KernelArena[] = [];
const MAX_SPARE_ARENAS = 2;

function getInstanceArena(instance: SimInstance): InstanceArena {
  let a = arenas.get(instance);
  if (!a) arenas.set(instance, (a = { arena: spareArenas.pop() ?? new KernelArena(), fast: new Map(), faithful: new Map(), inputs: new Map() }));
  return a;
}

/**
 * Hands the WebAssembly memory holding an instance's packed tiles to the next instance, once the caller has finished
 * simulating it: Monte Carlo loops then reuse a few memories instead of leaving one per run to the garbage collector.
 * Simulating the instance again afterwards packs its tiles anew.
 */
export function releaseInstanceKernels(instance: SimInstance): void {
  const a = arenas.get(instance);
  if (!a) return;
  arenas.delete(instance);
  a.arena.reset();
  if (spareArenas.length < MAX_SPARE_ARENAS) spareArenas.push(a.arena);
}

/**
 * A tile's packed kernel. The column tiles of one row range (same input rows, offset and bias row; on the faithful
 * path also the same steps and ADC) share one MVM or one read over all their columns, run once for them all: the
 * tile's columns start at `colOffset` in its output.
 */
type TileKernel = { readonly members: readonly number[]; readonly colOffset: number } & (
  | { readonly kind: "fast"; readonly mvm: WasmIntegerMvm; readonly maxAbsWeight: number; readonly direct?: WasmDirectConv; readonly gatherTaps?: Int32Array }
  | { readonly kind: "faithful"; readonly tile: WasmIntegerCellTile | WasmFloatCellTile });

/**
 * The tiles of `pending` on the fast path (or on the faithful path) grouped by the input rows they read (a row
 * range's column tiles; faithful ones also by steps and ADC), in recording order; every group's tiles use the same
 * rows. A faithful read costs per vector and step whatever its width, so one read of the group's columns saves the
 * narrow tiles' reads (a layer's last column tile, often 8 or 12 columns wide).
 */
function groupTiles(pending: ReadonlyMap<number, PendingTile>, fast: boolean): number[][] {
  const inputIds = new Map<PendingTile["x"], number>();
  const groups = new Map<string, number[]>();
  for (const [id, p] of pending) {
    if (p.read?.fast !== fast) continue;
    const t = p.plan.tile;
    if (!inputIds.has(p.x)) inputIds.set(p.x, inputIds.size);
    const read = fast ? "" : `:${p.steps}:${p.dacBits}:${p.read.adcMin}:${p.read.adcMax}`;
    const key = `${inputIds.get(p.x)}:${t.group}:${t.row0}:${t.rows}:${t.rows_used}:${t.bias_row}:${p.inputOffset}${read}`;
    const group = groups.get(key);
    if (group) group.push(id);
    else groups.set(key, [id]);
  }
  return [...groups.values()];
}

/** Row-major `[rows, cols]` matrices side by side, in order: one `[rows, Σ cols]` matrix (a group's tiles' columns). */
function sideBySide(rows: number, parts: readonly { readonly data: Float64Array; readonly cols: number }[]): Float64Array {
  const width = parts.reduce((n, part) => n + part.cols, 0);
  const out = new Float64Array(rows * width);
  let col0 = 0;
  for (const { data, cols } of parts) {
    for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols, (r + 1) * cols), r * width + col0);
    col0 += cols;
  }
  return out;
}

/**
 * The one MVM of a group of fast-path column tiles (W_eff side by side, in the group's order) and each tile's
 * max |W_eff|, or null when their weights do not fit the i16 MVM.
 */
function getGroupMvm(ia: InstanceArena, layer: LayerPlan, members: readonly PendingTile[], instance: SimInstance, program: Program): FastGroup | null {
  const key = members.map((p) => p.plan.tile.id).join(",");
  let group = ia.fast.get(key);
  if (group === undefined) {
    const rows = members[0]!.plan.tile.rows_used;
    const parts = members.map((p) => ({ data: getEffectiveWeights(instance, p.plan, program), cols: p.plan.tile.cols }));
    const maxAbsWeights = parts.map(({ data, cols }) => {
      let maxAbs = 0;
      for (let i = 0; i < rows * cols; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i]!));
      return maxAbs;
    });
    const cols = parts.reduce((n, part) => n + part.cols, 0);
    const w = sideBySide(rows, parts);
    const t = members[0]!.plan.tile;
    const taps = members[0]!.plan.paddedTaps;
    // rows gathered eight positions at a time are multiplied in channelChunkOrder (its weights' rows likewise)
    const order = taps && layer.paddedPlanes && layer.paddedPlanes.outWidth >= 8 ? channelChunkOrder(taps, layer.paddedPlanes) : undefined;
    const mvm = WasmIntegerMvm.pack(order ? reorderRows(w, cols, order) : w, rows, cols, ia.arena);
    const direct = mvm && taps && !layer.compacted && directConvPays(t.rows)
      ? new WasmDirectConv(ia.arena, w, t.rows, cols, taps, t.bias_row ? layer.biasInput : undefined)
      : undefined;
    group = mvm ? { mvm, maxAbsWeights, ...(direct ? { direct } : {}), ...(order ? { gatherTaps: order.map((r) => taps![r]!) } : {}) } : null;
    ia.fast.set(key, group);
  }
  return group;
}

/** `w` `[rows, cols]` with its first order.length rows in `order` (row i is w's row order[i]); the rest in place. */
function reorderRows(w: Float64Array, cols: number, order: Int32Array): Float64Array {
  const out = Float64Array.from(w);
  order.forEach((r, i) => out.set(w.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}

/** The packed cells of a group of faithful-path column tiles, side by side in the group's order. */
function getFaithfulGroupTile(ia: InstanceArena, members: readonly PendingTile[], instance: SimInstance, cellBits: number): WasmIntegerCellTile | WasmFloatCellTile {
  const key = members.map((p) => p.plan.tile.id).join(",");
  let tile = ia.faithful.get(key);
  if (!tile) {
    const rows = members[0]!.plan.tile.rows_used;
    const parts = members.map((p) => ({ data: instance.cellValues[p.plan.tile.id]!, cols: p.plan.tile.cols_used }));
    const cols = parts.reduce((n, part) => n + part.cols, 0);
    const cells = parts.length === 1 ? parts[0]!.data : sideBySide(rows, parts);
    tile = WasmIntegerCellTile.pack(cells, rows, cols, cellBits, ia.arena) ?? WasmFloatCellTile.pack(cells, rows, cols, ia.arena);
    ia.faithful.set(key, tile);
  }
  return tile;
}

/**
 * Runs the recorded tiles of `layer` (in recording order) and returns the layer's accumulators `[outNumel]` — what
 * the reference engine's accumulate builds — or, given the layer's `tail`, what that tail's quantize produces (the
 * next layer's x_int, [batch, channels, ...], held in this memory when it fits i32); or undefined when a tile cannot run here (nothing has changed then,
 * and the caller replays the tiles through the reference engine).
 */
export function accumulateLayerWasm(
  layer: LayerPlan, pending: ReadonlyMap<number, PendingTile>, instance: SimInstance, program: Program, tail?: LayerTail,
): Float64Array | WasmLayerInput | undefined {
  const ia = getInstanceArena(instance);
  const { arena } = ia;
  const cellBits = layer.record.formats.weight.cell_bits;
  // pack first: packing allocates persistently, which scratch must not be in use for
  const kernels = new Map<number, TileKernel>();
  for (const p of pending.values()) if (!p.read || !p.shiftAdd) return undefined;
  for (const members of groupTiles(pending, false)) {
    const tiles = members.map((id) => pending.get(id)!);
    const tile = getFaithfulGroupTile(ia, tiles, instance, cellBits);
    let colOffset = 0;
    for (const p of tiles) {
      kernels.set(p.plan.tile.id, { kind: "faithful", tile, members, colOffset });
      colOffset += p.plan.tile.cols_used;
    }
  }
  for (const members of groupTiles(pending, true)) {
    const tiles = members.map((id) => pending.get(id)!);
    const group = getGroupMvm(ia, layer, tiles, instance, program);
    if (!group) return undefined;
    let colOffset = 0;
    tiles.forEach((p, i) => {
      kernels.set(p.plan.tile.id, {
        kind: "fast", mvm: group.mvm, members, colOffset, maxAbsWeight: group.maxAbsWeights[i]!,
        ...(group.direct ? { direct: group.direct } : {}), ...(group.gatherTaps ? { gatherTaps: group.gatherTaps } : {}),
      });
      colOffset += p.plan.tile.cols;
    });
  }
  // the tail's x_int stays in this memory for the next layer: its region, like a quantize op's, is kept for every pass
  const held = tail ? getInputRegion(ia, tail.epilogue.end, tailOutputLength(tail, layer)) : undefined;
  const mark = arena.mark();
  try {
    const { outer } = layer;
    // the layer's inputs, each converted once, with their range (the fast path's bounds need it)
    const inputs = new Map<PendingTile["x"], { at: number; min: number; max: number }>();
    for (const p of pending.values()) {
      if (inputs.has(p.x)) continue;
      // an input quantized into another memory (its instance was released meanwhile) is left to the reference engine
      if (!(p.x instanceof Float64Array) && p.x.owner !== ia) return undefined;
      inputs.set(p.x, p.x instanceof Float64Array ? convertInput(arena, p.x) : p.x);
    }
    // largest |input| a tile's rows are driven with (padding reads 0 + offset; the bias row its input)
    const largestInput = (p: PendingTile): number => {
      const x = inputs.get(p.x)!;
      return Math.max(Math.abs(x.min + p.inputOffset), Math.abs(x.max + p.inputOffset), Math.abs(p.inputOffset), p.plan.tile.bias_row ? Math.abs(layer.biasInput) : 0);
    };
    for (const [id, p] of pending) {
      const k = kernels.get(id)!;
      if (k.kind === "fast" && largestInput(p) > k.mvm.maxInput) return undefined;
    }
    const integerAcc = fitsIntegerAccumulation(pending, kernels, largestInput);
    const channels = layer.outChannels;
    // a convolution's vectors come image by image (positions), a linear layer's one per image
    const images = layer.isConv ? layer.batch : outer;
    const perImage = outer / images;
    const imageStride = layer.isConv ? layer.inChannels * layer.plane : layer.plane;
    const integerForm = tail && integerTail(tail, integerAcc, ...getIntegerRange(tail.epilogue.quantize.bits, tail.epilogue.quantize.signed));
    // a few images at a time where every tile is on the fast path in i32 (the faithful path's reads of distinct
    // vectors gain from the whole pass) and the tail stays in i32: each tile's sums, and the tail, then find the
    // chunk's accumulators in the cache
    const chunked = integerAcc && [...kernels.values()].every((k) => k.kind === "fast") && (!tail || integerForm !== undefined);
    const chunk = chunked ? Math.max(1, Math.floor(ACCUMULATOR_CHUNK_BYTES / (perImage * channels * 4))) : images;
    const chunkOuter = Math.min(chunk, images) * perImage;
    // accumulators position-major [outer, channels], so that each tile adds contiguous rows; transposed at the end
    const accBytes = chunkOuter * channels * (integerAcc ? 4 : 8);
    // + 32: the epilogue reads i32 channels in eights, up to seven elements past the last row (f64: three); an MVM
    // that finishes its sums itself adds 0s up to seven past it
    const accAt = arena.scratch(accBytes + 32);
    // each vector's accumulator row, for the f64 finish only (filling it took a tenth of LeNet-5's ideal pass in JS)
    const f64Finish = !integerAcc || [...kernels.values()].some((k) => k.kind === "faithful" && !(k.tile instanceof WasmFloatCellTile));
    const outBaseAt = f64Finish ? arena.scratch(chunkOuter * 4) : 0;
    if (f64Finish) {
      const outBase = arena.i32(outBaseAt, chunkOuter);
      for (let o = 0; o < chunkOuter; o++) outBase[o] = o * channels;
    }
    // a stride-1 convolution's inputs padded, i16 (fast path) or i32, once per layer input, before any chunk's scratch
    const padded = new Map<string, number>();
    const paddedKey = (at: number, inputOffset: number, narrow: boolean): string => `${at}:${inputOffset}:${narrow}`;
    for (const [id, p] of pending) {
      const narrow = kernels.get(id)!.kind === "fast";
      const { at } = inputs.get(p.x)!;
      const key = paddedKey(at, p.inputOffset, narrow);
      if (layer.paddedPlanes && p.plan.paddedRuns && !padded.has(key)) padded.set(key, padInputs(arena, layer.paddedPlanes, layer.batch, at, p.inputOffset, narrow));
    }
    const paddedInput = (at: number, inputOffset: number, narrow: boolean): number => padded.get(paddedKey(at, inputOffset, narrow))!;
    /**
     * The rows tile p reads, of images [b0, b0 + count), into xuAt: i16 `[count·positions, narrowPadded]` (the fast
     * path's MVM), or i32 `[count·positions, rows_used]` (narrowPadded 0); a stride-1 convolution's from its input
     * padded at paddedAt (paddedInput, i16 when narrowPadded ≠ 0), others' from x. gatherTaps: the fast group's, when
     * its rows come eight positions at a time (in its MVM's row order).
     */
    const gatherRows = (p: PendingTile, gatherTaps: Int32Array | undefined, x: { at: number }, paddedAt: number, narrowPadded: number, b0: number, count: number,
      xuAt: number): void => {
      const t = p.plan.tile;
      const { starts, runs } = p.plan.inputRuns;
      const planes = layer.paddedPlanes;
      const { paddedRuns } = p.plan;
      const biasRow = t.bias_row ? 1 : 0;
      const mark = arena.mark();
      if (planes && gatherTaps && narrowPadded) {
        // eight positions at a time, a group of eight rows transposed (fewer moves than a run of a kernel row each)
        gatherPaddedI16(arena, planes, count, paddedAt + b0 * paddedImageElements(planes) * 2, gatherTaps, t.bias_row ? layer.biasInput : undefined,
          narrowPadded, xuAt);
      } else if (planes && paddedRuns) {
        // a stride-1 convolution: every position reads the same runs from its window of the padded input (no runs
        // cut at the padding, no table per position)
        const firstAt = paddedAt + b0 * paddedImageElements(planes) * (narrowPadded ? 2 : 4);
        const runsAt = arena.scratch(paddedRuns.length * 4);
        arena.i32(runsAt, paddedRuns.length).set(paddedRuns);
        arena.exports.gather_padded(firstAt, count, paddedImageElements(planes), planes.outHeight, planes.outWidth, planes.paddedWidth, runsAt,
          paddedRuns.length / 2, t.rows, biasRow, layer.biasInput, narrowPadded, xuAt);
      } else if (runs.length <= p.plan.inputOffsets.length) {
        // runs pay off once they average ≥ 2 rows (kernel rows of a conv, a linear layer's rows)
        const startsAt = arena.scratch(starts.length * 4);
        arena.i32(startsAt, starts.length).set(starts);
        const runsAt = arena.scratch(runs.length * 4);
        arena.i32(runsAt, runs.length).set(runs);
        arena.exports.gather_runs(x.at + b0 * imageStride * 4, count, imageStride, layer.positions, startsAt, runsAt, t.rows, biasRow, layer.biasInput,
          p.inputOffset, narrowPadded, xuAt);
      } else {
        const offsets = p.plan.inputOffsets;
        const offsetsAt = arena.scratch(offsets.length * 4);
        arena.i32(offsetsAt, offsets.length).set(offsets);
        arena.exports.gather(x.at + b0 * imageStride * 4, count, imageStride, layer.positions, offsetsAt, t.rows, biasRow, layer.biasInput, p.inputOffset,
          narrowPadded, xuAt);
      }
      arena.release(mark);
    };
    // each fast group's fused finish (corrections in scratch), made once for every chunk
    const fusedFinishes = new Map<number, Omit<FusedFinish, "accAt" | "accStride">>();
    for (const [id, k] of kernels) {
      if (k.kind !== "fast" || !integerAcc || id !== k.members[0]) continue;
      const fused = fusedFinish(arena, layer, k, pending, kernels);
      if (fused) fusedFinishes.set(id, fused);
    }
    // the tail's bias and pool tables, likewise
    const tailAt = tail ? tailTables(arena, tail, layer.outChannels, integerForm !== undefined) : undefined;
    /** Every tile's sums of images [b0, b0 + count) into the accumulators (the chunk's, zeroed first). */
    const runTiles = (b0: number, count: number): void => {
      const n = count * perImage;
      arena.bytes.fill(0, accAt, accAt + n * channels * (integerAcc ? 4 : 8));
      const gathered = new Map<string, Gathered>();
      for (const [id, p] of pending) {
        const k = kernels.get(id)!;
        // a group of column tiles runs its MVM or read once, at its first tile, which finishes them all: every
        // contribution is an integer (exact in f64 or i32), so adding them in any order gives the same sums
        if (id !== k.members[0]) continue;
        const t = p.plan.tile;
        const x = inputs.get(p.x)!;
        if (k.kind === "fast" && integerAcc && k.direct) {
          const { direct } = k;
          // the sums straight from the padded inputs
          const planes = layer.paddedPlanes!;
          const paddedAt = paddedInput(x.at, p.inputOffset, true);
          const tileMark = arena.mark();
          const fused = fusedFinishes.get(id);
          if (fused) direct.runAt(planes, count, paddedAt + b0 * paddedImageElements(planes) * 2, 0, { ...fused, accAt, accStride: channels });
          else {
            const outAt = arena.scratch((n + 7) * direct.colsPadded * 4);
            direct.runAt(planes, count, paddedAt + b0 * paddedImageElements(planes) * 2, outAt);
            for (const member of k.members) {
              const { colOffset } = kernels.get(member)!;
              finishTileI32(arena, layer, pending.get(member)!, outAt + colOffset * 4, direct.colsPadded, n, accAt);
            }
          }
          arena.release(tileMark);
          continue;
        }
        // the fast path's MVM takes i16 inputs, gathered narrowed (every input fits, checked above)
        const narrowPadded = k.kind === "fast" ? k.mvm.rowsPadded : 0;
        const paddedAt = layer.paddedPlanes && p.plan.paddedRuns ? paddedInput(x.at, p.inputOffset, narrowPadded !== 0) : 0;
        const fused = fusedFinishes.get(id);
        if (k.kind === "fast" && fused) {
          // a few images at a time, so that their gathered rows are still in the cache when the MVM reads them (a
          // 64-image pass of the CNN fixture's second convolution gathers 13 MB)
          const piece = Math.max(1, Math.floor(GATHER_CHUNK_BYTES / (perImage * narrowPadded * 2)));
          const xuAt = arena.scratch(Math.min(piece, count) * perImage * narrowPadded * 2 + 32);
          for (let i = 0; i < count; i += piece) {
            const m = Math.min(piece, count - i);
            gatherRows(p, k.gatherTaps, x, paddedAt, narrowPadded, b0 + i, m, xuAt);
            k.mvm.mvmNarrowAt(xuAt, m * perImage, 0, true, { ...fused, accAt: accAt + i * perImage * channels * 4, accStride: channels });
          }
          continue;
        }
        // tiles of one row range (one per column tile) read the same inputs
        const key = `${x.at}:${t.group}:${t.row0}:${t.rows}:${t.bias_row}:${p.inputOffset}:${narrowPadded}`;
        let rows = gathered.get(key);
        if (rows === undefined) {
          // + 32: gather_runs stores eight rows at a time, up to 28 bytes past the last row
          const xuAt = arena.scratch((narrowPadded ? n * narrowPadded * 2 : n * t.rows_used * 4) + 32);
          gatherRows(p, k.kind === "fast" ? k.gatherTaps : undefined, x, paddedAt, narrowPadded, b0, count, xuAt);
          // a linear layer's vectors are whole images, seldom repeated: only a convolution's are worth the hashing
          rows = narrowPadded === 0 && layer.isConv ? dedupRows(arena, xuAt, n, t.rows_used) : { xuAt, unique: n, rowMapAt: 0 };
          gathered.set(key, rows);
        }
        const { xuAt } = rows;
        const tileMark = arena.mark();
        if (k.kind === "fast") {
          const stride = k.mvm.colsPadded;
          const outAt = arena.scratch(n * stride * (integerAcc ? 4 : 8));
          k.mvm.mvmNarrowAt(xuAt, n, outAt, integerAcc);
          for (const member of k.members) {
            const m = pending.get(member)!;
            const { colOffset } = kernels.get(member) as Extract<TileKernel, { kind: "fast" }>;
            if (integerAcc) finishTileI32(arena, layer, m, outAt + colOffset * 4, stride, n, accAt);
            else finishTile(arena, layer, m, outAt + colOffset * 8, stride, 0, n, accAt, outBaseAt);
          }
        } else {
          // read_float32 (integerAcc says so) writes its exact integers as i32 for finish_slices_i32
          const asI32 = integerAcc && k.tile instanceof WasmFloatCellTile;
          const stride = k.tile instanceof WasmFloatCellTile ? k.tile.stride : k.tile.colsPadded;
          // the read of each distinct vector; every vector's finish takes its read from its row map
          const { unique, rowMapAt } = rows;
          const outAt = arena.scratch(unique * stride * (asI32 ? 4 : 8));
          if (asI32) k.tile.readAt(xuAt, unique, p.steps, p.dacBits, p.read!.adcMin, p.read!.adcMax, outAt, "auto", true);
          else k.tile.readAt(xuAt, unique, p.steps, p.dacBits, p.read!.adcMin, p.read!.adcMax, outAt);
          for (const member of k.members) {
            const m = pending.get(member)!;
            const scheme = m.plan.combine === "differential" ? 1 : 2;
            const { colOffset } = kernels.get(member)!;
            // (the f64 finish, for layers whose sums leave i32, reads each position's row through the map instead)
            if (asI32) finishSlicesI32(arena, layer, m, outAt + colOffset * 4, stride, scheme, rows, n, accAt);
            else finishTile(arena, layer, m, outAt + colOffset * 8, stride, scheme, n, accAt, outBaseAt, rowMapAt);
          }
        }
        arena.release(tileMark);
      }
    };
    // the tail's x_int, or the layer's accumulators in its output layout, a chunk at a time
    const out = tail ? undefined : new Float64Array(layer.outNumel);
    let min = 0;
    let max = 0;
    for (let b0 = 0; b0 < images; b0 += chunk) {
      const count = Math.min(chunk, images - b0);
      const chunkMark = arena.mark();
      runTiles(b0, count);
      arena.release(chunkMark);
      if (tail) {
        const x = runTail(ia, tail, layer, accAt, integerAcc, integerForm, tailAt!, held!, b0, count);
        // (float64 only when one chunk holds every image: chunks need the integer tail)
        if (x instanceof Float64Array) return x;
        min = Math.min(min, x.min);
        max = Math.max(max, x.max);
      } else {
        const n = count * perImage * channels;
        toLayerLayout(integerAcc ? arena.i32(accAt, n) : arena.f64(accAt, n), layer, out!, b0, count);
      }
    }
    return out ?? { owner: ia, at: held!.at, length: tailOutputLength(tail!, layer), min, max };
  } finally {
    arena.release(mark);
  }
}

/**
 * Whether a stride-1 convolution tile of `rows` input rows (bias row aside) is multiplied faster without the im2col
 * (conv_i16) than gathered and multiplied (mvm_i16): below four 8-row chunks, where gathering and mvm_i16's per-vector
 * costs lead. Measured on the ideal path: LeNet-5 1.23× with its 25- and 22-row tiles direct;
 * the CNN fixture 1.03× with its 9- and 16-row tiles, 1.4 % slower with its 32-row tile too; direct 128-row tiles
 * made both slower (mvm_i16 skips the inputs' zero 8-row chunks).
 */
function directConvPays(rows: number): boolean {
  return rows < 32;
}

/**
 * Bytes of i32 accumulators a layer whose tiles are all on the fast path runs at a time (whole images; at least one):
 * each tile adds its sums, and the tail reads them, while they are in a core's L2 cache. Measured on the ideal pass
 * against the whole pass at once: the CNN fixture 2–5 % faster with 128 KB to 512 KB, 3–9 % slower with 64 KB;
 * LeNet-5 and the MLP within 2 %.
 */
const ACCUMULATOR_CHUNK_BYTES = 256 * 1024;

/**
 * Bytes of gathered i16 rows the fused fast path gathers and multiplies at a time (whole images; at least one): within
 * a core's L2 cache. Measured on the ideal pass against gathering the whole pass first: the CNN fixture 3–8 % faster
 * with 64 KB to 512 KB; LeNet-5 up to 15 % slower with 64 or 128 KB (an MVM call per few images), even at 256 and 512 KB.
 */
const GATHER_CHUNK_BYTES = 512 * 1024;

/**
 * A row range's gathered inputs i32 `[outer, rows]` (or i16 for the fast path's MVM) at `xuAt`; for a faithful read of
 * a convolution, only the `unique` distinct vectors, first, with the row map i32 `[outer]` at `rowMapAt` saying which
 * of them each position reads (0: none, every vector read).
 */
interface Gathered {
  readonly xuAt: number;
  readonly unique: number;
  readonly rowMapAt: number;
}

/**
 * Vectors dedup_rows hashes before it judges whether repeats are common enough (1 in 16) to go on hashing: where they
 * are not, as in LeNet-5's second convolution (under 1 %) or on noise images, the faithful pass measured 1–2 % faster.
 */
const DEDUP_PROBE_VECTORS = 1024;

/**
 * kernels.wat dedup_rows on the gathered vectors at `xuAt`: a convolution's positions in blank image regions read the
 * same patch (measured on the CNN fixture's faithful pass: 57 % of its second convolution's vectors repeat an earlier
 * one), and a faithful read is a function of its vector alone.
 */
function dedupRows(arena: KernelArena, xuAt: number, outer: number, rows: number): Gathered {
  const rowMapAt = arena.scratch(outer * 4);
  const mark = arena.mark();
  const tableBits = Math.max(4, Math.ceil(Math.log2(2 * outer)));
  const unique = arena.exports.dedup_rows(xuAt, outer, rows, arena.scratch(8 << tableBits), tableBits, rowMapAt, DEDUP_PROBE_VECTORS);
  arena.release(mark);
  return { xuAt, unique, rowMapAt };
}

/** A fast tile's exact i32 sums `[outer, stride]` at `srcAt` into the layer's i32 accumulators (kernels.wat finish_i32). */
function finishTileI32(arena: KernelArena, layer: LayerPlan, p: PendingTile, srcAt: number, stride: number, outer: number, accAt: number): void {
  const t = p.plan.tile;
  const mark = arena.mark();
  arena.exports.finish_i32(srcAt, outer, stride, t.cols, correctionsI32(arena, p), ...windowI32(p), accAt, layer.outChannels, columnBase(layer, p));
  arena.release(mark);
}

/**
 * A faithful tile's exact i32 reads `[unique, stride]` at `srcAt` (read_float32) into the layer's i32 accumulators
 * (kernels.wat finish_slices_i32; scheme 1 differential pairs, 2 offset column): each distinct vector's read finished
 * once, then added into every position that reads it (add_rows_i32 by the row map), when some vectors repeat.
 */
function finishSlicesI32(arena: KernelArena, layer: LayerPlan, p: PendingTile, srcAt: number, stride: number, scheme: number, rows: Gathered, outer: number,
  accAt: number): void {
  const t = p.plan.tile;
  const mark = arena.mark();
  const finish = (count: number, at: number, accStride: number, colBase: number): void =>
    arena.exports.finish_slices_i32(srcAt, stride, count, t.cols, scheme, p.shiftAdd!.slices, p.shiftAdd!.cellBits, correctionsI32(arena, p), ...windowI32(p),
      at, accStride, colBase);
  if (rows.unique === outer) finish(outer, accAt, layer.outChannels, columnBase(layer, p));
  else {
    const finishedAt = arena.scratch(rows.unique * t.cols * 4);
    arena.bytes.fill(0, finishedAt, finishedAt + rows.unique * t.cols * 4);
    finish(rows.unique, finishedAt, t.cols, 0);
    arena.exports.add_rows_i32(finishedAt, t.cols, rows.rowMapAt, outer, accAt, layer.outChannels, columnBase(layer, p));
  }
  arena.release(mark);
}

/** Where a tile's first column lands among the layer's output channels. */
function columnBase(layer: LayerPlan, p: PendingTile): number {
  return p.plan.tile.group * layer.record.matrix.cols + p.plan.tile.col0;
}

/** The i32 finishes' truncation: [D_L, wrap shift 32 − O_RWL] (0, 0 without a truncate op; no wrap past 32 bits). */
function windowI32(p: PendingTile): [number, number] {
  const tr = p.truncate;
  return tr ? [tr.dL, tr.oRwl <= 32 ? 32 - tr.oRwl : 0] : [0, 0];
}

/** A tile's integer corrections as i32 in scratch (fitsIntegerAccumulation has checked that they are integers). */
function correctionsI32(arena: KernelArena, p: PendingTile): number {
  const n = p.plan.tile.cols;
  const at = arena.scratch(n * 4);
  arena.i32(at, n).set(p.plan.correction);
  return at;
}

/**
 * What a fast group's MVM needs to finish its sums into the accumulators itself (mvm_i16's fused finish_i32), when its
 * tiles finish alike: one window, and each tile's columns landing where the group's columns put them (a layer's
 * column tiles side by side). The corrections, in scratch, follow the group's columns, 0 past the last.
 */
function fusedFinish(arena: KernelArena, layer: LayerPlan, k: Extract<TileKernel, { kind: "fast" }>, pending: ReadonlyMap<number, PendingTile>,
  kernels: ReadonlyMap<number, TileKernel>): Omit<FusedFinish, "accAt" | "accStride"> | undefined {
  const first = pending.get(k.members[0]!)!;
  const [dL, wrapShift] = windowI32(first);
  const colBase = columnBase(layer, first);
  const at = arena.scratch(k.mvm.colsPadded * 4);
  const correction = arena.i32(at, k.mvm.colsPadded).fill(0);
  for (const member of k.members) {
    const m = pending.get(member)!;
    const { colOffset } = kernels.get(member) as Extract<TileKernel, { kind: "fast" }>;
    const [mdL, mWrap] = windowI32(m);
    if (mdL !== dL || mWrap !== wrapShift || columnBase(layer, m) !== colBase + colOffset) return undefined;
    correction.set(m.plan.correction, colOffset);
  }
  return { correctionAt: at, dL, wrapShift, colBase };
}

/**
 * A tile's f64 reads `[outer, stride]` at `srcAt` into the layer's f64 accumulators (kernels.wat finish): scheme 0 the
 * fast path's column values, 1 and 2 the faithful path's slices (differential pairs, offset column).
 */
function finishTile(arena: KernelArena, layer: LayerPlan, p: PendingTile, srcAt: number, stride: number, scheme: number, outer: number, accAt: number,
  outBaseAt: number, rowMapAt = 0): void {
  const t = p.plan.tile;
  const tr = p.truncate;
  const mark = arena.mark();
  const { slices, cellBits: cb } = p.shiftAdd!;
  const placeAt = arena.scratch(slices * 8);
  const place = arena.f64(placeAt, slices);
  for (let s = 0; s < slices; s++) place[s] = 2 ** (s * cb);
  const correctionAt = arena.scratch(t.cols * 8);
  arena.f64(correctionAt, t.cols).set(p.plan.correction);
  // truncate 2: a window wider than 53 bits wraps no float64 integer (truncateWindowImpl)
  const truncate = !tr ? 0 : tr.oRwl > WIDEST_WRAP ? 2 : 1;
  arena.exports.finish(srcAt, stride, outer, t.cols, scheme, slices, placeAt, correctionAt, truncate, tr ? 2 ** -tr.dL : 1, truncate === 1 ? 2 ** tr!.oRwl : 2,
    accAt, outBaseAt, columnBase(layer, p), 1, rowMapAt);
  arena.release(mark);
}

/** Widest integers quantize_f32 takes: every one of them, and lo and hi, is a float32 value. */
const FLOAT32_BITS = 24;

/** Bytes after a layer input gather_runs may read (eight inputs from a run's first). */
const INPUT_SLACK = 32;

/** A layer input x_int as i32 in scratch (what Int32Array#set stores) with its range over 0 and the values. */
function convertInput(arena: KernelArena, x: Float64Array): { at: number; min: number; max: number } {
  const at = arena.scratch(x.length * 4 + INPUT_SLACK);
  const mark = arena.mark();
  const srcAt = arena.scratch(x.length * 8);
  arena.f64(srcAt, x.length).set(x);
  const { fits, min, max } = toInt32(arena, srcAt, x.length, at);
  arena.release(mark);
  // beyond i32 (the layer will not fit the kernels): Int32Array#set's modular conversion, as the reference engine's
  if (!fits) arena.i32(at, x.length).set(x);
  return { at, min, max };
}

/**
 * kernels.wat to_i32 of the f64 values at `srcAt` into `dstAt`, quantized on the way when `quantize` says how: whether
 * all fit i32, and their range over 0 and the values.
 */
function toInt32(arena: KernelArena, srcAt: number, n: number, dstAt: number, quantize?: { scale: number; lo: number; hi: number }): { fits: boolean; min: number; max: number } {
  const mark = arena.mark();
  const rangeAt = arena.scratch(16);
  const fits = arena.exports.to_i32(srcAt, n, dstAt, rangeAt, quantize ? 1 : 0, quantize?.scale ?? 1, quantize?.lo ?? 0, quantize?.hi ?? 0) === 1;
  const [min, max] = arena.f64(rangeAt, 2);
  arena.release(mark);
  return { fits, min: min!, max: max! };
}

/** A pass's input values, which write themselves where they are wanted (copied straight from their tensors). */
export interface InputSource {
  readonly length: number;
  write(out: Float64Array): void;
  /** present when every value is a float32 (the tensors are): a copy with no widening */
  writeFloat32?(out: Float32Array): void;
}

/**
 * quantizeActivationsImpl(x, fl, bits, signed) into the instance's WebAssembly memory as i32 (kernels.wat `to_i32`
 * quantizing: the same float64 operations per element, or `quantize_f32` for float32 inputs in a format where float32
 * operations give the same values), where the layer that reads it finds it at its accumulate: the quantize op at
 * schedule index `op` keeps one region for every pass. Undefined when a value lies outside i32 (the caller quantizes
 * in TypeScript then).
 */
export function quantizeLayerInputWasm(instance: SimInstance, op: number, x: InputSource, fl: number, bits: number, signed: boolean): WasmLayerInput | undefined {
  const ia = getInstanceArena(instance);
  const { arena } = ia;
  const region = getInputRegion(ia, op, x.length);
  const mark = arena.mark();
  try {
    const [lo, hi] = getIntegerRange(bits, signed);
    if (x.writeFloat32 && bits <= FLOAT32_BITS && fl >= -126 && fl <= 127) {
      const at = arena.scratch(x.length * 4);
      x.writeFloat32(arena.f32(at, x.length));
      const rangeAt = arena.scratch(16);
      arena.exports.quantize_f32(at, x.length, region.at, rangeAt, 2 ** fl, lo, hi);
      const [min, max] = arena.f64(rangeAt, 2);
      return { owner: ia, at: region.at, length: x.length, min: min!, max: max! };
    }
    const at = arena.scratch(x.length * 8);
    x.write(arena.f64(at, x.length));
    const { fits, min, max } = toInt32(arena, at, x.length, region.at, { scale: 2 ** fl, lo, hi });
    return fits ? { owner: ia, at: region.at, length: x.length, min, max } : undefined;
  } finally {
    arena.release(mark);
  }
}

/**
 * Whether a layer's tiles may accumulate in i32 (finish_i32, finish_slices_i32) with the same result as the float64
 * finish: every tile on the fast path or read by read_float32 (whose reads are exact integers), integer corrections,
 * every partial sum and |sum − correction| below 2^31, truncation shifts within ±31 bits and a window of ≤ 32 bits (or
 * none with a right shift), and the sum of every tile's largest contribution below 2^31.
 */
function fitsIntegerAccumulation(pending: ReadonlyMap<number, PendingTile>, kernels: ReadonlyMap<number, TileKernel>, largestInput: (p: PendingTile) => number): boolean {
  const LIMIT = 2 ** 31;
  let accBound = 0;
  for (const [id, p] of pending) {
    const k = kernels.get(id)!;
    const sum = largestTileSum(p, k, largestInput);
    if (sum === undefined) return false;
    let correction = 0;
    for (const c of p.plan.correction) {
      if (!Number.isInteger(c)) return false;
      correction = Math.max(correction, Math.abs(c));
    }
    const v = sum + correction;
    if (v >= LIMIT) return false;
    const tr = p.truncate;
    let term = v;
    if (tr) {
      if (Math.abs(tr.dL) > 31) return false;
      if (tr.oRwl <= 32) term = 2 ** (tr.oRwl - 1);
      else if (tr.dL >= 0) term = Math.ceil(v / 2 ** tr.dL);
      else return false;
    }
    accBound += term;
  }
  return accBound < LIMIT;
}

/**
 * The largest |column value| a tile's read and slice combine can give before its correction, when it comes as exact
 * i32 integers: the fast MVM's Σ x·w, or read_float32's reads combined over the slices (|Σ_s 2^(s·cb)·(a_s − b_s)|,
 * b the offset column or the negative half of a differential pair); undefined for the other faithful kernels.
 */
function largestTileSum(p: PendingTile, k: TileKernel, largestInput: (p: PendingTile) => number): number | undefined {
  if (k.kind === "fast") return p.plan.tile.rows_used * largestInput(p) * k.maxAbsWeight;
  if (!(k.tile instanceof WasmFloatCellTile)) return undefined;
  const read = k.tile.float32OutputBound(p.steps, p.dacBits, p.read!.adcMin, p.read!.adcMax);
  if (read === undefined) return undefined;
  const { slices, cellBits } = p.shiftAdd!;
  return 2 * read * (2 ** (slices * cellBits) - 1) / (2 ** cellBits - 1);
}

/**
 * Position-major accumulators `[count·positions, channels]` of images [b0, b0 + count) into `out`, the layer's output
 * layout (conv: [batch, channels, positions]).
 */
function toLayerLayout(acc: Float64Array | Int32Array, layer: LayerPlan, out: Float64Array, b0: number, count: number): void {
  const { positions, outChannels: channels } = layer;
  if (!layer.isConv) {
    out.set(acc, b0 * channels);
    return;
  }
  for (let b = 0; b < count; b++) {
    const image = (b0 + b) * channels * positions;
    for (let q = 0; q < positions; q++) {
      const src = (b * positions + q) * channels;
      for (let c = 0; c < channels; c++) out[image + c * positions + q] = acc[src + c]!;
    }
  }
}

/** How many values a layer's tail gives: the quantized x `[batch, channels, positions after the pool]`. */
function tailOutputLength(tail: LayerTail, layer: LayerPlan): number {
  const e = tail.epilogue;
  const batch = layer.isConv ? layer.batch : layer.outer;
  const positions = layer.isConv ? layer.positions : 1;
  return batch * layer.outChannels * (e.pool ? e.pool.positions : positions);
}

/** The kept region of schedule op `op` for at least `length` i32 layer inputs (allocated persistently: no scratch may be in use). */
function getInputRegion(ia: InstanceArena, op: number, length: number): { readonly at: number; readonly capacity: number } {
  let region = ia.inputs.get(op);
  if (!region || region.capacity < length) {
    region = { at: ia.arena.alloc(length * 4 + INPUT_SLACK), capacity: length };
    ia.inputs.set(op, region);
  }
  return region;
}

/** The epilogue's integer form for a tail (see kernels.wat `epilogue`), or undefined where it does not apply. */
interface IntegerTail {
  readonly shift: number;
  readonly aLo: number;
  readonly aHi: number;
  readonly L: number;
  readonly H: number;
}

/**
 * Whether the tail can run in i32 with the float64 form's results: i32 accumulators, moveScale·qScale = 2^−k with
 * 0 ≤ k ≤ 24, integer biases, an i32 quantize range, and clamping bounds (see kernels.wat) that keep every sum in i32.
 */
function integerTail(tail: LayerTail, integerAcc: boolean, lo: number, hi: number): IntegerTail | undefined {
  const e = tail.epilogue;
  const shift = -Math.log2(e.moveScale * 2 ** e.quantize.fl);
  if (!integerAcc || !Number.isInteger(shift) || shift < 0 || shift > 24) return undefined;
  let largestBias = 0;
  for (const b of Array.from(tail.bias ?? [])) {
    if (!Number.isInteger(b)) return undefined;
    largestBias = Math.max(largestBias, Math.abs(b));
  }
  const L = (lo - 1) * 2 ** shift;
  const H = (hi + 1) * 2 ** shift;
  const aLo = L - largestBias;
  const aHi = H + largestBias;
  // the rounding adds up to 2^k to a value in [L, H]
  const LIMIT = 2 ** 31 - 2 ** (shift + 1);
  return aLo > -LIMIT && aHi < LIMIT ? { shift, aLo, aHi, L, H } : undefined;
}

/** Where a tail's tables lie in scratch (0: none): per channel biases, and the pool's taps. */
interface TailTables {
  readonly biasAt: number;
  readonly tapStartsAt: number;
  readonly tapsAt: number;
}

/** A tail's biases (i32 for the epilogue's integer form, else f64) and pool taps, in scratch for runTail. */
function tailTables(arena: KernelArena, tail: LayerTail, channels: number, integer: boolean): TailTables {
  const e = tail.epilogue;
  // scratch lies above the tiles packed for this layer, so no address below is 0 (0 means "none" to the kernel)
  let biasAt = 0;
  if (tail.bias) {
    biasAt = arena.scratch(channels * 8 + 24); // read in fours (f64) or eights (i32, half the bytes)
    if (integer) arena.i32(biasAt, channels).set(Array.from(tail.bias));
    else arena.f64(biasAt, channels).set(Array.from(tail.bias));
  }
  let tapStartsAt = 0;
  let tapsAt = 0;
  if (e.pool) {
    tapStartsAt = arena.scratch(e.pool.tapStarts.length * 4);
    arena.i32(tapStartsAt, e.pool.tapStarts.length).set(e.pool.tapStarts);
    tapsAt = arena.scratch(Math.max(1, e.pool.taps.length) * 4);
    arena.i32(tapsAt, e.pool.taps.length).set(e.pool.taps);
  }
  return { biasAt, tapStartsAt, tapsAt };
}

/**
 * The tail on the position-major accumulators at `accAt` of images [b0, b0 + count), in one pass (kernels.wat
 * `epilogue`; its integer form given `integer`, see integerTail): their quantized x written as i32 to their place in
 * `region` (the next layer reads it there), and their range over 0 and the values returned — or, without the integer
 * form and with a value outside i32, the values as float64 (callers run every image in one call then).
 */
function runTail(ia: InstanceArena, tail: LayerTail, layer: LayerPlan, accAt: number, integerAcc: boolean, integer: IntegerTail | undefined,
  tables: TailTables, region: { readonly at: number }, b0: number, count: number): Float64Array | { readonly min: number; readonly max: number } {
  const { arena } = ia;
  const e = tail.epilogue;
  const channels = layer.outChannels;
  const positions = layer.isConv ? layer.positions : 1;
  const outPositions = e.pool ? e.pool.positions : positions;
  const values = count * channels * outPositions;
  const at = region.at + b0 * channels * outPositions * 4;
  const [lo, hi] = getIntegerRange(e.quantize.bits, e.quantize.signed);
  const mark = arena.mark();
  try {
    const { biasAt, tapStartsAt, tapsAt } = tables;
    const rangeAt = arena.scratch(8);
    const run = (outAt: number): void =>
      arena.exports.epilogue(accAt, integerAcc ? 1 : 0, count, positions, channels, biasAt, e.moveScale, e.relu ? 1 : 0, tapStartsAt, tapsAt, outPositions,
        2 ** e.quantize.fl, lo, hi, outAt, integer?.shift ?? -1, integer?.aLo ?? 0, integer?.aHi ?? 0, integer?.L ?? 0, integer?.H ?? 0, integer ? rangeAt : 0);
    if (integer) {
      run(at);
      const [min, max] = arena.i32(rangeAt, 2);
      return { min: min!, max: max! };
    }
    const outAt = arena.scratch(values * 8);
    run(outAt);
    const { fits, min, max } = toInt32(arena, outAt, values, at);
    return fits ? { min, max } : arena.f64(outAt, values).slice();
  } finally {
    arena.release(mark);
  }
}

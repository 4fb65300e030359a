/**
 * @fileoverview One Monte Carlo instance of a bit-sliced layer's weights: every cell of every slice gets a sampled
 * conductance (the device's variation model, via sampleCell), and the integer each weight's cells really hold is
 * rebuilt by shift-and-add — the "HW_sim" weight-level evaluation of Diware et al., ICCAD 2024, Algorithm 1.
 */
import { getLevels, type DeviceProfile, type Op, type Rng } from "@xbarc/ir";
import { createCellSampler, isIdealSampler, sampleCell, type CellSampler } from "../device/sample.js";
import type { FixedPointLayer } from "./layer.js";

/** How a layer's integer weights sit on cells (bit-slice's schemes, from the device's signed mapping). */
export type SlicedScheme = "differential-magnitude" | "offset-unsigned";

/** A layer's cell geometry: slices, scheme, and which column tile (hence which offset column) each output channel uses. */
export interface SlicedGeometry {
  /** bits per cell */
  readonly cellBits: number;
  /** S = ceil(W_WL / cell_bits) */
  readonly slices: number;
  readonly scheme: SlicedScheme;
  /** per output channel within a group, its column tile */
  readonly colTileOf: Int32Array;
  /** column tiles per group */
  readonly colTiles: number;
  /** per matrix row, its row tile */
  readonly rowTileOf: Int32Array;
}

/**
 * The cell geometry of a fixed-point layer on `device`. Column tiles come from `#tiles` (cols_used, offset_cols,
 * phys_cols_per_weight_col) when present, else from the tile rule: as many whole output columns as fit in the
 * crossbar's columns after the offset column.
 */
export function getSlicedGeometry(layer: FixedPointLayer, device: DeviceProfile): SlicedGeometry {
  const cellBits = device.cell.bits;
  const slices = Math.ceil(layer.wBits / cellBits);
  const scheme: SlicedScheme = device.mapping.signed === "differential" ? "differential-magnitude" : "offset-unsigned";
  const perGroup = layer.outChannels / layer.groups;
  const tiles = layer.op.getAnnotation("tiles")?.data as { cols_used?: number[]; offset_cols?: number; phys_cols_per_weight_col?: number } | undefined;
  let widths: number[];
  if (tiles?.cols_used && tiles.phys_cols_per_weight_col) {
    widths = tiles.cols_used.map((c) => (c - (tiles.offset_cols ?? 0)) / tiles.phys_cols_per_weight_col!);
  } else {
    const physical = slices * (scheme === "differential-magnitude" ? 2 : 1);
    const fit = Math.max(1, Math.floor((device.crossbar.cols - (scheme === "offset-unsigned" ? slices : 0)) / physical));
    widths = [];
    for (let left = perGroup; left > 0; left -= fit) widths.push(Math.min(fit, left));
  }
  // a compacted layer's column tiles hold physical columns: a matrix column sits in its physical column's tile
  const physTileOf: number[] = [];
  widths.forEach((w, t) => {
    for (let j = 0; j < w; j++) physTileOf.push(t);
  });
  const colTileOf = new Int32Array(perGroup);
  for (let c = 0; c < perGroup; c++) {
    const q = layer.colMap ? layer.colMap[c]! : c;
    colTileOf[c] = q >= 0 && q < physTileOf.length ? physTileOf[q]! : 0;
  }
  const rowTileOf = new Int32Array(layer.rowLength);
  if (layer.rowSets) {
    layer.rowSets.forEach((set, t) => {
      for (const r of set) rowTileOf[r] = t;
    });
  } else {
    let r = 0;
    layer.weightRows.forEach((rows, t) => {
      for (let j = 0; j < rows; j++) rowTileOf[r++] = t;
    });
  }
  return { cellBits, slices, scheme, colTileOf, colTiles: widths.length, rowTileOf };
}

/**
 * The value a cell programmed to slice value k contributes, in units of one level step: k + (g − g_k)/Δg, Δg the
 * step between level 0 and level 2^cell_bits − 1. The level-0 baseline cancels against the paired column (G− or the
 * offset column) in nominal operation, so only the deviation g − g_k remains. Slice value k is level k (crossbar spec:
 * linear level spacing assumed for bit-sliced layers).
 */
export interface CellValueModel {
  readonly sampler: CellSampler;
  readonly nominal: Float64Array;
  readonly step: number;
}

/** The cell model of `device`'s levels and variation (or `sampler`, when given, e.g. with an overridden variation). */
export function createCellValueModel(device: DeviceProfile, sampler?: CellSampler): CellValueModel {
  const levels = getLevels(device.cell);
  const top = Math.min(levels.length - 1, 2 ** device.cell.bits - 1);
  return { sampler: sampler ?? createCellSampler(levels, device.variation), nominal: levels, step: top > 0 ? (levels[top]! - levels[0]!) / top : 1 };
}

/** True when sampling would return every cell's nominal value (no variation, no faults). */
export function isIdealCellModel(model: CellValueModel): boolean {
  return isIdealSampler(model.sampler);
}

function sampleCellValue(model: CellValueModel, k: number, rng: Rng): number {
  const g = sampleCell(model.sampler, k, rng);
  return k + (g - model.nominal[k]!) / model.step;
}

/**
 * One instance of the integers a layer's cells hold, in the weight's layout (real-valued: variation moves them off
 * the integers). Differential magnitude: Σ_s 2^(s·cb)·(v(P_s) − v(N_s)), P = max(w, 0), N = max(−w, 0), every cell
 * sampled. Offset-unsigned: Σ_s 2^(s·cb)·v(U_s), U = w + 2^(W_WL−1), minus the sampled offset column of the weight's
 * tile in the same row (Halawani et al., IEEE Access). Draw order: offset cells (group, column tile, row, slice), then
 * each weight's cells (weight order, slice, P before N). A bias row keeps its nominal value.
 */
export function sampleSlicedWeights(layer: FixedPointLayer, geometry: SlicedGeometry, model: CellValueModel, rng: Rng): Float64Array {
  const { cellBits, slices, scheme } = geometry;
  const mask = 2 ** cellBits - 1;
  const half = 2 ** (layer.wBits - 1);
  const k = layer.rowLength;
  const perGroup = layer.outChannels / layer.groups;
  const out = new Float64Array(layer.wInt.length);
  // per (group, column tile, row tile, row): the offset column's sampled integer
  let offset: Float64Array | undefined;
  if (scheme === "offset-unsigned") {
    offset = new Float64Array(layer.groups * geometry.colTiles * k);
    for (let i = 0; i < offset.length; i++) {
      let v = 0;
      for (let s = 0; s < slices; s++) v += 2 ** (s * cellBits) * sampleCellValue(model, Math.floor(half / 2 ** (s * cellBits)) & mask, rng);
      offset[i] = v;
    }
  }
  for (let c = 0; c < layer.outChannels; c++) {
    const g = Math.floor(c / perGroup);
    const ct = geometry.colTileOf[c - g * perGroup]!;
    for (let r = 0; r < k; r++) {
      const i = c * k + r;
      const w = layer.wInt[i]!;
      let v = 0;
      if (scheme === "differential-magnitude") {
        const p = Math.max(w, 0);
        const n = Math.max(-w, 0);
        for (let s = 0; s < slices; s++) {
          const shift = 2 ** (s * cellBits);
          v += shift * (sampleCellValue(model, Math.floor(p / shift) & mask, rng) - sampleCellValue(model, Math.floor(n / shift) & mask, rng));
        }
      } else {
        const u = w + half;
        for (let s = 0; s < slices; s++) {
          const shift = 2 ** (s * cellBits);
          v += shift * sampleCellValue(model, Math.floor(u / shift) & mask, rng);
        }
        v -= offset![(g * geometry.colTiles + ct) * k + r]!;
      }
      out[i] = v;
    }
  }
  return out;
}

/** One Monte Carlo instance of every layer's effective integer weights, each layer from its own stream. */
export function sampleModuleWeights(layers: ReadonlyMap<Op, FixedPointLayer>, geometry: ReadonlyMap<Op, SlicedGeometry>, model: CellValueModel, rngOf: (layerIndex: number) => Rng): Map<Op, Float64Array> {
  const out = new Map<Op, Float64Array>();
  let index = 0;
  for (const [op, layer] of layers) out.set(op, sampleSlicedWeights(layer, geometry.get(op)!, model, rngOf(index++)));
  return out;
}

/** The geometry of every layer of `layers` on `device`. */
export function getModuleGeometry(layers: ReadonlyMap<Op, FixedPointLayer>, device: DeviceProfile): Map<Op, SlicedGeometry> {
  return new Map([...layers].map(([op, layer]) => [op, getSlicedGeometry(layer, device)]));
}

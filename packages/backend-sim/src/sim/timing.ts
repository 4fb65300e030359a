/** @fileoverview Cycle-approximate timing of a crossbar program per image: pipelined tile steps, ADC column sharing, layer latency and ISAAC-style pipelined throughput. */
import { XbarcError } from "@xbarc/ir";
import type { Program, ProgramTile } from "../program/types.js";
import { summarizeProgram } from "../program/summary.js";

/**
 * The timing rule (all times in ns, per image; device profile `timing` and `crossbar`):
 *
 * - ADCs: an array has ceil(C / k_eff) ADCs, k_eff = min(cols_per_adc, C) (C = crossbar columns); ADC a serves the
 *   contiguous physical columns [a·k_eff, (a+1)·k_eff) and converts them one after another, adc_ns each. A tile that
 *   uses `cols_used` columns therefore keeps its busiest ADC converting k = min(k_eff, cols_used) columns per step.
 * - Shift-add (our assumption): one shift-and-add unit per ADC, as in ISAAC; it consumes its ADC's conversions one
 *   after another, shift_add_ns each (k per step).
 * - A tile step is a three-stage pipeline — read the array (read_ns), convert (k·adc_ns), shift-add (k·shift_add_ns) —
 *   so the conversions of step i overlap the read of step i+1 (ISAAC, Shafiee et al., ISCA 2016):
 *   stepNs = max(read_ns, k·adc_ns, k·shift_add_ns), and a tile doing n steps takes the pipeline's
 *   tileNs = read_ns + k·adc_ns + k·shift_add_ns + (n − 1)·stepNs  (fill once, then one step per stage time).
 * - n = output positions × input steps T (a conv runs its MVM once per im2col column); every tile of a layer does the
 *   same n, taken from summarizeProgram's crossbar reads per image (mvm_steps / tiles).
 * - Tiles of a layer (groups, row tiles, column tiles) run in parallel: layerNs = max over its tiles of tileNs. The
 *   digital accumulation of row tiles, bias, post-ops and buffer moves are not timed (a cycle-approximate model).
 * - Layers run one after another for one image: latencyNs = Σ layerNs. With ISAAC-style layer pipelining a new image
 *   enters every max(layerNs): throughput = 1e9 / max(layerNs) images/s.
 * - Utilization = busy tile-time / (tiles × latencyNs), busy tile-time = Σ tileNs (per layer: over its tiles).
 */

/** One layer's timing per image. */
export interface LayerTiming {
  layer: string;
  tiles: number;
  /** pipeline steps (crossbar reads) of each tile per image: output positions × input steps */
  steps: number;
  /** ns per pipelined step: max(read_ns, k·adc_ns, k·shift_add_ns) with k the busiest ADC's columns */
  stepNs: number;
  /** max over the layer's tiles of read_ns + k·adc_ns + k·shift_add_ns + (steps − 1)·stepNs */
  layerNs: number;
  /** columns the busiest ADC of the layer converts serially per step (k) */
  adcSerialization: number;
  /** busy tile-time of the layer / (its tiles × the image latency) */
  utilization: number;
}

/** A program's timing per image. */
export interface TimingEstimate {
  perLayer: LayerTiming[];
  /** one image through every layer in turn, ns */
  latencyNs: number;
  /** ISAAC-style layer pipelining: 1 / max layer time */
  throughputImagesPerS: number;
  /** latency in ADC clock cycles (1/adc_ns GHz), rounded up */
  cyclesAtAdcClock: number;
  /** busy tile-time of all tiles / (all tiles × latency) */
  utilization: number;
}

/** Columns one ADC serves: cols_per_adc, but an array never shares its ADCs with another (at most C). */
export function effectiveColsPerAdc(program: Program): number {
  const { cols, cols_per_adc } = program.device.crossbar;
  return Math.max(1, Math.min(cols_per_adc, cols));
}

/** ADCs per crossbar array: ceil(C / effective cols per ADC). */
export function adcsPerArray(program: Program): number {
  return Math.ceil(program.device.crossbar.cols / effectiveColsPerAdc(program));
}

/** Estimates latency, throughput, per-layer times and utilization per image of a program (the rule above). */
export function estimateTiming(program: Program): TimingEstimate {
  const { read_ns, adc_ns, shift_add_ns } = program.device.timing;
  const kEff = effectiveColsPerAdc(program);
  const summary = summarizeProgram(program);
  const layers = program.layers.map((layer, i) => {
    const tiles = layer.tiles.map((id): ProgramTile => {
      const tile = program.tiles[id];
      if (!tile) {
        throw new XbarcError("XB6005", `layer ${layer.name} lists tile ${id}, but the program has ${program.tiles.length} tiles`, { hint: "re-emit the program with `xbarc compile`" });
      }
      return tile;
    });
    const s = summary.layers[i]!;
    const steps = tiles.length ? s.mvm_steps / tiles.length : 0;
    let layerNs = 0;
    let busyNs = 0;
    let serialization = 0;
    let stepNs = 0;
    for (const tile of tiles) {
      const k = Math.min(kEff, tile.cols_used);
      const tileStep = Math.max(read_ns, k * adc_ns, k * shift_add_ns);
      const tileNs = steps > 0 ? read_ns + k * adc_ns + k * shift_add_ns + (steps - 1) * tileStep : 0;
      busyNs += tileNs;
      if (tileNs > layerNs) layerNs = tileNs;
      serialization = Math.max(serialization, k);
      stepNs = Math.max(stepNs, tileStep);
    }
    return { layer: layer.name, tiles: tiles.length, steps, stepNs, layerNs, adcSerialization: serialization, busyNs };
  });
  const latencyNs = layers.reduce((sum, l) => sum + l.layerNs, 0);
  const slowest = layers.reduce((m, l) => Math.max(m, l.layerNs), 0);
  const totalTiles = layers.reduce((sum, l) => sum + l.tiles, 0);
  const totalBusy = layers.reduce((sum, l) => sum + l.busyNs, 0);
  return {
    perLayer: layers.map(({ busyNs, ...l }) => ({ ...l, utilization: l.tiles && latencyNs ? busyNs / (l.tiles * latencyNs) : 0 })),
    latencyNs,
    throughputImagesPerS: slowest > 0 ? 1e9 / slowest : 0,
    // a tiny tolerance so that an exact multiple of adc_ns computed in floating point does not round up
    cyclesAtAdcClock: adc_ns > 0 ? Math.ceil(latencyNs / adc_ns - 1e-9) : 0,
    utilization: totalTiles && latencyNs ? totalBusy / (totalTiles * latencyNs) : 0,
  };
}

/**
 * @fileoverview The resource summary of a program (Ma et al. 2025 count the crossbar unit as the resource): per layer
 * and in total, crossbars, tiles, cells used, utilization, and per image the crossbar reads (MVM steps) and ADC
 * conversions the schedule performs.
 */
import { numel } from "@xbarc/ir";
import type { Program } from "./types.js";

/** One layer's resources. */
export interface LayerSummary {
  /** the layer (its result name) */
  layer: string;
  op: string;
  /** weight scheme (differential-magnitude, offset-unsigned, analog-levels) */
  scheme: string;
  tiles: number;
  /** distinct crossbars its tiles sit on */
  crossbars: number;
  /** cells its tiles use (weights, bias row, offset columns) */
  cells: number;
  /** cells / (tiles · R · C), as #tiles reports it */
  utilization: number;
  /** tiles whose ADC converts every read exactly */
  lossless_tiles: number;
  /** crossbar reads per image: Σ over tiles of output positions × input steps */
  mvm_steps: number;
  /** ADC conversions per image: Σ over tiles of output positions × input steps × columns used */
  adc_conversions: number;
}

/** The whole program's resources. */
export interface ProgramSummary {
  model: string;
  device: string;
  /** crossbar size [rows, cols] */
  xbar: [number, number];
  hash: string;
  /** images per run (mvm_steps and adc_conversions are per image) */
  batch: number;
  layers: LayerSummary[];
  total: {
    layers: number;
    tiles: number;
    crossbars: number;
    cells: number;
    /** crossbars · R · C */
    cells_available: number;
    /** cells / cells_available */
    utilization: number;
    lossless_tiles: number;
    mvm_steps: number;
    adc_conversions: number;
  };
}

/** Counts a program's resources from its layers, tiles and formats (no simulation). */
export function summarizeProgram(program: Program): ProgramSummary {
  const R = program.device.crossbar.rows;
  const C = program.device.crossbar.cols;
  const batch = program.input.batch;
  const lossless = new Map<number, boolean>();
  for (const op of program.schedule) if (op.op === "adc") lossless.set(op.tile, op.lossless);
  const layers = program.layers.map((layer): LayerSummary => {
    const tiles = layer.tiles.map((id) => program.tiles[id]!);
    // output positions one image produces per output channel: conv H_out·W_out, linear 1
    const channels = layer.matrix.cols * layer.matrix.groups;
    const positions = channels > 0 ? numel(layer.output_shape) / channels / batch : 0;
    const steps = layer.formats.input.steps;
    const cells = tiles.reduce((s, t) => s + t.rows_used * t.cols_used, 0);
    return {
      layer: layer.name,
      op: layer.op,
      scheme: layer.formats.weight.scheme,
      tiles: tiles.length,
      crossbars: new Set(tiles.map((t) => t.xbar)).size,
      cells,
      utilization: tiles.length ? cells / (tiles.length * R * C) : 0,
      lossless_tiles: tiles.filter((t) => lossless.get(t.id) === true).length,
      mvm_steps: tiles.length * positions * steps,
      adc_conversions: tiles.reduce((s, t) => s + positions * steps * t.cols_used, 0),
    };
  });
  const crossbars = new Set(program.tiles.map((t) => t.xbar)).size;
  const cells = layers.reduce((s, l) => s + l.cells, 0);
  const available = crossbars * R * C;
  return {
    model: program.model.name,
    device: program.device.name,
    xbar: [R, C],
    hash: program.hash,
    batch,
    layers,
    total: {
      layers: layers.length,
      tiles: program.tiles.length,
      crossbars,
      cells,
      cells_available: available,
      utilization: available ? cells / available : 0,
      lossless_tiles: layers.reduce((s, l) => s + l.lossless_tiles, 0),
      mvm_steps: layers.reduce((s, l) => s + l.mvm_steps, 0),
      adc_conversions: layers.reduce((s, l) => s + l.adc_conversions, 0),
    },
  };
}

/** The summary as a text table: one row per layer, then the totals. */
export function formatProgramSummary(s: ProgramSummary): string {
  const header = ["layer", "op", "scheme", "tiles", "xbars", "cells", "util", "lossless", "mvm/img", "adc/img"];
  const rows = s.layers.map((l) => [
    l.layer, l.op, l.scheme, String(l.tiles), String(l.crossbars), String(l.cells), l.utilization.toFixed(3),
    `${l.lossless_tiles}/${l.tiles}`, String(l.mvm_steps), String(l.adc_conversions),
  ]);
  const t = s.total;
  rows.push(["total", "", "", String(t.tiles), String(t.crossbars), String(t.cells), t.utilization.toFixed(3), `${t.lossless_tiles}/${t.tiles}`, String(t.mvm_steps), String(t.adc_conversions)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // text columns left-aligned, numbers right-aligned
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [
    `program ${s.model} on ${s.device} (${s.xbar[0]}×${s.xbar[1]} crossbars), hash ${s.hash.slice(0, 16)}…`,
    `${t.layers} layer(s), ${t.tiles} tile(s) on ${t.crossbars} crossbar(s), ${t.cells} of ${t.cells_available} cells used (utilization ${t.utilization.toFixed(3)}); per image: ${t.mvm_steps} crossbar reads, ${t.adc_conversions} ADC conversions`,
    line(header),
    rule,
    ...rows.slice(0, -1).map(line),
    rule,
    line(rows[rows.length - 1]!),
  ].join("\n") + "\n";
}

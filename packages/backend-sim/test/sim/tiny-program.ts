/**
 * @fileoverview Hand-built programs for the timing and energy tests: weight layers with chosen tiles on a device with
 * chosen crossbar, timing, energy and area numbers (cell states and schedule are left empty: timing and energy read
 * only the layers, tiles and device).
 */
import { getBuiltinProfile, type DeviceProfile } from "@xbarc/ir";
import type { Program, ProgramLayer, ProgramTile } from "@xbarc/backend-sim";

/** The device of the hand-computed cases: 32×32 arrays, 8 columns per ADC, round numbers for every cost. */
export function tinyDevice(overrides: { crossbar?: Partial<DeviceProfile["crossbar"]>; timing?: Partial<DeviceProfile["timing"]>; energy?: Partial<DeviceProfile["energy"]> } = {}): DeviceProfile {
  const base = getBuiltinProfile("isaac")!;
  return {
    ...base,
    name: "tiny",
    crossbar: { ...base.crossbar, rows: 32, cols: 32, dac_bits: 1, cols_per_adc: 8, ...overrides.crossbar },
    timing: { read_ns: 100, adc_ns: 1, shift_add_ns: 0.5, write_ns: 100, ...overrides.timing },
    energy: { array_read_pj: 30, adc_pj: 2, dac_pj: 0.25, shift_add_pj: 0.125, buffer_pj_per_byte: 1, ...overrides.energy },
    area: { array_um2: 25, adc_um2: 1000, dac_um2: 0.5, shift_add_um2: 60 },
  };
}

/** A tile of a layer: `rows_used` × `cols_used` cells on crossbar `xbar`. */
export interface TinyTile {
  rows_used: number;
  cols_used: number;
  xbar: number;
}

/** A weight layer: a linear (positions = 1) or a conv with `positions` output pixels per channel. */
export interface TinyLayer {
  rows: number;
  cols: number;
  /** 8-bit inputs by default */
  inputBits?: number;
  /** conv only: H_out · W_out */
  positions?: number;
  tiles: TinyTile[];
}

/** A program of `layers` in sequence on `device`, 1-bit DAC steps (T = input bits). */
export function tinyProgram(device: DeviceProfile, layers: TinyLayer[]): Program {
  const tiles: ProgramTile[] = [];
  const programLayers = layers.map((l, li): ProgramLayer => {
    const bits = l.inputBits ?? 8;
    const ids = l.tiles.map((t, index) => {
      const id = tiles.length;
      tiles.push({
        id, layer: `l${li}`, index, group: 0, row_tile: index, col_tile: 0, row0: 0, rows: t.rows_used, col0: 0, cols: l.cols,
        bias_row: false, phys_cols_per_weight_col: 2, offset_cols: 0, xbar: t.xbar, xbar_row: 0, xbar_col: 0,
        rows_used: t.rows_used, cols_used: t.cols_used, cells: "",
      });
      return id;
    });
    const conv = l.positions !== undefined;
    const side = conv ? [1, l.positions!] : [];
    return {
      name: `l${li}`, op: conv ? "conv" : "linear", weight: `w${li}`, input: `x${li}`, output: `l${li}`,
      // a conv's input holds the same number of pixels as its output (same padding, stride 1)
      input_shape: [1, l.rows, ...side], weight_shape: [l.cols, l.rows], output_shape: [1, l.cols, ...side],
      attrs: {}, matrix: { rows: l.rows, cols: l.cols, groups: 1 }, grid: [l.tiles.length, 1], tiles: ids,
      formats: { input: { bits, fl: 0, signed: false, dac_bits: 1, steps: bits }, weight: { scheme: "differential-magnitude", bits: 8, fl: 0, cell_bits: 2, slices: 4 } },
    };
  });
  return {
    format: "xbarc-program", version: 1, hash: "", model: { name: "tiny", source: "hand-built" },
    compile: { pipeline: "", seed: 0, truncation: "none" }, device,
    input: { name: "x0", dtype: "f32", shape: [1, layers[0]!.rows], batch: 1, preprocessing: { scale: 1, mean: 0, std: 1 } },
    outputs: [`l${layers.length - 1}`], buffers: [], layers: programLayers, tiles, schedule: [],
  };
}

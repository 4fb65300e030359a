/**
 * @fileoverview Device profiles: what a ReRAM cell and its crossbar are (levels, variation, signed mapping,
 * converters, timing, energy, area). Types, the published JSON schema, and level computation.
 */

/** How a cell's conductance levels are given: measured (listed) or from a model of Huang et al. 2022 (eqs. 9–10). */
export type LevelSpec =
  | { model: "listed"; values: number[] }
  | { model: "linear"; count: number }
  | { model: "deviated-linear"; count: number; delta: number }
  | { model: "power"; count: number; a: number }
  | { model: "exponential"; count: number; a: number }
  | { model: "e-exponential"; count: number; s: number };

export interface CellSpec {
  /** bits stored per cell; a model's level count defaults to 2^bits */
  bits: number;
  levels: LevelSpec;
  /** lowest programmable conductance, siemens (high-resistance state) */
  g_min: number;
  /** highest programmable conductance, siemens (low-resistance state) */
  g_max: number;
}

export interface VariationSpec {
  /**
   * lognormal: g·e^θ, θ ~ N(0, σ) (Huang et al. 2022, eq. 11);
   * gaussian / truncated-gaussian: g + N(0, (σ·g)²), σ a fraction of the level (Halawani et al., IEEE Access);
   */
  model: "none" | "lognormal" | "gaussian" | "truncated-gaussian";
  /** σ, used for every level unless level_sigma is given */
  sigma: number;
  /** σ per level, low to high conductance (variation-aware EM quantizer slides: high conductance varies more) */
  level_sigma?: number[];
  /** truncated-gaussian only: samples are kept within ±truncate·σ·g */
  truncate?: number;
  /** probability that a cell is stuck at g_max */
  stuck_at_on: number;
  /** probability that a cell is stuck at g_min */
  stuck_at_off: number;
  /** σ of additive read noise per column read, as a fraction of g_max·rows */
  read_noise: number;
}

export interface MappingSpec {
  /** differential: w ∝ G+ − G−; offset-column: shifted weights plus one column holding |w_min| (Halawani et al.) */
  signed: "differential" | "offset-column";
  /** bias held in a crossbar row driven by a constant input, or added digitally */
  bias: "row" | "digital";
}

export interface CrossbarSpec {
  rows: number;
  cols: number;
  dac_bits: number;
  adc_bits: number;
  /** columns multiplexed onto one ADC (an array never shares its ADCs, so at most `cols` take effect) */
  cols_per_adc: number;
}

export interface TimingSpec {
  /** one crossbar read (an MVM input step), nanoseconds */
  read_ns: number;
  /** one ADC conversion, nanoseconds */
  adc_ns: number;
  /** one shift-and-add, nanoseconds */
  shift_add_ns: number;
  /** programming one cell, nanoseconds */
  write_ns: number;
}

export interface EnergySpec {
  /** one crossbar read of a whole array, picojoules */
  array_read_pj: number;
  /** one ADC conversion, picojoules */
  adc_pj: number;
  /** one DAC drive of one row for one step, picojoules */
  dac_pj: number;
  /** one shift-and-add, picojoules */
  shift_add_pj: number;
  /** moving one byte through the tile buffer, picojoules */
  buffer_pj_per_byte: number;
}

export interface AreaSpec {
  /** one crossbar array, µm² */
  array_um2: number;
  /** one ADC, µm² */
  adc_um2: number;
  /** one DAC, µm² */
  dac_um2: number;
  /** one shift-and-add unit, µm² */
  shift_add_um2: number;
}

export interface DeviceProfile {
  name: string;
  description: string;
  /** where the numbers come from */
  source: string;
  cell: CellSpec;
  variation: VariationSpec;
  mapping: MappingSpec;
  crossbar: CrossbarSpec;
  timing: TimingSpec;
  energy: EnergySpec;
  area: AreaSpec;
}

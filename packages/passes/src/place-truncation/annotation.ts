/** @fileoverview The `#trunc` annotation: a fixed-point layer's formats, truncation window and ADC, and how they were chosen. */
import { registerAnnotationKind } from "@xbarc/ir";

const int = { type: "integer" } as const;
const bits = { type: "integer", minimum: 1 } as const;
const perTile = { type: "array", items: { type: "integer", minimum: 0 }, minItems: 1 } as const;
const accuracy = { type: "number", minimum: 0, maximum: 1 } as const;

export const TRUNC_ANNOTATION_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["adc_bits", "adc_needed", "lossless", "rows", "o_wl", "o_rwl", "d_h", "d_l", "keep", "w_wl", "w_fl", "a_wl", "a_fl", "a_signed", "out_fl", "bias", "rule"],
  properties: {
    /** the device's ADC resolution, bits */
    adc_bits: bits,
    /** bits a lossless conversion of the largest row tile needs: ceil(log2(R·(2^dac_bits − 1)·(2^cell_bits − 1) + 1)) */
    adc_needed: bits,
    /** adc_bits ≥ adc_needed for every row tile: the ADC never clips an ideal column sum */
    lossless: { type: "boolean" },
    /** R: crossbar rows used by each row tile (the bias row counts) */
    rows: perTile,
    /** O_WL per row tile: A_WL + W_WL + ceil(log2 R) (Diware et al., eq. 1) */
    o_wl: perTile,
    /** O_RWL: bits kept (the next layer's input word length) */
    o_rwl: bits,
    /** D_H per row tile: high bits dropped, O_WL − O_RWL − D_L (eq. 3; eq. 4 when O_RWL = A_WL) */
    d_h: perTile,
    /** D_L: low bits dropped (= W_FL unless the window had to be clamped into the accumulator) */
    d_l: { type: "integer", minimum: 0 },
    /** kept accumulator bits [lo, hi) = [D_L, O_WL − D_H) */
    keep: { type: "array", items: { type: "integer", minimum: 0 }, minItems: 2, maxItems: 2 },
    /** W_WL: weight word length, bits */
    w_wl: bits,
    /** W_FL: weight fraction length, bits (also the layer's #quant fraction length) */
    w_fl: int,
    /** A_WL: input word length, bits */
    a_wl: bits,
    /** A_FL: input fraction length, bits */
    a_fl: int,
    /** the input is two's complement (fed offset-encoded), else unsigned */
    a_signed: { type: "boolean" },
    /** fraction length of the kept value: A_FL + W_FL − D_L */
    out_fl: int,
    /** digital (added after the row-tile sum), row (extra crossbar row of the first row tile) or none */
    bias: { enum: ["digital", "row", "none"] },
    /** bias "row": the integer input 2^e driving the bias row; its cells hold b·2^(A_FL + W_FL − e) */
    bias_input: { type: "integer", minimum: 1 },
    /** where the input range came from: the calibration set's name, or "input-range" */
    ranges: { type: "string" },
    /** the range A_FL was fitted to: the layer's input, or its output in O_RWL bits */
    fl_limited_by: { enum: ["input", "output"] },
    /** algorithm-1: W_FL chosen by Diware et al.'s Algorithm 1 on calibration data; default: the quantizer's W_FL */
    rule: { enum: ["algorithm-1", "default"] },
    /** algorithm-1: the W_FL quantize had chosen, before the sweep re-quantized the layer */
    w_fl_quantize: int,
    /** algorithm-1: float accuracy (quantized weights, float activations) on the calibration set */
    float_acc: accuracy,
    /** algorithm-1: fixed-point accuracy a candidate needs before its hardware accuracy is measured */
    acc_threshold: { type: "number" },
    /** algorithm-1: Monte Carlo runs per hardware accuracy */
    mc_runs: { type: "integer", minimum: 0 },
    /** algorithm-1: per candidate W_FL: fxp_acc, hw_acc (or "below threshold"), this layer's d_h */
    candidates: {
      type: "object",
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["fxp_acc", "hw_acc", "d_h"],
        properties: {
          fxp_acc: accuracy,
          hw_acc: { anyOf: [accuracy, { type: "string" }] },
          d_h: perTile,
        },
      },
    },
  },
} as const;

registerAnnotationKind("trunc", TRUNC_ANNOTATION_SCHEMA);

/** @fileoverview The `#slice` annotation: how a layer's weights spread over cells and its inputs over DAC steps. */
import { registerAnnotationKind } from "@xbarc/ir";

export const SLICE_ANNOTATION_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["cell_bits", "slices", "scheme", "in_bits", "in_fl", "in_signed", "dac_bits", "steps"],
  properties: {
    /** W_WL: weight word length, bits (fixed-point layers) */
    w_bits: { type: "integer", minimum: 1 },
    /** W_FL: weight fraction length, bits (fixed-point layers) */
    w_fl: { type: "integer" },
    /** bits per cell */
    cell_bits: { type: "integer", minimum: 1 },
    /** S: weight slices per weight (1 for analog levels) */
    slices: { type: "integer", minimum: 1 },
    /** differential-magnitude, offset-unsigned (bit-sliced integers) or analog-levels (one level index per cell, #cells) */
    scheme: { enum: ["differential-magnitude", "offset-unsigned", "analog-levels"] },
    /** A_WL: input word length, bits */
    in_bits: { type: "integer", minimum: 1 },
    /** A_FL: input fraction length, bits */
    in_fl: { type: "integer" },
    /** inputs are signed two's complement (fed offset-encoded: x_u = x_int + 2^(A_WL−1)) */
    in_signed: { type: "boolean" },
    /** bits applied per input step */
    dac_bits: { type: "integer", minimum: 1 },
    /** T = ceil(A_WL / dac_bits) input steps */
    steps: { type: "integer", minimum: 1 },
    /** offset-unsigned: constant u8[S, ...weight shape] with the slices of u = w_int + offset */
    slices_of: { type: "string" },
    /** offset-unsigned: 2^(W_WL−1), held by the offset column (sliced the same way) and subtracted digitally */
    offset: { type: "integer", minimum: 0 },
    /** differential-magnitude: constant u8[S, ...weight shape] with the slices of max(w_int, 0) (G+ columns) */
    slices_pos: { type: "string" },
    /** differential-magnitude: constant u8[S, ...weight shape] with the slices of max(−w_int, 0) (G− columns) */
    slices_neg: { type: "string" },
  },
  allOf: [
    {
      if: { properties: { scheme: { const: "offset-unsigned" } } },
      then: { properties: { w_bits: true, w_fl: true, slices_of: true, offset: true }, required: ["w_bits", "w_fl", "slices_of", "offset"] },
    },
    {
      if: { properties: { scheme: { const: "differential-magnitude" } } },
      then: { properties: { w_bits: true, w_fl: true, slices_pos: true, slices_neg: true }, required: ["w_bits", "w_fl", "slices_pos", "slices_neg"] },
    },
  ],
} as const;

registerAnnotationKind("slice", SLICE_ANNOTATION_SCHEMA);

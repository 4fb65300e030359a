/** @fileoverview The `#quant` annotation: what the quantize pass decided for a layer, and why. */
import { registerAnnotationKind } from "@xbarc/ir";

export const QUANT_ANNOTATION_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["scheme", "metric", "codes", "wmin", "wmax", "scale", "offset", "err", "mse", "codebook", "codes_of", "code_levels", "candidates"],
  properties: {
    /** the quantizer chosen for this layer */
    scheme: { type: "string" },
    /** how candidates were scored */
    metric: { enum: ["weight-mse", "variation", "output-error"] },
    /** codebook size */
    codes: { type: "integer", minimum: 1 },
    /** the float weights' range */
    wmin: { type: "number" },
    wmax: { type: "number" },
    /** weight units per siemens of conductance difference */
    scale: { type: "number" },
    /** weight-units offset added digitally */
    offset: { type: "number" },
    /** the chosen quantizer's score on `metric` */
    err: { type: "number", minimum: 0 },
    /** weight MSE against the device's nominal values */
    mse: { type: "number", minimum: 0 },
    /** the constant holding the codebook (f32[K]) */
    codebook: { type: "string" },
    /** the constant holding each weight's code */
    codes_of: { type: "string" },
    /** the constant holding each code's level indices, u8[K,2]: G+ then G− (or the offset column's reference) */
    code_levels: { type: "string" },
    /** every candidate's score on `metric` (or "error: ..." when it could not run) */
    candidates: { type: "object", additionalProperties: { anyOf: [{ type: "number" }, { type: "string" }] } },
    /** set when the choice came from a per-layer override rather than the metric */
    override: { type: "boolean" },
    /** calibration set used by output-error */
    calibration: { type: "string" },
  },
} as const;

registerAnnotationKind("quant", QUANT_ANNOTATION_SCHEMA);

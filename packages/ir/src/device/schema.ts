/** @fileoverview The published JSON schema of a (resolved) device profile; `xbarc schema device-profile` prints it. */

const positive = { type: "number", exclusiveMinimum: 0 } as const;
const nonNegative = { type: "number", minimum: 0 } as const;
const probability = { type: "number", minimum: 0, maximum: 1 } as const;
const count = { type: "integer", minimum: 2, maximum: 1024 } as const;

export const DEVICE_PROFILE_SCHEMA = {
  $id: "https://xbarc.dev/schemas/device-profile.schema.json",
  title: "xbarc device profile",
  description: "A ReRAM cell and its crossbar: conductance levels, variation, signed mapping, converters, timing, energy, area.",
  type: "object",
  additionalProperties: false,
  required: ["name", "description", "source", "cell", "variation", "mapping", "crossbar", "timing", "energy", "area"],
  properties: {
    $schema: { type: "string" },
    name: { type: "string", minLength: 1 },
    extends: { type: "string", description: "a built-in profile this one overrides" },
    description: { type: "string" },
    source: { type: "string", description: "where the numbers come from" },
    cell: {
      type: "object",
      additionalProperties: false,
      required: ["bits", "levels", "g_min", "g_max"],
      properties: {
        bits: { type: "integer", minimum: 1, maximum: 8 },
        g_min: { ...positive, description: "siemens" },
        g_max: { ...positive, description: "siemens" },
        levels: {
          type: "object",
          required: ["model"],
          properties: {
            model: { enum: ["listed", "linear", "deviated-linear", "power", "exponential", "e-exponential"] },
          },
          oneOf: [
            {
              properties: { model: { const: "listed" }, values: { type: "array", minItems: 2, items: positive } },
              required: ["values"], additionalProperties: false,
            },
            { properties: { model: { const: "linear" }, count }, required: ["count"], additionalProperties: false },
            {
              properties: { model: { const: "deviated-linear" }, count, delta: { type: "number", minimum: 0, maximum: 0.49 } },
              required: ["count", "delta"], additionalProperties: false,
            },
            { properties: { model: { const: "power" }, count, a: positive }, required: ["count", "a"], additionalProperties: false },
            {
              properties: { model: { const: "exponential" }, count, a: { type: "number", exclusiveMinimum: 1 } },
              required: ["count", "a"], additionalProperties: false,
            },
            { properties: { model: { const: "e-exponential" }, count, s: positive }, required: ["count", "s"], additionalProperties: false },
          ],
        },
      },
    },
    variation: {
      type: "object",
      additionalProperties: false,
      required: ["model", "sigma", "stuck_at_on", "stuck_at_off", "read_noise"],
      properties: {
        model: { enum: ["none", "lognormal", "gaussian", "truncated-gaussian"] },
        sigma: nonNegative,
        level_sigma: { type: "array", items: nonNegative },
        truncate: positive,
        stuck_at_on: probability,
        stuck_at_off: probability,
        read_noise: nonNegative,
      },
    },
    mapping: {
      type: "object",
      additionalProperties: false,
      required: ["signed", "bias"],
      properties: { signed: { enum: ["differential", "offset-column"] }, bias: { enum: ["row", "digital"] } },
    },
    crossbar: {
      type: "object",
      additionalProperties: false,
      required: ["rows", "cols", "dac_bits", "adc_bits", "cols_per_adc"],
      properties: {
        rows: { type: "integer", minimum: 1, maximum: 4096 },
        cols: { type: "integer", minimum: 2, maximum: 4096 },
        dac_bits: { type: "integer", minimum: 1, maximum: 16 },
        adc_bits: { type: "integer", minimum: 1, maximum: 32 },
        cols_per_adc: { type: "integer", minimum: 1 },
      },
    },
    timing: {
      type: "object", additionalProperties: false, required: ["read_ns", "adc_ns", "shift_add_ns", "write_ns"],
      properties: { read_ns: positive, adc_ns: positive, shift_add_ns: nonNegative, write_ns: nonNegative },
    },
    energy: {
      type: "object", additionalProperties: false, required: ["array_read_pj", "adc_pj", "dac_pj", "shift_add_pj", "buffer_pj_per_byte"],
      properties: { array_read_pj: nonNegative, adc_pj: nonNegative, dac_pj: nonNegative, shift_add_pj: nonNegative, buffer_pj_per_byte: nonNegative },
    },
    area: {
      type: "object", additionalProperties: false, required: ["array_um2", "adc_um2", "dac_um2", "shift_add_um2"],
      properties: { array_um2: nonNegative, adc_um2: nonNegative, dac_um2: nonNegative, shift_add_um2: nonNegative },
    },
  },
} as const;

/**
 * @fileoverview The published JSON schema of a crossbar program (`xbarc program schema` prints it). Property order
 * here is the canonical key order the content hash is computed in (canonical.ts), so it is part of the format.
 */
import { DEVICE_PROFILE_SCHEMA } from "@xbarc/ir";

const int = { type: "integer" } as const;
const count = { type: "integer", minimum: 0 } as const;
const positive = { type: "integer", minimum: 1 } as const;
const shape = { type: "array", items: count } as const;
const name = { type: "string", minLength: 1 } as const;

/** The device profile as resolved at compile time (no `extends`, no `$schema`). */
const { $id: _deviceId, ...deviceSchema } = DEVICE_PROFILE_SCHEMA;

/** Schedule operations that name a layer and one of its tiles. */
const tileOp = (op: string, description: string, props: Record<string, unknown>, required: string[]) => ({
  type: "object",
  description,
  additionalProperties: false,
  required: ["op", "layer", "tile", ...required],
  properties: { op: { const: op }, layer: name, tile: count, ...props },
});

const postOp = (op: string, description: string) => ({
  type: "object",
  description,
  additionalProperties: false,
  required: ["op", "kind", "inputs", "outputs", "attrs"],
  properties: {
    op: { const: op },
    kind: { ...name, description: "the IR opcode (relu, maxpool, flatten, add, ...), run as the IR's reference kernel on reals" },
    inputs: { type: "array", items: { anyOf: [name, { type: "null" }] }, description: "buffers read, in operand order (null: an absent optional operand)" },
    outputs: { type: "array", items: name, minItems: 1, description: "buffers written, in result order" },
    attrs: { type: "object", description: "the op's attributes" },
  },
});

export const PROGRAM_SCHEMA = {
  $id: "https://xbarc.dev/schemas/program.schema.json",
  title: "xbarc crossbar program",
  description:
    "A compiled model as a crossbar accelerator runs it: the device profile, the input preprocessing, every weight layer's " +
    "fixed-point formats, every tile's cell states and an explicit schedule. Running it needs only images. The content hash " +
    "is sha256 (lowercase hex) of the canonical JSON of the document without `hash`: object keys in the order this schema " +
    "lists them (keys of free-form records such as op attributes sorted by code point), no whitespace, numbers as JSON.stringify writes them.",
  type: "object",
  additionalProperties: false,
  required: ["format", "version", "hash", "model", "compile", "device", "input", "outputs", "buffers", "layers", "tiles", "schedule"],
  properties: {
    format: { const: "xbarc-program" },
    version: { const: 1 },
    hash: { type: "string", pattern: "^[0-9a-f]{64}$", description: "sha256 of the canonical JSON of everything but this field" },
    model: {
      type: "object",
      additionalProperties: false,
      required: ["name", "source"],
      properties: { name: { type: "string" }, source: { type: "string", description: "the model file compiled" } },
    },
    compile: {
      type: "object",
      additionalProperties: false,
      required: ["pipeline", "seed", "truncation"],
      properties: {
        pipeline: { type: "string", description: "the canonical pipeline string that produced the annotated IR" },
        seed: { ...count, description: "the run's seed" },
        truncation: { enum: ["place-truncation", "full", "mixed", "none"], description: "whether bit-sliced layers carry place-truncation windows, full windows, or both; none without bit-sliced layers" },
      },
    },
    device: deviceSchema,
    input: {
      type: "object",
      additionalProperties: false,
      required: ["name", "dtype", "shape", "batch", "preprocessing"],
      description: "the model input images are fitted to (flat, NCHW, NHWC; grey replicated to 3 channels) after x' = (x·scale − mean)/std",
      properties: {
        name: { ...name, description: "the input buffer" },
        dtype: { type: "string" },
        shape,
        batch: { ...positive, description: "images per run: the first dimension of an input of rank >= 2, else 1" },
        preprocessing: {
          type: "object",
          additionalProperties: false,
          required: ["scale", "mean", "std"],
          properties: { scale: { type: "number" }, mean: { type: "number" }, std: { type: "number", not: { const: 0 } } },
        },
      },
    },
    outputs: { type: "array", items: name, minItems: 1, description: "buffers holding the model outputs, in order" },
    buffers: { type: "array", items: { $ref: "#/$defs/buffer" } },
    layers: { type: "array", items: { $ref: "#/$defs/layer" } },
    tiles: { type: "array", items: { $ref: "#/$defs/tile" } },
    schedule: { type: "array", items: { $ref: "#/$defs/op" }, description: "operations in execution order" },
  },
  $defs: {
    buffer: {
      type: "object",
      additionalProperties: false,
      required: ["name", "role", "dtype", "shape"],
      description: "a named buffer: input/activation/output/constant hold reals; layer-input holds x_int; accumulator holds integers of fraction length fl (or reals for analog layers)",
      properties: {
        name,
        role: { enum: ["input", "activation", "output", "constant", "layer-input", "accumulator"] },
        dtype: { type: "string", description: "an IR element type, or \"int\" for integer buffers" },
        shape,
        fl: { ...int, description: "integer buffers: the value is int · 2^-fl" },
        data: { type: "string", contentEncoding: "base64", description: "constants: base64 of the little-endian element bytes, row-major" },
      },
    },
    layer: {
      type: "object",
      additionalProperties: false,
      required: ["name", "op", "weight", "input", "output", "input_shape", "weight_shape", "output_shape", "attrs", "matrix", "grid", "tiles", "formats"],
      properties: {
        name: { ...name, description: "the op's result in the IR" },
        op: { enum: ["conv", "linear"] },
        loc: { type: "string", description: "the ONNX node" },
        weight: { type: "string", description: "the weight constant in the IR" },
        input: name,
        output: name,
        input_shape: shape,
        weight_shape: shape,
        output_shape: shape,
        attrs: { type: "object", description: "the op's attributes (conv: strides, pads, dilations, group)" },
        matrix: {
          type: "object",
          additionalProperties: false,
          required: ["rows", "cols", "groups"],
          description: "one group's weight matrix: rows = inputs (linear K; conv C_in/group·k_h·k_w in im2col order c, kh, kw), cols = output channels; matrix (r, c) of group g is weight element (g·cols + c)·rows + r",
          properties: { rows: count, cols: count, groups: positive },
        },
        grid: { type: "array", items: count, minItems: 2, maxItems: 2, description: "[row tiles, column tiles] per group" },
        tiles: { type: "array", items: count, description: "the layer's tile ids: groups, then row tiles, then column tiles" },
        row_map: {
          type: "array", items: { type: "integer", minimum: -1 },
          description: "compacted layers only: per matrix row its physical row (-1: all zero, on no crossbar); the tiles' row0/rows count physical rows; the rows of one physical row are driven with the sum of their offset-encoded inputs",
        },
        col_map: {
          type: "array", items: { type: "integer", minimum: -1 },
          description: "compacted layers only: per matrix column its physical column (-1: all zero, output 0 + digital bias); the tiles' col0/cols count physical columns; one physical column is fanned out to every matrix column mapped to it",
        },
        col_sign: {
          type: "array", items: { enum: [1, -1] },
          description: "sign-merged layers only: per matrix column +1, or -1 when its output is its physical column's accumulator negated before the truncation window",
        },
        formats: {
          type: "object",
          additionalProperties: false,
          required: ["input", "weight"],
          properties: {
            input: {
              type: "object",
              additionalProperties: false,
              required: ["bits", "fl", "signed", "dac_bits", "steps"],
              description: "x_int = clamp(round_half_even(x·2^fl)) in `bits` bits; a signed input is fed offset-encoded x_u = x_int + 2^(bits-1); T = steps DAC steps of dac_bits, least significant first",
              properties: { bits: positive, fl: int, signed: { type: "boolean" }, dac_bits: positive, steps: positive },
            },
            weight: {
              type: "object",
              additionalProperties: false,
              required: ["scheme", "cell_bits", "slices"],
              description: "bit-sliced: w = w_int·2^-fl, w_int in `bits`-bit two's complement split into `slices` slices of cell_bits (slice s = bits [s·cb, (s+1)·cb)); analog-levels: one level index per cell",
              properties: {
                scheme: { enum: ["differential-magnitude", "offset-unsigned", "analog-levels"] },
                bits: positive,
                fl: int,
                cell_bits: positive,
                slices: positive,
                offset: { ...count, description: "offset-unsigned: 2^(bits-1), held by the offset column and subtracted after shift-and-add" },
              },
            },
            output_fl: { ...int, description: "bit-sliced: fraction length of the kept, tile-summed accumulator: in.fl + weight.fl - trunc.d_l" },
            trunc: {
              type: "object",
              additionalProperties: false,
              required: ["adc_bits", "lossless", "o_wl", "o_rwl", "d_h", "d_l", "keep", "rule"],
              description: "Diware et al., ICCAD 2024, §3.4: keep floor(acc / 2^d_l) wrapped (two's complement) to o_rwl bits, keep = [d_l, d_l + o_rwl)",
              properties: {
                adc_bits: positive,
                lossless: { type: "boolean" },
                o_wl: { type: "array", items: int, description: "per row tile: in.bits + weight.bits + ceil(log2 R), R the tile's rows (bias row included)" },
                o_rwl: positive,
                d_h: { type: "array", items: int, description: "per row tile: high bits discarded, o_wl - o_rwl - d_l (0 when the window is full)" },
                d_l: int,
                keep: { type: "array", items: int, minItems: 2, maxItems: 2 },
                rule: { type: "string", description: "how place-truncation chose the window, or \"full\" when it did not run" },
              },
            },
          },
        },
        cells: {
          type: "object",
          additionalProperties: false,
          required: ["map", "scale", "offset"],
          description: "analog layers: w = scale·(G+ - G-) + offset (differential) or scale·(G - G_ref) + offset (offset column)",
          properties: { map: { enum: ["differential", "offset-column"] }, scale: { type: "number" }, offset: { type: "number" } },
        },
        bias: {
          type: "object",
          description: "the layer's bias (absent when it has none)",
          discriminator: { propertyName: "mode" },
          oneOf: [
            {
              type: "object",
              additionalProperties: false,
              required: ["mode", "fl", "values"],
              description: "added after the row-tile sum: b_int = round_half_even(b·2^fl), fl = output_fl",
              properties: { mode: { const: "digital" }, fl: int, values: { type: "array", items: int } },
            },
            {
              type: "object",
              additionalProperties: false,
              required: ["mode", "fl", "input", "values"],
              description: "on the bias row of the first row tile, driven with `input` (2^e, not offset-encoded): the row holds values = clamp(round_half_even(b·2^(fl - e))) in the weight format, sliced like the weights; fl = in.fl + weight.fl",
              properties: { mode: { const: "row" }, fl: int, input: positive, values: { type: "array", items: int } },
            },
            {
              type: "object",
              additionalProperties: false,
              required: ["mode", "values"],
              description: "analog layers: added as reals",
              properties: { mode: { const: "float" }, values: { type: "array", items: { type: "number" } } },
            },
          ],
        },
      },
    },
    tile: {
      type: "object",
      additionalProperties: false,
      required: ["id", "layer", "index", "group", "row_tile", "col_tile", "row0", "rows", "col0", "cols", "bias_row", "phys_cols_per_weight_col", "offset_cols", "xbar", "xbar_row", "xbar_col", "rows_used", "cols_used", "cells"],
      description:
        "tile row r < rows holds weight-matrix row row0 + r (a physical row of the layer's row_map when present); row `rows` is the bias row when bias_row. Weight column j (matrix column col0 + j, a physical column of col_map when present) " +
        "takes physical columns [j·P, (j+1)·P), P = phys_cols_per_weight_col: slice s at j·P + s (differential: G+ slice s at j·P + s, " +
        "G- slice s at j·P + S + s). The offset column, when present, takes the last offset_cols columns, slice s at cols·P + s.",
      properties: {
        id: count,
        layer: name,
        index: count,
        group: count,
        row_tile: count,
        col_tile: count,
        row0: count,
        rows: count,
        col0: count,
        cols: count,
        bias_row: { type: "boolean" },
        phys_cols_per_weight_col: positive,
        offset_cols: count,
        xbar: { ...count, description: "the physical crossbar" },
        xbar_row: { ...count, description: "the tile's first row on its crossbar" },
        xbar_col: { ...count, description: "the tile's first column on its crossbar" },
        rows_used: count,
        cols_used: count,
        cells: {
          type: "string",
          contentEncoding: "base64",
          description: "cell states: the level index (0 = lowest conductance) of every used cell, one byte each, row-major [rows_used, cols_used], base64 (RFC 4648, with padding)",
        },
      },
    },
    op: {
      type: "object",
      discriminator: { propertyName: "op" },
      oneOf: [
        {
          type: "object", additionalProperties: false, required: ["op", "tile"],
          description: "write the tile's cell states into its crossbar",
          properties: { op: { const: "program" }, tile: count },
        },
        {
          type: "object", additionalProperties: false, required: ["op", "layer", "from", "to", "bits", "fl", "signed"],
          description: "x_int = clamp(round_half_even(x·2^fl), lo, hi) of a bits-bit (signed or unsigned) integer",
          properties: { op: { const: "quantize" }, layer: name, from: name, to: name, bits: positive, fl: int, signed: { type: "boolean" } },
        },
        tileOp("mvm", "apply the input (offset-encoded by input_offset = 2^(bits-1) when signed) in `steps` steps of dac_bits bits, least significant first, to the tile's rows: one crossbar read per step and output position",
          { from: name, steps: positive, dac_bits: positive, input_offset: count }, ["from", "steps", "dac_bits", "input_offset"]),
        tileOp("adc", "convert every used column of every read: code = clamp(round(y/lsb), 0, 2^bits - 1); lossless when rows_used·(2^dac_bits - 1)·(2^cell_bits - 1) <= 2^bits - 1",
          { bits: positive, lossless: { type: "boolean" } }, ["bits", "lossless"]),
        tileOp("shift-add", "acc[c] = Σ_t Σ_s 2^(t·dac_bits + s·cell_bits)·code[t,s,c], then G+ - G- (differential) or minus the offset column (offset-column), then minus input_offset·Σ_r w_int[r,c] (w_int from the nominal cell levels) for signed inputs",
          { slices: positive, cell_bits: positive, steps: positive, dac_bits: positive, combine: { enum: ["differential", "offset-column"] } },
          ["slices", "cell_bits", "steps", "dac_bits", "combine"]),
        tileOp("truncate", "keep floor(acc / 2^d_l) wrapped to o_rwl bits (two's complement): bits keep = [lo, hi) of the accumulator",
          { d_l: int, o_rwl: positive, keep: { type: "array", items: int, minItems: 2, maxItems: 2 } }, ["d_l", "o_rwl", "keep"]),
        {
          type: "object", additionalProperties: false, required: ["op", "layer", "tiles", "to"],
          description: "add the row tiles' kept values digitally (wide integers) and place each column tile's columns at their output channels",
          properties: { op: { const: "accumulate" }, layer: name, tiles: { type: "array", items: count }, to: name },
        },
        {
          type: "object", additionalProperties: false, required: ["op", "layer", "to", "mode"],
          description: "add the layer's bias (digital or float); mode row: already in the accumulator through the bias row",
          properties: { op: { const: "bias" }, layer: name, to: name, mode: { enum: ["digital", "row", "float"] } },
        },
        {
          type: "object", additionalProperties: false, required: ["op", "from", "to"],
          description: "copy a buffer; with fl, integers become reals int·2^-fl",
          properties: { op: { const: "move" }, from: name, to: name, fl: int },
        },
        postOp("activation", "an elementwise activation (relu, sigmoid, tanh, softmax, clip, ...)"),
        postOp("pool", "pooling (maxpool, avgpool, globalavgpool, ...)"),
        postOp("reshape", "a data rearrangement (flatten, reshape, transpose, squeeze, ...)"),
        postOp("digital", "any other digital op (add, mul, concat, pad, ...)"),
      ],
    },
  },
} as const;

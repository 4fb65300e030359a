/**
 * @fileoverview The bit-slice pass: split each tiled fixed-point layer's integer weights into cell-sized slices on
 * adjacent columns and its inputs into bit-serial DAC steps (Diware et al., ICCAD 2024, §2.2.2), writing the slice
 * constants and `#slice`. Analog layers keep one level index per cell (#cells) and get S = 1.
 */
import { XbarcError, type Attrs, type DeviceProfile, type Module, type Op, type Value } from "@xbarc/ir";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { getWeightOps } from "../quantize/index.js";
import { getFixedPointFormat, getIntegerWeights, getOpLocation } from "../tile/layer.js";
import "./annotation.js";
import { isNonNegative } from "./input-format.js";
import { sliceWeights, type SliceScheme } from "./slices.js";

export interface BitSliceOptions {
  /** A_WL: input word length, bits (provisional until place-truncation fixes the formats) */
  in_bits: number;
  /** A_FL: input fraction length, bits (provisional: place-truncation sets it from calibration data or the input range) */
  in_fl: number;
}

/** A weight layer's input format (A_WL, A_FL, signedness). */
export interface InputFormat {
  /** A_WL, bits */
  readonly bits: number;
  /** A_FL, bits */
  readonly fl: number;
  /** two's complement, fed offset-encoded; false when the input is provably ≥ 0 */
  readonly signed: boolean;
}

/** The constant `name` from an earlier #slice when it still fits (same dtype and shape), so re-slicing reuses its name. */
function reusable(module: Module, name: unknown, shape: readonly number[]): Value | undefined {
  if (typeof name !== "string") return undefined;
  const c = module.constants.find((v) => v.name === name);
  return c && c.type.dtype === "u8" && c.type.shape.length === shape.length && c.type.shape.every((d, i) => d === shape[i]) ? c : undefined;
}

/**
 * Slices one layer and (re)writes its slice constants and `#slice`, returning the annotation. Fixed-point layers:
 * constants u8[S, ...weight shape] (slice s of weight element i at s·numel + i, s = 0 least significant) —
 * `<weight>.slices` (offset-unsigned) or `<weight>.slices_pos` / `<weight>.slices_neg` (differential-magnitude).
 * Other layers: scheme "analog-levels", S = 1, no constants (the cells hold #cells' level indices).
 * Exported so place-truncation can re-slice a layer whose W_FL it changes; constants named by an earlier
 * #slice are overwritten in place.
 */
export function sliceLayer(module: Module, op: Op, device: DeviceProfile, input: InputFormat): Attrs {
  const cellBits = device.cell.bits;
  const dacBits = device.crossbar.dac_bits;
  // Diware et al., ICCAD 2024, §2.2.2: inputs are applied bit-serially, dac_bits per step, least significant first
  const inputs = { in_bits: input.bits, in_fl: input.fl, in_signed: input.signed, dac_bits: dacBits, steps: Math.ceil(input.bits / dacBits) };
  const format = getFixedPointFormat(module, op);
  if (!format) {
    const data: Attrs = { cell_bits: cellBits, slices: 1, scheme: "analog-levels", ...inputs };
    op.setAnnotation("slice", data);
    return data;
  }
  const scheme: SliceScheme = device.mapping.signed === "differential" ? "differential-magnitude" : "offset-unsigned";
  const weight = op.operands[1]!;
  const sliced = sliceWeights(getIntegerWeights(module, op, format), format.wl, cellBits, scheme);
  const shape = [sliced.slices, ...weight.type.shape];
  const old = op.getAnnotation("slice")?.data;
  const write = (previous: unknown, suffix: string, data: Uint8Array): string => {
    const existing = reusable(module, previous, shape);
    if (existing) {
      existing.data = data;
      return existing.name;
    }
    return module.addConstant(module.freshName(`${weight.name}.${suffix}`), { dtype: "u8", shape }, data).name;
  };
  const head = { w_bits: format.wl, w_fl: format.fl, cell_bits: cellBits, slices: sliced.slices, scheme, ...inputs };
  const data: Attrs = scheme === "differential-magnitude"
    ? { ...head, slices_pos: write(old?.slices_pos, "slices_pos", sliced.pos), slices_neg: write(old?.slices_neg, "slices_neg", sliced.neg!) }
    : { ...head, slices_of: write(old?.slices_of, "slices", sliced.pos), offset: sliced.offset };
  op.setAnnotation("slice", data);
  return data;
}

export const bitSlice: Pass<BitSliceOptions> = {
  name: "bit-slice",
  summary: "split fixed-point weights into cell-sized slices on adjacent columns and inputs into bit-serial DAC steps",
  description: `For each tiled layer quantized to fixed point (W_WL, W_FL), writes its integer weights w_int as
S = ceil(W_WL/cell_bits) slices, slice s holding bits [s·cell_bits, (s+1)·cell_bits) (Diware et al., ICCAD 2024,
§2.2.2). Signed weights follow the device's mapping:
  differential   "differential-magnitude": max(w_int,0) sliced onto G+ columns, max(-w_int,0) onto G- columns,
                 the column pair's outputs subtracted digitally after shift-and-add;
  offset-column  "offset-unsigned": u = w_int + 2^(W_WL-1) sliced; every tile's offset column holds
                 2^(W_WL-1), sliced the same way, and its output is subtracted from every column.
Inputs of A_WL = in_bits bits are applied in T = ceil(A_WL/dac_bits) steps, least significant first; a signed
input is fed offset-encoded. The input is unsigned when it provably is >= 0 (relu, sigmoid, softmax, clip at
>= 0, and pooling/reshapes of those), else signed. in_bits and in_fl are provisional: place-truncation fixes
(A_WL, A_FL) per layer from calibration data or the input range.
Slice constants are u8[S, ...weight shape]; slice s of weight element i is at s·numel + i.
Layers quantized onto analog levels (not fixed point) keep #cells' level indices: scheme "analog-levels", S = 1.

Example (device isaac: 2-bit cells, offset column, 1-bit DAC):
  before:
    %y = linear %x, @f5.weight, @f5.bias : f32[1,120]
        #quant{scheme="fixed-point", codes=256, ...}
        #tiles{xbar=[128,128], grid=[4,4], ...}
  after:
    const @f5.weight.slices : u8[4,120,400]
    %y = linear %x, @f5.weight, @f5.bias : f32[1,120]
        #quant{scheme="fixed-point", codes=256, ...}
        #tiles{xbar=[128,128], grid=[4,4], ...}
        #slice{w_bits=8, w_fl=8, cell_bits=2, slices=4, scheme="offset-unsigned", in_bits=8, in_fl=4, in_signed=false, dac_bits=1, steps=8, slices_of="f5.weight.slices", offset=128}`,
  options: {
    type: "object",
    additionalProperties: false,
    required: [],
    properties: {
      in_bits: { type: "integer", minimum: 1, maximum: 16, default: 8 },
      in_fl: { type: "integer", minimum: -32, maximum: 32, default: 4 },
    },
  } as Pass<BitSliceOptions>["options"],
  requires: ["tiles"],
  provides: ["slice"],
  run(module: Module, options: BitSliceOptions, ctx: PassContext): PassResult {
    const device = ctx.device;
    if (!device) throw new XbarcError("XB5003", "bit-slice needs a device profile", { hint: "pass --device <name|file> (see `xbarc devices`)" });
    let changed = false;
    for (const op of getWeightOps(module)) {
      // a layer sliced earlier keeps its slices (place-truncation re-slices through sliceLayer when it changes W_FL)
      if (!op.getAnnotation("tiles") || op.getAnnotation("slice")) continue;
      const input: InputFormat = { bits: options.in_bits, fl: options.in_fl, signed: !isNonNegative(op.operands[0]!) };
      const data = sliceLayer(module, op, device, input);
      changed = true;
      if (data.scheme === "analog-levels") {
        ctx.stats.add("analog-layers");
        if (!op.getAnnotation("cells")) {
          ctx.diag.warn(`layer ${op.results[0]!.name} is not fixed point and has no #cells: its cells' levels are not assigned yet`, {
            location: getOpLocation(op),
            hint: "run assign-levels before emitting a program, or quantize{quantizer=\"fixed-point\"} for bit-sliced layers",
          });
        }
      } else {
        ctx.stats.add("sliced-layers");
        ctx.stats.add("slice-constants", data.scheme === "differential-magnitude" ? 2 : 1);
      }
    }
    return { changed };
  },
};

export { sliceWeights, unsliceWeights, getSliceCount, getOffsetColumnSlices, SLICE_SCHEMES, type SliceScheme, type WeightSlices } from "./slices.js";
export { isNonNegative } from "./input-format.js";
export { SLICE_ANNOTATION_SCHEMA } from "./annotation.js";

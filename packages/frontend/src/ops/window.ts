/** @fileoverview Shared attribute handling of Conv and the pools: kernel, strides, dilations, and auto_pad resolved to explicit pads. */
import type { NodeContext } from "../node-context.js";

/** Explicit window parameters of a conv/pool node. */
export interface Window {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  /** [begin_1..begin_r, end_1..end_r] */
  readonly pads: number[];
}

function checkLength(n: NodeContext, name: string, values: readonly number[], want: number, min: number): void {
  if (values.length !== want) {
    throw n.attrs.error(name, `has ${values.length} values [${values.join(",")}], expected ${want} (one per spatial dim${want > 0 && name === "pads" ? ", begins then ends" : ""})`,
      "the attribute must match the input's spatial rank");
  }
  for (const v of values) {
    if (!Number.isInteger(v) || v < min) {
      throw n.attrs.error(name, `has value ${v}, expected integers ≥ ${min}`, "fix the attribute in the model");
    }
  }
}

/**
 * Reads strides/dilations/pads and resolves auto_pad from the static input shape. SAME_* follows the ONNX
 * spec: out = ceil(in / stride), total pad = (out − 1)·stride + (k − 1)·dil + 1 − in, the odd cell at the end
 * for SAME_UPPER and at the beginning for SAME_LOWER.
 */
export function readWindow(n: NodeContext, spatial: readonly number[], kernel: readonly number[], useDilations = true): Window {
  const r = spatial.length;
  checkLength(n, "kernel_shape", kernel, r, 1);
  const ones = new Array<number>(r).fill(1);
  const strides = n.attrs.ints("strides", ones);
  checkLength(n, "strides", strides, r, 1);
  const dilations = useDilations ? n.attrs.ints("dilations", ones) : ones;
  checkLength(n, "dilations", dilations, r, 1);
  const autoPad = n.attrs.string("auto_pad", "NOTSET");
  let pads: number[];
  switch (autoPad) {
    case "NOTSET":
    case "": // some old exporters write an empty string for the default
      pads = n.attrs.ints("pads", new Array<number>(2 * r).fill(0));
      checkLength(n, "pads", pads, 2 * r, 0);
      break;
    case "VALID":
      pads = new Array<number>(2 * r).fill(0);
      break;
    case "SAME_UPPER":
    case "SAME_LOWER": {
      pads = new Array<number>(2 * r).fill(0);
      for (let i = 0; i < r; i++) {
        const out = Math.ceil(spatial[i]! / strides[i]!);
        const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - spatial[i]!);
        const small = Math.floor(total / 2);
        pads[i] = autoPad === "SAME_UPPER" ? small : total - small;
        pads[i + r] = total - pads[i]!;
      }
      break;
    }
    default:
      throw n.attrs.error("auto_pad", `is "${autoPad}", expected NOTSET, SAME_UPPER, SAME_LOWER or VALID`, "fix the attribute in the model");
  }
  return { kernel: [...kernel], strides, dilations, pads };
}

/** The spatial dims of an N-C-spatial operand, or an XB1006 error when it has fewer than 3 dims. */
export function spatialDims(n: NodeContext, shape: readonly number[], operand: string): number[] {
  if (shape.length < 3) {
    throw n.error("XB1006", `input "${operand}" has shape [${shape.join(",")}], expected [N, C, spatial...] with at least one spatial dim`,
      "check the model's input shapes", operand);
  }
  return shape.slice(2);
}

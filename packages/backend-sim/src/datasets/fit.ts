/**
 * @fileoverview Fits dataset images to a model's declared input (flat, NCHW, NHWC, no batch axis, fixed batch,
 * grey → 3 channels) with x' = (x·scale − mean)/std, and reads top-1 classes back from the first output.
 */
import { createTensor, floatToHalf, formatType, readNumbers, XbarcError, type Tensor, type TensorType } from "@xbarc/ir";
import { imageChannels, imagePixels, type ImageSet } from "./image-set.js";

/** Per-pixel preprocessing x' = (x·scale − mean)/std, applied to the raw stored value x. */
export interface Preprocessing {
  /** multiplies the raw value first (1/255 maps MNIST bytes to [0,1]) */
  readonly scale: number;
  /** subtracted after scaling */
  readonly mean: number;
  /** divides last */
  readonly std: number;
}

/** x/255: what the bundled trained models expect (fixtures/README.md "unit"). */
export const DEFAULT_PREPROCESSING: Preprocessing = { scale: 1 / 255, mean: 0, std: 1 };

/** How images map onto a model input. */
export interface InputFit {
  /** images per run: the input's batch size, or 1 when it has no batch axis */
  readonly batch: number;
  readonly hasBatchAxis: boolean;
  /** where the model wants channels: not at all (flat or 2-D grey), right after the batch axis, or last */
  readonly channelAxis: "none" | "first" | "last";
  /** channels the model wants (3 with a grey image means the grey value is replicated) */
  readonly channels: number;
  /** values per channel of one image (H·W) */
  readonly pixels: number;
}

function describeImages(images: ImageSet): string {
  const total = images.shape.reduce((a, b) => a * b, 1);
  return `[${images.shape.join(",")}] (${total} values per image)`;
}

/**
 * Decides how `images` fill an input of type `input`, or throws XB4002 naming the input's type and the
 * image shape. Batch interpretations win over batch-less ones for the same shape ([1,28,28] = one 28x28 image).
 */
export function getInputFit(images: ImageSet, input: TensorType, inputName = "input"): InputFit {
  const s = input.shape;
  const ci = imageChannels(images);
  const p = imagePixels(images);
  const total = ci * p;
  const flatImages = images.layout === "flat";
  const h = flatImages ? -1 : images.layout === "chw" ? images.shape[1]! : images.shape[0]!;
  const w = flatImages ? -1 : images.layout === "chw" ? images.shape[2]! : images.shape[1]!;
  // spatial dims must equal the image's when it has them; a flat image only needs the same count
  const spatial = (a: number, b: number) => (flatImages ? a * b === p : a === h && b === w);
  const channelsOk = (c: number) => c === ci || (ci === 1 && c === 3);
  const fit = (batch: number, hasBatchAxis: boolean, channelAxis: InputFit["channelAxis"], channels: number): InputFit => ({
    batch, hasBatchAxis, channelAxis, channels, pixels: p,
  });
  switch (s.length) {
    case 1:
      if (s[0] === total) return fit(1, false, "none", ci);
      break;
    case 2:
      if (s[1] === total) return fit(s[0]!, true, "none", ci);
      if (ci === 1 && spatial(s[0]!, s[1]!)) return fit(1, false, "none", 1);
      break;
    case 3:
      if (ci === 1 && spatial(s[1]!, s[2]!)) return fit(s[0]!, true, "none", 1);
      if (channelsOk(s[0]!) && spatial(s[1]!, s[2]!)) return fit(1, false, "first", s[0]!);
      if (channelsOk(s[2]!) && spatial(s[0]!, s[1]!)) return fit(1, false, "last", s[2]!);
      break;
    case 4:
      if (channelsOk(s[1]!) && spatial(s[2]!, s[3]!)) return fit(s[0]!, true, "first", s[1]!);
      if (channelsOk(s[3]!) && spatial(s[1]!, s[2]!)) return fit(s[0]!, true, "last", s[3]!);
      break;
  }
  throw new XbarcError("XB4002", `model input %${inputName} has type ${formatType(input)}, which does not fit images of shape ${describeImages(images)} from ${images.file}`, {
    location: { kind: "file", file: images.file },
    hint: `the model wants ${formatType(input)}; supported layouts are [B,D], [B,1,H,W], [B,H,W,1], [B,3,H,W], [B,H,W,3], [B,H,W] and the same without B, with D = H·W = the image's pixel count`,
  });
}

/**
 * Builds one input tensor of exactly `modelInput`'s type from images [batchStart, batchStart+batchCount),
 * preprocessed as x' = (x·scale − mean)/std. Slots past batchCount (the last, partial batch) are zero;
 * callers ignore their outputs. Throws XB4002 when the images do not fit the input.
 */
export function fitImages(images: ImageSet, modelInput: TensorType, pre: Preprocessing, batchStart: number, batchCount: number, inputName?: string): Tensor {
  const f = getInputFit(images, modelInput, inputName);
  if (batchCount > f.batch) throw new RangeError(`fitImages: ${batchCount} images do not fit a batch of ${f.batch}`);
  if (batchStart < 0 || batchStart + batchCount > images.count) throw new RangeError(`fitImages: images [${batchStart}, ${batchStart + batchCount}) outside 0..${images.count}`);
  const ci = imageChannels(images);
  const p = f.pixels;
  const perImage = ci * p;
  const perSlot = f.channels * p;
  const out = new Float64Array(f.batch * perSlot);
  const src = images.data;
  const { scale, mean, std } = pre;
  const srcChannelFirst = images.layout === "chw";
  for (let b = 0; b < batchCount; b++) {
    const sBase = (batchStart + b) * perImage;
    const dBase = b * perSlot;
    if (f.channelAxis === "none") {
      // flat or 2-D grey: the stored order is the wanted order
      for (let k = 0; k < perImage; k++) out[dBase + k] = (src[sBase + k]! * scale - mean) / std;
      continue;
    }
    for (let c = 0; c < f.channels; c++) {
      const sc = ci === 1 ? 0 : c; // grey replicated into every channel
      for (let k = 0; k < p; k++) {
        const s = srcChannelFirst ? sBase + sc * p + k : sBase + k * ci + sc;
        const d = f.channelAxis === "first" ? dBase + c * p + k : dBase + k * f.channels + c;
        out[d] = (src[s]! * scale - mean) / std;
      }
    }
  }
  const t = createTensor(modelInput);
  switch (modelInput.dtype) {
    case "f32": case "f64":
      (t.data as Float32Array | Float64Array).set(out);
      break;
    case "f16": {
      const d = t.data as Uint16Array;
      for (let i = 0; i < out.length; i++) d[i] = floatToHalf(out[i]!);
      break;
    }
    default:
      throw new XbarcError("XB4002", `model input %${inputName ?? "input"} has type ${formatType(modelInput)}; image inputs must be f16, f32 or f64`, {
        location: { kind: "file", file: images.file },
        hint: "evaluate a float model (quantized integer inputs are not fed from images)",
      });
  }
  return t;
}

/** Top-1 class of the first `count` rows of `output`: argmax over its last axis (first maximum wins, as numpy). */
export function top1(output: Tensor, count: number): Int32Array {
  const shape = output.type.shape;
  const k = shape.length === 0 ? 1 : shape[shape.length - 1]!;
  const rows = k === 0 ? 0 : output.data.length / k;
  if (count > rows) throw new RangeError(`top1: output ${formatType(output.type)} has ${rows} rows, ${count} requested`);
  // f16 bits and 64-bit ints need decoding; f32/f64 are read in place
  const values = output.type.dtype === "f32" || output.type.dtype === "f64" ? (output.data as Float32Array | Float64Array) : readNumbers(output);
  const classes = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    let best = 0;
    let bestValue = values[r * k]!;
    for (let j = 1; j < k; j++) {
      const v = values[r * k + j]!;
      if (v > bestValue) { bestValue = v; best = j; }
    }
    classes[r] = best;
  }
  return classes;
}

import { describe, expect, it } from "vitest";
import { halfToFloat, readNumbers, tensorFromNumbers, XbarcError, type TensorType } from "@xbarc/ir";
import { fitImages, getInputFit, top1, type ImageSet, type Preprocessing } from "@xbarc/backend-sim";

// two grey 2x2 images: [[1,2],[3,4]] and [[5,6],[7,8]]
const grey: ImageSet = { file: "grey.npy", count: 2, shape: [2, 2], layout: "hw", data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
const identity: Preprocessing = { scale: 1, mean: 0, std: 1 };
const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape });

function fitted(images: ImageSet, type: TensorType, start: number, count: number, pre = identity): number[] {
  const t = fitImages(images, type, pre, start, count);
  expect(t.type).toEqual(type);
  return Array.from(readNumbers(t));
}

describe("fitImages", () => {
  it("flattens images for a [B,D] input", () => {
    expect(fitted(grey, f32(2, 4), 0, 2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("fills an NCHW [B,1,H,W] input", () => {
    expect(fitted(grey, f32(2, 1, 2, 2), 0, 2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("fills an NHWC [B,H,W,1] input", () => {
    expect(fitted(grey, f32(2, 2, 2, 1), 0, 2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("replicates a grey image into 3 channels for [B,3,H,W]", () => {
    expect(fitted(grey, f32(1, 3, 2, 2), 1, 1)).toEqual([5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8]);
  });

  it("replicates a grey image into 3 channels for [B,H,W,3]", () => {
    expect(fitted(grey, f32(1, 2, 2, 3), 0, 1)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  });

  it("feeds one image per run to inputs without a batch axis: [D], [H,W] and [1,H,W]", () => {
    expect(fitted(grey, f32(4), 1, 1)).toEqual([5, 6, 7, 8]);
    expect(fitted(grey, f32(2, 2), 1, 1)).toEqual([5, 6, 7, 8]);
    expect(fitted(grey, f32(1, 2, 2), 1, 1)).toEqual([5, 6, 7, 8]);
    expect(getInputFit(grey, f32(2, 2))).toMatchObject({ batch: 1, hasBatchAxis: false });
    expect(getInputFit(grey, f32(4))).toMatchObject({ batch: 1, hasBatchAxis: false });
  });

  it("pads a fixed batch with zeros after the last image", () => {
    expect(getInputFit(grey, f32(3, 1, 2, 2)).batch).toBe(3);
    expect(fitted(grey, f32(3, 1, 2, 2), 1, 1)).toEqual([5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("applies x' = (x*scale - mean)/std", () => {
    const pre = { scale: 0.5, mean: 1, std: 2 };
    expect(fitted(grey, f32(1, 4), 0, 1, pre)).toEqual([-0.25, 0, 0.25, 0.5]);
  });

  it("writes f64 and f16 inputs", () => {
    const pre = { scale: 0.5, mean: 1, std: 2 };
    const t64 = fitImages(grey, { dtype: "f64", shape: [1, 4] }, pre, 1, 1);
    expect(Array.from(t64.data as Float64Array)).toEqual([0.75, 1, 1.25, 1.5]);
    const t16 = fitImages(grey, { dtype: "f16", shape: [1, 4] }, pre, 0, 1);
    expect(t16.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(t16.data as Uint16Array, halfToFloat)).toEqual([-0.25, 0, 0.25, 0.5]);
  });

  it("reorders channels-first images into an NHWC input", () => {
    // one 3-channel 1x2 image, channel-major: R=[1,2], G=[3,4], B=[5,6]
    const rgb: ImageSet = { file: "rgb.npy", count: 1, shape: [3, 1, 2], layout: "chw", data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    expect(fitted(rgb, f32(1, 1, 2, 3), 0, 1)).toEqual([1, 3, 5, 2, 4, 6]);
    expect(fitted(rgb, f32(1, 3, 1, 2), 0, 1)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("maps flat [N,D] images onto an image-shaped input by pixel count", () => {
    const flat: ImageSet = { file: "flat.npy", count: 2, shape: [4], layout: "flat", data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
    expect(fitted(flat, f32(2, 1, 2, 2), 0, 2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("rejects a pixel-count mismatch with XB4002 naming the input type and the image shape", () => {
    let err: unknown;
    try {
      fitImages(grey, f32(1, 1, 28, 28), identity, 0, 1, "input");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XbarcError);
    const e = err as XbarcError;
    expect(e.code).toBe("XB4002");
    expect(e.message).toContain("f32[1,1,28,28]");
    expect(e.message).toContain("[2,2]");
    expect(e.message).toContain("grey.npy");
  });
});

describe("top1", () => {
  it("takes the argmax over the last axis, first maximum on ties, for the requested rows only", () => {
    const out = tensorFromNumbers("f32", [3, 3], [0.1, 0.9, 0.3, 2, -1, 2, 5, 6, 7]);
    expect(Array.from(top1(out, 2))).toEqual([1, 0]);
    expect(Array.from(top1(out, 3))).toEqual([1, 0, 2]);
  });

  it("handles an output without a batch axis", () => {
    expect(Array.from(top1(tensorFromNumbers("f64", [4], [-3, -1, -2, -5]), 1))).toEqual([1]);
  });
});

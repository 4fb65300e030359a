/** @fileoverview The in-memory form of a labelled image set, shared by the IDX, npy and CSV readers. */
import { XbarcError } from "@xbarc/ir";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** Pixel storage: raw values as the file holds them (MNIST bytes 0..255, digits 0..16, floats from npy). */
export type PixelArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/**
 * How one image's values are ordered: `hw` a grey image, `flat` a vector of pixels (`[N,D]` files),
 * `chw` channels first, `hwc` channels last.
 */
export type ImageLayout = "hw" | "flat" | "chw" | "hwc";

/** A set of `count` images stored back to back, row-major. */
export interface ImageSet {
  /** the file the images came from (for messages) */
  readonly file: string;
  readonly count: number;
  /** the shape of one image as stored: [H,W], [D], [C,H,W] or [H,W,C] */
  readonly shape: readonly number[];
  readonly layout: ImageLayout;
  /** count · numel(shape) raw pixel values */
  readonly data: PixelArray;
}

/** Channels of one image in a set (1 for `hw` and `flat`). */
export function imageChannels(images: ImageSet): number {
  if (images.layout === "chw") return images.shape[0]!;
  if (images.layout === "hwc") return images.shape[2]!;
  return 1;
}

/** Pixels per channel of one image (H·W, or D for a flat set). */
export function imagePixels(images: ImageSet): number {
  let n = 1;
  for (const d of images.shape) n *= d;
  return n / imageChannels(images);
}

/** Reads a whole data file, gunzipping it when it starts with the gzip magic 1f 8b. */
export function readDataFile(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new XbarcError("XB7002", `cannot read dataset file: ${reason}`, {
      location: { kind: "file", file: path },
      hint: "check the path; MNIST test files are bundled in fixtures/mnist/",
      cause: e,
    });
  }
  return maybeGunzip(bytes, path);
}

/** Decompresses gzip data (detected by magic, not by file name); returns other bytes unchanged. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new XbarcError("XB7002", `gzip data is corrupt or truncated: ${(e as Error).message}`, {
      location: { kind: "file", file },
      hint: "the download may be incomplete; fetch the file again",
      cause: e,
    });
  }
}

/** The images at `indices` (in that order) as a new set; throws XB7002 for an index outside the set. */
export function selectImages(images: ImageSet, indices: ArrayLike<number>): ImageSet {
  let perImage = 1;
  for (const d of images.shape) perImage *= d;
  const Ctor = images.data.constructor as new (n: number) => PixelArray;
  const data = new Ctor(indices.length * perImage);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= images.count) {
      throw new XbarcError("XB7002", `image index ${k} (entry ${i} of the index list) is outside ${images.file}, which holds ${images.count} images`, {
        location: { kind: "file", file: images.file },
        hint: "indices are 0-based row numbers of the image file",
      });
    }
    data.set(images.data.subarray(k * perImage, (k + 1) * perImage), i * perImage);
  }
  return { ...images, count: indices.length, data };
}

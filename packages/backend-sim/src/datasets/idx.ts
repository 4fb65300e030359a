/** @fileoverview Reader for LeCun's IDX files (MNIST images magic 2051, labels magic 2049), gzipped or not. */
import { XbarcError } from "@xbarc/ir";
import { readDataFile, type ImageSet } from "./image-set.js";

/** Magic number of an IDX file of unsigned-byte images (3 dims: N, H, W). */
export const IDX_IMAGES_MAGIC = 2051;
/** Magic number of an IDX file of unsigned-byte labels (1 dim: N). */
export const IDX_LABELS_MAGIC = 2049;

/** True when `bytes` (already gunzipped) start like an unsigned-byte IDX file. */
export function isIdx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08 && bytes[3]! >= 1 && bytes[3]! <= 4;
}

function fail(file: string, message: string, hint: string): XbarcError {
  return new XbarcError("XB7002", message, { location: { kind: "file", file }, hint });
}

/**
 * Decodes IDX bytes: images (magic 2051) → ImageSet with per-image shape [H,W] and the raw bytes;
 * labels (magic 2049) → one byte per label.
 */
export function parseIdx(bytes: Uint8Array, file: string): ImageSet | Uint8Array {
  if (bytes.length < 4) throw fail(file, `IDX file is truncated: ${bytes.length} bytes, the header alone needs 4`, "the file is incomplete; fetch it again");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== IDX_IMAGES_MAGIC && magic !== IDX_LABELS_MAGIC) {
    throw fail(
      file,
      `not an IDX image or label file: magic number ${magic} (bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ")}), expected 2051 (images) or 2049 (labels)`,
      "pass the MNIST files t10k-images-idx3-ubyte(.gz) / t10k-labels-idx1-ubyte(.gz), or a .npy file",
    );
  }
  const rank = bytes[3]!;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw fail(file, `IDX file is truncated: ${bytes.length} bytes, the header needs ${headerBytes}`, "the file is incomplete; fetch it again");
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  let size = 1;
  for (const d of dims) size *= d;
  if (bytes.length < headerBytes + size) {
    throw fail(
      file,
      `IDX file is truncated: dims [${dims.join(",")}] need ${headerBytes + size} bytes, the file has ${bytes.length}`,
      "the file is incomplete; fetch it again",
    );
  }
  const data = bytes.slice(headerBytes, headerBytes + size);
  if (magic === IDX_LABELS_MAGIC) return data;
  return { file, count: dims[0]!, shape: [dims[1]!, dims[2]!], layout: "hw", data };
}

/** Reads an IDX file (gzip detected by its magic 1f 8b): images → ImageSet, labels → Uint8Array. Throws XB7002. */
export function readIdx(path: string): ImageSet | Uint8Array {
  return parseIdx(readDataFile(path), path);
}

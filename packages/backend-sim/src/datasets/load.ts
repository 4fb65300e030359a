/** @fileoverview Loads images and labels by content: IDX (magic 2051/2049), .npy, or a CSV of pixels + label (scikit-learn digits). */
import { readNumbers, XbarcError, type Tensor } from "@xbarc/ir";
import { isIdx, parseIdx } from "./idx.js";
import { readDataFile, type ImageLayout, type ImageSet, type PixelArray } from "./image-set.js";
import { isNpy, parseNpy } from "./npy.js";

function fail(file: string, message: string, hint: string): XbarcError {
  return new XbarcError("XB7002", message, { location: { kind: "file", file }, hint });
}

const FORMATS_HINT = "supported: IDX (MNIST t10k-*-ubyte, gzipped or not), .npy, or a CSV with one image per row followed by its label";

/** Rows of a numeric CSV; a first line holding letters is taken as a header and skipped. */
function parseCsv(bytes: Uint8Array, file: string): number[][] {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length > 0 && /[a-df-zA-DF-Z]/.test(lines[0]!)) lines.shift();
  const rows: number[][] = [];
  for (let i = 0; i < lines.length; i++) {
    const row = lines[i]!.split(",").map((s) => Number(s.trim()));
    const bad = row.findIndex((v) => Number.isNaN(v));
    if (bad >= 0) throw fail(file, `CSV line ${i + 1}, column ${bad + 1}: "${lines[i]!.split(",")[bad]}" is not a number`, FORMATS_HINT);
    if (rows.length > 0 && row.length !== rows[0]!.length) {
      throw fail(file, `CSV line ${i + 1} has ${row.length} columns, the first line has ${rows[0]!.length}`, "every row must hold the same number of pixels followed by the label");
    }
    rows.push(row);
  }
  if (rows.length === 0) throw fail(file, "CSV file holds no rows", FORMATS_HINT);
  if (rows[0]!.length < 2) throw fail(file, "CSV rows need at least one pixel and a label", FORMATS_HINT);
  return rows;
}

/** True when bytes look like text made of numbers, commas and line breaks. */
function looksLikeCsv(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 256);
  if (n === 0) return false;
  let commas = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0x2c) commas++;
    else if (b < 0x09 || b > 0x7e) return false;
  }
  return commas > 0;
}

/** Integer values 0..255 are kept as bytes (exact and small); anything else as float64. */
function compactPixels(values: Float64Array): PixelArray {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 255) return values;
  }
  return Uint8Array.from(values);
}

/** Pixel storage for an npy tensor: typed data used as is where it holds plain numbers, converted otherwise. */
function pixelsOf(t: Tensor): PixelArray {
  switch (t.type.dtype) {
    case "u8": case "i8": case "i16": case "u16": case "i32": case "u32": case "f32": case "f64":
      return t.data as PixelArray;
    default:
      return readNumbers(t); // f16 bits, 64-bit ints and bool become plain numbers
  }
}

const isChannelCount = (d: number) => d === 1 || d === 3;

/** Interprets an npy array [N,H,W], [N,D], [N,C,H,W] or [N,H,W,C] as a set of images. */
export function imageSetFromTensor(t: Tensor, file: string): ImageSet {
  const s = t.type.shape;
  let layout: ImageLayout;
  if (s.length === 2) layout = "flat";
  else if (s.length === 3) layout = "hw";
  else if (s.length === 4 && (isChannelCount(s[1]!) || isChannelCount(s[3]!))) {
    // [N,C,H,W] unless only the last axis can be channels; when both can, a trailing 1 ([N,H,W,1]) means channels last
    layout = !isChannelCount(s[1]!) || s[3] === 1 ? "hwc" : "chw";
  } else {
    throw fail(
      file,
      `image array has shape [${s.join(",")}]; expected [N,H,W], [N,D], [N,C,H,W] or [N,H,W,C] with C = 1 or 3`,
      "reshape the array so the first axis counts images",
    );
  }
  return { file, count: s[0]!, shape: s.slice(1), layout, data: pixelsOf(t) };
}

/** Loads an image set, choosing the reader from the file's content (gzip, IDX magic, .npy magic, else CSV). Throws XB7002. */
export function loadImageSet(path: string): ImageSet {
  const bytes = readDataFile(path);
  if (isIdx(bytes)) {
    const r = parseIdx(bytes, path);
    if (r instanceof Uint8Array) throw fail(path, "this IDX file holds labels (magic 2049), not images (magic 2051)", "pass it with --labels, and the images file with --images");
    return r;
  }
  if (isNpy(bytes)) return imageSetFromTensor(parseNpy(bytes, path), path);
  if (looksLikeCsv(bytes)) {
    const rows = parseCsv(bytes, path);
    const pixels = rows[0]!.length - 1;
    const values = new Float64Array(rows.length * pixels);
    rows.forEach((row, i) => values.set(row.slice(0, pixels), i * pixels));
    const side = Math.round(Math.sqrt(pixels));
    const square = side * side === pixels;
    return { file: path, count: rows.length, shape: square ? [side, side] : [pixels], layout: square ? "hw" : "flat", data: compactPixels(values) };
  }
  throw fail(path, "unrecognised image file format", FORMATS_HINT);
}

/** Loads labels (IDX magic 2049, .npy of N integers, or the last column of a CSV) as Int32Array. Throws XB7002. */
export function loadLabels(path: string): Int32Array {
  const bytes = readDataFile(path);
  if (isIdx(bytes)) {
    const r = parseIdx(bytes, path);
    if (!(r instanceof Uint8Array)) throw fail(path, "this IDX file holds images (magic 2051), not labels (magic 2049)", "pass it with --images, and the labels file with --labels");
    return Int32Array.from(r);
  }
  if (isNpy(bytes)) {
    const t = parseNpy(bytes, path);
    const s = t.type.shape;
    if (!(s.length === 1 || (s.length === 2 && s[1] === 1))) {
      throw fail(path, `label array has shape [${s.join(",")}]; expected [N] (one class index per image)`, "save the labels as a 1-D integer array");
    }
    const values = readNumbers(t);
    const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0);
    if (bad >= 0) throw fail(path, `label ${bad} is ${values[bad]}, not a class index (a non-negative integer)`, "save the labels as a 1-D integer array");
    return Int32Array.from(values);
  }
  if (looksLikeCsv(bytes)) {
    const rows = parseCsv(bytes, path);
    return Int32Array.from(rows, (r) => r[r.length - 1]!);
  }
  throw fail(path, "unrecognised label file format", FORMATS_HINT);
}

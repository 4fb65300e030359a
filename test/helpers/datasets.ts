/**
 * @fileoverview Test-side readers for the bundled datasets (MNIST idx.gz, scikit-learn digits CSV and its
 * test split) and the per-model preprocessing named in fixtures/README.md. Decoded here with zlib on purpose:
 * the test oracle must not share code with the dataset readers under test.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fixturePath } from "./paths.js";

/** Preprocessing keys from fixtures/README.md: `unit` = x/255, `mnist` = (x/255−0.1307)/0.3081, `digits` = x/16, `raw` = x. */
export type PreprocessKey = "unit" | "mnist" | "digits" | "raw";

/** A set of equally sized uint8 images (or feature rows) with their labels. */
export interface LabeledSet {
  /** number of samples */
  readonly count: number;
  /** pixels per sample (784 for MNIST, 64 for digits) */
  readonly sampleSize: number;
  /** row-major samples, `count * sampleSize` bytes */
  readonly pixels: Uint8Array;
  /** one label 0..9 per sample */
  readonly labels: Uint8Array;
}

const cache = new Map<string, LabeledSet>();

function readIdxGz(path: string, magic: number): { dims: number[]; body: Uint8Array } {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) throw new Error(`${path}: idx magic ${found}, expected ${magic}`);
  const rank = found & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const header = 4 + 4 * rank;
  const body = bytes.subarray(header);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (body.length !== expected) throw new Error(`${path}: ${body.length} data bytes, expected ${expected}`);
  return { dims, body };
}

/** The 10,000 MNIST t10k images (28×28, 0 = background) and labels, decoded once per process. */
export function loadMnistTest(): LabeledSet {
  const hit = cache.get("mnist");
  if (hit) return hit;
  const images = readIdxGz(fixturePath("mnist", "t10k-images-idx3-ubyte.gz"), 2051);
  const labels = readIdxGz(fixturePath("mnist", "t10k-labels-idx1-ubyte.gz"), 2049);
  if (images.dims[0] !== labels.dims[0]) throw new Error("MNIST image and label counts differ");
  const set: LabeledSet = {
    count: images.dims[0]!,
    sampleSize: images.dims[1]! * images.dims[2]!,
    pixels: images.body,
    labels: labels.body,
  };
  cache.set("mnist", set);
  return set;
}

/** All 1797 scikit-learn digits rows (64 pixels 0..16, then the label). */
export function loadDigits(): LabeledSet {
  const hit = cache.get("digits");
  if (hit) return hit;
  const lines = gunzipSync(readFileSync(fixturePath("digits", "digits.csv.gz"))).toString("utf8").trim().split("\n");
  const pixels = new Uint8Array(lines.length * 64);
  const labels = new Uint8Array(lines.length);
  lines.forEach((line, row) => {
    const cells = line.split(",").map(Number);
    if (cells.length !== 65) throw new Error(`digits.csv.gz row ${row}: ${cells.length} cells, expected 65`);
    for (let j = 0; j < 64; j++) pixels[row * 64 + j] = cells[j]!;
    labels[row] = cells[64]!;
  });
  const set: LabeledSet = { count: lines.length, sampleSize: 64, pixels, labels };
  cache.set("digits", set);
  return set;
}

/** The 359 row indices of the digits test split (fixtures/digits/test_split.json). */
export function loadDigitsTestSplit(): number[] {
  const json = JSON.parse(readFileSync(fixturePath("digits", "test_split.json"), "utf8")) as { test_indices: number[] };
  return json.test_indices;
}

/** One preprocessed pixel as float32, computed in double then rounded once (as numpy/torch did for the fixtures). */
export function preprocessPixel(key: PreprocessKey, x: number): number {
  switch (key) {
    case "unit":
      return Math.fround(x / 255);
    case "mnist":
      return Math.fround((x / 255 - 0.1307) / 0.3081);
    case "digits":
      return Math.fround(x / 16);
    case "raw":
      return x;
  }
}

/** Preprocesses the samples `indices` of `set` into one row-major float32 batch. */
export function preprocessSamples(set: LabeledSet, indices: readonly number[], key: PreprocessKey): { data: Float32Array; labels: Uint8Array } {
  const n = set.sampleSize;
  const data = new Float32Array(indices.length * n);
  const labels = new Uint8Array(indices.length);
  // a lookup table per key: pixels are bytes, so 256 entries cover every value
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = preprocessPixel(key, v);
  indices.forEach((sample, k) => {
    if (sample < 0 || sample >= set.count) throw new Error(`sample ${sample} outside 0..${set.count - 1}`);
    for (let j = 0; j < n; j++) data[k * n + j] = table[set.pixels[sample * n + j]!]!;
    labels[k] = set.labels[sample]!;
  });
  return { data, labels };
}

/** `[start, start+1, ..., end-1]`. */
export function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** Deterministic integers: each call (n) gives one in [0, n) from a linear congruential generator seeded with `seed`. */
export function seededInts(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

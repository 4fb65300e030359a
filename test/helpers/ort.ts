/** @fileoverview onnxruntime-node (the reference executor of fixtures/README.md) as a small float32 runner with a session cache. */
import * as ort from "onnxruntime-node";
import { concatFloat32 } from "./compare.js";

/** A float32 tensor as plain data and dims. */
export interface FloatTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** One ORT session per model file and process (CPU, single thread so results do not depend on the machine). */
export function getOrtSession(path: string): Promise<ort.InferenceSession> {
  let s = sessions.get(path);
  if (!s) {
    s = ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    sessions.set(path, s);
  }
  return s;
}

/** Runs the model on float32 feeds and returns every output as float32 (by output name). */
export async function runOrt(path: string, feeds: Record<string, FloatTensor>): Promise<Record<string, FloatTensor>> {
  const session = await getOrtSession(path);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor("float32", t.data, t.dims);
  const results = await session.run(ortFeeds);
  const out: Record<string, FloatTensor> = {};
  for (const [name, t] of Object.entries(results)) {
    if (t.type !== "float32") throw new Error(`${path}: output ${name} is ${t.type}, expected float32`);
    out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
  }
  return out;
}

/** Runs a one-input model and returns its first output. */
export async function runOrtSingle(path: string, inputName: string, input: FloatTensor): Promise<FloatTensor> {
  const session = await getOrtSession(path);
  const out = await runOrt(path, { [inputName]: input });
  return out[session.outputNames[0]!]!;
}

/**
 * Runs a one-input model over `count` samples in batches of `batch` (the last one may be smaller unless the
 * model's batch is fixed, in which case `count` must be a multiple) and concatenates the first output.
 */
export async function runOrtBatched(
  path: string,
  inputName: string,
  data: Float32Array,
  sampleDims: readonly number[],
  count: number,
  batch: number,
): Promise<Float32Array> {
  const sampleSize = sampleDims.reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const slice = data.subarray(start * sampleSize, (start + n) * sampleSize);
    const out = await runOrtSingle(path, inputName, { data: slice, dims: [n, ...sampleDims] });
    parts.push(out.data);
  }
  return concatFloat32(parts);
}

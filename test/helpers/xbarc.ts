/** @fileoverview Runs xbarc's side of an end-to-end check: import an ONNX file, canonicalize it, interpret it on float32 data. */
import { loadOnnxFile } from "@xbarc/frontend";
import { createTensor, interpretModule, readNumbers, type Module } from "@xbarc/ir";
import { runPipeline } from "@xbarc/passes";
import { concatFloat32 } from "./compare.js";

/** Imports `path` at batch `batch` and, unless `canonicalize` is false, runs the canonicalize pipeline on it. */
export function importModel(path: string, batch: number | undefined, canonicalize = true): Module {
  const m = loadOnnxFile(path, batch === undefined ? {} : { batch });
  if (canonicalize) runPipeline(m, "canonicalize");
  return m;
}

/** Runs the reference interpreter on a one-input module and returns its first output as float32 and its shape. */
export function interpretFloat(m: Module, data: Float32Array, dims: readonly number[]): { data: Float32Array; dims: number[] } {
  const input = m.inputs[0];
  if (!input) throw new Error(`module @${m.name} has no input`);
  const tensor = createTensor({ dtype: "f32", shape: [...dims] }, data);
  const results = interpretModule(m, new Map([[input.name, tensor]]));
  const outName = m.outputs[0]!.name;
  const out = results.get(outName);
  if (!out) throw new Error(`interpreter returned no value for output %${outName}`);
  return { data: Float32Array.from(readNumbers(out)), dims: [...out.type.shape] };
}

/**
 * Interprets `count` samples in batches of `batch` with one module imported at that batch size (plus one more
 * for a smaller last batch), concatenating the first output.
 */
export function interpretBatched(
  path: string,
  data: Float32Array,
  sampleDims: readonly number[],
  count: number,
  batch: number,
): Float32Array {
  const sampleSize = sampleDims.reduce((a, b) => a * b, 1);
  const modules = new Map<number, Module>();
  const parts: Float32Array[] = [];
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    let m = modules.get(n);
    if (!m) {
      m = importModel(path, n);
      modules.set(n, m);
    }
    parts.push(interpretFloat(m, data.subarray(start * sampleSize, (start + n) * sampleSize), [n, ...sampleDims]).data);
  }
  return concatFloat32(parts);
}

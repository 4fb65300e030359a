/**
 * @fileoverview The real-model fixtures (fixtures/models/{public,trained}/manifest.json) as typed records: file,
 * input/output names, fixed or dynamic batch, per-sample shape, preprocessing, evaluation slice, reference accuracy.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { loadDigits, loadDigitsTestSplit, loadMnistTest, preprocessSamples, range, type LabeledSet, type PreprocessKey } from "./datasets.js";
import { fixturePath } from "./paths.js";

/** One fixture model and how to feed it. */
export interface FixtureModel {
  /** file stem, e.g. "lenet5-pytorch2.0-opset10" */
  readonly id: string;
  /** "public" (pretrained by others) or "trained" (trained for this project) */
  readonly suite: "public" | "trained";
  /** absolute path of the .onnx file */
  readonly path: string;
  /** graph input name as in the ONNX file */
  readonly inputName: string;
  /** graph output name as in the ONNX file */
  readonly outputName: string;
  /** the batch size fixed in the file, or undefined for a symbolic batch */
  readonly fixedBatch: number | undefined;
  /** the input shape without the batch dimension, e.g. [1,28,28] or [784] */
  readonly sampleDims: readonly number[];
  /** number of output classes (last output dim) */
  readonly classes: number;
  /** preprocessing key of fixtures/README.md */
  readonly preprocess: PreprocessKey;
  /** which dataset the model reads */
  readonly dataset: "mnist" | "digits";
  /** the evaluation slice the reference accuracy is stated on, as text */
  readonly evalSliceName: string;
  /** sample indices of that slice */
  readonly evalIndices: readonly number[];
  /** onnxruntime-node 1.30 top-1 accuracy on that slice, as stated by the manifest and fixtures/README.md */
  readonly referenceAccuracy: number;
  /** absolute paths of the test_data_set_* folders next to the model */
  readonly testDataSets: readonly string[];
}

interface ManifestIo {
  name: string;
  shape: (number | string)[];
}
interface ManifestModel {
  file: string;
  preprocess: string;
  preprocess_key?: string;
  ort_accuracy: Record<string, number>;
  inputs: ManifestIo[];
  outputs: ManifestIo[];
}

// the slice README.md asks us to compare on: held-out t10k[8000:10000] for MNIST, the 359-row split for digits
const MNIST_EVAL = "t10k[8000:10000]";
const DIGITS_EVAL = "digits test split";

function preprocessOf(m: ManifestModel): PreprocessKey {
  if (m.preprocess_key === "unit" || m.preprocess_key === "mnist") return m.preprocess_key;
  if (m.preprocess.startsWith("x/255")) return "unit";
  if (m.preprocess.startsWith("x/16")) return "digits";
  throw new Error(`${m.file}: cannot tell the preprocessing from "${m.preprocess}"`);
}

function toFixtureModel(suite: "public" | "trained", m: ManifestModel): FixtureModel {
  const path = fixturePath(m.file);
  const id = basename(m.file, ".onnx");
  const input = m.inputs[0]!;
  const output = m.outputs[0]!;
  const [batchDim, ...rest] = input.shape;
  if (rest.some((d) => typeof d !== "number")) throw new Error(`${m.file}: only the batch dim may be symbolic`);
  const preprocess = preprocessOf(m);
  const dataset = preprocess === "digits" ? "digits" : "mnist";
  const accKey = Object.keys(m.ort_accuracy).find((k) => k.startsWith(dataset === "digits" ? DIGITS_EVAL : MNIST_EVAL));
  if (!accKey) throw new Error(`${m.file}: no ort_accuracy entry for the evaluation slice`);
  const folder = path.slice(0, -".onnx".length);
  const testDataSets = existsSync(folder)
    ? readdirSync(folder)
        .filter((d) => d.startsWith("test_data_set_"))
        .sort()
        .map((d) => join(folder, d))
    : [];
  return {
    id,
    suite,
    path,
    inputName: input.name,
    outputName: output.name,
    fixedBatch: typeof batchDim === "number" ? batchDim : undefined,
    sampleDims: rest as number[],
    classes: output.shape[output.shape.length - 1] as number,
    preprocess,
    dataset,
    evalSliceName: dataset === "digits" ? "the 359-row digits test split" : MNIST_EVAL,
    evalIndices: dataset === "digits" ? loadDigitsTestSplit() : range(8000, 10000),
    referenceAccuracy: m.ort_accuracy[accKey]!,
    testDataSets,
  };
}

/** Every model of fixtures/models/{public,trained}, in manifest order. */
export function listFixtureModels(): FixtureModel[] {
  const out: FixtureModel[] = [];
  for (const suite of ["public", "trained"] as const) {
    const manifest = JSON.parse(readFileSync(fixturePath("models", suite, "manifest.json"), "utf8")) as { models: ManifestModel[] };
    for (const m of manifest.models) out.push(toFixtureModel(suite, m));
  }
  return out;
}

/** The dataset a model reads. */
export function datasetOf(model: FixtureModel): LabeledSet {
  return model.dataset === "digits" ? loadDigits() : loadMnistTest();
}

/** Preprocessed inputs and labels for the given sample indices of the model's dataset. */
export function samplesFor(model: FixtureModel, indices: readonly number[]): { data: Float32Array; labels: Uint8Array } {
  return preprocessSamples(datasetOf(model), indices, model.preprocess);
}

/** Number of float values per sample. */
export function sampleSize(model: FixtureModel): number {
  return model.sampleDims.reduce((a, b) => a * b, 1);
}

/** A program's recorded preprocessing x' = (x·scale − mean)/std for each fixture preprocessing key (fixtures/README.md). */
export const FIXTURE_PREPROCESSING: Readonly<Record<PreprocessKey, { scale: number; mean: number; std: number }>> = {
  unit: { scale: 1 / 255, mean: 0, std: 1 },
  mnist: { scale: 1 / 255, mean: 0.1307, std: 0.3081 },
  digits: { scale: 1 / 16, mean: 0, std: 1 },
  raw: { scale: 1, mean: 0, std: 1 },
};

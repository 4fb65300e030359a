/**
 * @fileoverview The programmatic API behind every command (`import { importModel, evalFloat } from "@xbarc/cli"`):
 * load a model (.onnx or .xir), run a pipeline, run the reference interpreter on tensors or on a labelled image set.
 * Functions throw XbarcError and never print or exit; the commands in ./commands do that.
 */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { performance } from "node:perf_hooks";
import {
  formatType, interpretModule, parseModule, sameType, XbarcError,
  type Module, type Tensor,
} from "@xbarc/ir";
import { decodeTensorProto, loadOnnxFile } from "@xbarc/frontend";
import { runPipeline, type PipelineResult, type RunPipelineOptions } from "@xbarc/passes";
import {
  DEFAULT_PREPROCESSING, fitImages, getInputFit, isNpy, loadImageSet, loadLabels, parseNpy, selectImages, top1,
  type ImageSet, type Preprocessing,
} from "@xbarc/backend-sim";

/** Which reader a model file needs. */
export type ModelFormat = "onnx" | "xir";

/** Options for loading a model. */
export interface LoadModelOptions {
  /** size of a symbolic batch dimension of an ONNX model's inputs */
  batch?: number;
  /** path of the weights side file of an .xir model */
  weights?: string;
}

function readModelBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    throw new XbarcError("XB1001", `cannot read ${path}: ${errno === "ENOENT" ? "no such file" : errno === "EISDIR" ? "it is a directory" : (e as Error).message}`, {
      location: { kind: "file", file: path },
      hint: "check the path of the model file",
      cause: e,
    });
  }
}

/** .xir and .onnx by extension; otherwise IR text is recognised by its first word (`module` or a `//` comment). */
export function getModelFormat(path: string, bytes?: Uint8Array): ModelFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".xir") return "xir";
  if (ext === ".onnx") return "onnx";
  const head = new TextDecoder().decode((bytes ?? readModelBytes(path)).subarray(0, 64)).trimStart();
  return head.startsWith("module") || head.startsWith("//") ? "xir" : "onnx";
}

/** Imports an ONNX model file into the IR. */
export function importModel(path: string, options: { batch?: number } = {}): Module {
  return loadOnnxFile(path, options.batch === undefined ? {} : { batch: options.batch });
}

/** Reads an IR weights side file (XB2004 when it cannot be read). */
export function readWeightsFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new XbarcError("XB2004", `cannot read the weights side file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, {
      location: { kind: "file", file: path },
      hint: "pass the file written by `xbarc import --weights` or `xbarc opt --weights` for this .xir",
      cause: e,
    });
  }
}

/** Parses an .xir file, with its weights side file when given. */
export function parseIrFile(path: string, weightsPath?: string): Module {
  const text = readModelBytes(path).toString("utf8");
  const weights = weightsPath === undefined ? undefined : readWeightsFile(weightsPath);
  return parseModule(text, weights === undefined ? { file: path } : { file: path, weights });
}

/** Loads a model from an .onnx or .xir file (the format decided by getModelFormat). */
export function loadModel(path: string, options: LoadModelOptions = {}): Module {
  if (getModelFormat(path) === "xir") return parseIrFile(path, options.weights);
  return importModel(path, options);
}

/** Runs a pipeline string (`canonicalize,prune{budget=0.01}`) on a module in place. */
export function runPasses(module: Module, pipeline: string, options: RunPipelineOptions = {}): PipelineResult {
  return runPipeline(module, pipeline, options);
}

/** Reads a tensor from an ONNX TensorProto (.pb) or a NumPy .npy file, chosen by content. `name` is "" for .npy. */
export function readTensorFile(path: string): { name: string; tensor: Tensor } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new XbarcError("XB4003", `cannot read input file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, {
      location: { kind: "file", file: path },
      hint: "give a serialized onnx.TensorProto (.pb) or a .npy file",
      cause: e,
    });
  }
  if (isNpy(bytes)) {
    try {
      return { name: "", tensor: parseNpy(bytes, path) };
    } catch (e) {
      if (!(e instanceof XbarcError)) throw e;
      throw new XbarcError("XB4003", e.message, { location: { kind: "file", file: path }, hint: e.hint, cause: e });
    }
  }
  return decodeTensorProto(bytes, path);
}

/**
 * Checks that `inputs` provides every model input with exactly its declared type; XB4002 names the input,
 * the expected and the found type, and the file when `files` says where a tensor came from.
 */
export function checkInputs(module: Module, inputs: ReadonlyMap<string, Tensor>, files: ReadonlyMap<string, string> = new Map()): void {
  const names = module.inputs.map((v) => v.name);
  for (const [name, tensor] of inputs) {
    const input = module.inputs.find((v) => v.name === name);
    const where = files.get(name);
    const location = where === undefined ? undefined : { kind: "file" as const, file: where };
    if (!input) {
      throw new XbarcError("XB4002", `the model has no input named "${name}"; its inputs are ${names.map((n) => `"${n}"`).join(", ")}`, {
        ...(location ? { location } : {}),
        hint: "write --input <name>=<file> with one of the model's input names",
      });
    }
    if (!sameType(input.type, tensor.type)) {
      const batchHint = input.type.shape.length === tensor.type.shape.length && input.type.dtype === tensor.type.dtype
        && input.type.shape.slice(1).every((d, i) => d === tensor.type.shape[i + 1])
        ? ` (only the batch differs: import with --batch ${tensor.type.shape[0]} if the model's batch is symbolic)` : "";
      throw new XbarcError("XB4002", `input "${name}": expected ${formatType(input.type)}, found ${formatType(tensor.type)}${where ? ` in ${where}` : ""}`, {
        ...(location ? { location } : {}),
        hint: `give a tensor of type ${formatType(input.type)}${batchHint}`,
      });
    }
  }
  const missing = names.filter((n) => !inputs.has(n));
  if (missing.length > 0) {
    throw new XbarcError("XB4002", `no value given for model input${missing.length > 1 ? "s" : ""} ${missing.map((n) => `"${n}"`).join(", ")}`, {
      hint: `pass --input ${missing[0]}=<file.pb|file.npy> for each`,
    });
  }
}

/** Runs canonicalize on a module (in place), as infer and eval-float do before interpreting. */
export function canonicalizeModule(module: Module, modelName?: string): PipelineResult {
  return runPipeline(module, "canonicalize", modelName === undefined ? {} : { modelName });
}

/** Canonicalizes (unless told not to) and runs the reference interpreter; inputs are checked first (XB4002). */
export function inferModule(
  module: Module,
  inputs: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  options: { canonicalize?: boolean; files?: ReadonlyMap<string, string> } = {},
): Map<string, Tensor> {
  const map = inputs instanceof Map ? (inputs as ReadonlyMap<string, Tensor>) : new Map(Object.entries(inputs));
  checkInputs(module, map, options.files);
  if (options.canonicalize !== false) canonicalizeModule(module);
  return interpretModule(module, map);
}

/** Options of evalFloat. */
export interface EvalFloatOptions {
  /** an .onnx/.xir path, or a module already loaded (it is canonicalized in place) */
  model: string | Module;
  /** image file (IDX, .npy or CSV), or a loaded set */
  images: string | ImageSet;
  /** label file (IDX, .npy or CSV), or loaded labels */
  labels: string | ArrayLike<number>;
  /** evaluate only these 0-based images, in this order (e.g. a test split); offset and limit then apply to this list */
  indices?: ArrayLike<number>;
  /** first image to evaluate (default 0) */
  offset?: number;
  /** how many images (default: all from offset on) */
  limit?: number;
  /** images per interpreter run for a model with a symbolic batch (default 100) */
  batchSize?: number;
  /** x' = (x·scale − mean)/std; defaults scale=1/255, mean=0, std=1 */
  preprocessing?: Partial<Preprocessing>;
  /** weights side file for an .xir model */
  weights?: string;
  /** called after each batch with images done and total */
  onProgress?: (done: number, total: number) => void;
}

/** What evalFloat measured. */
export interface EvalFloatReport {
  /** the model file (or module name) */
  model: string;
  /** the image and label files */
  imagesFile: string;
  labelsFile: string;
  /** first image evaluated (within the index list when one was given) */
  offset: number;
  /** how many indices selected the images, or null when the file was used in order */
  indices: number | null;
  /** images evaluated */
  images: number;
  /** images whose top-1 class equals the label */
  correct: number;
  /** correct / images */
  accuracy: number;
  /** the preprocessing applied: x' = (x·scale − mean)/std */
  preprocessing: Preprocessing;
  /** images per interpreter run (the model's batch) */
  batchSize: number;
  /** wall time of the evaluation loop (model loading excluded), seconds */
  seconds: number;
  /** images / seconds */
  imagesPerSecond: number;
}

/**
 * Reads a JSON list of 0-based image indices: a plain array, or an object holding one array of integers
 * (fixtures/digits/test_split.json keeps its split in `test_indices`). XB7002 otherwise.
 */
export function readIndexFile(path: string): number[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new XbarcError("XB7002", `cannot read the index file ${path}: ${(e as Error).message}`, {
      location: { kind: "file", file: path }, hint: "give a JSON array of 0-based image indices", cause: e,
    });
  }
  const isIndexList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
  if (isIndexList(doc)) return doc;
  const lists = doc !== null && typeof doc === "object" ? Object.entries(doc as Record<string, unknown>).filter(([, v]) => isIndexList(v)) : [];
  if (lists.length === 1) return lists[0]![1] as number[];
  throw new XbarcError("XB7002", `${path} is not a list of image indices: expected a JSON array of integers ≥ 0, or an object with exactly one such array${lists.length > 1 ? ` (found ${lists.map(([k]) => k).join(", ")})` : ""}`, {
    location: { kind: "file", file: path }, hint: 'write e.g. [3, 7, 13] or {"test_indices": [3, 7, 13]}',
  });
}

/** Default images per interpreter run in eval-float. */
export const DEFAULT_EVAL_BATCH = 100;

/**
 * Top-1 accuracy of the float reference interpreter (after canonicalize) on a labelled image set:
 * images are fitted to the model's first input (fitImages), the class is the argmax of the first output.
 */
export function evalFloat(options: EvalFloatOptions): EvalFloatReport {
  let images = typeof options.images === "string" ? loadImageSet(options.images) : options.images;
  const labelsFile = typeof options.labels === "string" ? options.labels : "<labels>";
  let labels: ArrayLike<number> = typeof options.labels === "string" ? loadLabels(options.labels) : options.labels;
  if (labels.length !== images.count) {
    throw new XbarcError("XB7002", `${images.file} holds ${images.count} images but ${labelsFile} holds ${labels.length} labels`, {
      location: { kind: "file", file: labelsFile },
      hint: "pass the label file that belongs to these images",
    });
  }
  if (options.indices !== undefined) {
    const indices = options.indices;
    const all = labels;
    images = selectImages(images, indices);
    labels = Array.from({ length: indices.length }, (_, i) => Number(all[indices[i]!]));
  }
  const offset = options.offset ?? 0;
  if (offset >= images.count) {
    throw new XbarcError("XB7001", `--offset ${offset} is past the last image (${options.indices ? "the index list selects" : `${images.file} holds`} ${images.count})`, {
      hint: `use an offset below ${images.count}`,
    });
  }
  const total = Math.min(options.limit ?? images.count - offset, images.count - offset);
  // fields left undefined keep their defaults (a spread would copy the undefined)
  const given = options.preprocessing ?? {};
  const preprocessing: Preprocessing = {
    scale: given.scale ?? DEFAULT_PREPROCESSING.scale,
    mean: given.mean ?? DEFAULT_PREPROCESSING.mean,
    std: given.std ?? DEFAULT_PREPROCESSING.std,
  };
  const requestedBatch = options.batchSize ?? DEFAULT_EVAL_BATCH;

  let module: Module;
  let modelName: string;
  if (typeof options.model === "string") {
    modelName = options.model;
    module = getModelFormat(options.model) === "xir"
      ? parseIrFile(options.model, options.weights)
      : importModel(options.model, { batch: Math.min(requestedBatch, Math.max(total, 1)) });
  } else {
    module = options.model;
    modelName = module.name;
  }
  canonicalizeModule(module, basename(modelName));
  const input = module.inputs[0];
  const output = module.outputs[0];
  if (!input || !output) {
    throw new XbarcError("XB4002", `model ${modelName} needs at least one input and one output to classify images`, { hint: "evaluate a classifier" });
  }
  if (module.inputs.length > 1) {
    throw new XbarcError("XB4002", `model ${modelName} has ${module.inputs.length} inputs (${module.inputs.map((v) => v.name).join(", ")}); eval-float feeds images to a single input`, {
      hint: "evaluate a single-input classifier",
    });
  }
  const fit = getInputFit(images, input.type, input.name);

  const started = performance.now();
  let correct = 0;
  for (let done = 0; done < total; done += fit.batch) {
    const count = Math.min(fit.batch, total - done);
    const x = fitImages(images, input.type, preprocessing, offset + done, count, input.name);
    const results = interpretModule(module, new Map([[input.name, x]]));
    const y = results.get(output.name);
    if (!y) throw new Error(`interpreter returned no value for output %${output.name}`);
    const classes = top1(y, count);
    for (let i = 0; i < count; i++) if (classes[i] === Number(labels[offset + done + i])) correct++;
    options.onProgress?.(done + count, total);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    model: modelName,
    imagesFile: images.file,
    labelsFile,
    offset,
    indices: options.indices?.length ?? null,
    images: total,
    correct,
    accuracy: total === 0 ? 0 : correct / total,
    preprocessing,
    batchSize: fit.batch,
    seconds,
    imagesPerSecond: seconds > 0 ? total / seconds : 0,
  };
}

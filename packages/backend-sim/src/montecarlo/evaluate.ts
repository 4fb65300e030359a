/**
 * @fileoverview Evaluating Monte Carlo instances in one thread: parse the annotated module once, then for each run
 * substitute that instance's effective weights and count correct top-1 classes. Worker threads run exactly this.
 */
import { getLevels, interpretModule, parseModule, XbarcError, type DeviceProfile, type Module, type Tensor } from "@xbarc/ir";
import { top1 } from "../datasets/fit.js";
import { applyInstance, ConductanceScratch, getCellLayers, restoreNominal, type CellLayer } from "../device/effective-weights.js";
import { createCellSampler, type CellSampler } from "../device/sample.js";

/** Labelled images already fitted to the model's single input, batch by batch (the last batch may be padded). */
export interface LabelledBatches {
  /** one input tensor per batch, of exactly the model input's type */
  readonly images: readonly Tensor[];
  /** images actually used in each batch (padding excluded) */
  readonly counts: readonly number[];
  /** one label per image, in batch order */
  readonly labels: Int32Array;
}

/** Throws XB4002 unless the batches and labels agree (one label per used image, counts within each batch). */
export function checkBatches(data: LabelledBatches): number {
  if (data.images.length !== data.counts.length) {
    throw new XbarcError("XB4002", `${data.images.length} image batches but ${data.counts.length} batch counts`, { hint: "give one count per batch" });
  }
  const total = data.counts.reduce((a, b) => a + b, 0);
  if (total !== data.labels.length) {
    throw new XbarcError("XB4002", `the batches hold ${total} images but ${data.labels.length} labels were given`, { hint: "give one label per image" });
  }
  return total;
}

/** Images whose top-1 class (argmax over the first output's last axis) equals the label. */
export function countCorrect(module: Module, data: LabelledBatches): number {
  const input = module.inputs[0];
  const output = module.outputs[0];
  if (!input || !output || module.inputs.length !== 1) {
    throw new XbarcError("XB4002", `module @${module.name} must have exactly one input and at least one output to classify images`, { hint: "evaluate a single-input classifier" });
  }
  let correct = 0;
  let first = 0;
  data.images.forEach((x, b) => {
    const count = data.counts[b]!;
    const y = interpretModule(module, new Map([[input.name, x]])).get(output.name);
    if (!y) throw new Error(`interpreter returned no value for output %${output.name}`);
    const classes = top1(y, count);
    for (let i = 0; i < count; i++) if (classes[i] === data.labels[first + i]) correct++;
    first += count;
  });
  return correct;
}

/** What a Monte Carlo evaluator needs (and what each worker thread receives). */
export interface EvaluatorInit {
  /** the module after assign-levels, printed with `printModule(m, { weights: true })` */
  readonly moduleText: string;
  /** its weights side file */
  readonly weights: Uint8Array;
  /** the device whose levels and variation are sampled (the one assign-levels used, variation possibly overridden) */
  readonly device: DeviceProfile;
  /** the run's seed */
  readonly seed: number;
}

/** What a weight-level Monte Carlo worker starts with: the evaluator's init and the images. */
export interface WeightsWorkerInit extends EvaluatorInit {
  readonly data: LabelledBatches;
}

/**
 * The same batches with every image tensor copied once into shared memory: posted to the pool's workers, they all
 * read that one copy instead of each receiving a clone.
 */
export function shareBatches(data: LabelledBatches): LabelledBatches {
  return { images: packTensors(data.images, (bytes) => new SharedArrayBuffer(bytes)), counts: data.counts, labels: data.labels };
}

type TypedArrayConstructor = new (buffer: ArrayBufferLike) => Tensor["data"];

/**
 * `tensors` copied one after the other into one new buffer (`makeBuffer`), each a view of its part, so that a
 * consumer can take consecutive ones at once (simulateImages copies a pass's inputs into WebAssembly memory with one
 * `set`). Tensors whose element types differ from the first's get a buffer each.
 */
export function packTensors(tensors: readonly Tensor[], makeBuffer: (bytes: number) => ArrayBufferLike = (bytes) => new ArrayBuffer(bytes)): Tensor[] {
  const kind = tensors[0]?.data.constructor as TypedArrayConstructor | undefined;
  if (!kind) return [];
  if (tensors.some((t) => t.data.constructor !== kind)) return tensors.flatMap((t) => packTensors([t], makeBuffer));
  const bytes = tensors.reduce((n, t) => n + t.data.byteLength, 0);
  const all = new kind(makeBuffer(bytes));
  let at = 0;
  return tensors.map((t) => {
    const data = all.subarray(at, at + t.data.length);
    (data as Uint8Array).set(t.data as Uint8Array);
    at += t.data.length;
    return { type: t.type, data } as Tensor;
  });
}

/** Evaluates Monte Carlo runs one by one in the calling thread. */
export class MonteCarloEvaluator {
  /** the parsed module; its weight constants hold the current instance */
  readonly module: Module;
  /** layers whose weights are sampled, in op order */
  readonly layers: readonly CellLayer[];
  private readonly sampler: CellSampler;
  private readonly scratch = new ConductanceScratch();

  constructor(private readonly init: EvaluatorInit, private readonly data: LabelledBatches) {
    checkBatches(data);
    this.module = parseModule(init.moduleText, { file: "<monte-carlo module>", weights: init.weights });
    this.layers = getCellLayers(this.module);
    if (this.layers.length === 0) {
      throw new XbarcError("XB6003", `module @${this.module.name} has no layer with cell states (#cells)`, {
        hint: "run the pipeline up to assign-levels (with --device) before sampling device variation",
      });
    }
    this.sampler = createCellSampler(getLevels(init.device.cell), init.device.variation);
  }

  /** Correct images with the nominal (ideal-device) weights. */
  evaluateNominal(): number {
    restoreNominal(this.layers);
    return countCorrect(this.module, this.data);
  }

  /** Correct images in Monte Carlo run `run` (a function of the seed and `run` only). */
  evaluateRun(run: number): number {
    applyInstance(this.layers, this.sampler, this.init.seed, run, this.scratch);
    try {
      return countCorrect(this.module, this.data);
    } finally {
      restoreNominal(this.layers);
    }
  }
}

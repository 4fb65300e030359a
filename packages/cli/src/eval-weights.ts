/**
 * @fileoverview The API behind `xbarc eval-weights`: quantize a model for a device, map it to cell states, and
 * measure top-1 accuracy three ways — float baseline, ideal device (nominal weights), and Monte Carlo instances of
 * the device's variation substituted as effective weights into the float interpreter.
 */
import { resolve as resolvePath, basename } from "node:path";
import { performance } from "node:perf_hooks";
import { availableParallelism } from "node:os";
import { getLevels, printModule, XbarcError, type DeviceProfile, type Module, type Tensor } from "@xbarc/ir";
import { runPipeline, type CalibrationSet, type PipelineStep } from "@xbarc/passes";
import {
  countCorrect, DEFAULT_PREPROCESSING, fitImages, getInputFit, loadImageSet, loadLabels, READ_NOISE_NOTE, runMonteCarlo,
  type ImageSet, type LabelledBatches, type Preprocessing,
} from "@xbarc/backend-sim";
import { DEFAULT_EVAL_BATCH, evalFloat, getModelFormat, importModel, parseIrFile } from "./api.js";
import { formatVariation, loadDeviceProfile, withVariation, type CalibrationConfig, type QUANTIZE_METRICS, type VariationOverride } from "./config.js";

/** Monte Carlo runs when neither the command line nor the config says. */
export const DEFAULT_MC_RUNS = 20;
/** Calibration images taken when a calibration file is given without a limit. */
export const DEFAULT_CALIBRATION_LIMIT = 256;
/** The quantizer when neither the command line nor the config names one. */
export const DEFAULT_QUANTIZER = "auto";

/** Options of evalWeights (already merged: command line > config file > defaults). */
export interface EvalWeightsOptions {
  /** an .onnx model or an .xir file */
  model: string;
  /** weights side file of an .xir model */
  weights?: string;
  /** a built-in profile name, a profile file, or a resolved profile */
  device: string | DeviceProfile;
  /** replaces the device's variation model and σ */
  variation?: VariationOverride;
  /** `auto` or a quantizer name (default auto) */
  quantizer?: string;
  /** how `auto` scores candidates */
  metric?: (typeof QUANTIZE_METRICS)[number];
  /** codebook bits for quantizers that choose their size */
  bits?: number;
  /** quantizers `auto` chooses among */
  candidates?: string[];
  /** per-layer quantizer overrides: layer → quantizer */
  layers?: Record<string, string>;
  /** evaluation images and labels */
  images: string;
  labels: string;
  /** first evaluation image (default 0) */
  offset?: number;
  /** evaluation images (default: all from offset on) */
  limit?: number;
  /** calibration images; must not overlap the evaluation images when both come from the same file */
  calibration?: CalibrationConfig;
  /** Monte Carlo runs (default 20) */
  mc?: number;
  /** seed of the run (default 0) */
  seed?: number;
  /** worker threads for the Monte Carlo runs (default: available parallelism; 0 = this thread) */
  workers?: number;
  /** images per interpreter run for a model with a symbolic batch (default 100) */
  batchSize?: number;
  /** x' = (x·scale − mean)/std; defaults scale=1/255, mean=0, std=1 */
  preprocessing?: Partial<Preprocessing>;
  /** progress of the slow stages */
  onProgress?: (stage: "float" | "montecarlo", done: number, total: number) => void;
}

/** Accuracy on the evaluation images. */
export interface AccuracyFigure {
  accuracy: number;
  correct: number;
}

/** One quantized layer: what the quantize and assign-levels passes decided. */
export interface LayerReport {
  /** the op's result name */
  layer: string;
  /** its weight constant */
  weight: string;
  /** the quantizer chosen (#quant scheme) */
  quantizer: string;
  /** the metric candidates were scored by */
  metric: string;
  /** codebook size */
  codes: number;
  /** the chosen quantizer's score on `metric` */
  err: number;
  /** weight MSE against the device's nominal values */
  mse: number;
  /** every candidate's score (or why it could not run) */
  candidates: Record<string, number | string>;
  /** true when a per-layer override chose the quantizer */
  override: boolean;
  /** signed mapping: differential or offset-column */
  map: string;
  /** mean squared difference between quantized weights and what the cell states give */
  map_err: number;
}

/** What evalWeights measured. */
export interface EvalWeightsReport {
  model: string;
  /** the device sampled (variation override applied) */
  device: { name: string; levels: number; map: string; variation: string; profile: DeviceProfile };
  /** what weight-level evaluation leaves out */
  notes: string[];
  /** the canonical pipeline string run before evaluation */
  pipeline: string;
  seed: number;
  images: { file: string; labels: string; offset: number; count: number };
  calibration: { file: string; labels: string; offset: number; count: number; name: string } | null;
  preprocessing: Preprocessing;
  /** the float model (after canonicalize): the same figure eval-float gives */
  float: AccuracyFigure;
  /** quantized weights on an ideal device: nominal conductances, no variation */
  ideal: AccuracyFigure;
  /** accuracy over the Monte Carlo instances */
  montecarlo: { runs: number; workers: number; mean: number; std: number; min: number; max: number; accuracies: number[] };
  layers: LayerReport[];
  /** wall time per stage and in total, seconds */
  seconds: { float: number; pipeline: number; ideal: number; montecarlo: number; total: number };
}

function loadLabelled(imagesPath: string, labelsPath: string, cache: Map<string, ImageSet>): { images: ImageSet; labels: Int32Array } {
  const key = resolvePath(imagesPath);
  let images = cache.get(key);
  if (!images) {
    images = loadImageSet(imagesPath);
    cache.set(key, images);
  }
  const labels = loadLabels(labelsPath);
  if (labels.length !== images.count) {
    throw new XbarcError("XB7002", `${images.file} holds ${images.count} images but ${labelsPath} holds ${labels.length} labels`, {
      location: { kind: "file", file: labelsPath },
      hint: "pass the label file that belongs to these images",
    });
  }
  return { images, labels };
}

/** Fits images [offset, offset+count) to the module's input, batch by batch. */
function fitBatches(module: Module, images: ImageSet, labels: Int32Array, offset: number, count: number, pre: Preprocessing): LabelledBatches {
  const input = module.inputs[0]!;
  const fit = getInputFit(images, input.type, input.name);
  const batches: Tensor[] = [];
  const counts: number[] = [];
  for (let done = 0; done < count; done += fit.batch) {
    const n = Math.min(fit.batch, count - done);
    batches.push(fitImages(images, input.type, pre, offset + done, n, input.name));
    counts.push(n);
  }
  return { images: batches, counts, labels: labels.slice(offset, offset + count) };
}

/** Reads what quantize (#quant) and assign-levels (#cells) recorded for each layer. */
function layerReports(module: Module): LayerReport[] {
  const out: LayerReport[] = [];
  for (const op of module.ops) {
    const cells = op.getAnnotation("cells")?.data as Record<string, unknown> | undefined;
    const quant = op.getAnnotation("quant")?.data as Record<string, unknown> | undefined;
    if (!cells && !quant) continue;
    const num = (v: unknown): number => (typeof v === "number" ? v : NaN);
    out.push({
      layer: op.results[0]!.name,
      weight: op.operands[1]?.name ?? "",
      quantizer: String(quant?.["scheme"] ?? "?"),
      metric: String(quant?.["metric"] ?? "?"),
      codes: num(quant?.["codes"]),
      err: num(quant?.["err"]),
      mse: num(quant?.["mse"]),
      candidates: (quant?.["candidates"] ?? {}) as Record<string, number | string>,
      override: quant?.["override"] === true,
      map: String(cells?.["map"] ?? "?"),
      map_err: num(cells?.["map_err"]),
    });
  }
  return out;
}

/**
 * Quantizes `model` for the device (canonicalize → quantize → assign-levels), then measures the float baseline,
 * the ideal-device accuracy and `mc` Monte Carlo instances of the device's variation. Throws XbarcError on bad input.
 */
export async function evalWeights(options: EvalWeightsOptions): Promise<EvalWeightsReport> {
  const started = performance.now();
  let device = typeof options.device === "string" ? loadDeviceProfile(options.device) : options.device;
  if (options.variation) device = withVariation(device, options.variation);
  const seed = options.seed ?? 0;
  const runs = options.mc ?? DEFAULT_MC_RUNS;
  const given = options.preprocessing ?? {};
  const preprocessing: Preprocessing = {
    scale: given.scale ?? DEFAULT_PREPROCESSING.scale,
    mean: given.mean ?? DEFAULT_PREPROCESSING.mean,
    std: given.std ?? DEFAULT_PREPROCESSING.std,
  };

  // evaluation slice
  const cache = new Map<string, ImageSet>();
  const evalSet = loadLabelled(options.images, options.labels, cache);
  const offset = options.offset ?? 0;
  if (offset >= evalSet.images.count) {
    throw new XbarcError("XB7001", `--offset ${offset} is past the last image (${evalSet.images.file} holds ${evalSet.images.count})`, { hint: `use an offset below ${evalSet.images.count}` });
  }
  const total = Math.min(options.limit ?? evalSet.images.count - offset, evalSet.images.count - offset);

  // calibration slice: never the images we evaluate on
  let calib: { images: ImageSet; labels: Int32Array; offset: number; count: number; cfg: CalibrationConfig } | undefined;
  if (options.calibration) {
    const cfg = options.calibration;
    const set = loadLabelled(cfg.images, cfg.labels, cache);
    const cOffset = cfg.offset ?? 0;
    if (cOffset >= set.images.count) {
      throw new XbarcError("XB7001", `--calib-offset ${cOffset} is past the last image (${set.images.file} holds ${set.images.count})`, { hint: `use an offset below ${set.images.count}` });
    }
    const cCount = Math.min(cfg.limit ?? DEFAULT_CALIBRATION_LIMIT, set.images.count - cOffset);
    if (resolvePath(cfg.images) === resolvePath(options.images) && cOffset < offset + total && offset < cOffset + cCount) {
      const name = basename(options.images);
      throw new XbarcError("XB7001", `the calibration images ${name}[${cOffset}:${cOffset + cCount}] overlap the evaluation images ${name}[${offset}:${offset + total}]: calibrating on evaluation images would overstate accuracy`, {
        hint: offset >= cCount ? `take calibration images before the evaluation slice, e.g. --calib-offset 0 --calib-limit ${Math.min(cCount, offset)}` : `take calibration images after the evaluation slice, e.g. --calib-offset ${offset + total}`,
      });
    }
    calib = { ...set, offset: cOffset, count: cCount, cfg };
  }

  // model: imported with the batch eval-float would use, so the float baseline is the same figure
  const batchSize = options.batchSize ?? DEFAULT_EVAL_BATCH;
  const module = getModelFormat(options.model) === "xir"
    ? parseIrFile(options.model, options.weights)
    : importModel(options.model, { batch: Math.min(batchSize, Math.max(total, 1)) });
  const floatStarted = performance.now();
  const floatReport = evalFloat({
    model: module, images: evalSet.images, labels: evalSet.labels, offset, limit: total, batchSize, preprocessing,
    ...(options.onProgress ? { onProgress: (d: number, t: number) => options.onProgress!("float", d, t) } : {}),
  });
  const floatSeconds = (performance.now() - floatStarted) / 1000;

  // quantize and map to cells (the module is canonical already; canonicalize stays in the pipeline string for reproducers)
  const pipelineStarted = performance.now();
  const quantizeOptions: Record<string, string | number | string[]> = { quantizer: options.quantizer ?? DEFAULT_QUANTIZER };
  if (options.metric !== undefined) quantizeOptions["metric"] = options.metric;
  if (options.bits !== undefined) quantizeOptions["bits"] = options.bits;
  if (options.candidates !== undefined) quantizeOptions["candidates"] = options.candidates;
  if (options.layers !== undefined && Object.keys(options.layers).length > 0) {
    quantizeOptions["layers"] = Object.entries(options.layers).map(([layer, q]) => `${layer}=${q}`);
  }
  const steps: PipelineStep[] = [
    { pass: "canonicalize", options: {} },
    { pass: "quantize", options: quantizeOptions },
    { pass: "assign-levels", options: {} },
  ];
  let calibration: CalibrationSet | undefined;
  if (calib) {
    const inputName = module.inputs[0]!.name;
    const fitted = fitBatches(module, calib.images, calib.labels, calib.offset, calib.count, preprocessing);
    calibration = {
      name: `${basename(calib.cfg.images)}[${calib.offset}:${calib.offset + calib.count}]`,
      batches: fitted.images.map((x) => new Map([[inputName, x]])),
      labels: fitted.labels,
      counts: fitted.counts,
    };
  }
  const result = runPipeline(module, steps, {
    device, seed, modelName: basename(options.model), ...(calibration ? { calibration } : {}),
  });
  const pipelineSeconds = (performance.now() - pipelineStarted) / 1000;

  // the ideal device: nominal weights as assign-levels left them
  const idealStarted = performance.now();
  const data = fitBatches(module, evalSet.images, evalSet.labels, offset, total, preprocessing);
  const idealCorrect = countCorrect(module, data);
  const idealSeconds = (performance.now() - idealStarted) / 1000;

  const mcStarted = performance.now();
  const printed = printModule(module, { weights: true });
  const mc = await runMonteCarlo({
    moduleText: printed.text,
    weights: printed.weights ?? new Uint8Array(),
    device,
    images: data.images,
    counts: data.counts,
    labels: data.labels,
    runs,
    seed,
    workers: options.workers ?? availableParallelism(),
    ...(options.onProgress ? { onProgress: (d: number, t: number) => options.onProgress!("montecarlo", d, t) } : {}),
  });
  const mcSeconds = (performance.now() - mcStarted) / 1000;

  const notes = [READ_NOISE_NOTE];
  if (device.variation.read_noise === 0) notes[0] = `${READ_NOISE_NOTE} (the profile's read_noise is 0 anyway)`;
  return {
    model: options.model,
    device: { name: device.name, levels: getLevels(device.cell).length, map: device.mapping.signed, variation: formatVariation(device.variation), profile: device },
    notes,
    pipeline: result.pipeline,
    seed,
    images: { file: options.images, labels: options.labels, offset, count: total },
    calibration: calibration && calib
      ? { file: calib.cfg.images, labels: calib.cfg.labels, offset: calib.offset, count: calib.count, name: calibration.name }
      : null,
    preprocessing,
    float: { accuracy: floatReport.accuracy, correct: floatReport.correct },
    ideal: { accuracy: total === 0 ? 0 : idealCorrect / total, correct: idealCorrect },
    montecarlo: { runs, workers: mc.workers, mean: mc.mean, std: mc.std, min: mc.min, max: mc.max, accuracies: mc.accuracies },
    layers: layerReports(module),
    seconds: { float: floatSeconds, pipeline: pipelineSeconds, ideal: idealSeconds, montecarlo: mcSeconds, total: (performance.now() - started) / 1000 },
  };
}

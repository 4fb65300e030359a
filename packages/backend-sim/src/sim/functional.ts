/**
 * @fileoverview Functional execution of a crossbar program (sim spec, "Functional"; crossbar spec): the schedule runs
 * op by op — quantize, per tile mvm (offset-encoded inputs on the DACs), adc, shift-add, truncate, then accumulate,
 * bias, move and the digital post-ops — on one instance of the cells. The faithful path converts every (input step ×
 * physical column) read; the fast path collapses slices and steps into one integer MVM per tile when the ADC is
 * lossless and there is no read noise. On the ideal device with lossless ADCs the result equals runFixedPoint bit
 * for bit: both use the same integer kernels (quantize, truncation window, bias, post-ops).
 */
import {
  allocArray, isBigIntDType, isDType, isFloatDType, numel, Op, readNumbers, runOp, Value, viewBytes, XbarcError,
  type DType, type Tensor, type TensorType,
} from "@xbarc/ir";
import { addPerChannelImpl, quantizeActivationsImpl, roundAccumulatorsImpl, truncateWindowImpl } from "../fixed-point/kernels.js";
import type { FixedPointLayerInts } from "../fixed-point/run.js";
import { decodeBase64 } from "../program/check.js";
import type { Program, ScheduleOp } from "../program/types.js";
import { getIdealInstance, type SimInstance } from "./instance.js";
import {
  combineSlicesImpl, fanOutColumnsImpl, gatherMergedTileInputsImpl, gatherTileInputsImpl, scatterAddChannelsImpl, scatterAddImpl,
  subtractPerColumnImpl,
} from "./kernels.js";
import { getLayerEpilogue } from "./epilogue.js";
import { getEffectiveWeights, getLayerPlans, simError, widenShape, type LayerPlan } from "./layer-plan.js";
import { accumulateLayerWasm, quantizeLayerInputWasm, readLayerInput, type InputSource, type LayerTail, type PendingTile, type WasmLayerInput } from "./layer-wasm.js";
import { multiplyTile, readTile, type KernelChoice } from "./tile-kernels.js";

type MvmOp = Extract<ScheduleOp, { op: "mvm" }>;
type AdcOp = Extract<ScheduleOp, { op: "adc" }>;
type ShiftAddOp = Extract<ScheduleOp, { op: "shift-add" }>;
type TruncateOp = Extract<ScheduleOp, { op: "truncate" }>;

/** Which arithmetic executes a tile's reads. */
export type SimPath = "faithful" | "fast" | "auto";

/** Options of simulateProgram. */
export interface SimulateOptions {
  /** the cells' values: a sampled instance (sampleProgramInstance) or "ideal" (default) */
  readonly instance?: SimInstance | "ideal";
  /** "faithful": every step × column read and conversion; "fast": one MVM per tile (lossless, noise-free only); "auto": fast where it is exact */
  readonly path: SimPath;
  /** treat every ADC as lossless (no clipping at 2^adc_bits − 1) whatever its bits */
  readonly adcLossless?: boolean;
  /** record each layer's integers (as runFixedPoint's recordInts) */
  readonly recordInts?: boolean;
  /** "wasm" (default): the optimized engine — WebAssembly layer engine (layer-wasm.ts) and fused epilogues (epilogue.ts) where they apply; "ts": the TypeScript reference kernels, op by op (same results, bit for bit) */
  readonly kernels?: KernelChoice;
}

/** One run of the program on one input tensor. */
export interface SimulationRun {
  /** the program's outputs, float64 */
  readonly outputs: Map<string, Tensor>;
  /** per layer (by name), with recordInts: x_int, each row tile's accumulator before and after truncation, the output integers */
  readonly ints?: Map<string, FixedPointLayerInts>;
  /** per layer: the path its tiles took ("fast", "faithful", or "mixed" when tiles differ) */
  readonly paths: Map<string, "fast" | "faithful" | "mixed">;
}

/** A buffer's contents during a run. */
interface BufferValue {
  readonly shape: number[];
  readonly data: Float64Array | Tensor["data"];
  readonly dtype: DType;
}

/** Per-tile intermediate state between the schedule's mvm, adc, shift-add and truncate. */
interface TileState {
  xu: Int32Array;
  fast: boolean;
  phys?: Float64Array;
  out?: Float64Array;
  pre?: Float64Array;
}


/** A tile's largest cell value on an instance (−1 if a cell is negative), scanned once per cell array. */
const largestCellCache = new WeakMap<Float64Array, number>();

/** Largest column sum one read can produce on this instance: rows_used · (2^db − 1) · max cell value (−1 if a cell is negative). */
function largestRead(cells: Float64Array, rowsUsed: number, dacBits: number): number {
  let max = largestCellCache.get(cells);
  if (max === undefined) {
    max = 0;
    for (let i = 0; i < cells.length; i++) {
      if (cells[i]! < 0) {
        max = -1;
        break;
      }
      if (cells[i]! > max) max = cells[i]!;
    }
    largestCellCache.set(cells, max);
  }
  return max < 0 ? -1 : rowsUsed * (2 ** dacBits - 1) * max;
}

function decodeConstant(name: string, dtype: string, shape: number[], data: string): BufferValue {
  const bytes = decodeBase64(data);
  if (!bytes || !isDType(dtype)) throw simError(`constant buffer ${name}: cannot decode its ${dtype} data`, "recompile the model");
  const raw = viewBytes(dtype, bytes);
  if (isFloatDType(dtype)) return { shape, dtype: "f64", data: readNumbers({ type: { dtype, shape }, data: raw }) };
  return { shape, dtype, data: raw };
}

/** The program's constant buffers, decoded once per program (the schedule never writes into a constant). */
const constantCache = new WeakMap<Program, ReadonlyMap<string, BufferValue>>();

function getConstants(program: Program): ReadonlyMap<string, BufferValue> {
  let constants = constantCache.get(program);
  if (!constants) {
    constants = new Map(program.buffers.filter((b) => b.role === "constant").map((b) => [b.name, decodeConstant(b.name, b.dtype, b.shape, b.data!)]));
    constantCache.set(program, constants);
  }
  return constants;
}

/** The program's buffer records by name, built once per program. */
const bufferRecordCache = new WeakMap<Program, ReadonlyMap<string, Program["buffers"][number]>>();

function getBufferRecords(program: Program): ReadonlyMap<string, Program["buffers"][number]> {
  let records = bufferRecordCache.get(program);
  if (!records) {
    records = new Map(program.buffers.map((b) => [b.name, b]));
    bufferRecordCache.set(program, records);
  }
  return records;
}

function asTensor(b: BufferValue): Tensor {
  return { type: { dtype: b.dtype, shape: [...b.shape] }, data: b.data } as Tensor;
}

/**
 * Images simulated together in one pass through the schedule (their reads go through each tile's kernels at once): as
 * many as keep the largest activation of a pass within PASS_ELEMENTS values, a power of two from 64 to 256 — small
 * programs spread the per-pass costs over more images, large ones keep a pass's data in the caches (measured: the
 * MNIST MLP 12 % faster at 256 than at 64, LeNet-5 6 % slower). Programs whose activations all hold at most
 * SMALL_ACTIVATION values per image (an MLP's) take LARGE_PASS images: their per-image work is so small that the
 * per-pass costs lead (measured: the MLP's ideal path 11 % faster at 1024 than at 256, its faithful path 6 %; LeNet-5,
 * 4704 values, 3 % slower at 128 than at 64).
 */
const PASS_ELEMENTS = 2 ** 18;
const MIN_IMAGES_PER_PASS = 64;
const MAX_IMAGES_PER_PASS = 256;
const SMALL_ACTIVATION = 1024;
const LARGE_PASS = 1024;

const imagesPerPassCache = new WeakMap<Program, number>();

function imagesPerPass(program: Program): number {
  let images = imagesPerPassCache.get(program);
  if (images === undefined) {
    const batch = program.input.shape[0] ?? 1;
    const largest = Math.max(1, ...program.buffers.filter((b) => b.role !== "constant").map((b) => numel(b.shape) / batch));
    images = largest <= SMALL_ACTIVATION
      ? LARGE_PASS
      : Math.min(MAX_IMAGES_PER_PASS, Math.max(MIN_IMAGES_PER_PASS, 2 ** Math.floor(Math.log2(PASS_ELEMENTS / largest))));
    imagesPerPassCache.set(program, images);
  }
  return images;
}

/** Post-ops that treat every image of a batch on its own, whatever the batch size (so images may share a pass). */
const PER_IMAGE_POST_OPS = new Set(["relu", "sigmoid", "tanh", "leakyrelu", "clip", "maxpool", "avgpool", "globalavgpool", "identity", "dropout"]);

function isPerImagePostOp(program: Program, op: ScheduleOp): boolean {
  if (!("inputs" in op)) return true;
  const axis = typeof op.attrs.axis === "number" ? op.attrs.axis : undefined;
  if (op.kind === "flatten") return (axis ?? 1) >= 1;
  if (op.kind === "softmax" || op.kind === "logsoftmax") {
    // per image unless the axis is the batch axis (a negative axis counts from the input's last dimension)
    const input = op.inputs[0] ? getBufferRecords(program).get(op.inputs[0]) : undefined;
    return axis !== undefined && input !== undefined && (axis < 0 ? axis + input.shape.length : axis) > 0;
  }
  if (op.kind === "reshape") {
    // per image when it keeps the batch first (runPostOp then reshapes to the widened recorded shape)
    const records = getBufferRecords(program);
    const input = op.inputs[0] ? records.get(op.inputs[0]) : undefined;
    const output = op.outputs[0] ? records.get(op.outputs[0]) : undefined;
    return input !== undefined && output !== undefined && input.shape[0] === output.shape[0];
  }
  return PER_IMAGE_POST_OPS.has(op.kind);
}

const sharePassCache = new WeakMap<Program, boolean>();

/** Whether inputs can share a pass through the schedule: every activation carries the batch first and every post-op is per image. */
export function imagesCanSharePass(program: Program): boolean {
  let ok = sharePassCache.get(program);
  if (ok === undefined) {
    const batch = program.input.shape[0];
    ok = program.schedule.every((op) => isPerImagePostOp(program, op)) && program.buffers.every((b) => b.role === "constant" || b.shape[0] === batch);
    sharePassCache.set(program, ok);
  }
  return ok;
}

function checkInputShape(program: Program, input: Tensor): void {
  const expected = program.input.shape;
  if (input.type.shape.length !== expected.length || input.type.shape.some((d, i) => d !== expected[i])) {
    throw new XbarcError("XB4002", `program input ${program.input.name}: expected shape [${expected.join(",")}], found [${input.type.shape.join(",")}]`, {
      hint: "fit the images to the program's input first (fitImages with program.input.shape)",
    });
  }
}

/**
 * Runs `program` on one fitted input tensor (the program's input shape) or on each of several. Throws XB4002 for an
 * input of the wrong shape and XB6002 when the fast path is forced where it is not exact (a lossy ADC or read noise).
 * Several inputs share passes through the schedule where that cannot change a result (see simulateImages).
 */
export function simulateProgram(program: Program, input: Tensor, options: SimulateOptions): SimulationRun;
export function simulateProgram(program: Program, inputs: readonly Tensor[], options: SimulateOptions): SimulationRun[];
export function simulateProgram(program: Program, inputs: Tensor | readonly Tensor[], options: SimulateOptions): SimulationRun | SimulationRun[] {
  if (!Array.isArray(inputs)) {
    const input = inputs as Tensor;
    checkInputShape(program, input);
    return runOnce(program, float64Source(readNumbers(input)), 1, getInstance(program, options), options);
  }
  const list = inputs as readonly Tensor[];
  if (options.recordInts) {
    // recorded integers are per pass: one pass per input
    list.forEach((t) => checkInputShape(program, t));
    return list.map((t) => runOnce(program, float64Source(readNumbers(t)), 1, getInstance(program, options), options));
  }
  return splitRun(simulateImages(program, list, options), list.length);
}

/** The results of several inputs, each output stacked along its first axis in input order. */
export interface SimulationBatch {
  /** the program's outputs for all inputs: input i's rows follow input i − 1's */
  readonly outputs: Map<string, Tensor>;
  /** per layer: the path its tiles took ("fast", "faithful", or "mixed" when tiles differ) */
  readonly paths: Map<string, "fast" | "faithful" | "mixed">;
}

/**
 * Runs `program` on each of `inputs` (each the program's input shape) and returns the outputs stacked, with no
 * per-input objects: what accuracy loops want. Inputs share passes through the schedule where that cannot change a
 * result (per-image post-ops, no read noise, whose draws follow the order of the reads): every kernel treats each
 * image alone. Throws as simulateProgram; recordInts is not available here (use simulateProgram).
 */
export function simulateImages(program: Program, inputs: readonly Tensor[], options: SimulateOptions): SimulationBatch {
  if (options.recordInts) throw new RangeError("simulateImages: recordInts needs one pass per input; use simulateProgram");
  let checked: Tensor["type"] | undefined;
  for (const t of inputs) {
    // fitProgramImages's inputs share one type object
    if (t.type !== checked) checkInputShape(program, t);
    checked = t.type;
  }
  const instance = getInstance(program, options);
  const together = instance.noiseRng || !imagesCanSharePass(program) ? 1 : imagesPerPass(program);
  const perInput = numel(program.input.shape);
  const outputs = new Map<string, Tensor>();
  let paths = new Map<string, "fast" | "faithful" | "mixed">();
  for (let first = 0; first < inputs.length; first += together) {
    const count = Math.min(together, inputs.length - first);
    // the pass's inputs are copied from their tensors where they are wanted (WebAssembly memory, mostly)
    const pass = inputs.slice(first, first + count);
    const source: InputSource = {
      length: count * perInput,
      write: (out) => pass.forEach((t, i) => copyNumbers(t, out, i * perInput)),
      writeFloat32: pass.every((t) => t.type.dtype === "f32") ? (out) => writeFloat32Inputs(pass, perInput, out) : undefined,
    };
    const run = runOnce(program, source, count, instance, options);
    for (const [name, t] of run.outputs) {
      let all = outputs.get(name);
      if (!all) {
        // every pass has the same shape per input: the first fixes the stacked output's
        const shape = [(t.type.shape[0]! / count) * inputs.length, ...t.type.shape.slice(1)];
        all = { type: { dtype: t.type.dtype, shape }, data: allocArray(t.type.dtype, (t.data.length / count) * inputs.length) } as Tensor;
        outputs.set(name, all);
      }
      (all.data as Float64Array).set(t.data as Float64Array, (t.data.length / count) * first);
    }
    paths = run.paths;
  }
  return { outputs, paths };
}

function getInstance(program: Program, options: SimulateOptions): SimInstance {
  return options.instance === undefined || options.instance === "ideal" ? getIdealInstance(program) : options.instance;
}

/**
 * The float32 inputs of a pass one after the other into `out`: in one copy when they are consecutive views of one
 * buffer (fitProgramImages's). Copied image by image, still unoptimized in bench/sim's dozen passes, they took a third
 * of the MLP's ideal pass.
 */
function writeFloat32Inputs(pass: readonly Tensor[], perInput: number, out: Float32Array): void {
  const first = pass[0]!.data as Float32Array;
  let consecutive = true;
  for (let i = 0; i < pass.length && consecutive; i++) {
    const d = pass[i]!.data;
    consecutive = d.buffer === first.buffer && d.byteOffset === first.byteOffset + i * perInput * 4 && d.length === perInput;
  }
  if (consecutive) out.set(new Float32Array(first.buffer, first.byteOffset, pass.length * perInput));
  else pass.forEach((t, i) => out.set(t.data as Float32Array, i * perInput));
}

/** Writes a tensor's values as float64 into `out` at `offset` (readNumbers without its allocation for plain arrays). */
function copyNumbers(t: Tensor, out: Float64Array, offset: number): void {
  if (t.type.dtype === "f16" || isBigIntDType(t.type.dtype)) out.set(readNumbers(t), offset);
  else out.set(t.data as Float64Array, offset);
}

/** The runs of `images` inputs stacked in one batch, one per input: each output's rows split back. */
function splitRun(run: SimulationBatch, images: number): SimulationRun[] {
  return Array.from({ length: images }, (_, i) => {
    const outputs = new Map<string, Tensor>();
    for (const [name, t] of run.outputs) {
      const shape = [t.type.shape[0]! / images, ...t.type.shape.slice(1)];
      const per = t.data.length / images;
      outputs.set(name, { type: { dtype: t.type.dtype, shape }, data: t.data.slice(i * per, (i + 1) * per) } as Tensor);
    }
    return { outputs, paths: new Map(run.paths) };
  });
}

/** Float64 values already in an array, as a source. */
function float64Source(values: Float64Array): InputSource {
  return { length: values.length, write: (out) => out.set(values) };
}

/**
 * One pass through the schedule for `images` inputs laid one after the other in `input` (float64), which is written
 * out only where it is read: into WebAssembly memory by a quantize op there, or as a buffer for anything else.
 */
function runOnce(program: Program, input: InputSource, images: number, instance: SimInstance, options: SimulateOptions): SimulationRun {
  const plans = getLayerPlans(program, images);
  const kernels = options.kernels ?? "wasm";
  const buffers = new Map<string, BufferValue>(getConstants(program));
  // quantized layer inputs held in the instance's WebAssembly memory, made float64 only if something else reads them
  const wasmInputs = new Map<string, { readonly input: WasmLayerInput; readonly materialize: () => BufferValue }>();
  const read = (name: string): BufferValue => {
    let b = buffers.get(name);
    if (!b) {
      if (name === program.input.name) {
        const data = new Float64Array(input.length);
        input.write(data);
        b = { shape: widenShape(program.input.shape, images), dtype: "f64", data };
      } else {
        const held = wasmInputs.get(name);
        if (!held) throw simError(`buffer ${name} is read before it is written`, "recompile the model");
        b = held.materialize();
      }
      buffers.set(name, b);
    }
    return b;
  };
  const ints = options.recordInts ? new Map<string, FixedPointLayerInts>() : undefined;
  const xInts = new Map<string, Float64Array>();
  const tileStates = new Map<number, TileState>();
  const paths = new Map<string, "fast" | "faithful" | "mixed">();
  const notePath = (layer: string, fast: boolean): void => {
    const p = fast ? "fast" : "faithful";
    const had = paths.get(layer);
    paths.set(layer, had === undefined || had === p ? p : "mixed");
  };
  const layerOf = (name: string): LayerPlan => plans.get(name)!;
  // the WebAssembly layer engine takes a layer's tiles at its accumulate (recorded until then) unless the reference
  // engine must: recorded integers, read noise (drawn in read order), compacted layers (row and column maps)
  const engineWasm = kernels === "wasm" && !ints && !instance.noiseRng;
  const recorded = new Map<number, PendingTile>();
  const takesWasm = (layer: LayerPlan): boolean => engineWasm && !layer.compacted;

  const runMvm = (op: MvmOp): void => {
    const layer = layerOf(op.layer);
    const plan = layer.tiles.get(op.tile)!;
    const t = plan.tile;
    const x = read(op.from).data as Float64Array;
    const xu = layer.rowStarts
      ? gatherMergedTileInputsImpl(
        x, layer.isConv, layer.batch, layer.inChannels, layer.plane, layer.tapOffsets, layer.taps,
        layer.positions, plan.channelBase, t.row0, t.rows, t.bias_row, layer.biasInput, op.input_offset, layer.rowStarts, layer.rowMembers!,
        new Int32Array(layer.outer * t.rows_used),
      )
      : gatherTileInputsImpl(
        x, layer.isConv, layer.batch, layer.inChannels, layer.plane, layer.tapOffsets, layer.taps,
        layer.positions, plan.channelBase, t.row0, t.rows, t.bias_row, layer.biasInput, op.input_offset, new Int32Array(layer.outer * t.rows_used),
      );
    tileStates.set(op.tile, { xu, fast: false });
  };
  /** How a tile is read (the fast path's collapse or the faithful read) and its ADC's range; throws where "fast" is forced but not exact. */
  const decideRead = (op: AdcOp): { fast: boolean; adcMin: number; adcMax: number; noise: number } => {
    const layer = layerOf(op.layer);
    const t = layer.tiles.get(op.tile)!.tile;
    const cells = instance.cellValues[t.id]!;
    const adcMin = options.adcLossless ? -Infinity : 0;
    const adcMax = options.adcLossless ? Infinity : 2 ** op.bits - 1;
    const noise = instance.readNoisePerRow * t.rows_used;
    // the collapse is exact when no read can clip and nothing disturbs a read; "auto" also wants integer cells,
    // since the faithful ADC rounds every read and the collapsed sum rounds once
    const readMax = largestRead(cells, t.rows_used, layer.record.formats.input.dac_bits);
    const collapsible = noise === 0 && (options.adcLossless === true || (readMax >= 0 && readMax <= adcMax));
    if (options.path === "fast" && !collapsible) {
      throw simError(`layer ${op.layer}, tile ${t.id}: the fast path needs a lossless ADC and no read noise (a read may reach ${readMax}, the ADC holds ${adcMax}${noise > 0 ? "; read noise is on" : ""})`,
        "use path \"auto\" or \"faithful\", or adcLossless");
    }
    const fast = options.path === "fast" || (options.path === "auto" && collapsible && instance.integerCells);
    notePath(op.layer, fast);
    return { fast, adcMin, adcMax, noise };
  };
  const runAdc = (op: AdcOp): void => {
    const layer = layerOf(op.layer);
    const t = layer.tiles.get(op.tile)!.tile;
    const state = tileStates.get(op.tile)!;
    const fmt = layer.record.formats.input;
    const { fast, adcMin, adcMax, noise } = decideRead(op);
    state.fast = fast;
    if (!fast) {
      state.phys = readTile({ cells: instance.cellValues[t.id]!, rowsUsed: t.rows_used, physCols: t.cols_used, cellBits: layer.record.formats.weight.cell_bits },
        state.xu, layer.outer, fmt.steps, fmt.dac_bits, adcMin, adcMax, noise,
        instance.noiseRng ? () => instance.noiseRng!.normal() : undefined, kernels, new Float64Array(layer.outer * t.cols_used));
    }
  };
  const runShiftAdd = (op: ShiftAddOp): void => {
    const layer = layerOf(op.layer);
    const plan = layer.tiles.get(op.tile)!;
    const state = tileStates.get(op.tile)!;
    const t = plan.tile;
    const out = new Float64Array(layer.outer * t.cols);
    if (state.fast) {
      multiplyTile(state.xu, layer.outer, t.rows_used, getEffectiveWeights(instance, plan, program), t.cols, kernels, out);
      // off the integers (a sampled instance forced onto the fast path) the sum is read once, rounded once
      if (!instance.integerCells) roundAccumulatorsImpl(out);
    } else {
      combineSlicesImpl(state.phys!, layer.outer, t.cols_used, t.cols, op.slices, op.cell_bits, plan.combine, out);
    }
    subtractPerColumnImpl(out, layer.outer, t.cols, plan.correction);
    // a compacted layer: every matrix column gets its physical column's exact integer (negated for a sign
    // merge) before the truncation window, so that each is truncated as the uncompacted column would be
    const f = plan.fanOut;
    state.out = f ? fanOutColumnsImpl(out, layer.outer, t.cols, f.srcCol, f.sign, new Float64Array(layer.outer * f.srcCol.length)) : out;
  };
  const runTruncate = (op: TruncateOp): void => {
    const state = tileStates.get(op.tile)!;
    if (ints) state.pre = state.out!.slice();
    truncateWindowImpl(state.out!, op.d_l, op.o_rwl);
  };
  /** Runs a tile op through the reference engine. */
  const runTileOp = (op: MvmOp | AdcOp | ShiftAddOp | TruncateOp): void => {
    if (op.op === "mvm") runMvm(op);
    else if (op.op === "adc") runAdc(op);
    else if (op.op === "shift-add") runShiftAdd(op);
    else runTruncate(op);
  };

  const records = getBufferRecords(program);
  const schedule = program.schedule;
  /** The digital ops the layer engine may run with the layer accumulated at `index` (epilogue.ts; a pool over the layer's own output positions). */
  const getWasmLayerTail = (layer: LayerPlan, index: number): LayerTail | undefined => {
    const epilogue = getLayerEpilogue(program, index);
    const bias = layer.record.bias;
    if (!epilogue || bias?.mode === "float") return undefined;
    if (epilogue.pool && !(layer.isConv && epilogue.pool.plane === layer.positions)) return undefined;
    return bias?.mode === "digital" ? { bias: bias.values, epilogue } : { epilogue };
  };
  for (let index = 0; index < schedule.length; index++) {
    const op = schedule[index]!;
    switch (op.op) {
      case "program":
        break;
      case "quantize": {
        // the pass's input, not yet read as float64, goes from its tensors straight into WebAssembly memory
        const direct = engineWasm && op.from === program.input.name && !buffers.has(op.from);
        let from = direct ? undefined : read(op.from);
        const source = (): BufferValue => (from ??= read(op.from));
        const quantize = (): BufferValue => {
          const { data, shape } = source();
          return { shape: [...shape], dtype: "f64", data: quantizeActivationsImpl(data as Float64Array, op.fl, op.bits, op.signed) };
        };
        buffers.delete(op.to);
        const quantized = engineWasm
          ? quantizeLayerInputWasm(instance, index, direct ? input : float64Source(source().data as Float64Array), op.fl, op.bits, op.signed)
          : undefined;
        if (quantized) {
          wasmInputs.set(op.to, { input: quantized, materialize: quantize });
          break;
        }
        const x = quantize();
        buffers.set(op.to, x);
        xInts.set(op.layer, x.data as Float64Array);
        break;
      }
      case "mvm": {
        if (op.dac_bits * op.steps > 31) throw simError(`layer ${op.layer}: ${op.steps} steps of ${op.dac_bits} bits exceed the simulator's 31-bit inputs`, "use fewer input bits");
        const layer = layerOf(op.layer);
        if (!takesWasm(layer)) {
          runMvm(op);
          break;
        }
        const held = buffers.has(op.from) ? undefined : wasmInputs.get(op.from);
        const x = held ? held.input : (read(op.from).data as Float64Array);
        recorded.set(op.tile, { plan: layer.tiles.get(op.tile)!, x, inputOffset: op.input_offset, steps: op.steps, dacBits: op.dac_bits, ops: [op] });
        break;
      }
      case "adc":
      case "shift-add":
      case "truncate": {
        const pending = recorded.get(op.tile);
        if (!pending) {
          runTileOp(op);
          break;
        }
        if (op.op === "adc") {
          const { fast, adcMin, adcMax } = decideRead(op);
          pending.read = { fast, adcMin, adcMax };
        } else if (op.op === "shift-add") pending.shiftAdd = { slices: op.slices, cellBits: op.cell_bits };
        else pending.truncate = { dL: op.d_l, oRwl: op.o_rwl };
        pending.ops.push(op);
        break;
      }
      case "accumulate": {
        const layer = layerOf(op.layer);
        const mine = new Map<number, PendingTile>();
        for (const id of op.tiles) {
          const p = recorded.get(id);
          if (p) mine.set(id, p);
        }
        const allRecorded = mine.size === op.tiles.length && mine.size > 0;
        const tail = allRecorded ? getWasmLayerTail(layer, index) : undefined;
        const taken = allRecorded ? accumulateLayerWasm(layer, mine, instance, program, tail) : undefined;
        for (const id of op.tiles) recorded.delete(id);
        if (taken) {
          if (!tail) {
            buffers.set(op.to, { shape: widenShape(layer.record.output_shape, images), dtype: "f64", data: taken as Float64Array });
            break;
          }
          // the layer's bias, move, post-ops and the next quantize ran with it; their x_int is usually held in the
          // instance's memory for the next layer, made float64 only if something else reads it
          const q = tail.epilogue.quantize;
          const shape = widenShape(records.get(q.from)!.shape, images);
          buffers.delete(q.to);
          if (taken instanceof Float64Array) buffers.set(q.to, { shape, dtype: "f64", data: taken });
          else wasmInputs.set(q.to, { input: taken, materialize: () => ({ shape, dtype: "f64", data: readLayerInput(taken) }) });
          index = tail.epilogue.end;
          break;
        }
        // the reference engine, for these tiles' recorded ops first
        for (const p of mine.values()) p.ops.forEach(runTileOp);
        const acc = new Float64Array(layer.outNumel);
        const rowTiles = layer.record.grid[0]!;
        const pre = ints ? Array.from({ length: rowTiles }, () => new Float64Array(layer.outNumel)) : undefined;
        const kept = ints ? Array.from({ length: rowTiles }, () => new Float64Array(layer.outNumel)) : undefined;
        for (const id of op.tiles) {
          const plan = layer.tiles.get(id)!;
          const t = plan.tile;
          const state = tileStates.get(id)!;
          const colBase = t.group * layer.record.matrix.cols + t.col0;
          const f = plan.fanOut;
          const scatter = (values: Float64Array, into: Float64Array): void => {
            if (f) scatterAddChannelsImpl(values, layer.outer, f.channels, layer.outBase, layer.channelStride, into);
            else scatterAddImpl(values, layer.outer, t.cols, layer.outBase, colBase, layer.channelStride, into);
          };
          scatter(state.out!, acc);
          if (pre && kept) {
            scatter(state.pre ?? state.out!, pre[t.row_tile]!);
            scatter(state.out!, kept[t.row_tile]!);
          }
          tileStates.delete(id);
        }
        buffers.set(op.to, { shape: widenShape(layer.record.output_shape, images), dtype: "f64", data: acc });
        if (ints) ints.set(op.layer, { x: xInts.get(op.layer)!, tiles: pre!, kept: kept!, out: acc, fl: layer.record.formats.output_fl ?? 0 });
        break;
      }
      case "bias": {
        const layer = layerOf(op.layer);
        const bias = layer.record.bias!;
        // a bias row was read with the first row tile; a digital bias is added to the row-tile sum
        if (bias.mode === "digital") addPerChannelImpl(read(op.to).data as Float64Array, bias.values, layer.outChannels, layer.positions);
        else if (bias.mode === "float") throw simError(`layer ${op.layer}: float bias of an analog layer is not simulated yet`, "compile with the fixed-point quantizer");
        if (ints) {
          const rec = ints.get(op.layer)!;
          ints.set(op.layer, { ...rec, out: (read(op.to).data as Float64Array).slice() });
        }
        break;
      }
      case "move": {
        const from = read(op.from);
        const src = from.data as Float64Array;
        const real = new Float64Array(src.length);
        const scale = op.fl === undefined ? 1 : 2 ** -op.fl;
        for (let i = 0; i < src.length; i++) real[i] = src[i]! * scale;
        buffers.set(op.to, { shape: [...from.shape], dtype: "f64", data: real });
        break;
      }
      default:
        runPostOp(program, op, images, read, buffers);
    }
  }
  const outputs = new Map<string, Tensor>();
  for (const name of program.outputs) outputs.set(name, asTensor(read(name)));
  return ints ? { outputs, ints, paths } : { outputs, paths };
}

/** A digital post-op through the ir's own kernels (runOp), on float64 reals: exact on integers for relu, maxpool, reshape. */
function runPostOp(
  program: Program, op: Extract<ScheduleOp, { inputs: unknown }>, images: number, read: (name: string) => BufferValue, buffers: Map<string, BufferValue>,
): void {
  const byName = getBufferRecords(program);
  const results = op.outputs.map((name) => {
    const b = byName.get(name)!;
    const type: TensorType = { dtype: isDType(b.dtype) ? b.dtype : "f64", shape: widenShape(b.shape, images) };
    return new Value(name, type, "result");
  });
  const irOp = new Op(op.kind, [], results, op.attrs as Op["attrs"]);
  const operands = op.inputs.map((name) => (name === null ? null : asTensor(read(name))));
  if (op.kind === "reshape" && images > 1) {
    // the recorded target shape is one pass's worth of images: reshape to the recorded output shape, widened
    const shape = results[0]!.type.shape;
    operands[1] = { type: { dtype: "i64", shape: [shape.length] }, data: BigInt64Array.from(shape, (d) => BigInt(d)) } as Tensor;
  }
  const out = runOp(irOp, operands);
  op.outputs.forEach((name, i) => {
    const t = out[i]!;
    buffers.set(name, { shape: [...t.type.shape], dtype: t.type.dtype, data: t.data });
  });
}

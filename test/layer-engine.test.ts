/**
 * @fileoverview The simulator's optimized engine (WebAssembly layer engine, exact i32 accumulation, fused digital
 * epilogues) against its op-by-op TypeScript reference on cases the fixture programs alone do not reach: truncation
 * windows at their edges (shifting left, wrapping to 1 bit, 32-bit and wider windows, on a single tile and on column
 * tiles sharing one fast MVM), an activation read twice (so the move → relu → maxpool → quantize chain must not be
 * fused), a small generated CNN whose odd channel and column counts (5, 3, 7) reach the kernels' one-lane tails
 * (the fixtures' counts are all even), also with signed inputs and bias rows and on a differential-pair device, a
 * 9-row convolution over two column tiles (the fast path's multiply from the padded input, fused or finished per
 * tile), a stride-2 convolution of signed inputs (gathered by per-position runs, the padding's driven with the
 * offset) and a grouped convolution (each tile reading its group's channels of the padded input); and the stacked
 * results of simulateImages against one simulateProgram per input.
 */
import { describe, expect, it } from "vitest";
import onnxProto, { type onnx } from "onnx-proto";
import { getBuiltinProfile, type DeviceProfile, type Module, type Tensor } from "@xbarc/ir";
import { importOnnx, loadOnnxFile } from "@xbarc/frontend";
import { compilePipeline, printPipeline, runPipeline } from "@xbarc/passes";
import {
  emitProgram, packTensors, releaseInstanceKernels, sampleProgramInstance, simulateImages, simulateProgram, type Program, type SimulateOptions,
} from "@xbarc/backend-sim";
import { FIXTURE_PREPROCESSING, listFixtureModels, samplesFor, sampleSize } from "./helpers/models.js";
import { range } from "./helpers/datasets.js";
import { bitDifference, runsBitDifference } from "./helpers/compare.js";

const lenet = listFixtureModels().find((m) => m.id === "lenet5")!;

function compileForIsaac(module: Module, preprocessing = FIXTURE_PREPROCESSING[lenet.preprocess], deviceName = "isaac"): Program {
  const device = getBuiltinProfile(deviceName) as DeviceProfile;
  const result = runPipeline(module, printPipeline(compilePipeline), { device });
  return emitProgram(module, { device, pipeline: result.pipeline, preprocessing });
}

function compileLenet(): Program {
  return compileForIsaac(loadOnnxFile(lenet.path, { batch: 1 }));
}

/** Deterministic values in [lo, hi) (a linear congruential generator; the exact values do not matter, only that both engines see them). */
function seededValues(n: number, seed: number, lo: number, hi: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * state) / 2 ** 32;
  });
}

const pb = onnxProto.onnx;
const FLOAT = pb.TensorProto.DataType.FLOAT;
const weights = (name: string, dims: number[], seed: number): onnx.ITensorProto => {
  const values = seededValues(dims.reduce((a, b) => a * b, 1), seed, -0.5, 0.5);
  return { name, dataType: FLOAT, dims, rawData: new Uint8Array(values.buffer) };
};
const info = (name: string, dims: number[]): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const ints = (name: string, values: number[]): onnx.IAttributeProto => ({ name, type: pb.AttributeProto.AttributeType.INTS, ints: values });
const conv = (name: string, input: string, w: string, b: string, output: string, stride = 1, group = 1): onnx.INodeProto => ({
  name, opType: "Conv", input: [input, w, b], output: [output],
  attribute: [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1]), ints("strides", [stride, stride]),
    { name: "group", type: pb.AttributeProto.AttributeType.INT, i: group }],
});

/** A one-graph ONNX model on a 1×1×8×8 input `x` with output `y`, imported. */
function smallModel(name: string, node: onnx.INodeProto[], initializer: onnx.ITensorProto[], outputDims: number[]): Module {
  const model: onnx.IModelProto = {
    irVersion: 8, opsetImport: [{ domain: "", version: 13 }], producerName: "xbarc-test",
    graph: { name, node, initializer, input: [info("x", [1, 1, 8, 8])], output: [info("y", outputDims)] },
  };
  return importOnnx(pb.ModelProto.encode(pb.ModelProto.create(model)).finish(), { file: `${name}.onnx` });
}

/**
 * A small CNN on 1×8×8 inputs with odd channel and column counts: Conv 1→5 (3×3, pad 1), ReLU, MaxPool 2×2, Conv
 * 5→3 (3×3, pad 1), ReLU, Flatten, Gemm 48→7. Without the ReLUs the layers after the first read signed inputs
 * (offset-encoded on the DACs), so a padded conv drives its padding rows with the input offset.
 */
function oddCnn(relu = true): Module {
  return smallModel("odd_cnn", [
    conv("c1", "x", "w1", "b1", "c1"),
    { name: "r1", opType: relu ? "Relu" : "Identity", input: ["c1"], output: ["r1"] },
    { name: "p1", opType: "MaxPool", input: ["r1"], output: ["p1"], attribute: [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])] },
    conv("c2", "p1", "w2", "b2", "c2"),
    { name: "r2", opType: relu ? "Relu" : "Identity", input: ["c2"], output: ["r2"] },
    { name: "f", opType: "Flatten", input: ["r2"], output: ["f"] },
    { name: "g", opType: "Gemm", input: ["f", "w3", "b3"], output: ["y"], attribute: [{ name: "transB", type: pb.AttributeProto.AttributeType.INT, i: 1 }] },
  ], [weights("w1", [5, 1, 3, 3], 1), weights("b1", [5], 2), weights("w2", [3, 5, 3, 3], 3), weights("b2", [3], 4), weights("w3", [7, 48], 5), weights("b3", [7], 6)],
  [1, 7]);
}

/**
 * Conv 1→5 (3×3, pad 1), then Conv 5→3 (3×3, pad 1) at stride 2 on its signed output (no ReLU between): a strided
 * convolution gathers its positions' rows one run table per position (the padding's runs driven with the offset).
 */
function stridedCnn(): Module {
  return smallModel("strided_cnn", [
    conv("c1", "x", "w1", "b1", "c1"),
    { name: "i1", opType: "Identity", input: ["c1"], output: ["i1"] },
    conv("c2", "i1", "w2", "b2", "y", 2),
  ], [weights("w1", [5, 1, 3, 3], 9), weights("b1", [5], 10), weights("w2", [3, 5, 3, 3], 11), weights("b2", [3], 12)], [1, 3, 4, 4]);
}

/**
 * Conv 1→6 (3×3, pad 1), then a grouped Conv 6→6 in 3 groups (3×3, pad 1) on its signed output: each tile reads its
 * group's channels (a tile per group, one row range each).
 */
function groupedCnn(): Module {
  return smallModel("grouped_cnn", [
    conv("c1", "x", "w1", "b1", "c1"),
    { name: "i1", opType: "Identity", input: ["c1"], output: ["i1"] },
    conv("c2", "i1", "w2", "b2", "y", 1, 3),
  ], [weights("w1", [6, 1, 3, 3], 13), weights("b1", [6], 14), weights("w2", [6, 2, 3, 3], 15), weights("b2", [6], 16)], [1, 6, 8, 8]);
}

/** Conv 1→40 (3×3, pad 1) on 1×8×8: nine rows (the fast path multiplies them without the im2col) over two column tiles. */
function wideConv(): Module {
  return smallModel("wide_conv", [conv("c1", "x", "w1", "b1", "y")], [weights("w1", [40, 1, 3, 3], 7), weights("b1", [40], 8)], [1, 40, 8, 8]);
}

function images(program: Program, count: number): Tensor[] {
  const { data } = samplesFor(lenet, range(8000, 8000 + count));
  const size = sampleSize(lenet);
  return range(0, count).map((i) => ({ type: { dtype: "f32", shape: [...program.input.shape] }, data: data.slice(i * size, (i + 1) * size) }) as Tensor);
}

function compareEngines(program: Program, inputs: Tensor[], options: SimulateOptions): string {
  return runsBitDifference(simulateProgram(program, inputs, { ...options, kernels: "wasm" }), inputs.map((x) => simulateProgram(program, x, { ...options, kernels: "ts" })));
}

describe("the optimized simulator engine", () => {
  const base = compileLenet();
  const inputs = images(base, 12);
  const ideal: SimulateOptions = { instance: "ideal", path: "fast", adcLossless: true };
  const faithful: SimulateOptions = { instance: "ideal", path: "faithful" };

  const windows: [string, number, number][] = [
    ["a left shift (D_L = −3) into an 8-bit window", -3, 8],
    ["a 1-bit window", 2, 1],
    ["a 32-bit window", 0, 32],
    ["a 40-bit window after a right shift", 4, 40],
    ["a 40-bit window after a left shift (float64 finish)", -2, 40],
    ["a window too wide for float64 (2^O_RWL = ∞)", 1, 1100],
  ];
  // set on the logits layer, whose truncated sums reach the outputs without a ReLU in between
  const last = base.layers[base.layers.length - 1]!.name;
  for (const [what, dL, oRwl] of windows) {
    it(`equals the reference engine bit for bit with ${what}`, () => {
      const program: Program = { ...base, schedule: base.schedule.map((op) => (op.op === "truncate" && op.layer === last ? { ...op, d_l: dL, o_rwl: oRwl } : op)) };
      expect(compareEngines(program, inputs, ideal), "fast path").toBe("");
      expect(compareEngines(program, inputs, faithful), "faithful path").toBe("");
    });
  }

  // a layer whose row ranges have several column tiles: both paths run one MVM or read per row range (the faithful
  // read over the column tiles' cells side by side, integer cells or, sampled, float cells) and finish each column
  // tile from its share of the output — in i32, or (a window wider than 32 bits) in float64
  const split = base.layers.find((l) => l.grid[1]! > 1)!;
  const variation = { model: "lognormal", sigma: 0.1, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 } as const;
  for (const [what, dL, oRwl] of [["an 8-bit window", 1, 8], ["a 40-bit window (float64 finish)", -2, 40]] as const) {
    it(`equals the reference engine bit for bit on a layer of ${split.grid[1]} column tiles per row range with ${what}`, () => {
      const program: Program = { ...base, schedule: base.schedule.map((op) => (op.op === "truncate" && op.layer === split.name ? { ...op, d_l: dL, o_rwl: oRwl } : op)) };
      expect(compareEngines(program, inputs, ideal), "fast path").toBe("");
      expect(compareEngines(program, inputs, faithful), "faithful path").toBe("");
      const sampled: SimulateOptions = { instance: sampleProgramInstance(program, 3, 0, variation), path: "faithful" };
      expect(compareEngines(program, inputs, sampled), "faithful path, σ 0.1 instance").toBe("");
    });
  }

  // tiles of one row range finished alike let their MVM finish its sums itself (mvm_i16's fused finish); windows that
  // differ between them take the finish per tile
  it(`equals the reference engine bit for bit on a layer of ${split.grid[1]} column tiles per row range whose 8-bit windows shift by 1 or 2 bits, by tile`, () => {
    const program: Program = {
      ...base,
      schedule: base.schedule.map((op) => (op.op === "truncate" && op.layer === split.name ? { ...op, d_l: 1 + (op.tile % 2), o_rwl: 8 } : op)),
    };
    expect(compareEngines(program, inputs, ideal), "fast path").toBe("");
  });

  // the same on a convolution whose tiles the fast path multiplies straight from the padded input (conv_i16): fused,
  // or (windows differing by tile) each tile finished from its columns of the sums
  const wide = compileForIsaac(wideConv());
  // 30 inputs: more than one chunk of the wide convolution's accumulators (the engine runs 256 KB of them, 25 images,
  // at a time), its output laid out chunk by chunk
  const wideInputs = range(0, 30).map((i) => ({ type: { dtype: "f32", shape: [1, 1, 8, 8] }, data: seededValues(64, 11 + i, 0, 1) }) as Tensor);
  for (const [what, window] of [["alike", () => 1], ["shifting by 1 or 2 bits, by tile", (tile: number) => 1 + (tile % 2)]] as const) {
    it(`equals the reference engine bit for bit on a 9-row convolution of ${wide.layers[0]!.grid[1]} column tiles whose 8-bit windows are ${what}`, () => {
      const program: Program = { ...wide, schedule: wide.schedule.map((op) => (op.op === "truncate" ? { ...op, d_l: window(op.tile), o_rwl: 8 } : op)) };
      expect(compareEngines(program, wideInputs, ideal), "fast path").toBe("");
    });
  }

  const strided = compileForIsaac(stridedCnn());
  for (const [what, options] of [["fast path", ideal], ["faithful path", faithful], ["faithful path, σ 0.1 instance", { instance: sampleProgramInstance(strided, 5, 0, variation), path: "faithful" } as SimulateOptions]] as const) {
    it(`equals the reference engine bit for bit on a stride-2 convolution of signed inputs (${what})`, () => {
      expect(compareEngines(strided, wideInputs, options)).toBe("");
    });
  }

  const grouped = compileForIsaac(groupedCnn());
  for (const [what, options] of [["fast path", ideal], ["faithful path", faithful], ["faithful path, σ 0.1 instance", { instance: sampleProgramInstance(grouped, 6, 0, variation), path: "faithful" } as SimulateOptions]] as const) {
    it(`equals the reference engine bit for bit on a grouped convolution of signed inputs (${what})`, () => {
      expect(compareEngines(grouped, wideInputs, options)).toBe("");
    });
  }

  it("keeps an activation read by two ops unfused, and gives it as an output", () => {
    const relu = base.schedule.find((op) => "kind" in op && op.kind === "relu") as Extract<Program["schedule"][number], { inputs: unknown }>;
    const twiceRead = relu.outputs[0]!;
    const program: Program = { ...base, outputs: [...base.outputs, twiceRead] };
    const runs = simulateProgram(program, inputs, { ...ideal, kernels: "wasm" });
    expect(runs[0]!.outputs.get(twiceRead)?.data.length).toBeGreaterThan(0);
    expect(compareEngines(program, inputs, ideal)).toBe("");
  });
});

describe("the optimized simulator engine on odd channel and column counts", () => {
  const program = compileForIsaac(oddCnn(), FIXTURE_PREPROCESSING.raw);
  const values = seededValues(16 * 64, 7, 0, 1);
  const inputs = range(0, 16).map((i) => ({ type: { dtype: "f32", shape: [1, 1, 8, 8] }, data: values.slice(i * 64, (i + 1) * 64) }) as Tensor);
  const variation = { model: "lognormal", sigma: 0.1, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 } as const;
  const cases: [string, SimulateOptions][] = [
    ["on the ideal device, fast path", { instance: "ideal", path: "fast", adcLossless: true }],
    ["on the ideal device, faithful path", { instance: "ideal", path: "faithful" }],
    ["on a σ 0.1 instance, faithful path", { instance: sampleProgramInstance(program, 3, 0, variation), path: "faithful" }],
  ];

  for (const [what, options] of cases) {
    it(`equals the reference engine bit for bit ${what}`, () => {
      expect(compareEngines(program, inputs, options)).toBe("");
    });
  }

  it("gives a layer input quantized into WebAssembly memory as float64 when the program also outputs it", () => {
    const quantize = program.schedule.find((op) => op.op === "quantize") as Extract<Program["schedule"][number], { op: "quantize" }>;
    const withInput: Program = { ...program, outputs: [...program.outputs, quantize.to] };
    const runs = simulateProgram(withInput, inputs, { instance: "ideal", path: "fast", adcLossless: true });
    expect(runs[0]!.outputs.get(quantize.to)?.data.length).toBe(64);
    expect(compareEngines(withInput, inputs, { instance: "ideal", path: "fast", adcLossless: true })).toBe("");
  });

  it("gives the same results when a released instance's memory is reused by the next instance", () => {
    const output = program.outputs[0]!;
    const a = sampleProgramInstance(program, 5, 0, variation);
    const b = sampleProgramInstance(program, 5, 1, variation);
    const run = (instance: typeof a, kernels: "ts" | "wasm"): Float64Array => simulateImages(program, inputs, { instance, path: "faithful", kernels }).outputs.get(output)!.data as Float64Array;
    const first = run(a, "wasm");
    releaseInstanceKernels(a);
    // b packs its tiles where a's were; a, simulated again, packs anew
    expect(bitDifference(run(b, "wasm"), run(b, "ts"))).toBe("");
    expect(bitDifference(run(a, "wasm"), first)).toBe("");
    expect(bitDifference(first, run(a, "ts"))).toBe("");
  });

  it("gives the same outputs for inputs packed into one buffer (copied at once) as for separate arrays, in any order", () => {
    const options: SimulateOptions = { instance: "ideal", path: "fast", adcLossless: true };
    const output = (xs: readonly Tensor[]): Float64Array => simulateImages(program, xs, options).outputs.get(program.outputs[0]!)!.data as Float64Array;
    const packed = packTensors(inputs);
    expect(packed.every((t, i) => t.data.buffer === packed[0]!.data.buffer && t.data.byteOffset === i * 64 * 4)).toBe(true);
    expect(bitDifference(output(packed), output(inputs))).toBe("");
    // views of one buffer out of order are not one run: each is copied where it belongs
    expect(bitDifference(output([...packed].reverse()), output([...inputs].reverse()))).toBe("");
    expect(bitDifference(output(packed.filter((_, i) => i % 2 === 0)), output(inputs.filter((_, i) => i % 2 === 0)))).toBe("");
  });

  it("stacks simulateImages' outputs in input order, equal to one simulateProgram per input", () => {
    const options: SimulateOptions = { instance: "ideal", path: "fast", adcLossless: true };
    const stacked = simulateImages(program, inputs, options).outputs.get(program.outputs[0]!)!;
    expect(stacked.type.shape).toEqual([16, 7]);
    const each = inputs.map((x) => simulateProgram(program, x, options).outputs.get(program.outputs[0]!)!.data as Float64Array);
    const joined = new Float64Array(16 * 7);
    each.forEach((d, i) => joined.set(d, i * 7));
    expect(bitDifference(stacked.data as Float64Array, joined)).toBe("");
  });
});

describe("the optimized simulator engine on a differential-pair device", () => {
  // rram-3bit stores each weight slice on a pair of columns; its sampled cells take read_float32 and the i32 finish
  const program = compileForIsaac(oddCnn(), FIXTURE_PREPROCESSING.raw, "rram-3bit");
  const values = seededValues(16 * 64, 13, 0, 1);
  const inputs = range(0, 16).map((i) => ({ type: { dtype: "f32", shape: [1, 1, 8, 8] }, data: values.slice(i * 64, (i + 1) * 64) }) as Tensor);

  it("equals the reference engine bit for bit on σ 0.1 instances, faithful path", () => {
    for (const run of [0, 1]) {
      const instance = sampleProgramInstance(program, 21, run, program.device.variation);
      expect(compareEngines(program, inputs, { instance, path: "faithful" }), `run ${run}`).toBe("");
    }
  });
});

describe("the optimized simulator engine on signed inputs and bias rows", () => {
  // halawani-16l-10x maps the bias to a crossbar row; without ReLUs the second conv (padded) and the Gemm read signed inputs
  const program = compileForIsaac(oddCnn(false), FIXTURE_PREPROCESSING.raw, "halawani-16l-10x");
  const values = seededValues(16 * 64, 11, -1, 1);
  const inputs = range(0, 16).map((i) => ({ type: { dtype: "f32", shape: [1, 1, 8, 8] }, data: values.slice(i * 64, (i + 1) * 64) }) as Tensor);

  it("has what it is meant to test: a padded conv driven with an input offset, and bias rows", () => {
    const conv2 = program.layers[1]!.name;
    const offsets = program.schedule.filter((op) => op.op === "mvm" && op.layer === conv2).map((op) => (op as { input_offset: number }).input_offset);
    expect(Math.min(...offsets)).toBeGreaterThan(0);
    expect(program.tiles.filter((t) => t.bias_row).length).toBeGreaterThan(0);
  });

  for (const [what, options] of [
    ["on the ideal device, fast path", { instance: "ideal", path: "fast", adcLossless: true }],
    ["on the ideal device, faithful path", { instance: "ideal", path: "faithful" }],
  ] as [string, SimulateOptions][]) {
    it(`equals the reference engine bit for bit ${what}`, () => {
      expect(compareEngines(program, inputs, options)).toBe("");
    });
  }
});

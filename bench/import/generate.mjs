/**
 * @fileoverview Writes a ResNet-50-sized ONNX model (He et al., CVPR 2016, table 1, "50-layer" column: bottleneck
 * blocks [3,4,6,3]) with seeded random float32 weights to bench/out/, for the import benchmark. Usage:
 *   node bench/import/generate.mjs [--out bench/out/resnet50.onnx] [--seed 1] [--no-check]
 * The file has a symbolic batch `N`, opset 13, Conv+BatchNormalization+Relu blocks with residual Add, MaxPool,
 * GlobalAveragePool, Flatten and Gemm; every initializer is float32 raw_data, written by xbarc's
 * encodeModelProtoAligned so that every payload starts at a 64-byte-aligned file offset (the importer then views
 * all of them without copying; needs `npm run build`). --unaligned writes plain protobufjs output instead (payloads
 * wherever the field layout puts them, as most exporters do). onnxruntime-node loads and runs it once at the end to
 * prove the file is valid (skip with --no-check).
 */
import { mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FRONTEND_DIST = resolve(REPO_ROOT, "packages/frontend/dist/index.js");

/** Command-line options with their defaults. */
function parseArgs(argv) {
  const opts = { out: resolve(REPO_ROOT, "bench/out/resnet50.onnx"), seed: 1, check: true, aligned: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") opts.out = resolve(argv[++i]);
    else if (a === "--seed") opts.seed = Number(argv[++i]);
    else if (a === "--no-check") opts.check = false;
    else if (a === "--unaligned") opts.aligned = false;
    else throw new Error(`unknown argument ${a} (expected --out FILE, --seed N, --no-check, --unaligned)`);
  }
  return opts;
}

/** mulberry32: a small seeded PRNG, so the file is the same for a given seed. */
function createRng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Marks a float attribute: JS cannot tell 1.0 from 1, and ONNX checks the attribute type. */
class FloatAttr {
  constructor(value) {
    this.value = value;
  }
}
const float = (value) => new FloatAttr(value);

/** Builds the graph: nodes, initializers and the running parameter count. */
class GraphBuilder {
  constructor(rng) {
    this.rng = rng;
    this.nodes = [];
    this.initializers = [];
    this.parameters = 0;
    this.counter = 0;
  }

  /** A float32 initializer with values uniform in [lo, hi). */
  weight(name, dims, lo, hi) {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * this.rng();
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
    this.parameters += n;
    return name;
  }

  node(opType, inputs, attrs = {}, name = `${opType}_${this.counter++}`) {
    const output = `${name}_out`;
    const attribute = Object.entries(attrs).map(([key, v]) => {
      if (Array.isArray(v)) return { name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      if (v instanceof FloatAttr) return { name: key, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.value };
      return { name: key, type: onnx.AttributeProto.AttributeType.INT, i: v };
    });
    this.nodes.push({ name, opType, input: inputs, output: [output], attribute });
    return output;
  }

  /** Conv (no bias) + BatchNormalization (+ Relu), the ResNet unit. He-uniform weights keep activations bounded. */
  convBn(x, name, cin, cout, k, stride, relu) {
    const bound = Math.sqrt(6 / (cin * k * k));
    const w = this.weight(`${name}.weight`, [cout, cin, k, k], -bound, bound);
    const pad = (k - 1) >> 1;
    let y = this.node("Conv", [x, w], { dilations: [1, 1], group: 1, kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [stride, stride] }, name);
    const bn = `${name}.bn`;
    y = this.node(
      "BatchNormalization",
      [y, this.weight(`${bn}.scale`, [cout], 0.5, 1), this.weight(`${bn}.bias`, [cout], -0.1, 0.1), this.weight(`${bn}.mean`, [cout], -0.1, 0.1), this.weight(`${bn}.var`, [cout], 0.5, 1.5)],
      { epsilon: float(1e-5) },
      bn,
    );
    return relu ? this.node("Relu", [y], {}, `${name}.relu`) : y;
  }

  /** Bottleneck block: 1x1 → 3x3 (stride here, as torchvision's ResNet v1.5) → 1x1, plus identity or projection. */
  bottleneck(x, name, cin, width, stride) {
    const cout = width * 4;
    let y = this.convBn(x, `${name}.conv1`, cin, width, 1, 1, true);
    y = this.convBn(y, `${name}.conv2`, width, width, 3, stride, true);
    y = this.convBn(y, `${name}.conv3`, width, cout, 1, 1, false);
    const shortcut = stride !== 1 || cin !== cout ? this.convBn(x, `${name}.downsample`, cin, cout, 1, stride, false) : x;
    const sum = this.node("Add", [y, shortcut], {}, `${name}.add`);
    return this.node("Relu", [sum], {}, `${name}.relu`);
  }
}

/** The ResNet-50 graph as a ModelProto object. */
function buildResNet50(seed) {
  const g = new GraphBuilder(createRng(seed));
  let x = g.convBn("input", "conv1", 3, 64, 7, 2, true);
  x = g.node("MaxPool", [x], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, "maxpool");
  let cin = 64;
  const stages = [
    [64, 3, 1],
    [128, 4, 2],
    [256, 6, 2],
    [512, 3, 2],
  ];
  stages.forEach(([width, blocks, stride], s) => {
    for (let b = 0; b < blocks; b++) {
      x = g.bottleneck(x, `layer${s + 1}.${b}`, cin, width, b === 0 ? stride : 1);
      cin = width * 4;
    }
  });
  x = g.node("GlobalAveragePool", [x], {}, "avgpool");
  x = g.node("Flatten", [x], { axis: 1 }, "flatten");
  const bound = 1 / Math.sqrt(cin);
  x = g.node("Gemm", [x, g.weight("fc.weight", [1000, cin], -bound, bound), g.weight("fc.bias", [1000], -bound, bound)], { alpha: float(1), beta: float(1), transB: 1 }, "fc");
  const dim = (d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d });
  const valueInfo = (name, shape) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map(dim) } } } });
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "xbarc-bench",
    producerVersion: "1",
    graph: {
      name: "resnet50_random",
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo("input", ["N", 3, 224, 224])],
      output: [valueInfo(x, ["N", 1000])],
    },
  };
  return { model, parameters: g.parameters, nodes: g.nodes.length, output: x };
}

/** Loads the file in onnxruntime-node and runs one random image, so a broken file fails here and not in the bench. */
async function checkWithOrt(path, output) {
  const ort = (await import("onnxruntime-node")).default;
  const session = await ort.InferenceSession.create(path);
  const input = new Float32Array(3 * 224 * 224);
  const rng = createRng(7);
  for (let i = 0; i < input.length; i++) input[i] = rng();
  const result = await session.run({ input: new ort.Tensor("float32", input, [1, 3, 224, 224]) });
  const y = result[output];
  if (!y || y.dims.join() !== "1,1000") throw new Error(`onnxruntime output ${output} has dims [${y?.dims}], expected [1,1000]`);
  if (!y.data.every(Number.isFinite)) throw new Error("onnxruntime output has non-finite values");
  return { inputs: session.inputNames, outputs: session.outputNames };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { model, parameters, nodes, output } = buildResNet50(opts.seed);
  let bytes;
  if (opts.aligned) {
    const { encodeModelProtoAligned } = await import(FRONTEND_DIST);
    bytes = encodeModelProtoAligned(model);
  } else {
    bytes = onnx.ModelProto.encode(model).finish();
  }
  mkdirSync(dirname(opts.out), { recursive: true });
  // write then rename, so an interrupted run never leaves a truncated model behind
  const tmp = `${opts.out}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, opts.out);
  const size = statSync(opts.out).size;
  const layout = opts.aligned ? "raw_data 64-byte aligned" : "raw_data unaligned";
  console.log(`wrote ${opts.out}: ${nodes} nodes, ${parameters.toLocaleString("en-US")} parameters, ${(size / 2 ** 20).toFixed(1)} MiB, ${layout}`);
  if (opts.check) {
    const io = await checkWithOrt(opts.out, output);
    console.log(`onnxruntime-node loads and runs it: inputs [${io.inputs}], outputs [${io.outputs}]`);
  }
}

await main();

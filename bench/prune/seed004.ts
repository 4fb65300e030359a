/**
 * @fileoverview Seed 004's experiment (Ma, Jiang, Liu, Du, Ma, Du, "A Resource-Efficient Weight Quantization and
 * Mapping Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems", Integrated Circuits and Systems 2(4),
 * 2025: 42% of the crossbar units saved on a 32×32 crossbar, MNIST accuracy 91.5% → 88.3%) on the MNIST fixtures:
 * for each prune rule, crossbar units before/after (tile pass, 8-bit fixed-point weights, device isaac with a 32×32
 * crossbar) without and with merging, and float and fixed-point accuracy before/after on the held-back images
 * t10k[8000:10000]; calibration t10k[0:1000] (the fixtures' models were trained on t10k[0:8000], so these calibration
 * images are training images and the evaluation images are unseen). `--calib-range 8000:9000 --eval-range 9000:10000`
 * budgets on unseen images too (both sets held back from training, disjoint). Prints a markdown table; asserts nothing.
 * `--quantizer <name>[:bits]` (kmeans:4, spectral:2, uniform, mes-caq, em-variation; fixed-point:8 is the default)
 * compiles onto analog levels instead (one weight per cell pair, no bit-slicing or truncation): the tile pass then merges
 * rows/columns with equal codes and cell states, and since the simulator and the fixed-point reference do not run
 * analog-level layers, the accuracy reported is the float interpreter's on the compiled module, whose weights
 * assign-levels set to what the cell states realise on the ideal device. `--device <builtin>` picks the profile (its
 * crossbar is resized to 32×32; default isaac).
 * Usage (after `npm run build`): npm run bench:prune [-- --models mlp,lenet5 --budgets 1,3 --calib-range A:B --eval-range C:D --quantizer spectral:2 --device rram-4bit --json]
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadOnnxFile } from "@xbarc/frontend";
import { getBuiltinProfile, readNumbers, type DeviceProfile, type Module, type Tensor } from "@xbarc/ir";
import {
  copyModule, getCrossbarCount, getPass, runPipeline, countCalibrationCorrect, type CalibrationSet, type PipelineStep,
} from "@xbarc/passes";
import { fitImages, getInputFit, loadImageSet, loadLabels, runFixedPoint, type ImageSet } from "@xbarc/backend-sim";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const IMAGES = resolve(REPO, "fixtures/mnist/t10k-images-idx3-ubyte.gz");
const LABELS = resolve(REPO, "fixtures/mnist/t10k-labels-idx1-ubyte.gz");
const MODELS: Record<string, string> = {
  mlp: resolve(REPO, "fixtures/models/trained/mlp784-32-10-relu.onnx"),
  "mlp-sigmoid": resolve(REPO, "fixtures/models/trained/mlp784-32-10-sigmoid.onnx"),
  lenet5: resolve(REPO, "fixtures/models/trained/lenet5.onnx"),
};
const BATCH = 100;

/** seed 004's 32×32 crossbar on a built-in profile's cells and converters (default ISAAC's 2-bit cells) */
function getDevice(name: string): DeviceProfile {
  const base = getBuiltinProfile(name);
  if (!base) throw new Error(`unknown device ${name} (a built-in profile, see \`xbarc devices\`)`);
  return { ...base, name: `${name}-32`, crossbar: { ...base.crossbar, rows: 32, cols: 32 } };
}

/** The weight quantizer: fixed-point (bit-sliced, simulated) or one of the analog-level ones; bits 0 = the device's most. */
interface QuantizerChoice { name: string; bits: number }

interface Args {
  models: string[]; budgets: number[]; calib: [number, number]; evaluation: [number, number]; json: boolean;
  quantizer: QuantizerChoice; device: string;
}

/** "name[:bits]" → the quantizer choice. */
function parseQuantizer(text: string): QuantizerChoice {
  const [name, bits] = text.split(":");
  const known = ((getPass("quantize")?.options as { properties?: { quantizer?: { enum?: string[] } } }).properties?.quantizer?.enum ?? []).filter((q) => q !== "auto");
  if (!name || !known.includes(name)) throw new Error(`--quantizer ${text}: unknown quantizer (known: ${known.join(", ")})`);
  const b = bits === undefined ? (name === "fixed-point" ? 8 : 0) : Number(bits);
  if (!Number.isInteger(b) || b < 0 || b > 16) throw new Error(`--quantizer ${text}: bits must be an integer in [0, 16]`);
  return { name, bits: b };
}

/** "A:B" → [A, B] with 0 ≤ A < B ≤ 10000. */
function parseRange(text: string, flag: string): [number, number] {
  const [a, b] = text.split(":").map(Number);
  if (!Number.isInteger(a) || !Number.isInteger(b) || a! < 0 || a! >= b! || b! > 10000) throw new Error(`${flag} ${text}: expected A:B with 0 ≤ A < B ≤ 10000`);
  return [a!, b!];
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    models: ["mlp"], budgets: [1, 3], calib: [0, 1000], evaluation: [8000, 10000], json: false, quantizer: { name: "fixed-point", bits: 8 }, device: "isaac",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--models") args.models = argv[++i]!.split(",");
    else if (a === "--budgets") args.budgets = argv[++i]!.split(",").map(Number);
    else if (a === "--calib-range") args.calib = parseRange(argv[++i]!, a);
    else if (a === "--eval-range") args.evaluation = parseRange(argv[++i]!, a);
    else if (a === "--json") args.json = true;
    else if (a === "--quantizer") args.quantizer = parseQuantizer(argv[++i]!);
    else if (a === "--device") args.device = argv[++i]!;
    else throw new Error(`unknown argument ${a} (expected --models a,b --budgets 1,3 --calib-range A:B --eval-range C:D --quantizer name[:bits] --device name --json)`);
  }
  if (args.calib[0] < args.evaluation[1] && args.evaluation[0] < args.calib[1]) throw new Error("the calibration and evaluation ranges overlap");
  for (const m of args.models) if (!MODELS[m]) throw new Error(`unknown model ${m} (known: ${Object.keys(MODELS).join(", ")})`);
  return args;
}

/** images[start:end] as batches of BATCH fitted to the module's input (x/255), with labels. */
function getImageBatches(module: Module, images: ImageSet, labels: Int32Array, start: number, end: number, name: string): CalibrationSet {
  const input = module.inputs[0]!;
  const fit = getInputFit(images, input.type, input.name);
  const batches: Map<string, Tensor>[] = [];
  const counts: number[] = [];
  for (let s = start; s < end; s += fit.batch) {
    const n = Math.min(fit.batch, end - s);
    batches.push(new Map([[input.name, fitImages(images, input.type, { scale: 1 / 255, mean: 0, std: 1 }, s, n, input.name)]]));
    counts.push(n);
  }
  return { name, batches, labels: labels.slice(start, end), counts };
}

/** Top-1 accuracy of the fixed-point reference (the crossbar program's integer arithmetic) on a set. */
function getFixedPointAccuracy(module: Module, set: CalibrationSet): number {
  const out = module.outputs[0]!.name;
  let correct = 0;
  let seen = 0;
  set.batches.forEach((batch, b) => {
    const y = runFixedPoint(module, batch).outputs.get(out)!;
    const v = readNumbers(y);
    const classes = v.length / y.type.shape[0]!;
    for (let i = 0; i < set.counts[b]!; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (v[i * classes + c]! > v[i * classes + best]!) best = c;
      if (best === set.labels[seen + i]) correct++;
    }
    seen += set.counts[b]!;
  });
  return correct / seen;
}

const tileMergeModes = (): string[] => {
  const merge = (getPass("tile")?.options as { properties?: { merge?: { enum?: string[] } } }).properties?.merge;
  return merge?.enum ?? [];
};

/**
 * The compile pipeline after prune, with tile{merge} when the tile pass has that option. Analog-level quantizers stop
 * after bit-slice (place-truncation is for bit-sliced fixed-point layers).
 */
function getCompileSteps(merge: string | undefined, quantizer: QuantizerChoice): PipelineStep[] {
  const analog = quantizer.name !== "fixed-point";
  return [
    { pass: "quantize", options: { quantizer: quantizer.name, bits: quantizer.bits } },
    { pass: "assign-levels", options: {} },
    { pass: "tile", options: merge ? { merge } : {} },
    { pass: "bit-slice", options: {} },
    ...(analog ? [] : [{ pass: "place-truncation", options: {} }]),
  ];
}

interface Row {
  model: string; rule: string; budget: number | null; sparsity: number;
  xbarsBefore: number; xbarsPlainBefore: number; xbarsAfter: number; xbarsMerged?: number; xbarsMergedBefore?: number;
  xbarsColumns?: number; xbarsColumnsBefore?: number;
  floatBefore: number; floatAfter: number; calibBefore: number; calibAfter: number;
  fixedBefore?: number; fixedAfter?: number; seconds: number;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const DEVICE = getDevice(args.device);
  const quantizer = args.quantizer;
  const analog = quantizer.name !== "fixed-point";
  /** accuracy of a compiled module: fixed-point reference, or (analog levels) the float model on the realised weights */
  const compiledAccuracy = (m: Module, set: CalibrationSet): number =>
    analog ? countCalibrationCorrect(m, set) / set.labels.length : getFixedPointAccuracy(m, set);
  const images = loadImageSet(IMAGES);
  const labels = loadLabels(LABELS);
  const modes = tileMergeModes();
  // "without merging": the tile pass drops all-zero rows/columns (exact) and nothing else; "with": every merge it has
  const plain = modes.includes("zeros") ? "zeros" : undefined;
  // "all" also merges columns equal up to sign on differential devices; isaac is offset-column, so here it merges
  // identical rows and columns
  const merged = modes.includes("all") ? "all" : undefined;
  // the exact, free merge: identical columns (no extra input steps)
  const columns = modes.includes("columns") ? "columns" : undefined;
  const rows: Row[] = [];
  for (const key of args.models) {
    const base = loadOnnxFile(MODELS[key]!, { batch: BATCH });
    runPipeline(base, "canonicalize");
    const calibration = getImageBatches(base, images, labels, args.calib[0], args.calib[1], `t10k[${args.calib.join(":")}]`);
    const evaluation = getImageBatches(base, images, labels, args.evaluation[0], args.evaluation[1], `t10k[${args.evaluation.join(":")}]`);
    const size = (s: CalibrationSet): number => s.labels.length;
    const compiled = (m: Module, merge: string | undefined): Module => {
      const copy = copyModule(m);
      runPipeline(copy, getCompileSteps(merge, quantizer), { device: DEVICE });
      return copy;
    };
    const unprunedPlain = compiled(base, plain);
    const unprunedNone = plain ? compiled(base, "none") : unprunedPlain;
    const unprunedMerged = merged ? compiled(base, merged) : undefined;
    const unprunedColumns = columns ? compiled(base, columns) : undefined;
    const floatBefore = countCalibrationCorrect(base, evaluation) / size(evaluation);
    const calibBefore = countCalibrationCorrect(base, calibration) / size(calibration);
    const fixedBefore = compiledAccuracy(unprunedPlain, evaluation);
    const configs: { rule: string; budget: number | null; options: string }[] = [
      { rule: "magnitude", budget: null, options: 'rule="magnitude", sparsity=0.5' },
      ...args.budgets.flatMap((b) => [
        { rule: "magnitude", budget: b, options: `rule="magnitude", sparsity=0.95, budget=${b}` },
        { rule: "sensitivity", budget: b, options: `rule="sensitivity", budget=${b}` },
        // the crossbar rule counts with the compile's weight width: 0 = one weight per cell (pair) for analog levels
        { rule: "crossbar", budget: b, options: `rule="crossbar", budget=${b}, weight_bits=${analog ? 0 : quantizer.bits}` },
      ]),
    ];
    for (const c of configs) {
      const t0 = performance.now();
      const m = copyModule(base);
      runPipeline(m, `prune{${c.options}}`, { device: DEVICE, calibration });
      let zeros = 0;
      let weights = 0;
      for (const op of m.ops) {
        const p = op.getAnnotation("prune")?.data;
        if (p) { zeros += p.zeros as number; weights += op.operands[1]!.data!.length; }
      }
      const after = compiled(m, plain);
      const afterMerged = merged ? compiled(m, merged) : undefined;
      const afterColumns = columns ? compiled(m, columns) : undefined;
      rows.push({
        model: key, rule: c.rule, budget: c.budget, sparsity: zeros / weights,
        xbarsBefore: getCrossbarCount(unprunedNone).total, xbarsPlainBefore: getCrossbarCount(unprunedPlain).total, xbarsAfter: getCrossbarCount(after).total,
        ...(afterMerged && unprunedMerged ? { xbarsMerged: getCrossbarCount(afterMerged).total, xbarsMergedBefore: getCrossbarCount(unprunedMerged).total } : {}),
        ...(afterColumns && unprunedColumns ? { xbarsColumns: getCrossbarCount(afterColumns).total, xbarsColumnsBefore: getCrossbarCount(unprunedColumns).total } : {}),
        floatBefore, floatAfter: countCalibrationCorrect(m, evaluation) / size(evaluation),
        calibBefore, calibAfter: countCalibrationCorrect(m, calibration) / size(calibration),
        fixedBefore, fixedAfter: compiledAccuracy(after, evaluation),
        seconds: (performance.now() - t0) / 1000,
      });
      process.stderr.write(`${key} ${c.rule} budget ${c.budget ?? "-"}: done in ${rows.at(-1)!.seconds.toFixed(1)} s\n`);
    }
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ device: DEVICE.name, quantizer, plain, columns, merged, rows }, null, 2)}\n`);
    return;
  }
  const pct = (x: number): string => (100 * x).toFixed(2);
  const saved = (b: number, a: number): string => `${((100 * (b - a)) / b).toFixed(1)}%`;
  const weights = analog
    ? `quantize{quantizer="${quantizer.name}"${quantizer.bits ? `, bits=${quantizer.bits}` : ""}}: one weight per cell${DEVICE.mapping.signed === "differential" ? " pair" : " + offset column"}`
    : `${quantizer.bits}-bit fixed-point weights → ${Math.ceil(quantizer.bits / DEVICE.cell.bits)} slices${DEVICE.mapping.signed === "differential" ? " × 2 (G+/G−)" : " + offset column"}`;
  process.stdout.write(`Seed 004 on ${DEVICE.name} (32×32, ${DEVICE.cell.bits}-bit cells, ${DEVICE.mapping.signed}; ${weights});\n` +
    `calibration t10k[${args.calib.join(":")}]${args.calib[0] < 8000 ? " (training images)" : " (held back)"}, evaluation t10k[${args.evaluation.join(":")}] (held back).\n` +
    `"before" = unpruned, tile merge="none"; "after" = pruned, tile merge="${plain ?? "(no merge option)"}"` +
    `${merged ? `; "merged" = pruned, tile merge="${merged}"` : "; merging: tile has no merge option yet"}` +
    `${columns ? `; "+ columns" = pruned, tile merge="${columns}" (exact, no extra input steps)` : ""}.\n` +
    `${analog ? "compiled acc = float interpreter on the compiled module (weights = what the cell states realise, ideal device); the simulator does not run analog-level layers.\n" : "compiled acc = the fixed-point reference (runFixedPoint).\n"}\n`);
  process.stdout.write("| model | rule | budget (pts) | sparsity | xbars before | after | saved | saved vs unpruned zeros-dropped | after + columns | saved | after + merge | saved | float acc before → after | compiled acc before → after | calib acc before → after | time |\n");
  process.stdout.write("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const r of rows) {
    process.stdout.write(`| ${r.model} | ${r.rule} | ${r.budget ?? "none (50%)"} | ${pct(r.sparsity)}% | ${r.xbarsBefore} | ${r.xbarsAfter} | ${saved(r.xbarsBefore, r.xbarsAfter)} | ` +
      `${saved(r.xbarsPlainBefore, r.xbarsAfter)} (of ${r.xbarsPlainBefore}) | ` +
      `${r.xbarsColumns ?? "-"} | ${r.xbarsColumns !== undefined ? saved(r.xbarsBefore, r.xbarsColumns) : "-"} | ` +
      `${r.xbarsMerged ?? "-"} | ${r.xbarsMerged !== undefined ? saved(r.xbarsBefore, r.xbarsMerged) : "-"} | ${pct(r.floatBefore)} → ${pct(r.floatAfter)} | ` +
      `${r.fixedBefore !== undefined ? `${pct(r.fixedBefore)} → ${pct(r.fixedAfter!)}` : "-"} | ${pct(r.calibBefore)} → ${pct(r.calibAfter)} | ${r.seconds.toFixed(1)} s |\n`);
  }
  const first = new Map<string, Row>();
  for (const r of rows) if (!first.has(r.model)) first.set(r.model, r);
  for (const [model, r] of first) {
    process.stdout.write(`\nunpruned ${model}: ${r.xbarsBefore} crossbars with merge="none", ${r.xbarsPlainBefore} with merge="${plain}" (weights that quantize to 0 empty whole rows)` +
      `${r.xbarsColumnsBefore !== undefined ? `, ${r.xbarsColumnsBefore} with merge="${columns}"` : ""}` +
      `${r.xbarsMergedBefore !== undefined ? `, ${r.xbarsMergedBefore} with merge="${merged}"` : ""}\n`);
  }
  process.stdout.write(`\nPaper (seed 004): 42% of the units saved, 91.5% → 88.3% on MNIST. Goal: ≥ 42% saved at ≤ 3 points of loss.\n`);
}

main();

/**
 * @fileoverview Simulator benchmark (issue 5): images/s of onnxruntime-node float (batched), of the program
 * simulator on the ideal device (fast path, lossless ADCs, as `xbarc run --ideal`), of the faithful path on a sampled
 * log-normal instance with the device's 8-bit ADC, and the program Monte Carlo speedup of 2 workers over 1; each also
 * as a ratio to onnxruntime. The simulator runs through simulateImages (stacked outputs, as the accuracy and Monte
 * Carlo loops of `xbarc run` use it). onnxruntime and the simulator both make one untimed pass over the images, then
 * are timed --reps times over them (Monte Carlo: --mc-reps times, 1 and 2 workers interleaved); the figures are
 * medians, then issue 6's goals met or missed on the unrounded ratios. Prints figures only; asserts nothing about
 * time. Usage (after `npm run build`):
 *   node bench/sim/run.mjs [--offset 8000] [--count 2000] [--faithful-count N (default: --count)] [--reps 11] [--mc-runs 32] [--mc-count 2000] [--mc-reps 3] [--json]
 * 11 timed passes by default: a pass of the MLP takes a few ms, and single passes of it vary by 2× (the JIT still
 * tiering up, garbage collection), so a median of 5 moved by a quarter from run to run.
 */
import { existsSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI_DIST = resolve(REPO_ROOT, "packages/cli/dist/index.js");
const SIM_DIST = resolve(REPO_ROOT, "packages/backend-sim/dist/index.js");
const IMAGES = resolve(REPO_ROOT, "fixtures/mnist/t10k-images-idx3-ubyte.gz");
const LABELS = resolve(REPO_ROOT, "fixtures/mnist/t10k-labels-idx1-ubyte.gz");
const MODELS = ["lenet5", "cnn-3conv-2fc", "mlp784-32-10-relu"];
const ORT_BATCH = 100;
/** Issue 6's goals for these figures: images/s as a ratio to onnxruntime, and the Monte Carlo speedup. */
const GOALS = { ideal: 0.5, faithful: 0.05, monteCarlo: 1.7 };
const SIGMA = 0.1;

function parseArgs(argv) {
  const opts = { offset: 8000, count: 2000, faithfulCount: undefined, reps: 11, mcRuns: 32, mcCount: 2000, mcReps: 3, mcModel: "mlp784-32-10-relu", json: false };
  const numeric = {
    "--offset": "offset", "--count": "count", "--faithful-count": "faithfulCount", "--reps": "reps", "--mc-runs": "mcRuns", "--mc-count": "mcCount", "--mc-reps": "mcReps",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") opts.json = true;
    else if (numeric[a]) opts[numeric[a]] = Number(argv[++i]);
    else throw new Error(`unknown argument ${a} (expected ${Object.keys(numeric).join(" N, ")} N, --json)`);
  }
  opts.faithfulCount ??= opts.count; // the same images as onnxruntime and the ideal path unless asked otherwise
  for (const k of Object.values(numeric)) if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`--${k} must be a positive integer`);
  return opts;
}

/**
 * A pass of onnxruntime-node float32 over [offset, offset+count) in batches of ORT_BATCH (single thread, as
 * test/helpers/ort.ts): resolves with the number of correct top-1 classes.
 */
async function prepareOrtPass(ort, modelFile, images, labels, offset, count) {
  const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const input = session.inputNames[0];
  const [height, width] = images.shape;
  const pixels = height * width;
  const isMlp = modelFile.includes("mlp");
  const batches = [];
  for (let done = 0; done < count; done += ORT_BATCH) {
    const n = Math.min(ORT_BATCH, count - done);
    const data = new Float32Array(n * pixels);
    for (let i = 0; i < n * pixels; i++) data[i] = images.data[(offset + done) * pixels + i] / 255;
    batches.push({ n, tensor: new ort.Tensor("float32", data, isMlp ? [n, pixels] : [n, 1, height, width]) });
  }
  return async () => {
    let ok = 0;
    let first = offset;
    for (const b of batches) {
      const out = (await session.run({ [input]: b.tensor }))[session.outputNames[0]].data;
      const classes = out.length / b.n;
      for (let i = 0; i < b.n; i++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (out[i * classes + k] > out[i * classes + best]) best = k;
        if (best === labels[first + i]) ok++;
      }
      first += b.n;
    }
    return ok;
  };
}

/**
 * Each pass of `passes` ({ name: () => value }) once untimed, then `reps` rounds timing each in turn (so that a drift
 * in the host's speed hits all alike): per name, the median seconds, every round's seconds and the last value.
 */
async function timeInterleaved(passes, reps) {
  const names = Object.keys(passes);
  for (const name of names) await passes[name]();
  const seconds = Object.fromEntries(names.map((n) => [n, []]));
  const values = {};
  for (let r = 0; r < reps; r++) {
    for (const name of names) {
      const t0 = performance.now();
      values[name] = await passes[name]();
      seconds[name].push((performance.now() - t0) / 1000);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Object.fromEntries(names.map((n) => [n, { seconds: median(seconds[n]), rounds: seconds[n], value: values[n] }]));
}

/** Top-1 accuracy of a simulateImages result over fitted batches. */
function accuracyOf(sim, program, data, batch) {
  return sim.countCorrectTop1(batch.outputs.get(program.outputs[0]), data) / data.labels.length;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const f of [CLI_DIST, SIM_DIST]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
  const cli = await import(CLI_DIST);
  const sim = await import(SIM_DIST);
  const ort = await import("onnxruntime-node");
  const images = sim.loadImageSet(IMAGES);
  const labels = sim.loadLabels(LABELS);
  const variation = { model: "lognormal", sigma: SIGMA, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 };
  const log = (s) => { if (!opts.json) process.stderr.write(`${s}\n`); };
  const models = [];
  for (const name of MODELS) {
    const modelFile = resolve(REPO_ROOT, `fixtures/models/trained/${name}.onnx`);
    log(`${name}: compiling for isaac (calibration t10k[0:500])`);
    const { program } = cli.compileModel({ model: modelFile, device: "isaac", calibration: { images: IMAGES, labels: LABELS, offset: 0, limit: 500 } });
    const data = sim.fitProgramImages(program, images, labels, opts.offset, opts.count);
    const faithfulCount = Math.min(opts.faithfulCount, opts.count);
    const fData = sim.fitProgramImages(program, images, labels, opts.offset, faithfulCount);
    const instance = sim.sampleProgramInstance(program, 0, 0, variation);
    log(`${name}: onnxruntime-node, the ideal device (fast path) and the faithful path (${program.device.crossbar.adc_bits}-bit ADC, log-normal σ ${SIGMA}, instance 0), interleaved`);
    const timed = await timeInterleaved({
      ort: await prepareOrtPass(ort, modelFile, images, labels, opts.offset, opts.count),
      ideal: () => sim.simulateImages(program, data.images, { instance: "ideal", path: "fast", adcLossless: true }),
      faithful: () => sim.simulateImages(program, fData.images, { instance, path: "faithful" }),
    }, opts.reps);
    const { ideal, faithful } = timed;
    const ortFigure = { images: opts.count, seconds: timed.ort.seconds, imagesPerSecond: opts.count / timed.ort.seconds, accuracy: timed.ort.value / opts.count };
    const entry = {
      model: name,
      images: { offset: opts.offset, count: opts.count, faithfulCount },
      adcBits: program.device.crossbar.adc_bits,
      ort: ortFigure,
      ideal: { seconds: ideal.seconds, imagesPerSecond: opts.count / ideal.seconds, accuracy: accuracyOf(sim, program, data, ideal.value) },
      faithful: { seconds: faithful.seconds, imagesPerSecond: faithfulCount / faithful.seconds, accuracy: accuracyOf(sim, program, fData, faithful.value) },
    };
    if (name === opts.mcModel) {
      const mcCount = Math.min(opts.mcCount, opts.count);
      const mcData = sim.fitProgramImages(program, images, labels, opts.offset, mcCount);
      // start the persistent pool's threads first, so neither figure pays for thread start-up
      await sim.runProgramMonteCarlo({ program, data: sim.fitProgramImages(program, images, labels, opts.offset, 2), runs: 2, seed: 0, variation, workers: 2 });
      log(`${name}: program Monte Carlo, ${opts.mcRuns} runs × ${mcCount} images, 1 and 2 workers interleaved, ${opts.mcReps} times each`);
      const run = (workers) => () => sim.runProgramMonteCarlo({ program, data: mcData, runs: opts.mcRuns, seed: 0, variation, workers });
      const mc = await timeInterleaved({ 1: run(1), 2: run(2) }, opts.mcReps);
      const figure = (m) => ({ seconds: m.seconds, imagesPerSecond: (opts.mcRuns * mcCount) / m.seconds, meanAccuracy: m.value.mean });
      entry.monteCarlo = {
        runs: opts.mcRuns, images: mcCount, workers1: figure(mc[1]), workers2: figure(mc[2]), speedup: mc[1].seconds / mc[2].seconds,
        pairedSpeedups: mc[1].rounds.map((one, r) => one / mc[2].rounds[r]), sameAccuracy: mc[1].value.mean === mc[2].value.mean,
      };
    }
    models.push(entry);
  }
  const result = { node: process.version, cpus: cpus().length, availableParallelism: availableParallelism(), cpu: cpus()[0]?.model, ortBatch: ORT_BATCH, sigma: SIGMA, models };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const rows = [];
  for (const m of models) {
    const base = m.ort.imagesPerSecond;
    const row = (what, images, ips, acc) => rows.push([m.model, what, String(images), ips.toFixed(1), (ips / base).toFixed(4), acc === undefined ? "" : (100 * acc).toFixed(2)]);
    row(`onnxruntime-node float32 (batch ${ORT_BATCH})`, m.images.count, base, m.ort.accuracy);
    row("sim ideal, fast path (--ideal)", m.images.count, m.ideal.imagesPerSecond, m.ideal.accuracy);
    row(`sim faithful, ${m.adcBits}-bit ADC, lognormal σ ${SIGMA}`, m.images.faithfulCount, m.faithful.imagesPerSecond, m.faithful.accuracy);
    if (m.monteCarlo) {
      const mc = m.monteCarlo;
      row(`MC ${mc.runs} runs, 1 worker (img·runs/s)`, mc.images, mc.workers1.imagesPerSecond, mc.workers1.meanAccuracy);
      row(`MC ${mc.runs} runs, 2 workers (img·runs/s)`, mc.images, mc.workers2.imagesPerSecond, mc.workers2.meanAccuracy);
    }
  }
  const head = ["model", "what", "images", "images/s", "÷ ORT", "acc %"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(`xbarc simulator benchmark · node ${result.node} · ${result.cpu} × ${result.availableParallelism} · MNIST t10k[${opts.offset}:${opts.offset + opts.count}] · medians of ${opts.reps} timed passes, interleaved, after an untimed one`);
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
  for (const m of models) {
    if (m.monteCarlo) {
      const paired = m.monteCarlo.pairedSpeedups.map((x) => x.toFixed(2)).join(", ");
      console.log(`Monte Carlo speedup, 2 workers vs 1 (${m.model}, ${m.monteCarlo.runs} runs × ${m.monteCarlo.images} images): ${m.monteCarlo.speedup.toFixed(2)}× (medians; interleaved pairs: ${paired}; same accuracies: ${m.monteCarlo.sameAccuracy})`);
    }
  }
  // issue 6's goals, judged on the unrounded medians (a ratio printed as 0.050 may be 0.0496)
  const verdict = (value, goal) => `${value.toFixed(4)} ${value >= goal ? "met" : `missed (needs ${(goal / value).toFixed(3)}× faster)`}`;
  const ratios = (goal, path) => models.map((m) => `${m.model} ${verdict(m[path].imagesPerSecond / m.ort.imagesPerSecond, goal)}`).join(", ");
  console.log(`goal ideal ÷ ORT ≥ ${GOALS.ideal}: ${ratios(GOALS.ideal, "ideal")}`);
  console.log(`goal faithful ÷ ORT ≥ ${GOALS.faithful}: ${ratios(GOALS.faithful, "faithful")}`);
  for (const m of models) if (m.monteCarlo) console.log(`goal Monte Carlo 2 vs 1 workers ≥ ${GOALS.monteCarlo}×: ${verdict(m.monteCarlo.speedup, GOALS.monteCarlo)}`);
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exitCode = 1;
});

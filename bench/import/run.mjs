/**
 * @fileoverview Import benchmark: xbarc's ONNX import vs a plain readFileSync of the same file, with onnxruntime-node
 * session creation for reference, on a ResNet-50-sized model (bench/import/generate.mjs, ~25.6M float32 parameters).
 * Each run is a fresh child process, so peak RSS is per task; figures are medians. Prints figures only; it asserts
 * nothing about time. Usage (after `npm run build`):
 *   node bench/import/run.mjs [--file F.onnx] [--runs 5] [--json]
 * Without --file it measures two generated files with the same weights: the one xbarc writes (every raw_data at a
 * 64-byte-aligned offset, so the import views all initializers) and the plain protobufjs layout most exporters
 * produce (payloads misaligned for float32 are moved down onto their own field header in the buffer loadOnnxFile
 * read, or copied once where that is not possible).
 * Goals (issue 6): import time ≤ 2 × readFileSync time; import peak RSS ≤ 1.5 × file size + baseline, where the
 * baseline is the peak RSS of a fresh node process that has loaded the same modules and imported nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TASK = fileURLToPath(new URL("./task.mjs", import.meta.url));
const GENERATE = fileURLToPath(new URL("./generate.mjs", import.meta.url));
const FRONTEND_DIST = resolve(REPO_ROOT, "packages/frontend/dist/index.js");
const ALIGNED_MODEL = resolve(REPO_ROOT, "bench/out/resnet50-aligned64.onnx");
const UNALIGNED_MODEL = resolve(REPO_ROOT, "bench/out/resnet50-unaligned.onnx");
const MiB = 2 ** 20;
const TIME_GOAL = 2;
const RSS_GOAL = 1.5;

function parseArgs(argv) {
  const opts = { file: undefined, runs: 5, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--file") opts.file = resolve(argv[++i]);
    else if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--json") opts.json = true;
    else throw new Error(`unknown argument ${a} (expected --file FILE, --runs N, --json)`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error("--runs must be a positive integer");
  return opts;
}

/** Runs one task in a fresh node process and returns its JSON line. */
function runTask(task, file) {
  const out = execFileSync(process.execPath, [TASK, task, file], { encoding: "utf8", maxBuffer: 1 << 20, stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").pop());
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `runs` fresh-process runs of each task, interleaved (a, b, c, a, b, c, ...) so drift hits every task alike. */
function measureAll(tasks, runs) {
  const samples = tasks.map(() => []);
  for (let r = 0; r < runs; r++) tasks.forEach(({ task, file }, i) => samples[i].push(runTask(task, file)));
  return tasks.map(({ label, task, file }, i) => {
    const s = samples[i];
    return {
      label,
      task,
      file,
      runs: s.length,
      seconds: median(s.map((x) => x.seconds)),
      secondsAll: s.map((x) => x.seconds),
      rssBefore: median(s.map((x) => x.rssBefore)),
      peakRss: median(s.map((x) => x.peakRss)),
      info: s[0].info,
    };
  });
}

/** Generates the benchmark model when it is missing (bench/out is not committed). */
function ensureModel(path, aligned, quiet) {
  if (existsSync(path)) return;
  const args = [GENERATE, "--out", path, ...(aligned ? [] : ["--unaligned", "--no-check"])];
  execFileSync(process.execPath, args, { stdio: quiet ? "ignore" : "inherit" });
}

/** Ratios against the goals for one imported file. */
function ratios(xbarc, read, baseline, fileBytes) {
  return {
    // goal ≤ 2
    importSecondsOverReadSeconds: xbarc.seconds / read.seconds,
    // goal ≤ 1.5: what the import adds to the baseline, per byte of file
    importPeakRssAboveBaselineOverFileSize: (xbarc.peakRss - baseline.peakRss) / fileBytes,
    // the brief's second form: peak over (file + baseline); ≤ 1 means no more than one copy of the file
    importPeakRssOverFilePlusBaseline: xbarc.peakRss / (fileBytes + baseline.peakRss),
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(FRONTEND_DIST)) throw new Error(`${FRONTEND_DIST} is missing: run \`npm run build\` first`);
  const files = opts.file ? [{ name: "given", path: opts.file }] : [
    { name: "xbarc-written (raw_data 64-byte aligned)", path: ALIGNED_MODEL, aligned: true },
    { name: "exporter layout (plain protobufjs, unaligned)", path: UNALIGNED_MODEL, aligned: false },
  ];
  if (!opts.file) for (const f of files) ensureModel(f.path, f.aligned, opts.json);
  for (const f of files) if (!existsSync(f.path)) throw new Error(`${f.path} does not exist`);
  const main = files[0].path;

  const tasks = [
    { label: "node baseline (xbarc modules loaded, nothing imported)", task: "baseline", file: main },
    { label: "readFileSync", task: "read", file: main },
    { label: "onnxruntime session (reference)", task: "ort", file: main },
    ...files.map((f, i) => ({ label: `xbarc loadOnnxFile, ${opts.file ? "given file" : i === 0 ? "aligned file" : "unaligned file"}`, task: "xbarc", file: f.path })),
  ];
  const measured = measureAll(tasks, opts.runs);
  const [baseline, read, ort, ...imports] = measured;
  const fileBytes = statSync(main).size;
  const result = {
    node: process.version,
    runs: opts.runs,
    baselineDefinition: "peak RSS of a fresh node process that has loaded the built @xbarc/frontend (the xbarc task's modules) and imported nothing",
    files: files.map((f, i) => {
      const x = imports[i];
      const bytes = statSync(f.path).size;
      return {
        name: f.name,
        file: f.path,
        fileBytes: bytes,
        parameters: x.info.parameters,
        weightBytes: x.info.weightBytes,
        initializers: x.info.initializers,
        xbarc: x,
        goals: ratios(x, read, baseline, bytes),
      };
    }),
    tasks: { baseline, read, ort },
    // ORT loads other modules than xbarc: measured against its own RSS just before the session is created
    ortPeakRssAboveRssBeforeOverFileSize: (ort.peakRss - ort.rssBefore) / fileBytes,
    ortSecondsOverReadSeconds: ort.seconds / read.seconds,
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }

  const rows = [
    ["task", "seconds (median)", "runs (s)", "RSS before (MiB)", "peak RSS (MiB)"],
    ...measured.map((t) => [t.label, t.seconds.toFixed(3), t.secondsAll.map((s) => s.toFixed(3)).join(" "), (t.rssBefore / MiB).toFixed(1), (t.peakRss / MiB).toFixed(1)]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const first = result.files[0];
  console.log(`ONNX import benchmark, node ${process.version}, ${opts.runs} fresh processes per task, medians`);
  console.log(`  model: ${first.parameters.toLocaleString("en-US")} float32 parameters (${(first.weightBytes / MiB).toFixed(1)} MiB of weights)`);
  for (const f of result.files) console.log(`  ${f.name}: ${f.file} (${(f.fileBytes / MiB).toFixed(1)} MiB)`);
  console.log(`  readFileSync, onnxruntime and the baseline use ${main}`);
  console.log("");
  for (const r of rows) console.log(`  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")}`);
  console.log("");
  const verdict = (ok) => (ok ? "meets goal" : "misses goal");
  console.log(`  baseline = ${result.baselineDefinition}: ${(baseline.peakRss / MiB).toFixed(1)} MiB`);
  for (const f of result.files) {
    const g = f.goals;
    const s = f.initializers;
    console.log("");
    console.log(`  ${f.name}:`);
    console.log(`    initializers: ${s.viewed} zero-copy views of the file buffer, ${s.moved} moved in place then viewed (${(s.movedBytes / MiB).toFixed(1)} MiB, misaligned), ${s.copied} copied (${(s.copiedBytes / MiB).toFixed(1)} MiB, misaligned), ${s.decoded} decoded from typed fields`);
    console.log(`    import time / readFileSync time = ${f.xbarc.seconds.toFixed(3)} / ${read.seconds.toFixed(3)} = ${g.importSecondsOverReadSeconds.toFixed(2)} (goal ≤ ${TIME_GOAL}: ${verdict(g.importSecondsOverReadSeconds <= TIME_GOAL)})`);
    console.log(`    (import peak RSS − baseline) / file size = ${g.importPeakRssAboveBaselineOverFileSize.toFixed(2)} (goal ≤ ${RSS_GOAL}: ${verdict(g.importPeakRssAboveBaselineOverFileSize <= RSS_GOAL)})`);
    console.log(`    import peak RSS / (file size + baseline) = ${g.importPeakRssOverFilePlusBaseline.toFixed(2)}`);
  }
  console.log("");
  console.log(`  for reference: onnxruntime session time / readFileSync time = ${result.ortSecondsOverReadSeconds.toFixed(2)}, (ORT peak RSS − its RSS before) / file size = ${result.ortPeakRssAboveRssBeforeOverFileSize.toFixed(2)}`);
}

main();

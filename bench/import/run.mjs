/**
 * @fileoverview Import benchmark: xbarc's ONNX import vs onnxruntime-node session creation vs a plain file read, on
 * a ResNet-50-sized model (bench/import/generate.mjs). Each run is a fresh child process, so peak RSS is per task.
 * Prints figures only; it asserts nothing about time. Usage (after `npm run build`):
 *   node bench/import/run.mjs [--file F.onnx] [--runs 5] [--json]
 * Goals it reports against: import time ≤ ORT session creation; import peak RSS ≤ 2 × file size.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TASK = fileURLToPath(new URL("./task.mjs", import.meta.url));
const GENERATE = fileURLToPath(new URL("./generate.mjs", import.meta.url));
const FRONTEND_DIST = resolve(REPO_ROOT, "packages/frontend/dist/index.js");
const MiB = 2 ** 20;

function parseArgs(argv) {
  const opts = { file: resolve(REPO_ROOT, "bench/out/resnet50.onnx"), runs: 5, json: false };
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

/** `runs` fresh-process runs of a task, summarised by medians. */
function measure(task, file, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(runTask(task, file));
  return {
    task,
    runs: samples.length,
    seconds: median(samples.map((s) => s.seconds)),
    secondsAll: samples.map((s) => s.seconds),
    rssBefore: median(samples.map((s) => s.rssBefore)),
    peakRss: median(samples.map((s) => s.peakRss)),
    info: samples[0].info,
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(FRONTEND_DIST)) throw new Error(`${FRONTEND_DIST} is missing: run \`npm run build\` first`);
  if (!existsSync(opts.file)) {
    // the model is generated, not committed (bench/out is ignored by git)
    execFileSync(process.execPath, [GENERATE, "--out", opts.file], { stdio: opts.json ? "ignore" : "inherit" });
  }
  const fileBytes = statSync(opts.file).size;
  const baseline = measure("baseline", opts.file, opts.runs);
  const read = measure("read", opts.file, opts.runs);
  const ort = measure("ort", opts.file, opts.runs);
  const xbarc = measure("xbarc", opts.file, opts.runs);
  const weightBytes = xbarc.info.weightBytes;
  const result = {
    file: opts.file,
    fileBytes,
    parameters: xbarc.info.parameters,
    weightBytes,
    node: process.version,
    runs: opts.runs,
    tasks: { baseline, read, ort, xbarc },
    xbarcWeightMiBPerSecond: weightBytes / MiB / xbarc.seconds,
    goals: {
      // ≤ 1 meets the goal
      importTimeOverOrtSessionTime: xbarc.seconds / ort.seconds,
      importPeakRssOverFileSize: xbarc.peakRss / fileBytes,
      importPeakRssAboveBaselineOverFileSize: (xbarc.peakRss - baseline.peakRss) / fileBytes,
      // what the import call itself adds, after xbarc's modules are loaded
      importPeakRssAboveLoadedModulesOverFileSize: (xbarc.peakRss - xbarc.rssBefore) / fileBytes,
    },
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const rows = [
    ["task", "seconds (median)", "runs (s)", "RSS before (MiB)", "peak RSS (MiB)"],
    ...[
      ["node baseline", baseline],
      ["readFileSync", read],
      ["onnxruntime session", ort],
      ["xbarc loadOnnxFile", xbarc],
    ].map(([label, t]) => [label, t.seconds.toFixed(3), t.secondsAll.map((s) => s.toFixed(3)).join(" "), (t.rssBefore / MiB).toFixed(1), (t.peakRss / MiB).toFixed(1)]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(`model ${opts.file}`);
  console.log(`  ${(fileBytes / MiB).toFixed(1)} MiB file, ${result.parameters.toLocaleString("en-US")} parameters (${(weightBytes / MiB).toFixed(1)} MiB of weights), node ${process.version}, ${opts.runs} runs per task`);
  console.log("");
  for (const r of rows) console.log(`  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")}`);
  console.log("");
  const verdict = (ok) => (ok ? "meets goal" : "misses goal");
  const g = result.goals;
  console.log(`  xbarc import throughput: ${result.xbarcWeightMiBPerSecond.toFixed(0)} MiB/s of weights`);
  console.log(`  import time / ORT session creation = ${g.importTimeOverOrtSessionTime.toFixed(2)} (goal ≤ 1: ${verdict(g.importTimeOverOrtSessionTime <= 1)})`);
  console.log(`  import peak RSS / file size = ${g.importPeakRssOverFileSize.toFixed(2)} (goal ≤ 2: ${verdict(g.importPeakRssOverFileSize <= 2)}); above node's baseline: ${g.importPeakRssAboveBaselineOverFileSize.toFixed(2)}; above the RSS with xbarc's modules loaded: ${g.importPeakRssAboveLoadedModulesOverFileSize.toFixed(2)}`);
  console.log(`  for reference: ORT peak RSS / file size = ${(ort.peakRss / fileBytes).toFixed(2)}, readFileSync peak RSS / file size = ${(read.peakRss / fileBytes).toFixed(2)}`);
}

main();

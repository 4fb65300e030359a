/**
 * @fileoverview Tile-kernel benchmark (issue 6): per 128×128 MVM of 8-bit weights (four 2-bit slices → 512 physical
 * columns), 8-bit inputs as 8 one-bit DAC steps, an 8-bit ADC: the plain-TS naive faithful read (bitSerialReadImpl),
 * the plain-TS bit-packed read, the WebAssembly bit-packed read (µs and Gcell-op/s, cell-op = one 2-bit cell slice ×
 * one input bit-plane, 128·128·4·8 per MVM) and its ratio to the TS bit-packed read (goal ≥ 7×); the float-cell read
 * TS vs WebAssembly; the ideal integer MVM TS vs WebAssembly. Medians of interleaved repetitions, in CPU time (robust on a
 * shared machine; wall-clock medians printed too) with the load average; asserts nothing about time.
 * Usage: npm run bench:kernels [-- --reps 15 --json]  (builds the packages, compiles this file to bench/out/, runs it)
 */
import { cpus, loadavg } from "node:os";
import { Rng } from "@xbarc/ir";
import {
  WasmFloatCellTile, WasmIntegerCellTile, WasmIntegerMvm, bitPackedReadImpl, bitSerialReadImpl, integerMvmImpl, packBitPackedTile,
} from "@xbarc/backend-sim";

const ROWS = 128;
const WEIGHT_COLS = 128;
const SLICES = 4;
const CELL_BITS = 2;
const PHYS_COLS = WEIGHT_COLS * SLICES;
const STEPS = 8;
const DAC_BITS = 1;
const ADC_MAX = 255;
const CELL_OPS = ROWS * WEIGHT_COLS * SLICES * STEPS * DAC_BITS;

/** Deterministic uniform [0, 1): the project's seeded stream. */
function rng(seed: number): () => number {
  const stream = new Rng(seed);
  return () => stream.next();
}

/** CPU time of this process in ms (user + system): unlike the wall clock, it does not count time spent descheduled. */
function cpuMillis(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Median µs per call of each kernel, CPU time and wall clock. The kernels are timed interleaved (one batch of each per
 * repetition), so on a shared, loaded machine a change of load hits all of them alike and the ratios stay fair; each
 * batch is sized to last ≥ ~20 ms of CPU time.
 */
function measure(kernels: Record<string, () => void>, reps: number): Record<string, { cpu: number; wall: number }> {
  const batches: Record<string, number> = {};
  for (const [name, fn] of Object.entries(kernels)) {
    let batch = 1;
    for (;;) {
      const t0 = cpuMillis();
      for (let i = 0; i < batch; i++) fn();
      if (cpuMillis() - t0 >= 20) break;
      batch *= 2;
    }
    batches[name] = batch;
  }
  const cpu: Record<string, number[]> = {};
  const wall: Record<string, number[]> = {};
  for (let r = 0; r < reps; r++) {
    for (const [name, fn] of Object.entries(kernels)) {
      const batch = batches[name]!;
      const c0 = cpuMillis();
      const w0 = performance.now();
      for (let i = 0; i < batch; i++) fn();
      (wall[name] ??= []).push(((performance.now() - w0) * 1000) / batch);
      (cpu[name] ??= []).push(((cpuMillis() - c0) * 1000) / batch);
    }
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return Object.fromEntries(Object.keys(kernels).map((name) => [name, { cpu: median(cpu[name]!), wall: median(wall[name]!) }]));
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function main(): void {
  const args = process.argv.slice(2);
  const repsAt = args.indexOf("--reps");
  const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 11;
  if (!Number.isInteger(reps) || reps < 1) throw new Error("--reps must be a positive integer");
  const json = args.includes("--json");
  const random = rng(6);
  // 8-bit weights sliced into four 2-bit cells; 8-bit unsigned inputs, half of them 0 (MNIST-like sparsity)
  const cells = new Float64Array(ROWS * PHYS_COLS).map(() => Math.floor(random() * 4));
  const xu = new Int32Array(ROWS).map(() => (random() < 0.5 ? 0 : Math.floor(random() * 256)));
  const out = (): Float64Array => new Float64Array(PHYS_COLS);

  const wasmTile = WasmIntegerCellTile.pack(cells, ROWS, PHYS_COLS, CELL_BITS)!;
  const packed = packBitPackedTile(cells, ROWS, PHYS_COLS, CELL_BITS)!;
  const naiveOut = out();
  const packedOut = out();
  const wasmOut = out();

  const floatCells = cells.map((v) => v * (1 + 0.1 * (random() - 0.5)));
  const floatTile = WasmFloatCellTile.pack(floatCells, ROWS, PHYS_COLS);
  const floatTsOut = out();
  const floatWasmOut = out();

  // ideal path: W_eff of signed 8-bit weights, one MVM per tile
  const weights = new Float64Array(ROWS * WEIGHT_COLS).map(() => Math.floor(random() * 255) - 127);
  const mvm = WasmIntegerMvm.pack(weights, ROWS, WEIGHT_COLS)!;
  const idealTsOut = new Float64Array(WEIGHT_COLS);
  const idealWasmOut = new Float64Array(WEIGHT_COLS);

  const loadBefore = loadavg()[0]!;
  const t = measure({
    naive: () => bitSerialReadImpl(xu, 1, ROWS, cells, PHYS_COLS, STEPS, DAC_BITS, 0, ADC_MAX, 0, undefined, naiveOut),
    bitPacked: () => bitPackedReadImpl(packed, xu, 1, STEPS, DAC_BITS, 0, ADC_MAX, packedOut),
    wasm: () => wasmTile.read(xu, 1, STEPS, DAC_BITS, 0, ADC_MAX, wasmOut),
    floatTs: () => bitSerialReadImpl(xu, 1, ROWS, floatCells, PHYS_COLS, STEPS, DAC_BITS, 0, ADC_MAX, 0, undefined, floatTsOut),
    floatWasm: () => floatTile.read(xu, 1, STEPS, DAC_BITS, 0, ADC_MAX, floatWasmOut),
    idealTs: () => integerMvmImpl(xu, 1, ROWS, weights, WEIGHT_COLS, idealTsOut),
    idealWasm: () => mvm.mvm(xu, 1, idealWasmOut),
  }, reps);
  const load = [loadBefore, loadavg()[0]!];
  const naive = t.naive!.cpu;
  const bitPacked = t.bitPacked!.cpu;
  const wasm = t.wasm!.cpu;
  const floatTs = t.floatTs!.cpu;
  const floatWasm = t.floatWasm!.cpu;
  const idealTs = t.idealTs!.cpu;
  const idealWasm = t.idealWasm!.cpu;

  const identical = {
    bitPacked: sameBits(naiveOut, packedOut), wasm: sameBits(naiveOut, wasmOut), float: sameBits(floatTsOut, floatWasmOut), ideal: sameBits(idealTsOut, idealWasmOut),
  };
  const result = {
    shape: { rows: ROWS, weightCols: WEIGHT_COLS, slices: SLICES, cellBits: CELL_BITS, steps: STEPS, dacBits: DAC_BITS, adcBits: 8 },
    faithful: {
      naiveTsMicros: naive, bitPackedTsMicros: bitPacked, wasmMicros: wasm, wasmGcellOps: CELL_OPS / wasm / 1000,
      bitPackedTsGcellOps: CELL_OPS / bitPacked / 1000, wasmOverBitPackedTs: bitPacked / wasm, wasmOverNaiveTs: naive / wasm, goal: 7,
    },
    floatCells: { tsMicros: floatTs, wasmMicros: floatWasm, ratio: floatTs / floatWasm },
    idealMvm: { tsMicros: idealTs, wasmMicros: idealWasm, ratio: idealTs / idealWasm },
    identical,
    // medians of CPU time (the figures above) and of wall-clock time, µs per call; the 1-minute load average before and after
    micros: t,
    loadAverage: load,
  };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (v: number, d = 2): string => v.toFixed(d);
  console.log(`tile kernels: ${ROWS}×${WEIGHT_COLS} 8-bit weights as ${SLICES} × ${CELL_BITS}-bit slices, 8-bit inputs as ${STEPS} bit-planes, 8-bit ADC`);
  console.log(`  (medians of ${reps} interleaved repetitions, CPU time per call; load average ${f(load[0]!)} → ${f(load[1]!)} on ${cpus().length} CPUs)`);
  console.log(`  faithful, plain TS naive (bitSerialReadImpl) ${f(naive, 1)} µs per MVM`);
  console.log(`  faithful, plain TS bit-packed                ${f(bitPacked, 1)} µs per MVM (${f(result.faithful.bitPackedTsGcellOps)} Gcell-op/s)`);
  console.log(`  faithful, WebAssembly bit-packed             ${f(wasm, 2)} µs per MVM (${f(result.faithful.wasmGcellOps)} Gcell-op/s)`);
  console.log(`  WebAssembly ÷ TS bit-packed: ${f(result.faithful.wasmOverBitPackedTs, 1)}× (goal ≥ 7×: ${result.faithful.wasmOverBitPackedTs >= 7 ? "met" : "NOT met"}); ÷ TS naive: ${f(result.faithful.wasmOverNaiveTs, 0)}×`);
  console.log(`  float-cell read: TS ${f(floatTs, 1)} µs, WebAssembly ${f(floatWasm, 1)} µs (${f(result.floatCells.ratio, 1)}×)`);
  console.log(`  ideal integer MVM (${ROWS}×${WEIGHT_COLS}): TS ${f(idealTs, 2)} µs, WebAssembly ${f(idealWasm, 2)} µs (${f(result.idealMvm.ratio, 1)}×)`);
  console.log(`  wall clock (µs): ${Object.entries(t).map(([k, v]) => `${k} ${f(v.wall)}`).join(", ")}`);
  console.log(`  results bit-identical to the TS kernels: ${Object.entries(identical).map(([k, v]) => `${k} ${v ? "yes" : "NO"}`).join(", ")}`);
}

main();

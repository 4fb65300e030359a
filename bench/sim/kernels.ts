/**
 * @fileoverview Tile-kernel benchmark (issue 6): per 128×128 MVM of 8-bit weights (four 2-bit slices → 512 physical
 * columns), 8-bit inputs as 8 one-bit DAC steps, an 8-bit ADC: the plain-TS naive faithful read (bitSerialReadImpl),
 * the plain-TS bit-packed read, the WebAssembly bit-packed read (µs and Gcell-op/s, cell-op = one 2-bit cell slice ×
 * one input bit-plane, 128·128·4·8 per MVM) and its ratio to the TS bit-packed read (goal ≥ 7×); the float-cell read
 * TS vs WebAssembly, and its float64 vs float32 WebAssembly kernels on a sampled 128×128 tile; the ideal integer MVM TS vs WebAssembly; then density sweeps of the integer-cell read, dense
 * (bit-planes) vs sparse (non-zero input digits) kernel, on four tile shapes, giving each crossover density and the
 * fitted constants of the automatic choice's cost model (SPARSE_COST_RATIO, SPARSE_PAIR_OVERHEAD,
 * SPARSE_VECTOR_OVERHEAD, DENSE_BLOCK_KERNEL_COST in integer-cell-tile.ts), with the crossovers they and the code's
 * constants predict, on the fitted shapes and on a check shape (3-bit cells) fitted on nothing. Medians of interleaved repetitions, in CPU time (robust on a shared
 * machine; wall-clock medians printed too) with the load average; asserts nothing about time.
 * Usage: npm run bench:kernels [-- --reps 15 --json]  (builds the packages, compiles this file to bench/out/, runs it)
 */
import { cpus, loadavg } from "node:os";
import { Rng } from "@xbarc/ir";
import {
  DENSE_BLOCK_KERNEL_COST, SPARSE_COST_RATIO, SPARSE_PAIR_OVERHEAD, SPARSE_VECTOR_OVERHEAD, WasmFloatCellTile, WasmIntegerCellTile, WasmIntegerMvm, bitPackedReadImpl, bitSerialReadImpl, integerMvmImpl,
  packBitPackedTile,
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
/** Fractions of the input bits set in the density sweep (each bit of each 8-bit input independently). */
const SWEEP_DENSITIES = [0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.6];
/** Input vectors per read call in the sweep (a layer reads many per call; one alone would time the JS wrapper). */
const SWEEP_VECTORS = 16;

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

/**
 * A tile shape of the density sweep, and its part in the cost model's fit: "model" fits the sparse and register-kernel
 * constants, "block" the block kernels' factor, "check" nothing (it tests the fitted model).
 */
interface SweepShape {
  name: string; rows: number; physCols: number; cellBits: number; steps: number; dacBits: number; fit: "model" | "block" | "check";
}

/**
 * The benchmark's MVM and two isaac tiles (the simulator's devices all drive 1-bit DAC steps) fit the model; a 2-bit
 * DAC tile (the dense block kernel, the sparse kernel multiplying) the block factor; a tile of 3-bit cells (as the
 * Huang et al. devices) checks it.
 */
const SWEEP_SHAPES: readonly SweepShape[] = [
  { name: "128×128 8-bit weights (128×512 cells), 2-bit cells, 8×1-bit DAC", rows: ROWS, physCols: PHYS_COLS, cellBits: CELL_BITS, steps: STEPS, dacBits: DAC_BITS, fit: "model" },
  { name: "one isaac tile, 128×128 2-bit cells, 8×1-bit DAC", rows: 128, physCols: 128, cellBits: 2, steps: 8, dacBits: 1, fit: "model" },
  { name: "a first-conv tile, 26×24 2-bit cells, 8×1-bit DAC", rows: 26, physCols: 24, cellBits: 2, steps: 8, dacBits: 1, fit: "model" },
  { name: "128×128 2-bit cells, 4×2-bit DAC", rows: 128, physCols: 128, cellBits: 2, steps: 4, dacBits: 2, fit: "block" },
  { name: "100×96 3-bit cells, 8×1-bit DAC", rows: 100, physCols: 96, cellBits: 3, steps: 8, dacBits: 1, fit: "check" },
];

/** One density of a sweep: µs per MVM (one input vector) of each kernel, and the kernel "auto" picks. */
interface SweepPoint {
  density: number; activePairs: number; denseMicros: number; sparseMicros: number; autoMicros: number; autoKernel: string;
}

/** y ≈ intercept + slope·x, least squares. */
interface Line { intercept: number; slope: number }

function fitLine(xs: readonly number[], ys: readonly number[]): Line {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { intercept: my - slope * mx, slope };
}

/** A shape's sweep, its per-MVM cost lines and units, and its measured crossover. */
interface SweepResult {
  shape: SweepShape; points: SweepPoint[]; identical: boolean;
  /** µs per MVM against active pairs per MVM, least squares over the points */
  denseLine: Line; sparseLine: Line;
  /** dense units per vector (before the block kernels' factor), and sparse units per active pair without the overhead (sparseStride/8) */
  denseUnits: number; laneGroups: number; registerKernel: boolean;
  /** interpolated between the sweep points where sparse − dense turns ≥ 0 */
  crossover: { density: number; activePairs: number } | undefined;
  /** where the code's constants put it (active pairs per MVM at which the modelled costs meet) */
  codeCrossoverActivePairs: number;
}

/**
 * The integer-cell read of a random tile of `shape` at each density of SWEEP_DENSITIES (each input bit set with that
 * probability), dense and sparse kernels forced and "auto"; checks the three agree bit for bit.
 */
function densitySweep(shape: SweepShape, reps: number, random: () => number): SweepResult {
  const { rows, physCols, cellBits, steps, dacBits } = shape;
  const cells = new Float64Array(rows * physCols).map(() => Math.floor(random() * 2 ** cellBits));
  const tile = WasmIntegerCellTile.pack(cells, rows, physCols, cellBits)!;
  const inputs = SWEEP_DENSITIES.map((density) => new Int32Array(SWEEP_VECTORS * rows).map(() => {
    let x = 0;
    for (let b = 0; b < steps * dacBits; b++) if (random() < density) x |= 1 << b;
    return x;
  }));
  const outs = SWEEP_DENSITIES.map(() => ({
    dense: new Float64Array(SWEEP_VECTORS * physCols), sparse: new Float64Array(SWEEP_VECTORS * physCols), auto: new Float64Array(SWEEP_VECTORS * physCols),
  }));
  const kernels: Record<string, () => void> = {};
  for (const [i, xu] of inputs.entries()) {
    for (const kind of ["dense", "sparse", "auto"] as const) {
      kernels[`${kind}@${i}`] = () => tile.read(xu, SWEEP_VECTORS, steps, dacBits, 0, ADC_MAX, outs[i]![kind], kind);
    }
  }
  const t = measure(kernels, reps);
  let identical = true;
  const points = SWEEP_DENSITIES.map((density, i) => {
    const { dense, sparse, auto } = outs[i]!;
    identical &&= sameBits(dense, sparse) && sameBits(dense, auto);
    return {
      density,
      activePairs: tile.countActive(inputs[i]!, SWEEP_VECTORS, steps, dacBits) / SWEEP_VECTORS,
      denseMicros: t[`dense@${i}`]!.cpu / SWEEP_VECTORS,
      sparseMicros: t[`sparse@${i}`]!.cpu / SWEEP_VECTORS,
      autoMicros: t[`auto@${i}`]!.cpu / SWEEP_VECTORS,
      autoKernel: tile.chooseKernel(inputs[i]!, SWEEP_VECTORS, steps, dacBits),
    };
  });
  const pairs = points.map((p) => p.activePairs);
  // the modelled sparse cost is linear in the active pairs: where it meets the dense one
  const none = tile.modelledCosts(1, steps, dacBits, 0);
  const one = tile.modelledCosts(1, steps, dacBits, 1);
  return {
    shape, points, identical,
    denseLine: fitLine(pairs, points.map((p) => p.denseMicros)), sparseLine: fitLine(pairs, points.map((p) => p.sparseMicros)),
    denseUnits: none.dense / (tile.usesRegisterKernel(dacBits) ? 1 : DENSE_BLOCK_KERNEL_COST), laneGroups: tile.sparseStride / 8,
    registerKernel: tile.usesRegisterKernel(dacBits),
    crossover: crossover(points),
    codeCrossoverActivePairs: (none.dense - none.sparse) / (one.sparse - none.sparse),
  };
}

/** The cost model's constants (see integer-cell-tile.ts) and the per-unit costs they come from. */
interface CostFit {
  sparseUnitMicros: number; denseUnitMicros: number; ratio: number; pairOverhead: number; vectorOverhead: number; blockKernelCost: number;
}

/**
 * Fits the cost model: on the "model" shapes, a sparse read's extra µs per active pair (sparse − dense slope) =
 * κ·(lane groups + P) and the sparse kernel's saving at no active pair (dense − sparse intercept, the shared ADC
 * cancelling) = δ·dense units − κ·V, each a least-squares line; on the "block" shapes, the same saving = β·δ·dense
 * units − κ·V. Then SPARSE_COST_RATIO = κ/δ, SPARSE_PAIR_OVERHEAD = P, SPARSE_VECTOR_OVERHEAD = V,
 * DENSE_BLOCK_KERNEL_COST = β (mean over the block shapes).
 */
function fitCostModel(sweeps: readonly SweepResult[]): CostFit {
  const fit = sweeps.filter((s) => s.shape.fit === "model");
  const perPair = fitLine(fit.map((s) => s.laneGroups), fit.map((s) => s.sparseLine.slope - s.denseLine.slope));
  const saving = fitLine(fit.map((s) => s.denseUnits), fit.map((s) => s.denseLine.intercept - s.sparseLine.intercept));
  const kappa = perPair.slope;
  const delta = saving.slope;
  const vectorOverhead = -saving.intercept / kappa;
  const block = sweeps.filter((s) => s.shape.fit === "block")
    .map((s) => (s.denseLine.intercept - s.sparseLine.intercept + kappa * vectorOverhead) / (delta * s.denseUnits));
  return {
    sparseUnitMicros: kappa, denseUnitMicros: delta, ratio: kappa / delta, pairOverhead: perPair.intercept / kappa, vectorOverhead,
    blockKernelCost: block.reduce((a, b) => a + b, 0) / block.length,
  };
}

/** Active pairs per MVM at which the model with the fitted constants has the two kernels cost the same. */
function modelCrossover(s: SweepResult, fit: CostFit): number {
  const dense = s.denseUnits * (s.registerKernel ? 1 : fit.blockKernelCost);
  return (dense / fit.ratio - fit.vectorOverhead) / (s.laneGroups + fit.pairOverhead);
}

/**
 * Where the sparse kernel stops winning: the first sweep interval over which sparse − dense turns ≥ 0, interpolated
 * linearly (density and active pairs per MVM); undefined when it never turns (or already loses at the lowest density).
 */
function crossover(points: SweepPoint[]): { density: number; activePairs: number } | undefined {
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const da = a.sparseMicros - a.denseMicros;
    const db = b.sparseMicros - b.denseMicros;
    if (da < 0 && db >= 0) {
      const f = -da / (db - da);
      return { density: a.density + f * (b.density - a.density), activePairs: a.activePairs + f * (b.activePairs - a.activePairs) };
    }
  }
  return undefined;
}

/**
 * The float-cell read's two WebAssembly kernels on a sampled isaac tile: 128×128 cells log-normal (σ 0.1) around the
 * levels 0..3, 64 vectors per call of 8-bit inputs with ~30 % of their bits set, 8 one-bit DAC steps, 8-bit ADC.
 */
function floatCellKernels(reps: number, random: () => number): {
  shape: string; float64Micros: number; float32Micros: number; fallbackFraction: number; identical: boolean;
} {
  const rows = 128;
  const physCols = 128;
  const vectors = 64;
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const cells = new Float64Array(rows * physCols).map(() => Math.floor(random() * 4) * Math.exp(0.1 * normal()));
  const xu = new Int32Array(vectors * rows).map(() => {
    let x = 0;
    for (let b = 0; b < 8; b++) if (random() < 0.3) x |= 1 << b;
    return x;
  });
  const tile = WasmFloatCellTile.pack(cells, rows, physCols);
  const out64 = new Float64Array(vectors * physCols);
  const out32 = new Float64Array(vectors * physCols);
  const t = measure({
    float64: () => tile.read(xu, vectors, STEPS, DAC_BITS, 0, ADC_MAX, out64, "float64"),
    float32: () => tile.read(xu, vectors, STEPS, DAC_BITS, 0, ADC_MAX, out32, "float32"),
  }, reps);
  tile.read(xu, vectors, STEPS, DAC_BITS, 0, ADC_MAX, out32, "float32");
  const ref = bitSerialReadImpl(xu, vectors, rows, cells, physCols, STEPS, DAC_BITS, 0, ADC_MAX, 0, undefined, new Float64Array(vectors * physCols));
  return {
    shape: `${rows}×${physCols} σ 0.1 cells, ${vectors} vectors, 30 % bits set`,
    float64Micros: t.float64!.cpu, float32Micros: t.float32!.cpu,
    fallbackFraction: tile.lastFallbacks / (vectors * STEPS * physCols),
    identical: sameBits(out64, ref) && sameBits(out32, ref),
  };
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
  const floatKernels = floatCellKernels(reps, random);
  // fewer repetitions per sweep point than above: 5 shapes × 11 densities × 3 kernels
  const sweeps = SWEEP_SHAPES.map((shape) => densitySweep(shape, Math.max(3, Math.ceil(reps / 2)), random));
  const costFit = fitCostModel(sweeps);
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
    floatKernels: floatKernels.identical,
  };
  const result = {
    shape: { rows: ROWS, weightCols: WEIGHT_COLS, slices: SLICES, cellBits: CELL_BITS, steps: STEPS, dacBits: DAC_BITS, adcBits: 8 },
    faithful: {
      naiveTsMicros: naive, bitPackedTsMicros: bitPacked, wasmMicros: wasm, wasmGcellOps: CELL_OPS / wasm / 1000,
      bitPackedTsGcellOps: CELL_OPS / bitPacked / 1000, wasmOverBitPackedTs: bitPacked / wasm, wasmOverNaiveTs: naive / wasm, goal: 7,
    },
    floatCells: { tsMicros: floatTs, wasmMicros: floatWasm, ratio: floatTs / floatWasm },
    floatCellKernels: floatKernels,
    idealMvm: { tsMicros: idealTs, wasmMicros: idealWasm, ratio: idealTs / idealWasm },
    identical,
    sparseSweep: {
      vectorsPerCall: SWEEP_VECTORS, shapes: sweeps, fit: costFit,
      code: { ratio: SPARSE_COST_RATIO, pairOverhead: SPARSE_PAIR_OVERHEAD, vectorOverhead: SPARSE_VECTOR_OVERHEAD },
    },
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
  console.log(`  float-cell read, ${floatKernels.shape}: float64 kernel ${f(floatKernels.float64Micros, 1)} µs, float32 kernel ${f(floatKernels.float32Micros, 1)} µs per call (${f(floatKernels.float64Micros / floatKernels.float32Micros, 2)}×), ${f(100 * floatKernels.fallbackFraction, 3)}% of the column sums recomputed in f64`);
  console.log(`  ideal integer MVM (${ROWS}×${WEIGHT_COLS}): TS ${f(idealTs, 2)} µs, WebAssembly ${f(idealWasm, 2)} µs (${f(result.idealMvm.ratio, 1)}×)`);
  for (const sweep of sweeps) {
    const { shape, points, crossover: cross } = sweep;
    const pairs = shape.rows * shape.steps;
    console.log(`  integer-cell read, dense vs sparse kernel by input density: ${shape.name} (${SWEEP_VECTORS} vectors per call, µs per MVM)`);
    console.log("    set bits  active pairs  dense µs  sparse µs  sparse÷dense  auto µs (picks)");
    for (const p of points) {
      console.log(`    ${(100 * p.density).toFixed(1).padStart(6)}%  ${f(p.activePairs, 1).padStart(12)}  ${f(p.denseMicros).padStart(8)}  ${f(p.sparseMicros).padStart(9)}  ${f(p.sparseMicros / p.denseMicros).padStart(12)}  ${f(p.autoMicros).padStart(7)} (${p.autoKernel})`);
    }
    const fitted = modelCrossover(sweep, costFit);
    console.log(cross
      ? `    measured crossover: ${f(100 * cross.density, 1)}% set bits, ${f(cross.activePairs, 1)} of ${pairs} (row, step) pairs active per MVM`
      : "    measured crossover: none within the sweep (the sparse kernel wins or loses throughout)");
    console.log(`    crossover predicted by this run's fit: ${f(fitted, 1)} pairs; by the code's constants: ${f(sweep.codeCrossoverActivePairs, 1)} pairs (${shape.fit === "check" ? "a check: fitted on nothing" : `fits the ${shape.fit === "model" ? "model" : "block factor"}`}); dense, sparse and auto bit-identical: ${sweep.identical ? "yes" : "NO"}`);
  }
  console.log(`  cost model fitted on the sweeps: ${f(1000 * costFit.sparseUnitMicros, 3)} ns per sparse unit, ${f(1000 * costFit.denseUnitMicros, 3)} ns per dense unit (register kernels) →`);
  console.log(`    SPARSE_COST_RATIO ${f(costFit.ratio, 3)}, SPARSE_PAIR_OVERHEAD ${f(costFit.pairOverhead, 2)}, SPARSE_VECTOR_OVERHEAD ${f(costFit.vectorOverhead, 1)}, DENSE_BLOCK_KERNEL_COST ${f(costFit.blockKernelCost, 2)}`);
  console.log(`    (the code uses ${SPARSE_COST_RATIO}, ${SPARSE_PAIR_OVERHEAD}, ${SPARSE_VECTOR_OVERHEAD}, ${DENSE_BLOCK_KERNEL_COST})`);
  console.log(`  wall clock (µs): ${Object.entries(t).map(([k, v]) => `${k} ${f(v.wall)}`).join(", ")}`);
  console.log(`  results bit-identical to the TS kernels: ${Object.entries(identical).map(([k, v]) => `${k} ${v ? "yes" : "NO"}`).join(", ")}`);
}

main();

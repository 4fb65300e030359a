/**
 * @fileoverview The functional simulator beyond isaac: bit-exactness with the fixed-point reference on a differential
 * device and on an offset-column device with a bias row; faithful and fast paths agreeing on sampled instances; an
 * 8-bit ADC clipping exactly the column sums above 255 (checked against a naive per-read oracle); errors.
 */
import { describe, expect, it } from "vitest";
import { isXbarcError, resolveDeviceProfile, type DeviceProfile, type Tensor } from "@xbarc/ir";
import {
  getTileCells, runFixedPoint, sampleProgramInstance, simulateProgram, type Program,
} from "@xbarc/backend-sim";
import { compileFixture, device } from "../program/compile-fixture.js";
import { listFixtureModels, samplesFor } from "../../../../test/helpers/models.js";
import { range } from "../../../../test/helpers/datasets.js";

/** `count` real MNIST (or digits split) samples of `modelId` as one tensor of `shape` (first dim = count). */
function realInput(modelId: string, shape: readonly number[], count: number): Tensor {
  const model = listFixtureModels().find((m) => m.id === modelId)!;
  const indices = model.dataset === "digits" ? model.evalIndices.slice(0, count) : range(8000, 8000 + count);
  return { type: { dtype: "f32", shape: [count, ...shape.slice(1)] }, data: samplesFor(model, indices).data };
}

function withoutVariation(name: string, overrides: object = {}): DeviceProfile {
  return resolveDeviceProfile({ extends: name, name: `${name}-ideal`, variation: { model: "none", sigma: 0, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 }, ...overrides }, `${name}-ideal.json`);
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** True when every layer's integers of two runs agree bit for bit. */
function sameInts(program: Program, a: ReturnType<typeof simulateProgram>, b: { ints?: typeof a.ints }): boolean {
  return program.layers.every((l) => {
    const x = a.ints!.get(l.name)!;
    const y = b.ints!.get(l.name)!;
    return sameBits(x.x, y.x) && x.tiles.every((t, i) => sameBits(t, y.tiles[i]!)) && x.kept.every((t, i) => sameBits(t, y.kept[i]!)) && sameBits(x.out, y.out);
  });
}

describe("simulateProgram on other crossbar mappings", () => {
  const cases = [
    { label: "a differential 4-bit device (rram-4bit without variation)", dev: withoutVariation("rram-4bit") },
    { label: "an offset-column device with a bias row (halawani without variation)", dev: withoutVariation("halawani-16l-10x") },
  ];
  for (const { label, dev } of cases) {
    for (const modelId of ["digits-mlp64-32-10", "lenet5"]) {
      it(`equals runFixedPoint bit for bit on ${modelId} for ${label}, on both paths`, () => {
        const { module, program } = compileFixture(`trained/${modelId}.onnx`, dev);
        if (dev.mapping.bias === "row") expect(program.tiles.some((t) => t.bias_row)).toBe(true);
        const input = realInput(modelId, program.input.shape, program.input.shape[0]!);
        const inputs = [0, 1, 2, 3].map((k) => {
          const n = program.input.shape[0]!;
          const m = listFixtureModels().find((f) => f.id === modelId)!;
          const idx = m.dataset === "digits" ? m.evalIndices.slice(k * n, (k + 1) * n) : range(8000 + k * n, 8000 + (k + 1) * n);
          return { type: input.type, data: samplesFor(m, idx).data } as Tensor;
        });
        for (const x of inputs) {
          const ref = runFixedPoint(module, new Map([[module.inputs[0]!.name, x]]), { recordInts: true });
          for (const path of ["faithful", "fast"] as const) {
            const sim = simulateProgram(program, x, { path, adcLossless: true, recordInts: true });
            expect(sameInts(program, sim, ref), `${path} layer integers`).toBe(true);
            for (const [name, t] of ref.outputs) expect(sameBits(sim.outputs.get(name)!.data as Float64Array, t.data as Float64Array)).toBe(true);
          }
        }
      }, 120_000);
    }
  }
});

describe("faithful and fast paths on sampled instances", () => {
  const base = device("rram-4bit");

  it("agree bit for bit on an instance with stuck-at faults only (integer cells), and auto takes the fast path", () => {
    const faulty = resolveDeviceProfile({ extends: "rram-4bit", name: "faulty", variation: { model: "none", sigma: 0, stuck_at_on: 0.02, stuck_at_off: 0.03, read_noise: 0 } }, "faulty.json");
    const { program } = compileFixture("trained/mlp784-32-10-relu.onnx", faulty);
    const instance = sampleProgramInstance(program, 7, 3);
    expect(instance.integerCells).toBe(true);
    // faults really moved cells off their programmed levels
    const moved = program.tiles.reduce((n, t) => n + getTileCells(t).filter((k, i) => instance.cellValues[t.id]![i] !== k).length, 0);
    expect(moved).toBeGreaterThan(100);
    const x = realInput("mlp784-32-10-relu", program.input.shape, 8);
    const xs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ type: { dtype: "f32", shape: [...program.input.shape] }, data: (x.data as Float32Array).slice(i * 784, (i + 1) * 784) }) as Tensor);
    for (const input of xs) {
      const faithful = simulateProgram(program, input, { instance, path: "faithful", adcLossless: true, recordInts: true });
      const fast = simulateProgram(program, input, { instance, path: "fast", adcLossless: true, recordInts: true });
      const auto = simulateProgram(program, input, { instance, path: "auto", adcLossless: true, recordInts: true });
      expect(sameInts(program, faithful, fast)).toBe(true);
      expect(sameInts(program, faithful, auto)).toBe(true);
      expect([...auto.paths.values()].every((p) => p === "fast")).toBe(true);
      // and the faults change the result against the ideal device
      const ideal = simulateProgram(program, input, { path: "fast", adcLossless: true, recordInts: true });
      expect(sameInts(program, faithful, ideal)).toBe(false);
    }
  });

  it("differ on a log-normal instance only by the ADC's rounding of each read, and auto takes the faithful path there", () => {
    const { program } = compileFixture("trained/mlp784-32-10-relu.onnx", base);
    const instance = sampleProgramInstance(program, 11, 0);
    expect(instance.integerCells).toBe(false);
    const input = realInput("mlp784-32-10-relu", program.input.shape, program.input.shape[0]!);
    const faithful = simulateProgram(program, input, { instance, path: "faithful", adcLossless: true, recordInts: true });
    const fast = simulateProgram(program, input, { instance, path: "fast", adcLossless: true, recordInts: true });
    const auto = simulateProgram(program, input, { instance, path: "auto", adcLossless: true });
    expect([...auto.paths.values()].every((p) => p === "faithful")).toBe(true);
    // first layer, before truncation: each read's rounding error is ≤ 1/2 code, weighted 2^(t·db + s·cb) on G+ and G−
    const layer = program.layers[0]!;
    const { steps, dac_bits: db } = layer.formats.input;
    const { slices, cell_bits: cb } = layer.formats.weight;
    let weights = 0;
    for (let t = 0; t < steps; t++) for (let s = 0; s < slices; s++) weights += 2 ** (t * db + s * cb);
    // fast rounds once (≤ 1/2), faithful rounds 2 columns per slice per step
    const bound = weights + 0.5;
    const a = faithful.ints!.get(layer.name)!.tiles;
    const b = fast.ints!.get(layer.name)!.tiles;
    let differing = 0;
    a.forEach((tile, r) => tile.forEach((v, i) => {
      expect(Math.abs(v - b[r]![i]!)).toBeLessThanOrEqual(bound);
      if (v !== b[r]![i]) differing++;
    }));
    expect(differing).toBeGreaterThan(0);
  });
});

describe("an 8-bit ADC on isaac (2-bit cells, 1-bit DAC, 128 rows: not lossless)", () => {
  it("differs from the lossless ADC exactly where a column read exceeds 255, where it reads 255", () => {
    const { program } = compileFixture("trained/mlp784-32-10-relu.onnx", device("isaac"));
    const layer = program.layers[0]!;
    expect(layer.formats.trunc!.lossless).toBe(false);
    // a real image rarely drives 128 rows at once; an all-ink image (every input bit set) makes the top slices clip
    const real = realInput("mlp784-32-10-relu", program.input.shape, 1);
    const ink: Tensor = { type: real.type, data: new Float32Array(784).fill(1) };
    let clippedReads = 0;
    let differ = 0;
    for (const input of [real, ink]) {
      const lossy = simulateProgram(program, input, { path: "faithful", recordInts: true });
      const lossless = simulateProgram(program, input, { path: "faithful", adcLossless: true, recordInts: true });
      expect(() => simulateProgram(program, input, { path: "fast" })).toThrow(/fast path needs a lossless ADC/);
      // a naive oracle: every read of every tile of the first layer, clipped or not
      const x = lossless.ints!.get(layer.name)!.x;
      const K = layer.matrix.rows;
      const N = layer.matrix.cols;
      const outer = x.length / K;
      const { steps, dac_bits: db } = layer.formats.input;
      const { slices: S, cell_bits: cb } = layer.formats.weight;
      expect(layer.formats.input.signed).toBe(false);
      const expectLossy = layer.formats.trunc!.o_wl.map(() => new Float64Array(outer * N));
      const expectExact = layer.formats.trunc!.o_wl.map(() => new Float64Array(outer * N));
      // per row tile and output element: did any read of its columns (or of the offset column) clip?
      const clipped = layer.formats.trunc!.o_wl.map(() => new Uint8Array(outer * N));
      for (const id of layer.tiles) {
        const t = program.tiles[id]!;
        const cells = getTileCells(t);
        for (let o = 0; o < outer; o++) {
          const accLossy = new Float64Array(t.cols_used);
          const accExact = new Float64Array(t.cols_used);
          for (let step = 0; step < steps; step++) {
            for (let c = 0; c < t.cols_used; c++) {
              let sum = 0;
              for (let r = 0; r < t.rows; r++) sum += (Math.floor(x[o * K + t.row0 + r]! / 2 ** (step * db)) % 2 ** db) * cells[r * t.cols_used + c]!;
              accExact[c]! += 2 ** (step * db) * sum;
              accLossy[c]! += 2 ** (step * db) * Math.min(sum, 255);
              if (sum > 255) {
                clippedReads++;
                const offsetColumn = c >= t.cols * S;
                const j0 = offsetColumn ? 0 : Math.floor(c / S);
                const j1 = offsetColumn ? t.cols : j0 + 1;
                for (let j = j0; j < j1; j++) clipped[t.row_tile]![o * N + t.col0 + j] = 1;
              }
            }
          }
          for (let j = 0; j < t.cols; j++) {
            let vL = 0;
            let vE = 0;
            for (let s = 0; s < S; s++) {
              vL += 2 ** (s * cb) * (accLossy[j * S + s]! - accLossy[t.cols * S + s]!);
              vE += 2 ** (s * cb) * (accExact[j * S + s]! - accExact[t.cols * S + s]!);
            }
            expectLossy[t.row_tile]![o * N + t.col0 + j] = vL;
            expectExact[t.row_tile]![o * N + t.col0 + j] = vE;
          }
        }
      }
      const gotLossy = lossy.ints!.get(layer.name)!.tiles;
      const gotExact = lossless.ints!.get(layer.name)!.tiles;
      gotLossy.forEach((tile, r) => {
        expect(sameBits(tile, expectLossy[r]!), `8-bit ADC, row tile ${r}`).toBe(true);
        expect(sameBits(gotExact[r]!, expectExact[r]!), `lossless ADC, row tile ${r}`).toBe(true);
        tile.forEach((v, i) => {
          if (v === gotExact[r]![i]) return;
          differ++;
          expect(clipped[r]![i], `row tile ${r}, element ${i} differs without a clipped read`).toBe(1);
        });
      });
    }
    // clipping happened and changed accumulators, and only where a read clipped
    expect(clippedReads).toBeGreaterThan(0);
    expect(differ).toBeGreaterThan(0);
  });
});

describe("simulateProgram errors", () => {
  it("rejects an input of the wrong shape with XB4002", () => {
    const { program } = compileFixture("trained/digits-mlp64-32-10.onnx", device("isaac"));
    const bad: Tensor = { type: { dtype: "f32", shape: [1, 63] }, data: new Float32Array(63) };
    try {
      simulateProgram(program, bad, { path: "auto" });
      expect.unreachable();
    } catch (e) {
      expect(isXbarcError(e) && e.code).toBe("XB4002");
      expect((e as Error).message).toContain("expected shape [1,64]");
    }
  });
});

/**
 * @fileoverview estimateTiming against hand-computed cases on hand-built programs (every expected number is derived
 * here from the stated rule: k = min(cols_per_adc, C, cols_used) columns per ADC, stepNs = max(read, k·adc, k·sa),
 * tileNs = read + k·adc + k·sa + (n − 1)·stepNs, tiles parallel, layers in sequence), plus monotonic sanity on LeNet-5.
 */
import { describe, expect, it } from "vitest";
import { estimateTiming, type Program } from "@xbarc/backend-sim";
import { tinyDevice, tinyProgram } from "./tiny-program.js";
import { compileFixture, copyProgram, device } from "../program/compile-fixture.js";

/** The pipelined time of one tile doing `n` steps with `k` columns per ADC (the rule, written out once). */
function tileNs(n: number, k: number, t: { read_ns: number; adc_ns: number; shift_add_ns: number }): number {
  const step = Math.max(t.read_ns, k * t.adc_ns, k * t.shift_add_ns);
  return t.read_ns + k * t.adc_ns + k * t.shift_add_ns + (n - 1) * step;
}

describe("estimateTiming on hand-built programs", () => {
  it("times one linear layer on one tile as T read-bound pipelined steps", () => {
    const dev = tinyDevice();
    // 16 inputs × 4 outputs, differential 2 columns per output: 8 columns used, one ADC of 8 columns converts them all
    const timing = estimateTiming(tinyProgram(dev, [{ rows: 16, cols: 4, tiles: [{ rows_used: 16, cols_used: 8, xbar: 0 }] }]));
    const n = 8; // one position × 8 one-bit input steps
    const k = 8; // min(cols_per_adc 8, cols 32, cols_used 8)
    const step = 100; // max(read 100, 8 × 1 ns ADC, 8 × 0.5 ns shift-add)
    const expected = 100 + k * 1 + k * 0.5 + (n - 1) * step; // 812 ns
    expect(timing.perLayer).toHaveLength(1);
    const [layer] = timing.perLayer;
    expect(layer).toMatchObject({ layer: "l0", tiles: 1, steps: n, stepNs: step, adcSerialization: k });
    expect(layer!.layerNs).toBeCloseTo(expected, 9);
    expect(timing.latencyNs).toBeCloseTo(expected, 9);
    expect(timing.throughputImagesPerS).toBeCloseTo(1e9 / expected, 6);
    expect(timing.cyclesAtAdcClock).toBe(Math.ceil(expected / 1));
    expect(layer!.utilization).toBeCloseTo(1, 12);
  });

  it("runs two row tiles in parallel and sums layers in sequence, pipelining images at the slowest layer", () => {
    const dev = tinyDevice();
    const timing = estimateTiming(tinyProgram(dev, [
      // 48 inputs over two row tiles of 32 and 16 rows, 4 outputs
      { rows: 48, cols: 4, tiles: [{ rows_used: 32, cols_used: 8, xbar: 0 }, { rows_used: 16, cols_used: 8, xbar: 1 }] },
      // 4 inputs × 2 outputs: 4 columns, so the ADC converts only 4
      { rows: 4, cols: 2, tiles: [{ rows_used: 4, cols_used: 4, xbar: 2 }] },
    ]));
    const t = dev.timing;
    const first = tileNs(8, 8, t);
    const second = tileNs(8, 4, t);
    expect(timing.perLayer.map((l) => l.tiles)).toEqual([2, 1]);
    expect(timing.perLayer[0]!.layerNs).toBeCloseTo(first, 9); // parallel: not 2 × first
    expect(timing.perLayer[1]!.layerNs).toBeCloseTo(second, 9);
    expect(timing.perLayer[1]!.adcSerialization).toBe(4);
    const latency = first + second;
    expect(timing.latencyNs).toBeCloseTo(latency, 9);
    expect(timing.throughputImagesPerS).toBeCloseTo(1e9 / Math.max(first, second), 6);
    // busy tile-time / (tiles × latency)
    expect(timing.perLayer[0]!.utilization).toBeCloseTo((2 * first) / (2 * latency), 12);
    expect(timing.perLayer[1]!.utilization).toBeCloseTo(second / latency, 12);
    expect(timing.utilization).toBeCloseTo((2 * first + second) / (3 * latency), 12);
  });

  it("serializes an ADC shared by more columns than one read time covers, so the ADC sets the step", () => {
    // 32 columns per ADC, 10 ns per conversion: 24 used columns take 240 ns per step > 100 ns read
    const dev = tinyDevice({ crossbar: { cols_per_adc: 32 }, timing: { adc_ns: 10 } });
    const timing = estimateTiming(tinyProgram(dev, [{ rows: 16, cols: 12, tiles: [{ rows_used: 16, cols_used: 24, xbar: 0 }] }]));
    const k = 24;
    const step = Math.max(100, k * 10, k * 0.5);
    expect(step).toBe(240);
    const [layer] = timing.perLayer;
    expect(layer!.stepNs).toBe(step);
    expect(layer!.adcSerialization).toBe(k);
    expect(layer!.layerNs).toBeCloseTo(100 + k * 10 + k * 0.5 + 7 * step, 9);
    expect(timing.cyclesAtAdcClock).toBe(Math.ceil(layer!.layerNs / 10));
  });

  it("caps the columns per ADC at the array width, since an array never shares its ADCs", () => {
    const wide = tinyDevice({ crossbar: { cols_per_adc: 1024 }, timing: { adc_ns: 10 } });
    const exact = tinyDevice({ crossbar: { cols_per_adc: 32 }, timing: { adc_ns: 10 } });
    const layers = [{ rows: 16, cols: 16, tiles: [{ rows_used: 16, cols_used: 32, xbar: 0 }] }];
    expect(estimateTiming(tinyProgram(wide, layers)).latencyNs).toBe(estimateTiming(tinyProgram(exact, layers)).latencyNs);
    expect(estimateTiming(tinyProgram(wide, layers)).perLayer[0]!.adcSerialization).toBe(32);
  });

  it("runs a conv layer's MVM once per output position", () => {
    const dev = tinyDevice();
    // 9 output positions × 8 input steps
    const timing = estimateTiming(tinyProgram(dev, [{ rows: 18, cols: 4, positions: 9, tiles: [{ rows_used: 18, cols_used: 8, xbar: 0 }] }]));
    expect(timing.perLayer[0]!.steps).toBe(72);
    expect(timing.latencyNs).toBeCloseTo(tileNs(72, 8, dev.timing), 9);
  });

  it("lets a slower shift-add unit set the step when it cannot keep up with its ADC", () => {
    const dev = tinyDevice({ crossbar: { cols_per_adc: 32 }, timing: { adc_ns: 1, shift_add_ns: 8 } });
    const timing = estimateTiming(tinyProgram(dev, [{ rows: 8, cols: 8, tiles: [{ rows_used: 8, cols_used: 16, xbar: 0 }] }]));
    expect(timing.perLayer[0]!.stepNs).toBe(16 * 8);
    expect(timing.latencyNs).toBeCloseTo(tileNs(8, 16, dev.timing), 9);
  });
});

describe("estimateTiming on LeNet-5 for isaac", () => {
  const { program } = compileFixture("trained/lenet5.onnx", device("isaac"));
  const withColsPerAdc = (n: number): Program => {
    const p = copyProgram(program);
    p.device.crossbar.cols_per_adc = n;
    return p;
  };

  it("never lowers latency when cols_per_adc doubles, and raises it once the ADC is the bottleneck", () => {
    const timings = [1, 2, 4, 8, 16, 32, 64, 128, 256].map((n) => estimateTiming(withColsPerAdc(n)));
    for (let i = 1; i < timings.length; i++) expect(timings[i]!.latencyNs).toBeGreaterThanOrEqual(timings[i - 1]!.latencyNs);
    // isaac: 0.78125 ns per conversion, 100 ns per read: even 128 columns per ADC (100 ns) keep every step read-bound
    for (const t of timings) for (const l of t.perLayer) expect(l.stepNs).toBe(program.device.timing.read_ns);
    const slowAdc = (n: number): number => {
      const p = withColsPerAdc(n);
      p.device.timing.adc_ns = 5;
      return estimateTiming(p).latencyNs;
    };
    expect(slowAdc(128)).toBeGreaterThan(slowAdc(16));
  });

  it("reports a latency equal to the sum of its layers and a throughput set by the slowest layer", () => {
    const timing = estimateTiming(program);
    expect(timing.perLayer.map((l) => l.layer)).toEqual(program.layers.map((l) => l.name));
    expect(timing.latencyNs).toBeCloseTo(timing.perLayer.reduce((s, l) => s + l.layerNs, 0), 6);
    expect(timing.throughputImagesPerS).toBeCloseTo(1e9 / Math.max(...timing.perLayer.map((l) => l.layerNs)), 6);
    expect(timing.utilization).toBeGreaterThan(0);
    expect(timing.utilization).toBeLessThanOrEqual(1);
    expect(timing.perLayer.reduce((s, l) => s + l.utilization * l.tiles, 0) / program.tiles.length).toBeCloseTo(timing.utilization, 12);
  });
});

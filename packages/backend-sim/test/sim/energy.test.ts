/**
 * @fileoverview estimateEnergy and correctOperationsPerJoule against hand-computed cases on hand-built programs
 * (every expected number derived here from the stated rule), the ADC share scaling exactly with adc_pj, and the
 * totals of LeNet-5 on isaac agreeing with the program summary's counts.
 */
import { describe, expect, it } from "vitest";
import { isXbarcError } from "@xbarc/ir";
import { correctOperationsPerJoule, estimateEnergy, summarizeProgram } from "@xbarc/backend-sim";
import { tinyDevice, tinyProgram } from "./tiny-program.js";
import { compileFixture, copyProgram, device } from "../program/compile-fixture.js";

describe("estimateEnergy on hand-built programs", () => {
  it("charges one linear layer on one tile for every read, conversion, row drive, shift-add and buffered byte", () => {
    const dev = tinyDevice();
    const energy = estimateEnergy(tinyProgram(dev, [{ rows: 16, cols: 4, tiles: [{ rows_used: 16, cols_used: 8, xbar: 0 }] }]));
    const reads = 1 * 8; // one tile × one position × 8 input steps
    const conversions = reads * 8; // 8 columns used per read
    const arrayPj = reads * 30;
    const adcPj = conversions * 2;
    const dacPj = 16 * reads * 0.25; // 16 rows driven per read
    const shiftAddPj = conversions * 0.125;
    const bufferPj = (16 + 4) * (8 / 8) * 1; // 16 inputs in, 4 outputs out, one byte per 8-bit value
    const [layer] = energy.perLayer;
    expect(layer).toEqual({ layer: "l0", arrayPj, adcPj, dacPj, shiftAddPj, bufferPj, totalPj: arrayPj + adcPj + dacPj + shiftAddPj + bufferPj });
    expect(energy.totalPj).toBe(layer!.totalPj);
    expect(energy.operations).toBe(2 * 16 * 4);
    // one array: ceil(32 / 8) = 4 ADCs, one shift-add unit each, 32 row DACs
    expect(energy.areaUm2).toEqual({ arrays: 25, adcs: 4 * 1000, dacs: 32 * 0.5, shiftAdd: 4 * 60, total: 25 + 4000 + 16 + 240 });
  });

  it("charges each row tile its own reads and row drives, and counts arrays, not tiles, for area", () => {
    const dev = tinyDevice();
    const energy = estimateEnergy(tinyProgram(dev, [
      // two row tiles of one layer placed on the same array
      { rows: 24, cols: 4, inputBits: 4, tiles: [{ rows_used: 16, cols_used: 8, xbar: 0 }, { rows_used: 8, cols_used: 8, xbar: 0 }] },
    ]));
    const readsPerTile = 4; // one position × 4 one-bit steps
    const reads = 2 * readsPerTile;
    const conversions = reads * 8;
    const [layer] = energy.perLayer;
    expect(layer!.arrayPj).toBe(reads * 30);
    expect(layer!.adcPj).toBe(conversions * 2);
    expect(layer!.dacPj).toBe((16 + 8) * readsPerTile * 0.25);
    expect(layer!.shiftAddPj).toBe(conversions * 0.125);
    expect(layer!.bufferPj).toBe((24 + 4) * (4 / 8) * 1);
    expect(energy.operations).toBe(2 * 24 * 4);
    expect(energy.areaUm2.arrays).toBe(25);
  });

  it("counts a conv layer's reads and multiply-accumulates once per output position", () => {
    const dev = tinyDevice();
    const energy = estimateEnergy(tinyProgram(dev, [{ rows: 18, cols: 4, positions: 9, tiles: [{ rows_used: 18, cols_used: 8, xbar: 0 }] }]));
    expect(energy.perLayer[0]!.arrayPj).toBe(9 * 8 * 30);
    expect(energy.operations).toBe(2 * 9 * 18 * 4);
  });

  it("raises the energy by exactly the ADC share when adc_pj doubles", () => {
    const layers = [
      { rows: 48, cols: 4, tiles: [{ rows_used: 32, cols_used: 8, xbar: 0 }, { rows_used: 16, cols_used: 8, xbar: 1 }] },
      { rows: 4, cols: 2, tiles: [{ rows_used: 4, cols_used: 4, xbar: 2 }] },
    ];
    const base = estimateEnergy(tinyProgram(tinyDevice({ energy: { adc_pj: 1.5 } }), layers));
    const doubled = estimateEnergy(tinyProgram(tinyDevice({ energy: { adc_pj: 3 } }), layers));
    base.perLayer.forEach((l, i) => {
      expect(doubled.perLayer[i]!.adcPj).toBe(2 * l.adcPj);
      expect(doubled.perLayer[i]!.totalPj - l.totalPj).toBeCloseTo(l.adcPj, 9);
    });
    expect(doubled.totalPj - base.totalPj).toBeCloseTo(base.perLayer.reduce((s, l) => s + l.adcPj, 0), 9);
  });
});

describe("estimateEnergy on LeNet-5 for isaac", () => {
  const { program } = compileFixture("trained/lenet5.onnx", device("isaac"));

  it("charges the summary's reads and conversions and raises energy by exactly the ADC share when adc_pj doubles", () => {
    const energy = estimateEnergy(program);
    const summary = summarizeProgram(program);
    const e = program.device.energy;
    energy.perLayer.forEach((l, i) => {
      expect(l.arrayPj).toBe(summary.layers[i]!.mvm_steps * e.array_read_pj);
      expect(l.adcPj).toBe(summary.layers[i]!.adc_conversions * e.adc_pj);
    });
    const doubledProgram = copyProgram(program);
    doubledProgram.device.energy.adc_pj *= 2;
    const doubled = estimateEnergy(doubledProgram);
    const adcShare = energy.perLayer.reduce((s, l) => s + l.adcPj, 0);
    expect(doubled.totalPj - energy.totalPj).toBeCloseTo(adcShare, 3);
    expect(doubled.totalPj).toBeGreaterThan(energy.totalPj);
  });

  it("counts LeNet-5's operations as twice its multiply-accumulates", () => {
    const macs = program.layers.reduce((s, l) => {
      const outputs = l.output_shape.reduce((a, b) => a * b, 1) / program.input.batch;
      return s + outputs * l.weight_shape.slice(1).reduce((a, b) => a * b, 1);
    }, 0);
    expect(estimateEnergy(program).operations).toBe(2 * macs);
  });
});

describe("correctOperationsPerJoule", () => {
  it("is accuracy × operations / energy in GOP/J", () => {
    // 128 operations per 200 pJ at 75 % accuracy: 0.75 · 128 / 200e-12 J = 4.8e11 op/J = 480 GOP/J
    expect(correctOperationsPerJoule(0.75, { operations: 128, totalPj: 200 })).toBeCloseTo(480, 9);
  });

  it("rejects an accuracy given in percent and a non-positive energy with XB7001", () => {
    for (const [accuracy, totalPj] of [[98, 200], [0.9, 0], [Number.NaN, 1]] as const) {
      let caught: unknown;
      try {
        correctOperationsPerJoule(accuracy, { operations: 128, totalPj });
      } catch (error) {
        caught = error;
      }
      expect(isXbarcError(caught) && caught.code).toBe("XB7001");
    }
  });
});

import { describe, expect, it } from "vitest";
import { getLevels, Module, Rng, XbarcError, type VariationSpec } from "@xbarc/ir";
import {
  applyInstance, createCellSampler, createInstanceRng, getCellLayers, restoreNominal, sampleConductances, sampleEffectiveWeights,
} from "@xbarc/backend-sim";
import { annotateCells, createClassifier, randomFloats, testDevice } from "../cells-module.js";

const LEVELS = [1e-6, 3e-6, 9e-6, 2.7e-5];

function variation(over: Partial<VariationSpec>): VariationSpec {
  return { model: "none", sigma: 0, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0, ...over };
}

/** A conv layer [4,2,3,3] (rows = 2·3·3 = 18) with cell states. */
function convModule(signed: "differential" | "offset-column"): Module {
  const m = new Module("conv");
  const x = m.addInput("x", { dtype: "f32", shape: [1, 2, 5, 5] });
  const w = m.addConstant("conv.weight", { dtype: "f32", shape: [4, 2, 3, 3] }, randomFloats(new Rng(3), 72));
  const y = m.addOp("conv", [x, w, null], [{ name: "y", type: { dtype: "f32", shape: [1, 4, 3, 3] } }]).results[0]!;
  m.outputs.push(y);
  annotateCells(m, "conv.weight", LEVELS, signed);
  return m;
}

describe("getCellLayers", () => {
  it("finds every #cells layer in op order with its level constants and crossbar row count", () => {
    const m = createClassifier({ batch: 2, inputs: 6, hidden: 5, classes: 3, seed: 1 });
    annotateCells(m, "fc2.weight", LEVELS, "differential");
    annotateCells(m, "fc1.weight", LEVELS, "differential");
    const layers = getCellLayers(m);
    expect(layers.map((l) => [l.name, l.weight.name, l.rowLength])).toEqual([["h", "fc1.weight", 6], ["logits", "fc2.weight", 5]]);
    expect(layers[0]!.plus).toBe(m.constants.find((c) => c.name === "fc1.weight.plus")!.data);
  });

  it("takes an offset column's reference level per row: rows = C_in·K_h·K_w for a conv", () => {
    const [layer] = getCellLayers(convModule("offset-column"));
    expect(layer!.rowLength).toBe(18);
    expect(layer!.reference).toEqual(new Uint8Array(18));
  });

  it("rejects #cells that names a missing constant", () => {
    const m = convModule("differential");
    m.constants = m.constants.filter((c) => c.name !== "conv.weight.minus");
    expect(() => getCellLayers(m)).toThrow(XbarcError);
    expect(() => getCellLayers(m)).toThrow(/minus="conv\.weight\.minus" names no constant/);
  });

  it("rejects level constants whose size differs from the weight's", () => {
    const m = convModule("differential");
    m.constants.find((c) => c.name === "conv.weight.plus")!.data = new Uint8Array(5);
    expect(() => getCellLayers(m)).toThrow(/has 5 level indices for 72 weights/);
  });

  it("rejects an offset column whose row has two reference levels", () => {
    const m = convModule("offset-column");
    (m.constants.find((c) => c.name === "conv.weight.minus")!.data as Uint8Array)[18 + 4] = 2;
    try {
      getCellLayers(m);
      expect.unreachable();
    } catch (e) {
      expect((e as XbarcError).code).toBe("XB6003");
      expect((e as XbarcError).message).toMatch(/row 4's reference cell is level 0/);
    }
  });

  it("rejects a device with a different number of levels than the states were assigned for", () => {
    const [layer] = getCellLayers(convModule("differential"));
    const sampler = createCellSampler(Float64Array.from([1e-6, 2e-6, 3e-6]), variation({}));
    expect(() => sampleEffectiveWeights(layer!, sampler, new Rng(1))).toThrow(/assigned for 4 levels, but the device has 3/);
  });
});

describe("sampleEffectiveWeights", () => {
  for (const signed of ["differential", "offset-column"] as const) {
    it(`reproduces the nominal weights bit for bit on an ideal device (${signed})`, () => {
      const m = convModule(signed);
      const [layer] = getCellLayers(m);
      const sampler = createCellSampler(Float64Array.from(LEVELS), variation({ model: "lognormal", sigma: 0 }));
      expect(sampleEffectiveWeights(layer!, sampler, new Rng(1))).toEqual(layer!.nominal);
    });
  }

  it("computes scale·(G+ − G−) + offset from independently sampled G+ and G− (differential)", () => {
    const [layer] = getCellLayers(convModule("differential"));
    const sampler = createCellSampler(Float64Array.from(LEVELS), variation({ model: "lognormal", sigma: 0.3 }));
    const w = sampleEffectiveWeights(layer!, sampler, createInstanceRng(5, 2, 0));
    // the same stream, drawn by hand: all G+ in weight order, then all G−
    const rng = createInstanceRng(5, 2, 0);
    const gPlus = sampleConductances(sampler, layer!.plus, rng);
    const gMinus = sampleConductances(sampler, layer!.minus, rng);
    const expected = Float32Array.from(gPlus, (g, i) => layer!.scale * (g - gMinus[i]!) + layer!.offset);
    expect(w).toEqual(expected);
    expect(w).not.toEqual(layer!.nominal);
  });

  it("subtracts one sampled reference cell per crossbar row for an offset column", () => {
    const m = convModule("offset-column");
    const [layer] = getCellLayers(m);
    // only level 0 varies: the reference cells (all at level 0) carry all the variation
    const sampler = createCellSampler(Float64Array.from(LEVELS), variation({ model: "lognormal", sigma: 0.5, level_sigma: [0.5, 0, 0, 0] }));
    const w = sampleEffectiveWeights(layer!, sampler, new Rng(7));
    const levels = getLevels(testDevice(LEVELS, "offset-column").cell);
    const gRef = new Float64Array(18);
    for (let i = 0; i < 72; i++) {
      const row = i % 18;
      if (layer!.plus[i] === 0) continue;
      // G_i is nominal, so G_ref[row] follows from the weight; every weight of the row must imply the same one
      const implied = levels[layer!.plus[i]!]! - (w[i]! - layer!.offset) / layer!.scale;
      if (gRef[row] === 0) gRef[row] = implied;
      else expect(implied / gRef[row]!).toBeCloseTo(1, 5);
    }
    // and the rows' reference cells differ from each other
    const filled = Array.from(gRef).filter((g) => g > 0);
    expect(new Set(filled.map((g) => g.toPrecision(6))).size).toBe(filled.length);
  });
});

describe("applyInstance", () => {
  it("depends only on (seed, run, layer order): runs replay in any order and restoreNominal puts the ideal weights back", () => {
    const m = createClassifier({ batch: 2, inputs: 6, hidden: 5, classes: 3, seed: 1 });
    annotateCells(m, "fc1.weight", LEVELS, "differential");
    annotateCells(m, "fc2.weight", LEVELS, "differential");
    const layers = getCellLayers(m);
    const sampler = createCellSampler(Float64Array.from(LEVELS), variation({ model: "lognormal", sigma: 0.4 }));
    const snapshot = (): Float32Array[] => layers.map((l) => Float32Array.from(l.weight.data as Float32Array));
    applyInstance(layers, sampler, 11, 3);
    const run3 = snapshot();
    applyInstance(layers, sampler, 11, 1);
    const run1 = snapshot();
    applyInstance(layers, sampler, 11, 3);
    expect(snapshot()).toEqual(run3);
    expect(run1).not.toEqual(run3);
    applyInstance(layers, sampler, 12, 3);
    expect(snapshot()).not.toEqual(run3);
    restoreNominal(layers);
    expect(layers.map((l) => l.weight.data)).toEqual(layers.map((l) => l.nominal));
  });
});

/**
 * @fileoverview The quantize and assign-levels passes on real fixture models: golden dumps, codebook membership,
 * cell states that rebuild every weight, per-layer overrides, and the errors for a missing device or calibration.
 */
import { describe, expect, it } from "vitest";
import { getBuiltinProfile, getLevels, resolveDeviceProfile, XbarcError, type DeviceProfile, type Module, type Op, type Value } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { getWeightOps, runPipeline } from "@xbarc/passes";
import { fixturePath } from "./helpers/paths.js";

const DIGITS_MLP = fixturePath("models", "trained", "digits-mlp64-32-10.onnx");
const LENET5 = fixturePath("models", "trained", "lenet5.onnx");

function constant(m: Module, name: string): Value {
  const c = m.constants.find((v) => v.name === name);
  if (!c) throw new Error(`no constant @${name}`);
  return c;
}

function compile(path: string, device: string, pipeline = "canonicalize,quantize,assign-levels", variation?: object): Module {
  const m = loadOnnxFile(path);
  const profile = variation ? resolveDeviceProfile({ extends: device, name: `${device}+var`, variation }) : getBuiltinProfile(device)!;
  runPipeline(m, pipeline, { device: profile });
  return m;
}

const lognormal05 = { model: "lognormal", sigma: 0.5, stuck_at_on: 0, stuck_at_off: 0, read_noise: 0 };

describe("quantize and assign-levels: golden dumps", () => {
  it("on the digits MLP with device exp-a3 and log-normal σ = 0.5, match the reviewed dumps", async () => {
    const m = loadOnnxFile(DIGITS_MLP);
    const device = resolveDeviceProfile({ extends: "exp-a3", name: "exp-a3-lognormal0.5", variation: lognormal05 });
    const dumps = new Map<string, string>();
    runPipeline(m, "canonicalize,quantize,assign-levels", { device, dumpAfter: ["quantize", "assign-levels"], onDump: (f, t) => dumps.set(f, t) });
    expect([...dumps.keys()]).toEqual(["02-quantize.xir", "03-assign-levels.xir"]);
    await expect(dumps.get("02-quantize.xir")).toMatchFileSnapshot("golden/digits-mlp-exp-a3/02-quantize.xir");
    await expect(dumps.get("03-assign-levels.xir")).toMatchFileSnapshot("golden/digits-mlp-exp-a3/03-assign-levels.xir");
  });
});

describe("quantize", () => {
  for (const device of ["exp-a3", "isaac", "halawani-16l-10x"]) {
    it(`puts every weight of lenet5 in its layer's codebook and records every candidate's score (${device})`, () => {
      const m = compile(LENET5, device, "canonicalize,quantize");
      const ops = getWeightOps(m);
      expect(ops).toHaveLength(5);
      for (const op of ops) {
        const q = op.getAnnotation("quant")!.data as Record<string, any>;
        expect(Object.keys(q.candidates).sort()).toEqual(["em-variation", "fixed-point", "kmeans", "mes-caq", "spectral", "uniform"]);
        const scores = Object.values(q.candidates) as number[];
        // auto keeps the best candidate on the stated metric
        expect(q.err).toBe(Math.min(...scores));
        expect(q.candidates[q.scheme]).toBe(q.err);
        const codebook = constant(m, q.codebook).data as Float32Array;
        expect(codebook.length).toBe(q.codes);
        const w = op.operands[1]!.data as Float32Array;
        const codes = constant(m, q.codes_of).data as Uint8Array;
        for (let i = 0; i < w.length; i++) expect(w[i]).toBe(codebook[codes[i]!]);
      }
    });
  }

  it("leaves layers quantized earlier alone, so running it again changes nothing", () => {
    const m = compile(DIGITS_MLP, "exp-a3", "canonicalize,quantize");
    const before = getWeightOps(m).map((op) => Float32Array.from(op.operands[1]!.data as Float32Array));
    const result = runPipeline(m, "quantize", { device: getBuiltinProfile("exp-a3")! });
    expect(result.steps[0]!.changed).toBe(false);
    getWeightOps(m).forEach((op, i) => expect(op.operands[1]!.data).toEqual(before[i]));
  });

  it("honours a per-layer override and marks it", () => {
    const m = loadOnnxFile(DIGITS_MLP);
    runPipeline(m, "canonicalize", {});
    const [first, second] = getWeightOps(m);
    runPipeline(m, `quantize{layers=["${second!.operands[1]!.name}=uniform"]}`, { device: getBuiltinProfile("pow-a2")! });
    expect(second!.getAnnotation("quant")!.data).toMatchObject({ scheme: "uniform", override: true, candidates: { uniform: expect.any(Number) } });
    expect(Object.keys(first!.getAnnotation("quant")!.data.candidates as object)).toHaveLength(6);
  });

  it("rejects an override naming an unknown quantizer, and runs without a device or calibration data", () => {
    const m = loadOnnxFile(DIGITS_MLP);
    const fail = (pipeline: string, device: DeviceProfile | undefined) => {
      try {
        runPipeline(m, pipeline, { device });
      } catch (e) {
        return e as XbarcError;
      }
      throw new Error("accepted");
    };
    const expA3 = getBuiltinProfile("exp-a3")!;
    expect(fail(`quantize{layers=["fc1=magic"]}`, expA3).code).toBe("XB5002");
    expect(fail("quantize", undefined)).toMatchObject({ code: "XB5003", message: "quantize needs a device profile" });
    expect(fail(`quantize{metric="output-error"}`, expA3).message).toMatch(/needs calibration images/);
  });
});

describe("assign-levels", () => {
  for (const [device, quantizer] of [["exp-a3", "mes-caq"], ["exp-a3", "uniform"], ["pow-a2", "em-variation"], ["isaac", "kmeans"], ["halawani-16l-10x", "fixed-point"]] as const) {
    it(`rebuilds every weight from its cell states: w = scale·(g[plus] − g[minus]) + offset (${quantizer} on ${device})`, () => {
      const m = compile(LENET5, device, `canonicalize,quantize{quantizer="${quantizer}"},assign-levels`);
      const g = getLevels(getBuiltinProfile(device)!.cell);
      for (const op of getWeightOps(m)) {
        const cells = op.getAnnotation("cells")!.data as Record<string, any>;
        const quant = op.getAnnotation("quant")!.data as Record<string, any>;
        const plus = constant(m, cells.plus).data as Uint8Array;
        const minus = constant(m, cells.minus).data as Uint8Array;
        const w = op.operands[1]!.data as Float32Array;
        const codebook = constant(m, quant.codebook).data as Float32Array;
        const codes = constant(m, quant.codes_of).data as Uint8Array;
        let mapErr = 0;
        for (let i = 0; i < w.length; i++) {
          expect(w[i]).toBe(Math.fround(cells.scale * (g[plus[i]!]! - g[minus[i]!]!) + cells.offset));
          mapErr += (w[i]! - codebook[codes[i]!]!) ** 2;
          if (device !== "halawani-16l-10x" || cells.map === "differential") expect(plus[i] === 0 || minus[i] === 0 || cells.map === "differential").toBe(true);
        }
        expect(cells.map_err).toBeCloseTo(mapErr / w.length, 12);
        if (quantizer === "mes-caq" || quantizer === "em-variation") expect(cells.map_err).toBeLessThan(1e-12);
      }
    });
  }

  it("shows LQ's mapping error on a strongly non-linear device and none on a linear one (Huang et al. 2022)", () => {
    const errOf = (device: string): number => {
      const m = compile(LENET5, device, `canonicalize,quantize{quantizer="uniform"},assign-levels`);
      return Math.max(...getWeightOps(m).map((op: Op) => (op.getAnnotation("cells")!.data as { map_err: number }).map_err));
    };
    expect(errOf("rram-3bit")).toBeLessThan(1e-12);
    expect(errOf("exp-a3")).toBeGreaterThan(1e-3);
  });

  it("refuses to run without #quant data it can read", () => {
    const m = compile(DIGITS_MLP, "exp-a3", "canonicalize,quantize");
    const op = getWeightOps(m)[0]!;
    const q = op.getAnnotation("quant")!.data as Record<string, string>;
    constant(m, q.code_levels).data = undefined;
    expect(() => runPipeline(m, "assign-levels", { device: getBuiltinProfile("exp-a3")! })).toThrow(/codebook, codes or code_levels constant is missing/);
  });
});

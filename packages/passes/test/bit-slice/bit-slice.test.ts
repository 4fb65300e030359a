/**
 * @fileoverview The bit-slice pass on fixture models: the slice constants rebuild every layer's integer weight
 * w·2^W_FL exactly (offset column and differential devices, with and without assign-levels), #slice records the
 * formats and the input steps, inputs after relu are unsigned, analog layers get one slice, and errors.
 */
import { describe, expect, it } from "vitest";
import { getBuiltinProfile, resolveDeviceProfile, type DeviceProfile, type Module, type Value } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { getWeightOps, runPipeline, sliceLayer, type PipelineResult } from "@xbarc/passes";
import { fixturePath } from "../../../../test/helpers/paths.js";

const LENET5 = fixturePath("models", "trained", "lenet5.onnx");
const FIXED8 = `canonicalize,quantize{quantizer="fixed-point", bits=8}`;

function compile(path: string, device: DeviceProfile, pipeline: string): { m: Module; result: PipelineResult } {
  const m = loadOnnxFile(path);
  return { m, result: runPipeline(m, pipeline, { device, checkNoopChanges: true }) };
}

function constant(m: Module, name: unknown): Value {
  const c = m.constants.find((v) => v.name === name);
  if (!c) throw new Error(`no constant @${String(name)}`);
  return c;
}

/**
 * Asserts the slices of every layer shift-and-add back to round(w·2^W_FL), computed here from the layer's float
 * weight values or, after assign-levels (which replaces the weights by what the cells realise), from its codebook
 * and codes.
 */
function expectSlicesRebuildWeights(m: Module, device: DeviceProfile, fromCodes: boolean): void {
  const cb = device.cell.bits;
  for (const op of getWeightOps(m)) {
    const s = op.getAnnotation("slice")!.data as Record<string, any>;
    const q = op.getAnnotation("quant")!.data as Record<string, any>;
    const weight = op.operands[1]!;
    const n = weight.data!.length;
    const float = fromCodes
      ? Array.from(constant(m, q.codes_of).data as Uint8Array, (c) => (constant(m, q.codebook).data as Float32Array)[c]!)
      : Array.from(weight.data as Float32Array);
    const S = s.slices;
    expect(S).toBe(Math.ceil(8 / cb));
    const differential = s.scheme === "differential-magnitude";
    const pos = constant(m, differential ? s.slices_pos : s.slices_of);
    const neg = differential ? constant(m, s.slices_neg) : undefined;
    expect(pos.type).toEqual({ dtype: "u8", shape: [S, ...weight.type.shape] });
    const p = pos.data as Uint8Array;
    const q8 = neg?.data as Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      let w = differential ? 0 : -s.offset;
      for (let k = 0; k < S; k++) w += 2 ** (k * cb) * (p[k * n + i]! - (q8 ? q8[k * n + i]! : 0));
      const want = float[i]! * 2 ** s.w_fl;
      if (w !== want) throw new Error(`${op.results[0]!.name} weight ${i}: slices give ${w}, w·2^${s.w_fl} = ${want}`);
    }
  }
}

describe("bit-slice on lenet5", () => {
  it("writes offset-unsigned slices on isaac that rebuild every integer weight, with 8 one-bit input steps", () => {
    const { m, result } = compile(LENET5, isaac(), `${FIXED8},tile,bit-slice`);
    expectSlicesRebuildWeights(m, isaac(), false);
    const ops = getWeightOps(m);
    for (const op of ops) {
      expect(op.getAnnotation("slice")!.data).toMatchObject({
        w_bits: 8, cell_bits: 2, slices: 4, scheme: "offset-unsigned", in_bits: 8, in_fl: 4, dac_bits: 1, steps: 8, offset: 128,
      });
    }
    // the model input has no known range (signed); every later layer reads relu / maxpool of relu output (unsigned)
    expect(ops.map((op) => op.getAnnotation("slice")!.data.in_signed)).toEqual([true, false, false, false, false]);
    expect(result.steps.at(-1)!.stats).toEqual({ "sliced-layers": 5, "slice-constants": 5 });
  });

  it("writes differential-magnitude slices (G+ and G−) on rram-4bit that rebuild every weight, also after assign-levels", () => {
    const device = getBuiltinProfile("rram-4bit")!;
    for (const pipeline of [`${FIXED8},tile,bit-slice`, `${FIXED8},assign-levels,tile,bit-slice`]) {
      const { m } = compile(LENET5, device, pipeline);
      expectSlicesRebuildWeights(m, device, pipeline.includes("assign-levels"));
      for (const op of getWeightOps(m)) {
        expect(op.getAnnotation("slice")!.data).toMatchObject({ cell_bits: 4, slices: 2, scheme: "differential-magnitude" });
      }
    }
  });

  it("takes the input word length from in_bits and the steps from the device's DAC bits", () => {
    const device = resolveDeviceProfile({ extends: "isaac", name: "isaac-dac2", crossbar: { dac_bits: 2 } });
    const { m } = compile(LENET5, device, `${FIXED8},tile,bit-slice{in_bits=7, in_fl=3}`);
    for (const op of getWeightOps(m)) expect(op.getAnnotation("slice")!.data).toMatchObject({ in_bits: 7, in_fl: 3, dac_bits: 2, steps: 4 });
  });

  it("gives layers on analog levels one slice and no slice constants (mes-caq on exp-a3)", () => {
    const { m } = compile(LENET5, getBuiltinProfile("exp-a3")!, `canonicalize,quantize{quantizer="mes-caq"},assign-levels,tile,bit-slice`);
    for (const op of getWeightOps(m)) {
      const s = op.getAnnotation("slice")!.data;
      expect(s).toMatchObject({ cell_bits: 3, slices: 1, scheme: "analog-levels", in_bits: 8, steps: 8 });
      expect(s).not.toHaveProperty("w_bits");
    }
    expect(m.constants.some((c) => c.name.includes(".slices"))).toBe(false);
  });

  it("warns when an analog layer has no cell levels yet", () => {
    const { result } = compile(LENET5, getBuiltinProfile("exp-a3")!, `canonicalize,quantize{quantizer="mes-caq"},tile,bit-slice`);
    const warnings = result.steps.at(-1)!.diagnostics.filter((d) => d.severity === "warning");
    expect(warnings).toHaveLength(5);
    expect(warnings[0]!.message).toMatch(/no #cells: its cells' levels are not assigned yet/);
  });

  it("reports no change when run again, and re-slicing a layer reuses its constants", () => {
    const { m } = compile(LENET5, isaac(), `${FIXED8},tile,bit-slice`);
    expect(runPipeline(m, "bit-slice", { device: isaac(), checkNoopChanges: true }).steps[0]!.changed).toBe(false);
    const count = m.constants.length;
    const op = getWeightOps(m)[2]!;
    const before = op.getAnnotation("slice")!.data;
    const after = sliceLayer(m, op, isaac(), { bits: 6, fl: 2, signed: true });
    expect(m.constants.length).toBe(count);
    expect(after).toEqual({ ...before, in_bits: 6, in_fl: 2, in_signed: true, steps: 6 });
  });

  it("refuses to run before tile or without a device", () => {
    const m = loadOnnxFile(LENET5);
    expect(() => runPipeline(m, `${FIXED8},bit-slice`, { device: isaac() })).toThrow(expect.objectContaining({ code: "XB5001", message: expect.stringMatching(/"bit-slice" needs #tiles/) }));
    runPipeline(m, `${FIXED8},tile`, { device: isaac() });
    expect(() => runPipeline(m, "bit-slice", {})).toThrow(expect.objectContaining({ code: "XB5003", message: "bit-slice needs a device profile" }));
  });

  it("refuses a #quant that says fixed-point over a codebook that is not k·2^−FL", () => {
    const m = loadOnnxFile(LENET5);
    runPipeline(m, `${FIXED8},tile`, { device: isaac() });
    const q = getWeightOps(m)[0]!.getAnnotation("quant")!.data as Record<string, string>;
    (constant(m, q.codebook).data as Float32Array)[5] = 0.123;
    expect(() => runPipeline(m, "bit-slice", { device: isaac() })).toThrow(expect.objectContaining({ code: "XB5003", message: expect.stringMatching(/codebook entry 5 is 0\.123/) }));
  });
});

function isaac(): DeviceProfile {
  return getBuiltinProfile("isaac")!;
}

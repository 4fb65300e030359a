/**
 * @fileoverview place-truncation: the window of Diware et al. (eqs. 1–4) as a property over random formats, row tiles
 * that agree with the tile pass, activation formats with and without calibration data, the #trunc it writes on
 * lenet5, and Algorithm 1's control flow with a scripted evaluator (every candidate recorded, the threshold, the
 * choice, and the re-quantization of every layer at the chosen W_FL).
 */
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  createRng, getBuiltinProfile, getLevels, interpretModule, isXbarcError, resolveDeviceProfile,
  type DeviceProfile, type Module, type Op, type Tensor, type Value,
} from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import {
  ceilLog2, chooseActivationFraction, createFixedPoint, getActivationFormats, getFixedPointFormat, getRowTilesUsed, getStateSpace,
  getTruncationWindow, getWeightOps, registerTruncationEvaluator, runPipeline, type CalibrationSet, type TruncationEvaluator,
} from "@xbarc/passes";
import { fixturePath } from "../../../../test/helpers/paths.js";

const LENET5 = fixturePath("models", "trained", "lenet5.onnx");
const FIXED8 = `canonicalize,quantize{quantizer="fixed-point", bits=8}`;
const isaac = getBuiltinProfile("isaac")!;

function constant(m: Module, name: unknown): Value {
  const c = m.constants.find((v) => v.name === name);
  if (!c) throw new Error(`no constant @${String(name)}`);
  return c;
}

const truncOf = (op: Op): Record<string, any> => op.getAnnotation("trunc")!.data as Record<string, any>;

describe("getTruncationWindow", () => {
  const formats = fc.record({
    aBits: fc.integer({ min: 2, max: 16 }),
    wBits: fc.integer({ min: 2, max: 16 }),
    wFl: fc.integer({ min: -8, max: 32 }),
    rowsUsed: fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 5 }),
    keepBits: fc.integer({ min: 1, max: 24 }),
  });

  it("keeps a window inside every row tile's accumulator, and the widths add up to O_WL (random formats)", () => {
    fc.assert(
      fc.property(formats, (f) => {
        const w = getTruncationWindow(f);
        f.rowsUsed.forEach((r, t) => {
          // eq. 1, with log2 R rounded up for a tile that is not a power of two
          expect(w.oWl[t]).toBe(f.aBits + f.wBits + Math.ceil(Math.log2(r) - 1e-12));
          expect(w.keep[0]).toBeGreaterThanOrEqual(0);
          expect(w.keep[1]).toBeGreaterThan(w.keep[0]);
          expect(w.keep[1]).toBeLessThanOrEqual(w.oWl[t]!);
          expect(w.dH[t]).toBeGreaterThanOrEqual(0);
          expect(w.dL + w.oRwl + w.dH[t]!).toBe(w.oWl[t]);
        });
        expect(w.keep).toEqual([w.dL, w.dL + w.oRwl]);
      }),
      { numRuns: 1000, seed: 31 },
    );
  });

  it("is eq. 4 of Diware et al. (D_L = W_FL, D_H = W_WL + log2 R − W_FL) whenever that window fits", () => {
    fc.assert(
      fc.property(formats, (f) => {
        const w = getTruncationWindow({ ...f, keepBits: f.aBits });
        const narrowest = Math.min(...w.oWl);
        if (f.wFl < 0 || f.wFl > narrowest - f.aBits) {
          expect(w.clamped).toBe(true);
          return;
        }
        expect(w.clamped).toBe(false);
        expect(w.dL).toBe(f.wFl);
        expect(w.oRwl).toBe(f.aBits);
        f.rowsUsed.forEach((r, t) => expect(w.dH[t]).toBe(f.wBits + ceilLog2(r) - f.wFl));
      }),
      { numRuns: 1000, seed: 32 },
    );
  });
});

describe("getRowTilesUsed", () => {
  const devices: DeviceProfile[] = [
    isaac,
    resolveDeviceProfile({ extends: "isaac", name: "isaac-32", crossbar: { rows: 32, cols: 32 } }),
    getBuiltinProfile("halawani-16l-10x")!,
  ];
  for (const device of devices) {
    it(`gives the rows_used the tile pass records on lenet5 (${device.name}${device.mapping.bias === "row" ? ", bias row" : ""})`, () => {
      const m = loadOnnxFile(LENET5);
      runPipeline(m, `${FIXED8},tile`, { device });
      for (const op of getWeightOps(m)) {
        const shape = op.operands[1]!.type.shape;
        const rows = shape.slice(1).reduce((a, b) => a * b, 1);
        const tiles = op.getAnnotation("tiles")!.data as { rows_used: number[] };
        expect(getRowTilesUsed(rows, device.crossbar.rows, device.mapping.bias === "row")).toEqual(tiles.rows_used);
      }
    });
  }
});

describe("chooseActivationFraction", () => {
  it("picks the largest fraction length at which the range does not saturate", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.integer({ min: 2, max: 16 }), fc.boolean(), (maxAbs, bits, signed) => {
        const fl = chooseActivationFraction(maxAbs, bits, signed);
        const top = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
        // half-even rounding only matters at exact ties; the bound check allows the half
        expect(maxAbs * 2 ** fl).toBeLessThanOrEqual(top + 0.5);
        expect(maxAbs * 2 ** (fl + 1)).toBeGreaterThan(top - 0.5);
      }),
      { numRuns: 1000, seed: 33 },
    );
    // [0, 1] pixels: 1·2^8 = 256 does not fit 8 unsigned bits, 1·2^7 does; signed 8 bits hold 1 only at FL 6
    expect(chooseActivationFraction(1, 8, false)).toBe(7);
    expect(chooseActivationFraction(1, 8, true)).toBe(6);
    expect(chooseActivationFraction(0, 8, false)).toBe(8);
  });
});

/** `count` batches of seeded uniform [0, 1) images for lenet5's input, labelled by their batch index mod 10. */
function randomCalibration(m: Module, count: number): CalibrationSet {
  const input = m.inputs[0]!;
  const rng = createRng(5, "calibration");
  const batches = Array.from({ length: count }, () => {
    const n = input.type.shape.reduce((a, b) => a * b, 1);
    const t: Tensor = { type: input.type, data: Float32Array.from({ length: n }, () => rng.next()) };
    return new Map([[input.name, t]]);
  });
  return { name: "random[0:2]", batches, labels: Int32Array.from({ length: count }, (_, i) => i % 10), counts: new Array<number>(count).fill(1) };
}

describe("activation formats", () => {
  const options = { bits: 8, keepBits: 8, percentile: 100, rangeRule: "worst-case" as const, sigmas: 4, fitOutput: false };

  it("take the first layer's input as [0, 1] unsigned by default, and honour input_range from the module or the options", () => {
    const m = loadOnnxFile(LENET5);
    runPipeline(m, FIXED8, { device: isaac });
    const first = getWeightOps(m)[0]!;
    expect(getActivationFormats(m, [first], options).get(first)).toMatchObject({ bits: 8, fl: 7, signed: false, inRange: [0, 1], source: "input-range" });
    m.attrs.input_range = [-0.5, 2];
    expect(getActivationFormats(m, [first], options).get(first)).toMatchObject({ fl: 5, signed: true, inRange: [-0.5, 2] });
    expect(getActivationFormats(m, [first], { ...options, inputRange: [0, 3] }).get(first)).toMatchObject({ fl: 6, signed: false });
  });

  it("bound every layer's float output on inputs drawn from the input range, with the worst-case rule", () => {
    const m = loadOnnxFile(LENET5);
    runPipeline(m, FIXED8, { device: isaac });
    const ops = getWeightOps(m);
    const formats = getActivationFormats(m, ops, options);
    const calibration = randomCalibration(m, 3);
    for (const batch of calibration.batches) {
      interpretModule(m, batch, {
        observe: (op, [y]) => {
          const f = formats.get(op);
          if (!f) return;
          for (const v of y!.data as Float32Array) {
            expect(v).toBeGreaterThanOrEqual(f.outRange[0] - 1e-4);
            expect(v).toBeLessThanOrEqual(f.outRange[1] + 1e-4);
          }
        },
      });
    }
  });

  it("come from the measured ranges with calibration data, and fit the layer's output into O_RWL bits when asked", () => {
    const m = loadOnnxFile(LENET5);
    runPipeline(m, FIXED8, { device: isaac });
    const ops = getWeightOps(m);
    const calibration = randomCalibration(m, 2);
    const inputOnly = getActivationFormats(m, ops, options, calibration);
    const withOutput = getActivationFormats(m, ops, { ...options, fitOutput: true }, calibration);
    for (const op of ops) {
      const a = inputOnly.get(op)!;
      const b = withOutput.get(op)!;
      expect(a.source).toBe("calibration");
      expect(a.fl).toBe(chooseActivationFraction(Math.max(-a.inRange[0], a.inRange[1]), 8, a.signed));
      expect(b.fl).toBe(Math.min(a.fl, chooseActivationFraction(Math.max(-b.outRange[0], b.outRange[1]), 8, true)));
    }
    // the first layer sees the images themselves: [0, 1) uniform noise, unsigned
    expect(inputOnly.get(ops[0]!)!.inRange[0]).toBeGreaterThanOrEqual(0);
    expect(inputOnly.get(ops[0]!)!.inRange[1]).toBeLessThan(1);
  });
});

describe("place-truncation without calibration data", () => {
  it("records on every fixed-point layer of lenet5 the paper's window, the ADC and the formats, and re-slices the inputs", () => {
    const m = loadOnnxFile(LENET5);
    const result = runPipeline(m, `${FIXED8},assign-levels,tile,bit-slice,place-truncation`, { device: isaac, checkNoopChanges: true, roundTripEach: true });
    const step = result.steps.at(-1)!;
    expect(step.stats["truncated-layers"]).toBe(5);
    for (const op of getWeightOps(m)) {
      const t = truncOf(op);
      const format = getFixedPointFormat(m, op)!;
      const rows = (op.getAnnotation("tiles")!.data as { rows_used: number[] }).rows_used;
      expect(t).toMatchObject({ rule: "default", w_wl: 8, w_fl: format.fl, a_wl: 8, o_rwl: 8, d_l: format.fl, rows, ranges: "input-range" });
      expect(t.o_wl).toEqual(rows.map((r) => 16 + ceilLog2(r)));
      expect(t.d_h).toEqual(rows.map((r) => 8 + ceilLog2(r) - format.fl));
      expect(t.keep).toEqual([format.fl, format.fl + 8]);
      expect(t.out_fl).toBe(t.a_fl);
      // isaac: 1-bit DAC, 2-bit cells, 8-bit ADC → lossless for R ≤ 85 rows
      expect(t.adc_needed).toBe(Math.max(...rows.map((r: number) => Math.ceil(Math.log2(3 * r + 1)))));
      expect(t.lossless).toBe(Math.max(...rows) <= 85);
      expect(op.getAnnotation("slice")!.data).toMatchObject({ in_bits: 8, in_fl: t.a_fl, in_signed: t.a_signed, w_fl: format.fl });
    }
    expect(truncOf(getWeightOps(m)[0]!)).toMatchObject({ a_signed: false, bias: "digital" });
    expect(step.diagnostics.some((d) => /taken to lie in \[0, 1\]/.test(d.message))).toBe(true);
  });

  it("puts the bias on the bias row with an input the format holds on a bias-row device", () => {
    const m = loadOnnxFile(LENET5);
    runPipeline(m, `${FIXED8},tile,place-truncation`, { device: getBuiltinProfile("halawani-16l-10x")! });
    for (const op of getWeightOps(m)) {
      const t = truncOf(op);
      expect(t.bias).toBe("row");
      expect(t.bias_input).toBe(2 ** Math.max(0, Math.min(t.a_fl, t.a_signed ? 6 : 7)));
    }
  });

  it("refuses rule=algorithm-1 without calibration data and a bad input_range", () => {
    const m = loadOnnxFile(LENET5);
    runPipeline(m, FIXED8, { device: isaac });
    const fail = (pipeline: string): unknown => {
      try {
        runPipeline(m, pipeline, { device: isaac });
      } catch (e) {
        return e;
      }
      throw new Error("accepted");
    };
    expect(fail(`place-truncation{rule="algorithm-1"}`)).toMatchObject({ code: "XB5003", message: expect.stringMatching(/needs calibration images/) });
    expect(fail(`place-truncation{input_range=[1,0]}`)).toMatchObject({ code: "XB5002" });
  });
});

describe("place-truncation with Algorithm 1", () => {
  let restore: TruncationEvaluator | undefined;
  afterEach(() => {
    registerTruncationEvaluator(restore);
  });

  /** An evaluator that answers from tables by the W_FL every layer's #quant codebook now has, and logs its calls. */
  function scripted(fxp: Record<number, number>, hw: Record<number, number>, calls: string[]): TruncationEvaluator {
    const currentFl = (m: Module): number => {
      const fls = new Set(getWeightOps(m).map((op) => getFixedPointFormat(m, op)!.fl));
      const truncFls = new Set(getWeightOps(m).map((op) => truncOf(op).w_fl));
      // every layer is re-quantized at the candidate and #trunc says the same W_FL
      expect(fls.size).toBe(1);
      expect([...truncFls]).toEqual([...fls]);
      return [...fls][0]!;
    };
    return {
      floatAccuracy: () => (calls.push("float"), 0.9),
      fixedPointAccuracy: (m) => {
        const fl = currentFl(m);
        calls.push(`fxp ${fl}`);
        return fxp[fl]!;
      },
      hardwareAccuracy: (m, _c, _d, o) => {
        const fl = currentFl(m);
        calls.push(`hw ${fl} runs=${o.runs}`);
        return hw[fl]!;
      },
    };
  }

  function compile(pipeline: string, evaluator: TruncationEvaluator): { m: Module; origin: Map<Op, { fl: number; values: Float32Array }>; result: ReturnType<typeof runPipeline> } {
    restore = registerTruncationEvaluator(evaluator);
    const m = loadOnnxFile(LENET5);
    const device = getBuiltinProfile("rram-3bit")!;
    runPipeline(m, `${FIXED8},assign-levels,tile,bit-slice`, { device });
    const origin = new Map(getWeightOps(m).map((op) => {
      const q = op.getAnnotation("quant")!.data;
      const codebook = constant(m, q.codebook).data as Float32Array;
      const codes = constant(m, q.codes_of).data as Uint8Array;
      return [op, { fl: getFixedPointFormat(m, op)!.fl, values: Float32Array.from(codes, (c) => codebook[c]!) }];
    }));
    const result = runPipeline(m, pipeline, { device, calibration: randomCalibration(m, 2), checkNoopChanges: true, roundTripEach: true });
    return { m, origin, result };
  }

  it("records every candidate, measures hardware accuracy only above the threshold, and keeps the best", () => {
    const calls: string[] = [];
    const fxp = { 6: 0.88, 7: 0.89, 8: 0.86, 9: 0.8 };
    const hw = { 6: 0.5, 7: 0.7, 8: 0.75, 9: 0.99 };
    const { m, result } = compile(`place-truncation{w_fl_list=[6,7,8,9], mc_runs=2}`, scripted(fxp, hw, calls));
    // threshold = float − 5 points = 0.85: W_FL = 9 (fxp 0.80) is not measured on hardware, so 8 wins
    expect(calls).toEqual(["float", "fxp 6", "hw 6 runs=2", "fxp 7", "hw 7 runs=2", "fxp 8", "hw 8 runs=2", "fxp 9"]);
    for (const op of getWeightOps(m)) {
      const t = truncOf(op);
      expect(t).toMatchObject({ rule: "algorithm-1", w_fl: 8, float_acc: 0.9, mc_runs: 2, ranges: "random[0:2]" });
      expect(t.acc_threshold).toBeCloseTo(0.85, 12);
      expect(Object.keys(t.candidates)).toEqual(["6", "7", "8", "9"]);
      for (const fl of [6, 7, 8, 9]) {
        expect(t.candidates[fl].fxp_acc).toBe(fxp[fl as 6]);
        expect(t.candidates[fl].hw_acc).toBe(fl === 9 ? "below threshold" : hw[fl as 6]);
        expect(t.candidates[fl].d_h).toEqual(t.rows.map((r: number) => 8 + ceilLog2(r) - fl));
      }
    }
    expect(result.steps.at(-1)!.stats.candidates).toBe(4);
  });

  it("re-quantizes every layer at the chosen W_FL from quantize's values, consistently in #quant, #cells and #slice", () => {
    const { m, origin } = compile(`place-truncation{w_fl_list=[9], acc_threshold=0}`, scripted({ 9: 0.5 }, { 9: 0.4 }, []));
    const device = getBuiltinProfile("rram-3bit")!;
    const levels = getLevels(device.cell);
    for (const op of getWeightOps(m)) {
      const before = origin.get(op)!;
      const t = truncOf(op);
      expect(t).toMatchObject({ w_fl: 9, w_fl_quantize: before.fl });
      expect(getFixedPointFormat(m, op)).toEqual({ wl: 8, fl: 9 });
      const expected = createFixedPoint({ fl: 9 }).fit(before.values, { states: getStateSpace(device), bits: 8, random: () => 0 });
      const q = op.getAnnotation("quant")!.data;
      expect(Array.from(constant(m, q.codes_of).data as Uint8Array)).toEqual(Array.from(expected.codes));
      // assign-levels' rule still holds: the weight is what the cells realise
      const cells = op.getAnnotation("cells")!.data as Record<string, any>;
      const plus = constant(m, cells.plus).data as Uint8Array;
      const minus = constant(m, cells.minus).data as Uint8Array;
      const w = op.operands[1]!.data as Float32Array;
      for (let i = 0; i < w.length; i += 97) expect(w[i]).toBe(Math.fround(cells.scale * (levels[plus[i]!]! - levels[minus[i]!]!) + cells.offset));
      // the slices rebuild the new integers: code − 128
      const s = op.getAnnotation("slice")!.data as Record<string, any>;
      expect(s.w_fl).toBe(9);
      const pos = constant(m, s.slices_pos).data as Uint8Array;
      const neg = constant(m, s.slices_neg).data as Uint8Array;
      const n = w.length;
      for (let i = 0; i < n; i += 53) {
        let v = 0;
        for (let k = 0; k < s.slices; k++) v += 2 ** (3 * k) * (pos[k * n + i]! - neg[k * n + i]!);
        expect(v).toBe(expected.codes[i]! - 128);
      }
    }
  });

  it("keeps the best fixed-point candidate and warns when none reaches the threshold", () => {
    const { m, result } = compile(`place-truncation{w_fl_list=[7,8], acc_threshold=0.95}`, scripted({ 7: 0.6, 8: 0.7 }, {}, []));
    expect(truncOf(getWeightOps(m)[0]!).w_fl).toBe(8);
    expect(result.steps.at(-1)!.diagnostics.some((d) => d.severity === "warning" && /no W_FL reached/.test(d.message))).toBe(true);
  });

  it("refuses to run Algorithm 1 without a registered evaluator, and says how to register one", () => {
    restore = registerTruncationEvaluator(undefined);
    const m = loadOnnxFile(LENET5);
    runPipeline(m, FIXED8, { device: isaac });
    let error: unknown;
    try {
      runPipeline(m, "place-truncation", { device: isaac, calibration: randomCalibration(m, 1) });
    } catch (e) {
      error = e;
    }
    expect(isXbarcError(error) && error.code).toBe("XB5003");
    expect((error as { hint: string }).hint).toMatch(/registerTruncationEvaluator\(createTruncationEvaluator\(\)\)/);
  });
});

import { describe, expect, it } from "vitest";
import { interpretModule, isXbarcError, Module, tensorFromNumbers, verifyModule, type Tensor } from "@xbarc/ir";
import { expectClose, randomF32, rng } from "./helpers.js";

/** x [2,1,6,6] → conv 3x3 pad 1 (2 ch) → relu → maxpool 2x2 → flatten → linear (18 → 4). */
function buildNet(seed: number) {
  const rand = rng(seed);
  const w1 = randomF32(rand, 2 * 1 * 3 * 3);
  const b1 = randomF32(rand, 2);
  const w2 = randomF32(rand, 4 * 18);
  const b2 = randomF32(rand, 4);
  const m = new Module("tiny");
  const x = m.addInput("x", { dtype: "f32", shape: [2, 1, 6, 6] });
  const cw = m.addConstant("conv.weight", { dtype: "f32", shape: [2, 1, 3, 3] }, w1);
  const cb = m.addConstant("conv.bias", { dtype: "f32", shape: [2] }, b1);
  const fw = m.addConstant("fc.weight", { dtype: "f32", shape: [4, 18] }, w2);
  const fb = m.addConstant("fc.bias", { dtype: "f32", shape: [4] }, b2);
  const c = m.addOp("conv", [x, cw, cb], [{ name: "c", type: { dtype: "f32", shape: [2, 2, 6, 6] } }], { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 }, "Conv_0").results[0]!;
  const r = m.addOp("relu", [c], [{ name: "r", type: { dtype: "f32", shape: [2, 2, 6, 6] } }]).results[0]!;
  const p = m.addOp("maxpool", [r], [{ name: "p", type: { dtype: "f32", shape: [2, 2, 3, 3] } }], {
    kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil_mode: 0, storage_order: 0,
  }).results[0]!;
  const f = m.addOp("flatten", [p], [{ name: "f", type: { dtype: "f32", shape: [2, 18] } }], { axis: 1 }).results[0]!;
  const y = m.addOp("linear", [f, fw, fb], [{ name: "y", type: { dtype: "f32", shape: [2, 4] } }]).results[0]!;
  m.outputs.push(y);
  return { m, w1, b1, w2, b2 };
}

/** The same network written out as plain loops. */
function naiveNet(x: Float32Array, w1: Float32Array, b1: Float32Array, w2: Float32Array, b2: Float32Array): number[] {
  const out: number[] = [];
  for (let n = 0; n < 2; n++) {
    const conv = (ch: number, i: number, j: number): number => {
      let s = b1[ch]!;
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          const ii = i + a - 1;
          const jj = j + b - 1;
          if (ii >= 0 && ii < 6 && jj >= 0 && jj < 6) s += x[n * 36 + ii * 6 + jj]! * w1[ch * 9 + a * 3 + b]!;
        }
      }
      return Math.max(0, s);
    };
    const feats: number[] = [];
    for (let ch = 0; ch < 2; ch++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          feats.push(Math.max(conv(ch, 2 * i, 2 * j), conv(ch, 2 * i, 2 * j + 1), conv(ch, 2 * i + 1, 2 * j), conv(ch, 2 * i + 1, 2 * j + 1)));
        }
      }
    }
    for (let o = 0; o < 4; o++) {
      let s = b2[o]!;
      for (let k = 0; k < 18; k++) s += feats[k]! * w2[o * 18 + k]!;
      out.push(s);
    }
  }
  return out;
}

describe("interpretModule", () => {
  it("runs conv → relu → maxpool → flatten → linear like the same network written as loops", () => {
    const { m, w1, b1, w2, b2 } = buildNet(5);
    verifyModule(m);
    const x = randomF32(rng(6), 72);
    const out = interpretModule(m, { x: tensorFromNumbers("f32", [2, 1, 6, 6], x) });
    expect([...out.keys()]).toEqual(["y"]);
    expect(out.get("y")!.type).toEqual({ dtype: "f32", shape: [2, 4] });
    expectClose(out.get("y")!.data as Float32Array, naiveNet(x, w1, b1, w2, b2));
  });

  it("accepts inputs as a Map and reports every op's results to observe", () => {
    const { m } = buildNet(5);
    const seen: string[] = [];
    interpretModule(m, new Map([["x", tensorFromNumbers("f32", [2, 1, 6, 6], new Float32Array(72))]]), {
      observe: (op, results) => seen.push(`${op.opcode}:${results[0]!.type.shape.join("x")}`),
    });
    expect(seen).toEqual(["conv:2x2x6x6", "relu:2x2x6x6", "maxpool:2x2x3x3", "flatten:2x18", "linear:2x4"]);
  });

  it("rejects an input of the wrong shape with XB4002, naming the input and both types", () => {
    const { m } = buildNet(5);
    const run = (inputs: Record<string, Tensor>) => {
      try {
        interpretModule(m, inputs);
      } catch (e) {
        if (isXbarcError(e)) return e;
        throw e;
      }
      throw new Error("expected an error");
    };
    const wrong = run({ x: tensorFromNumbers("f32", [1, 1, 6, 6], new Float32Array(36)) });
    expect(wrong.code).toBe("XB4002");
    expect(wrong.message).toBe("input %x: expected f32[2,1,6,6], found f32[1,1,6,6]");
    expect(run({}).code).toBe("XB4002");
    expect(run({}).message).toMatch(/input %x is missing/);
    const extra = run({ x: tensorFromNumbers("f32", [2, 1, 6, 6], new Float32Array(72)), z: tensorFromNumbers("f32", [1], [0]) });
    expect(extra.message).toMatch(/"z" is not an input/);
  });

  it("reports a constant without data as XB6001 and says to pass the weights file", () => {
    const { m } = buildNet(5);
    m.constants[2]!.data = undefined;
    try {
      interpretModule(m, { x: tensorFromNumbers("f32", [2, 1, 6, 6], new Float32Array(72)) });
      expect.fail("expected XB6001");
    } catch (e) {
      expect(isXbarcError(e) && e.code).toBe("XB6001");
      expect((e as Error).message).toMatch(/@fc\.weight/);
      expect(isXbarcError(e) && e.hint).toMatch(/--weights/);
    }
  });

  it("returns a module output that is a constant or an input directly", () => {
    const m = new Module("pass");
    const x = m.addInput("x", { dtype: "i64", shape: [2] });
    const c = m.addConstant("c", { dtype: "f32", shape: [1] }, Float32Array.from([4]));
    m.outputs.push(x, c);
    const out = interpretModule(m, { x: { type: { dtype: "i64", shape: [2] }, data: BigInt64Array.from([1n, 2n]) } });
    expect(Array.from(out.get("x")!.data as BigInt64Array)).toEqual([1n, 2n]);
    expect(Array.from(out.get("c")!.data as Float32Array)).toEqual([4]);
  });
});

/**
 * @fileoverview Hand-built fixed-point modules for the reference's tests: #quant (fixed-point codebook and codes) and
 * #trunc written as place-truncation writes them, with random integer weights, so these tests do not depend on passes.
 * Also a naive integer reference written from the spec with plain loops and BigInt, sharing no code with runFixedPoint.
 */
import { Module, Rng, type Op, type TensorType, type Value } from "@xbarc/ir";

/** One layer's formats and window. */
export interface LayerFormats {
  wBits: number;
  wFl: number;
  aBits: number;
  aFl: number;
  aSigned: boolean;
  /** crossbar rows per row tile (bias row included when bias = "row") */
  rows: number[];
  dL: number;
  oRwl: number;
  bias: "digital" | "row" | "none";
  /** bias "row": input code on the bias row */
  biasInput?: number;
}

/** Random integers in [lo, hi]. */
function randomInts(rng: Rng, n: number, lo: number, hi: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor(rng.next() * (hi - lo + 1));
  return out;
}

/** Adds a fixed-point weight (constant with the quantized values, codebook, codes) and returns it with w_int. */
function addFixedPointWeight(m: Module, name: string, shape: number[], wBits: number, wFl: number, rng: Rng): { weight: Value; codebook: string; codes: string; wInt: Int32Array } {
  const half = 2 ** (wBits - 1);
  const n = shape.reduce((a, b) => a * b, 1);
  const wInt = randomInts(rng, n, -half, half - 1);
  const weight = m.addConstant(name, { dtype: "f32", shape }, Float32Array.from(wInt, (k) => k * 2 ** -wFl));
  const codebook = m.addConstant(`${name}.codebook`, { dtype: "f32", shape: [2 * half] }, Float32Array.from({ length: 2 * half }, (_, c) => (c - half) * 2 ** -wFl));
  const codes = m.addConstant(`${name}.codes`, { dtype: wBits <= 8 ? "u8" : "u16", shape }, wBits <= 8 ? Uint8Array.from(wInt, (k) => k + half) : Uint16Array.from(wInt, (k) => k + half));
  return { weight, codebook: codebook.name, codes: codes.name, wInt };
}

/** Annotates `op` as place-truncation would for these formats. */
export function annotate(op: Op, codebook: string, codes: string, f: LayerFormats): void {
  op.setAnnotation("quant", { scheme: "fixed-point", codebook, codes_of: codes });
  op.setAnnotation("trunc", {
    a_wl: f.aBits, a_fl: f.aFl, a_signed: f.aSigned, w_wl: f.wBits, w_fl: f.wFl, rows: f.rows, d_l: f.dL, o_rwl: f.oRwl,
    out_fl: f.aFl + f.wFl - f.dL, bias: f.bias, ...(f.biasInput !== undefined ? { bias_input: f.biasInput } : {}),
  });
}

/** A built test model: the module and what the naive reference needs. */
export interface TestModel {
  module: Module;
  /** per fixed-point layer, in op order */
  layers: { op: Op; wInt: Int32Array; bias: Float32Array | undefined; formats: LayerFormats }[];
}

/**
 * x[batch, k] → linear (k → n) → relu → linear (n → classes): two fixed-point layers with the given formats and
 * random weights and biases.
 */
export function buildMlp(seed: number, batch: number, k: number, n: number, classes: number, f1: LayerFormats, f2: LayerFormats): TestModel {
  const rng = new Rng(seed);
  const m = new Module("mlp");
  const x = m.addInput("x", { dtype: "f32", shape: [batch, k] });
  const w1 = addFixedPointWeight(m, "fc1.weight", [n, k], f1.wBits, f1.wFl, rng);
  const b1 = f1.bias === "none" ? undefined : Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 2);
  const b1v = b1 ? m.addConstant("fc1.bias", { dtype: "f32", shape: [n] }, b1) : null;
  const w2 = addFixedPointWeight(m, "fc2.weight", [classes, n], f2.wBits, f2.wFl, rng);
  const b2 = f2.bias === "none" ? undefined : Float32Array.from({ length: classes }, () => (rng.next() - 0.5) * 2);
  const b2v = b2 ? m.addConstant("fc2.bias", { dtype: "f32", shape: [classes] }, b2) : null;
  const h: TensorType = { dtype: "f32", shape: [batch, n] };
  const op1 = m.addOp("linear", [x, w1.weight, b1v], [{ name: "h", type: h }]);
  const relu = m.addOp("relu", [op1.results[0]!], [{ name: "r", type: h }]);
  const op2 = m.addOp("linear", [relu.results[0]!, w2.weight, b2v], [{ name: "y", type: { dtype: "f32", shape: [batch, classes] } }]);
  m.outputs.push(op2.results[0]!);
  annotate(op1, w1.codebook, w1.codes, f1);
  annotate(op2, w2.codebook, w2.codes, f2);
  return { module: m, layers: [{ op: op1, wInt: w1.wInt, bias: b1, formats: f1 }, { op: op2, wInt: w2.wInt, bias: b2, formats: f2 }] };
}

/** x[batch, cin, h, w] → conv (k×k, pad, stride, group) → relu: one fixed-point conv layer. */
export function buildConv(seed: number, shape: [number, number, number, number], cout: number, kernel: number, pad: number, stride: number, group: number, f: LayerFormats): TestModel {
  const rng = new Rng(seed);
  const m = new Module("conv");
  const [batch, cin, hh, ww] = shape;
  const x = m.addInput("x", { dtype: "f32", shape });
  const w = addFixedPointWeight(m, "conv.weight", [cout, cin / group, kernel, kernel], f.wBits, f.wFl, rng);
  const bias = f.bias === "none" ? undefined : Float32Array.from({ length: cout }, () => (rng.next() - 0.5) * 2);
  const bv = bias ? m.addConstant("conv.bias", { dtype: "f32", shape: [cout] }, bias) : null;
  const oh = Math.floor((hh + 2 * pad - kernel) / stride) + 1;
  const ow = Math.floor((ww + 2 * pad - kernel) / stride) + 1;
  const type: TensorType = { dtype: "f32", shape: [batch, cout, oh, ow] };
  const op = m.addOp("conv", [x, w.weight, bv], [{ name: "y", type }], { strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group });
  const relu = m.addOp("relu", [op.results[0]!], [{ name: "r", type }]);
  m.outputs.push(relu.results[0]!);
  annotate(op, w.codebook, w.codes, f);
  return { module: m, layers: [{ op, wInt: w.wInt, bias, formats: f }] };
}

// ---------------------------------------------------------------------------------------------------------------
// The naive reference: the crossbar spec's arithmetic in the most literal form

/** Round half to even, by comparing the fraction with one half. */
export function naiveRound(y: number): number {
  const f = Math.floor(y);
  const d = y - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r + 0;
}

/** x_int per the spec, element by element. */
export function naiveQuantize(x: number, f: LayerFormats): number {
  const lo = f.aSigned ? -(2 ** (f.aBits - 1)) : 0;
  const hi = f.aSigned ? 2 ** (f.aBits - 1) - 1 : 2 ** f.aBits - 1;
  return Math.min(hi, Math.max(lo, naiveRound(x * 2 ** f.aFl)));
}

/** The kept value of one tile accumulator, in BigInt: arithmetic shift then two's-complement wrap. */
export function naiveWindow(acc: bigint, f: LayerFormats, full: boolean): bigint {
  return full ? acc : BigInt.asIntN(f.oRwl, acc >> BigInt(f.dL));
}

/** The row tiles' [start, end) weight rows: rows minus the bias row in the first tile. */
export function naiveTiles(f: LayerFormats): [number, number][] {
  const out: [number, number][] = [];
  let r0 = 0;
  f.rows.forEach((r, t) => {
    const n = r - (t === 0 && f.bias === "row" ? 1 : 0);
    out.push([r0, r0 + n]);
    r0 += n;
  });
  return out;
}

/**
 * One linear layer per the spec: y[b, c] = Σ_tiles window(Σ_{r in tile} x_int·w_int (+ bias row)) + digital bias,
 * as integers of fraction length out_fl (A_FL + W_FL, or minus D_L with the window).
 */
export function naiveLinear(x: Float64Array, batch: number, k: number, wInt: Int32Array, n: number, bias: Float32Array | undefined, f: LayerFormats, full: boolean): { y: bigint[]; fl: number } {
  const fl = f.aFl + f.wFl - (full ? 0 : f.dL);
  const y: bigint[] = [];
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < n; c++) {
      let sum = 0n;
      naiveTiles(f).forEach(([r0, r1], t) => {
        let acc = 0n;
        for (let r = r0; r < r1; r++) acc += BigInt(naiveQuantize(x[b * k + r]!, f)) * BigInt(wInt[c * k + r]!);
        if (t === 0 && f.bias === "row" && bias) {
          const e = Math.log2(f.biasInput!);
          const cell = Math.min(2 ** (f.wBits - 1) - 1, Math.max(-(2 ** (f.wBits - 1)), naiveRound(bias[c]! * 2 ** (f.aFl + f.wFl - e))));
          acc += BigInt(f.biasInput!) * BigInt(cell);
        }
        sum += naiveWindow(acc, f, full);
      });
      if (f.bias === "digital" && bias) sum += BigInt(naiveRound(bias[c]! * 2 ** fl));
      y.push(sum);
    }
  }
  return { y, fl };
}

/** One conv layer (square kernel, symmetric pads, groups) per the spec, rows in im2col order (c, kh, kw). */
export function naiveConv(x: Float64Array, shape: readonly number[], wInt: Int32Array, cout: number, kernel: number, pad: number, stride: number, group: number, bias: Float32Array | undefined, f: LayerFormats, full: boolean): { y: bigint[]; fl: number } {
  const [batch, cin, hh, ww] = shape as [number, number, number, number];
  const cg = cin / group;
  const mg = cout / group;
  const oh = Math.floor((hh + 2 * pad - kernel) / stride) + 1;
  const ow = Math.floor((ww + 2 * pad - kernel) / stride) + 1;
  const fl = f.aFl + f.wFl - (full ? 0 : f.dL);
  const rowLength = cg * kernel * kernel;
  const y: bigint[] = [];
  for (let b = 0; b < batch; b++) {
    for (let m = 0; m < cout; m++) {
      const g = Math.floor(m / mg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let sum = 0n;
          for (const [r0, r1] of naiveTiles(f)) {
            let acc = 0n;
            for (let r = r0; r < r1; r++) {
              const c = Math.floor(r / (kernel * kernel));
              const ky = Math.floor((r % (kernel * kernel)) / kernel);
              const kx = r % kernel;
              const iy = oy * stride + ky - pad;
              const ix = ox * stride + kx - pad;
              const xv = iy < 0 || iy >= hh || ix < 0 || ix >= ww ? 0 : x[((b * cin + g * cg + c) * hh + iy) * ww + ix]!;
              acc += BigInt(naiveQuantize(xv, f)) * BigInt(wInt[m * rowLength + r]!);
            }
            sum += naiveWindow(acc, f, full);
          }
          if (f.bias === "digital" && bias) sum += BigInt(naiveRound(bias[m]! * 2 ** fl));
          y.push(sum);
        }
      }
    }
  }
  return { y, fl };
}

/** Random inputs in [lo, hi), as f32. */
export function randomInput(seed: number, n: number, lo: number, hi: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

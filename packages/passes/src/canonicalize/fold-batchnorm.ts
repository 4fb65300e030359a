/**
 * @fileoverview canonicalize step 4: BatchNorm folding. Inference BatchNorm (training_mode=0) is a per-channel
 * affine map, so after a conv/linear/gemm it folds into the weights and bias (Jacob et al., CVPR 2018, §3.2
 * "batch normalization folding"):
 *   s = scale / sqrt(var + epsilon),  w' = w · s (per output channel),  b' = (b − mean) · s + bias.
 */
import { isFloatDType, numel, type Op } from "@xbarc/ir";
import { biasNameFor, constTensor, makeTensor, readFloats, type Rewriter } from "./rewriter.js";

/** Per-channel factor s and shift t of y = s·x + t, from batchnorm's operands; undefined if any is not a constant. */
function affineOf(bn: Op, channels: number): { s: Float64Array; t: Float64Array } | undefined {
  const [, scaleV, biasV, meanV, varV] = bn.operands;
  const ts = [scaleV, biasV, meanV, varV].map(constTensor);
  if (ts.some((t) => t === undefined || numel(t.type.shape) !== channels)) return undefined;
  const [scale, bias, mean, variance] = ts.map((t) => readFloats(t!)) as [Float64Array, Float64Array, Float64Array, Float64Array];
  const eps = typeof bn.attrs.epsilon === "number" ? bn.attrs.epsilon : 1e-5;
  const s = new Float64Array(channels);
  const t = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    s[c] = scale[c]! / Math.sqrt(variance[c]! + eps);
    t[c] = bias[c]! - mean[c]! * s[c]!;
  }
  return { s, t };
}

/** conv / linear: weights are out-channel-major, so channel c owns one contiguous block of the weight. */
function foldIntoChannelMajor(r: Rewriter, producer: Op, s: Float64Array, t: Float64Array): boolean {
  const w = constTensor(producer.operands[1]);
  const bOperand = producer.operands[2] ?? null;
  const b = bOperand ? constTensor(bOperand) : undefined;
  if (!w || (bOperand && !b)) return false;
  const channels = s.length;
  const wv = readFloats(w);
  const block = wv.length / channels;
  for (let c = 0; c < channels; c++) for (let j = 0; j < block; j++) wv[c * block + j]! *= s[c]!;
  const bv = b ? readFloats(b) : new Float64Array(channels);
  for (let c = 0; c < channels; c++) bv[c] = bv[c]! * s[c]! + t[c]!;
  const weight = producer.operands[1]!;
  r.setConstantOperand(producer, 1, makeTensor(w.type, wv), weight.name);
  r.setConstantOperand(producer, 2, makeTensor({ dtype: w.type.dtype, shape: [channels] }, bv), biasNameFor(weight, producer.results[0]!.name));
  return true;
}

/** gemm: Y = alpha·A'·B' + beta·C; column n of B' scales by s[n]; C becomes s·(beta·C − mean) + bias with beta = 1. */
function foldIntoGemm(r: Rewriter, gemm: Op, s: Float64Array, t: Float64Array): boolean {
  const B = constTensor(gemm.operands[1]);
  const cOperand = gemm.operands[2] ?? null;
  const C = cOperand ? constTensor(cOperand) : undefined;
  if (!B || (cOperand && !C)) return false;
  const [M, N] = gemm.results[0]!.type.shape as [number, number];
  const transB = gemm.attrs.trans_b === 1;
  const beta = typeof gemm.attrs.beta === "number" ? gemm.attrs.beta : 1;
  const bv = readFloats(B);
  // B is [N,K] when trans_b, else [K,N]
  const K = bv.length / N;
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bv[transB ? n * K + k : k * N + n]! *= s[n]!;
  // C broadcasts unidirectionally to [M,N]; keep it [N] unless it varies along M
  const cRank = C ? C.type.shape.length : 0;
  const cRows = C && cRank === 2 ? C.type.shape[0]! : 1;
  const cCols = C && cRank >= 1 ? C.type.shape[cRank - 1]! : 1;
  const cv = C ? readFloats(C) : new Float64Array(1);
  const rows = cRows > 1 ? M : 1;
  const out = new Float64Array(rows * N);
  for (let m = 0; m < rows; m++) {
    for (let n = 0; n < N; n++) {
      const c = C ? beta * cv[(cRows > 1 ? m : 0) * cCols + (cCols > 1 ? n : 0)]! : 0;
      out[m * N + n] = c * s[n]! + t[n]!;
    }
  }
  const weight = gemm.operands[1]!;
  r.setConstantOperand(gemm, 1, makeTensor(B.type, bv), weight.name);
  r.setConstantOperand(gemm, 2, makeTensor({ dtype: B.type.dtype, shape: rows > 1 ? [M, N] : [N] }, out), biasNameFor(weight, gemm.results[0]!.name));
  gemm.attrs = { ...gemm.attrs, beta: 1 };
  return true;
}

/** Folds every inference-mode batchnorm that follows a conv, linear or gemm it alone reads. Returns the number folded. */
export function foldBatchnorms(r: Rewriter): number {
  let count = 0;
  for (const bn of r.liveOps()) {
    if (r.isRemoved(bn) || bn.opcode !== "batchnorm" || bn.results.length !== 1) continue;
    // training mode normalises with the statistics of each batch, so it is not a fixed affine map
    if (bn.attrs.training_mode !== undefined && bn.attrs.training_mode !== 0) continue;
    const x = bn.operands[0];
    const producer = x?.def;
    if (!x || x.kind !== "result" || !producer || r.isRemoved(producer) || !r.isSoleUse(x, bn)) continue;
    if (!isFloatDType(x.type.dtype) || x.type.shape.length < 2) continue;
    // batchnorm normalises axis 1: for linear/gemm that is the output feature axis only when the result is 2-D
    const isConv = producer.opcode === "conv";
    const isDense = (producer.opcode === "linear" || producer.opcode === "gemm") && x.type.shape.length === 2;
    if (!isConv && !isDense) continue;
    const affine = affineOf(bn, x.type.shape[1]!);
    if (!affine) continue;
    const folded = producer.opcode === "gemm" ? foldIntoGemm(r, producer, affine.s, affine.t) : foldIntoChannelMajor(r, producer, affine.s, affine.t);
    if (!folded) continue;
    // the producer now computes the batchnorm's result (same name, same readers)
    const y = bn.results[0]!;
    producer.results[0] = y;
    y.def = producer;
    r.removeOp(bn);
    r.stats.add("folded-batchnorms");
    count++;
  }
  return count;
}

/**
 * @fileoverview canonicalize step 5b: `add` (or `sub`) of a per-output-channel constant right after a linear or conv
 * folds into that op's bias. CNTK exports Conv+Add and MatMul+Add (the Model Zoo MNIST model); after this they are
 * conv-with-bias and linear-with-bias, which map onto one crossbar layer each.
 */
import { isFloatDType, sameType, type Op } from "@xbarc/ir";
import { biasNameFor, constTensor, makeTensor, readFloats, type Rewriter } from "./rewriter.js";

/**
 * The constant `c` as a per-channel vector of length `channels`, or undefined when `c` varies along any other axis
 * of `resultShape` (right-aligned numpy broadcasting; `channelAxis` indexes `resultShape`).
 */
function perChannel(cShape: readonly number[], cv: Float64Array, resultShape: readonly number[], channelAxis: number): Float64Array | undefined {
  const rank = resultShape.length;
  if (cShape.length > rank) return undefined;
  const channels = resultShape[channelAxis]!;
  let varies = false;
  for (let i = 0; i < cShape.length; i++) {
    const axis = rank - cShape.length + i;
    const d = cShape[i]!;
    if (d === 1) continue;
    if (axis !== channelAxis || d !== channels) return undefined;
    varies = true;
  }
  const out = new Float64Array(channels);
  for (let ch = 0; ch < channels; ch++) out[ch] = cv[varies ? ch : 0]!;
  return out;
}

/** Folds `producer_result ± constant` into the producer's bias when the producer's result has no other reader. */
function tryFold(r: Rewriter, add: Op, resultIndex: number, sign: 1 | -1): boolean {
  const p = add.operands[resultIndex];
  const cValue = add.operands[1 - resultIndex];
  const producer = p?.def;
  const c = constTensor(cValue);
  const y = add.results[0];
  if (!p || !c || !y || p.kind !== "result" || !producer || r.isRemoved(producer)) return false;
  if (producer.opcode !== "linear" && producer.opcode !== "conv") return false;
  // the add must not broadcast the producer's result to something bigger, and p must feed only this add
  if (!sameType(p.type, y.type) || !isFloatDType(y.type.dtype) || !r.isSoleUse(p, add)) return false;
  const channelAxis = producer.opcode === "linear" ? p.type.shape.length - 1 : 1;
  if (channelAxis < 0 || channelAxis >= p.type.shape.length) return false;
  const vec = perChannel(c.type.shape, readFloats(c), p.type.shape, channelAxis);
  if (!vec) return false;
  const bOperand = producer.operands[2] ?? null;
  const b = bOperand ? constTensor(bOperand) : undefined;
  if (bOperand && !b) return false;
  const weight = producer.operands[1];
  if (!weight) return false;
  const bv = b ? readFloats(b) : new Float64Array(vec.length);
  if (bv.length !== vec.length) return false;
  for (let i = 0; i < vec.length; i++) bv[i] = bv[i]! + sign * vec[i]!;
  const newBias = makeTensor({ dtype: y.type.dtype, shape: [vec.length] }, bv);
  if (!bOperand && r.isSoleUse(cValue!, add)) {
    // the added constant becomes the bias and keeps its name (CNTK's Parameter names survive)
    cValue!.type = newBias.type;
    cValue!.data = newBias.data;
    while (producer.operands.length < 3) producer.operands.push(null);
    producer.operands[2] = cValue!;
    r.invalidate();
  } else {
    r.setConstantOperand(producer, 2, newBias, biasNameFor(weight, p.name));
  }
  // the producer now computes the add's result (same name, same readers); it already sits before them
  producer.results[0] = y;
  y.def = producer;
  r.removeOp(add);
  return true;
}

/** Folds bias adds into linear/conv. Returns the number folded. */
export function foldBiasAdds(r: Rewriter): number {
  let count = 0;
  for (const op of r.liveOps()) {
    if (r.isRemoved(op) || op.results.length !== 1) continue;
    // add is commutative; sub only folds `result − constant`
    const folded =
      op.opcode === "add" ? tryFold(r, op, 0, 1) || tryFold(r, op, 1, 1) : op.opcode === "sub" ? tryFold(r, op, 0, -1) : false;
    if (folded) {
      r.stats.add("folded-bias-adds");
      count++;
    }
  }
  return count;
}

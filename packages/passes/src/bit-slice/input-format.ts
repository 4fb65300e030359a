/**
 * @fileoverview A provisional input format for a weight layer before place-truncation fixes it: whether the layer's
 * input is provably non-negative (so fed unsigned), found by walking back through ops that keep the sign.
 */
import { readNumbers, type Op, type Value } from "@xbarc/ir";

/** Ops whose result is ≥ 0 whatever the input. */
const NON_NEGATIVE_OPS = new Set(["relu", "sigmoid", "softmax"]);
/** Ops whose result is ≥ 0 when their first operand is (they select, average, reorder or copy its elements). */
const SIGN_KEEPING_OPS = new Set(["maxpool", "avgpool", "globalavgpool", "flatten", "reshape", "transpose", "squeeze", "unsqueeze", "identity", "dropout", "slice", "gather"]);

/** The smallest element of a constant operand, or undefined when it has no data. */
function minOf(v: Value | null | undefined): number | undefined {
  if (!v || v.kind !== "const" || v.data === undefined) return undefined;
  const xs = readNumbers({ type: v.type, data: v.data });
  let m = Infinity;
  for (const x of xs) m = Math.min(m, x);
  return m;
}

/**
 * True when `value` is ≥ 0 for every model input: it comes from relu/sigmoid/softmax, a clip with min ≥ 0, or
 * ops that keep the sign of such a value (pooling, reshapes, zero padding, concat of non-negative parts).
 * Model inputs count as signed: their range is known only from preprocessing, which place-truncation reads.
 */
export function isNonNegative(value: Value, depth = 0): boolean {
  const op: Op | undefined = value.def;
  // a chain of plumbing this deep is not worth following: assume signed (safe, costs one bit)
  if (!op || depth > 64) return false;
  const first = op.operands[0];
  if (NON_NEGATIVE_OPS.has(op.opcode)) return true;
  if (op.opcode === "clip") {
    const lo = minOf(op.operands[1]);
    return (lo !== undefined && lo >= 0) || (!!first && isNonNegative(first, depth + 1));
  }
  if (op.opcode === "pad") {
    const mode = op.attrs.mode ?? "constant";
    const fill = op.operands[2] ? minOf(op.operands[2]) : 0;
    return !!first && isNonNegative(first, depth + 1) && (mode !== "constant" || (fill !== undefined && fill >= 0));
  }
  if (op.opcode === "concat") return op.operands.every((v) => !!v && isNonNegative(v, depth + 1));
  if (SIGN_KEEPING_OPS.has(op.opcode)) return !!first && isNonNegative(first, depth + 1);
  return false;
}

/**
 * @fileoverview canonicalize step 5a: Gemm/MatMul with a constant right operand become `linear`, whose weight is
 * out-channel-major [N, K] like conv's (crossbar rows = K, columns = N).
 *   gemm:   Y = alpha·A'·B' + beta·C  →  w = alpha·(trans_b ? B : Bᵀ),  b = beta·C when C is constant along M
 *   matmul: Y = X·B, B [K, N]          →  w = Bᵀ
 */
import { Op, Value, isFloatDType, withDefaults } from "@xbarc/ir";
import { biasNameFor, constTensor, makeTensor, readFloats, type Rewriter } from "./rewriter.js";

/** w[n,k] from B ([K,N], or [N,K] when `transposed`), times `alpha`. */
function weightFrom(bv: Float64Array, K: number, N: number, transposed: boolean, alpha: number): Float64Array {
  const w = new Float64Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) w[n * K + k] = alpha * (transposed ? bv[n * K + k]! : bv[k * N + n]!);
  return w;
}

function isIdentityCopy(bv: Float64Array, w: Float64Array): boolean {
  for (let i = 0; i < w.length; i++) if (bv[i] !== w[i]) return false;
  return true;
}

/** Rewrites one gemm with a constant B. Returns false when B (or a present C) is not usable. */
function gemmToLinear(r: Rewriter, gemm: Op): boolean {
  const [a, bValue, cValue] = [gemm.operands[0], gemm.operands[1], gemm.operands[2] ?? null];
  const B = constTensor(bValue);
  const y = gemm.results[0];
  if (!a || !B || !y || B.type.shape.length !== 2 || !isFloatDType(B.type.dtype)) return false;
  const C = cValue ? constTensor(cValue) : undefined;
  const alpha = typeof gemm.attrs.alpha === "number" ? gemm.attrs.alpha : 1;
  const beta = typeof gemm.attrs.beta === "number" ? gemm.attrs.beta : 1;
  const transA = gemm.attrs.trans_a === 1;
  const transB = gemm.attrs.trans_b === 1;
  const [M, N] = y.type.shape as [number, number];
  const K = B.type.shape[transB ? 1 : 0]!;
  const dtype = B.type.dtype;

  // weight: keep B's constant (and its name) when only gemm reads it; PyTorch's trans_b=1, alpha=1 needs no new data
  const bv = readFloats(B);
  const wv = weightFrom(bv, K, N, transB, alpha);
  const weight = isIdentityCopy(bv, wv) && B.type.shape[0] === N
    ? bValue!
    : r.setConstantOperand(gemm, 1, makeTensor({ dtype, shape: [N, K] }, wv), bValue!.name);

  // bias: C folds when it is the same for every row m (C is [], [1], [N], [1,N] or [M,N] with M = 1)
  let bias: Value | null = null;
  let addend: Value | null = null; // what still has to be added after the linear (C varying along M, or C not constant)
  let scaleAddend = 1;
  if (cValue && beta !== 0) {
    const cRank = C ? C.type.shape.length : cValue.type.shape.length;
    const cRows = cRank === 2 ? cValue.type.shape[0]! : 1;
    const cCols = cRank >= 1 ? cValue.type.shape[cRank - 1]! : 1;
    if (C && (cRows === 1 || M === 1)) {
      const cv = readFloats(C);
      const b = new Float64Array(N);
      for (let n = 0; n < N; n++) b[n] = beta * cv[cCols > 1 ? n : 0]!;
      bias = isIdentityCopy(cv, b) && sameDims(C.type.shape, [N])
        ? cValue
        : r.setConstantOperand(gemm, 2, makeTensor({ dtype, shape: [N] }, b), biasNameFor(weight, y.name));
    } else if (C) {
      const cv = readFloats(C);
      addend = beta === 1 ? cValue : r.setConstantOperand(gemm, 2, makeTensor(C.type, cv.map((v) => beta * v)), cValue.name);
    } else {
      addend = cValue;
      scaleAddend = beta;
    }
  }

  // A' = Aᵀ needs an explicit transpose: linear reads x as [..., K]
  let x = a;
  if (transA) {
    const t = new Op("transpose", [a], [newResult(r, `${a.name}.t`, { dtype: a.type.dtype, shape: [a.type.shape[1]!, a.type.shape[0]!] })],
      withDefaults("transpose", { perm: [1, 0] }), gemm.loc);
    r.insertBefore(gemm, t);
    x = t.results[0]!;
  }
  const linearOut = addend ? newResult(r, `${y.name}.linear`, y.type) : y;
  const linear = new Op("linear", bias ? [x, weight, bias] : [x, weight], [linearOut], withDefaults("linear", {}), gemm.loc);
  linear.annotations = gemm.annotations;
  r.replaceOp(gemm, linear);
  if (addend) {
    let c = addend;
    if (scaleAddend !== 1) {
      const betaConst = r.newConstant(`${y.name}.beta`, makeTensor({ dtype, shape: [] }, [scaleAddend]));
      const mul = new Op("mul", [addend, betaConst], [newResult(r, `${y.name}.c`, addend.type)], {}, gemm.loc);
      insertAfter(r, linear, mul);
      c = mul.results[0]!;
      const add = new Op("add", [linearOut, c], [y], {}, gemm.loc);
      insertAfter(r, mul, add);
    } else {
      insertAfter(r, linear, new Op("add", [linearOut, c], [y], {}, gemm.loc));
    }
  }
  r.invalidate();
  return true;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A new op result value with a fresh name; insert its defining op before asking for the next fresh name. */
function newResult(r: Rewriter, base: string, type: Value["type"]): Value {
  return new Value(r.module.freshName(base), { dtype: type.dtype, shape: [...type.shape] }, "result");
}

function insertAfter(r: Rewriter, anchor: Op, op: Op): void {
  const i = r.module.ops.indexOf(anchor);
  r.module.ops.splice(i + 1, 0, op);
  r.invalidate();
}

/** Rewrites one matmul whose right operand is a constant matrix [K, N]. */
function matmulToLinear(r: Rewriter, matmul: Op): boolean {
  const [x, bValue] = matmul.operands;
  const B = constTensor(bValue);
  const y = matmul.results[0];
  if (!x || !B || !y || B.type.shape.length !== 2 || x.type.shape.length < 1 || !isFloatDType(B.type.dtype)) return false;
  const [K, N] = B.type.shape as [number, number];
  const weight = r.setConstantOperand(matmul, 1, makeTensor({ dtype: B.type.dtype, shape: [N, K] }, weightFrom(readFloats(B), K, N, false, 1)), bValue!.name);
  const linear = new Op("linear", [x, weight], [y], withDefaults("linear", {}), matmul.loc);
  linear.annotations = matmul.annotations;
  r.replaceOp(matmul, linear);
  return true;
}

/** Converts gemm/matmul with constant weights to linear. Returns the number converted. */
export function convertToLinear(r: Rewriter): number {
  let count = 0;
  for (const op of r.liveOps()) {
    if (r.isRemoved(op)) continue;
    if (op.opcode === "gemm" && gemmToLinear(r, op)) {
      r.stats.add("gemm-to-linear");
      count++;
    } else if (op.opcode === "matmul" && matmulToLinear(r, op)) {
      r.stats.add("matmul-to-linear");
      count++;
    }
  }
  return count;
}

/** @fileoverview Gemm (C optional from opset 11; the opset<7 `broadcast` flag means what unidirectional broadcasting does) and MatMul. */
import type { OpImporter } from "../node-context.js";

export const importGemm: OpImporter = (n) => {
  const a = n.required(0, "A");
  const b = n.required(1, "B");
  const c = n.opset < 11 ? n.required(2, "C") : n.input(2);
  const transA = n.attrs.int("transA", 0);
  const transB = n.attrs.int("transB", 0);
  for (const [name, v] of [["transA", transA], ["transB", transB]] as const) {
    if (v !== 0 && v !== 1) throw n.attrs.error(name, `is ${v}, expected 0 or 1`, "fix the attribute in the model");
  }
  n.emit("gemm", [a, b, c], {
    alpha: n.attrs.float("alpha", 1),
    beta: n.attrs.float("beta", 1),
    trans_a: transA,
    trans_b: transB,
  });
};

export const importMatMul: OpImporter = (n) => {
  n.emit("matmul", [n.required(0, "A"), n.required(1, "B")], {});
};

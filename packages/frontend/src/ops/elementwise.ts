/** @fileoverview Add/Sub/Mul/Div (with the opset<7 `broadcast`/`axis` form), Relu, Sigmoid, Tanh, LeakyRelu, Identity. */
import type { OpImporter } from "../node-context.js";

/** Binary arithmetic with numpy broadcasting; opset<7 `broadcast=1, axis=k` aligns B at axis k, which we rewrite as a reshape. */
export function importBinary(opcode: "add" | "sub" | "mul" | "div"): OpImporter {
  return (n) => {
    const a = n.required(0, "A");
    let b = n.required(1, "B");
    if (n.opset < 7 && n.attrs.int("broadcast", 0) === 1) {
      const ra = a.type.shape.length;
      const rb = b.type.shape.length;
      const axis = n.attrs.int("axis", ra - rb);
      const start = axis < 0 ? axis + ra : axis;
      if (start < 0 || start + rb > ra) {
        throw n.attrs.error("axis", `is ${axis}, but B (rank ${rb}) does not fit into A (rank ${ra}) from there`,
          "legacy broadcasting places B's dims at A's dims axis..axis+rank(B)-1");
      }
      const trailing = ra - start - rb;
      if (trailing > 0) {
        // legacy broadcasting aligns B at `axis`; numpy aligns trailing dims, so append size-1 dims to B
        const target = [...b.type.shape, ...new Array<number>(trailing).fill(1)];
        const shape = n.intsConstant("broadcast_shape", target);
        [b] = n.emit("reshape", [b, shape], { allowzero: 0 }, [n.fresh(`${b.name}.aligned`)]);
      }
    }
    n.emit(opcode, [a, b!], {});
  };
}

/** An elementwise op with one operand and no attributes. */
export function importUnary(opcode: "relu" | "sigmoid" | "tanh" | "identity"): OpImporter {
  return (n) => {
    n.emit(opcode, [n.required(0, "X")], {});
  };
}

export const importLeakyRelu: OpImporter = (n) => {
  n.emit("leakyrelu", [n.required(0, "X")], { alpha: n.attrs.float("alpha", 0.01) });
};

/**
 * @fileoverview Softmax and LogSoftmax. Before opset 13 they "coerce the input to 2-D" at `axis` (default 1) and
 * normalise over everything after it; we lower that to reshape → softmax(last axis) → reshape.
 */
import type { OpImporter } from "../node-context.js";

export function importSoftmax(opcode: "softmax" | "logsoftmax"): OpImporter {
  return (n) => {
    const x = n.required(0, "input");
    const shape = x.type.shape;
    const rank = shape.length;
    if (n.opset >= 13) {
      const axis = n.attrs.int("axis", -1);
      if (axis < -rank || axis >= rank) throw n.attrs.error("axis", `is ${axis}, but the input has rank ${rank}`, "fix the attribute in the model");
      n.emit(opcode, [x], { axis });
      return;
    }
    const given = n.attrs.int("axis", 1);
    const axis = given < 0 ? given + rank : given;
    if (axis < 0 || axis > rank || (rank > 0 && axis === rank)) {
      throw n.attrs.error("axis", `is ${given}, but the input has rank ${rank}`, "fix the attribute in the model");
    }
    if (axis === rank - 1) {
      // the 2-D coercion keeps the last axis alone: identical to the opset-13 form
      n.emit(opcode, [x], { axis: -1 });
      return;
    }
    const out = n.outputs[0]!;
    let outer = 1;
    for (let i = 0; i < axis; i++) outer *= shape[i]!;
    let inner = 1;
    for (let i = axis; i < rank; i++) inner *= shape[i]!;
    const [flat] = n.emit("reshape", [x, n.intsConstant("shape_2d", [outer, inner])], { allowzero: 0 }, [n.fresh(`${out}.2d`)]);
    const [normed] = n.emit(opcode, [flat!], { axis: -1 }, [n.fresh(`${out}.2d_${opcode}`)]);
    n.emit("reshape", [normed!, n.intsConstant("shape", shape)], { allowzero: 0 }, [out]);
  };
}

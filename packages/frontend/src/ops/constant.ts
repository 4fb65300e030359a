/** @fileoverview Constant nodes become IR constants named by the node's output (value, value_float(s), value_int(s)). */
import { tensorFromNumbers, type Tensor } from "@xbarc/ir";
import type { NodeContext, OpImporter } from "../node-context.js";

function constantValue(n: NodeContext): Tensor {
  const a = n.attrs;
  const set = a.names().filter((k) => k.startsWith("value") || k === "sparse_value");
  if (set.length !== 1) {
    throw n.error("XB1007", `node "${n.name}" (Constant) must set exactly one value attribute, found ${set.length ? set.join(", ") : "none"}`,
      "fix the node in the model", set[0] ?? "value");
  }
  const key = set[0]!;
  switch (key) {
    case "value": return a.tensor("value");
    // value_float(s) are float32 in the model: keep their exact float32 values
    case "value_float": return tensorFromNumbers("f32", [], [a.float("value_float")]);
    case "value_floats": { const v = a.floats("value_floats", []); return tensorFromNumbers("f32", [v.length], v); }
    case "value_int": return tensorFromNumbers("i64", [], [a.int("value_int")]);
    case "value_ints": { const v = a.ints("value_ints", []); return tensorFromNumbers("i64", [v.length], v); }
    case "value_string":
    case "value_strings":
      throw n.error("XB1008", `node "${n.name}" (Constant): attribute "${key}" holds strings, which xbarc does not support`,
        "string tensors cannot run on a crossbar; remove them from the model", key);
    default:
      throw n.error("XB1007", `node "${n.name}" (Constant): attribute "${key}" (a sparse tensor) is not supported`,
        "store the constant as a dense tensor", key);
  }
}

export const importConstant: OpImporter = (n) => {
  const out = n.outputs[0];
  if (!out) throw n.error("XB1005", `node "${n.name}" (Constant) has no output name`, "fix the node in the model");
  n.namedConstant(out, constantValue(n));
};

/** @fileoverview Cast: `to` is an element-type enum (a type name string before opset 6), stored as an IR dtype string. */
import type { OpImporter } from "../node-context.js";
import { ONNX_DATA_TYPE_NAMES, SUPPORTED_DATA_TYPES_HINT, dtypeFromOnnx, onnxDataTypeName } from "../tensor-proto.js";

export const importCast: OpImporter = (n) => {
  const x = n.required(0, "input");
  let code: number;
  if (n.opset < 6 && n.attrs.typeName("to") === "string") {
    const name = n.attrs.string("to").toUpperCase();
    const found = Object.entries(ONNX_DATA_TYPE_NAMES).find(([, v]) => v === name);
    if (!found) throw n.attrs.error("to", `is "${name}", which is not an ONNX element type`, "fix the attribute in the model");
    code = Number(found[0]);
  } else {
    code = n.attrs.int("to");
  }
  const to = dtypeFromOnnx(code);
  if (!to) throw n.attrs.error("to", `is ${onnxDataTypeName(code)}, which xbarc does not support`, SUPPORTED_DATA_TYPES_HINT);
  // `saturate` (opset 19+) only affects float8 targets, which are rejected above
  n.emit("cast", [x], { to });
};

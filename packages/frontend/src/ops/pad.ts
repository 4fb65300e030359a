/** @fileoverview Pad: `pads`/`value`/`mode` attributes before opset 11 (`paddings` in opset 1), inputs after; axes from 18, wrap from 19. */
import type { OpImporter } from "../node-context.js";

export const importPad: OpImporter = (n) => {
  const x = n.required(0, "data");
  const mode = n.attrs.string("mode", "constant");
  const modes = n.opset >= 19 ? ["constant", "reflect", "edge", "wrap"] : ["constant", "reflect", "edge"];
  if (!modes.includes(mode)) {
    throw n.attrs.error("mode", `is "${mode}", expected one of ${modes.join(", ")} (opset ${n.opset})`, "fix the attribute in the model");
  }
  if (n.opset < 11) {
    const name = n.opset < 2 ? "paddings" : "pads";
    const pads = n.attrs.ints(name);
    const rank = x.type.shape.length;
    if (pads.length !== 2 * rank) {
      throw n.attrs.error(name, `has ${pads.length} values, expected ${2 * rank} (begins then ends for each of the ${rank} dims)`, "fix the attribute in the model");
    }
    const value = mode === "constant" ? n.scalarConstant("value", x.type.dtype, n.attrs.float("value", 0)) : null;
    n.emit("pad", [x, n.intsConstant("pads", pads), value, null], { mode });
    return;
  }
  n.emit("pad", [x, n.required(1, "pads"), n.input(2), n.opset >= 18 ? n.input(3) : null], { mode });
};

/**
 * @fileoverview Dropout in inference form (identity). `ratio` is an attribute before opset 12 and an input after,
 * with `training_mode`; the optional mask is T before opset 10 and bool after.
 */
import { readNumbers } from "@xbarc/ir";
import type { OpImporter } from "../node-context.js";

export const importDropout: OpImporter = (n) => {
  const x = n.required(0, "data");
  const ratio = n.opset >= 12 ? n.input(1) : null;
  const training = n.opset >= 12 ? n.input(2) : null;
  if (training) {
    const t = n.known(training);
    const r = ratio ? n.known(ratio) : undefined;
    const ratioIsZero = !ratio || (r !== undefined && readNumbers(r).every((v) => v === 0));
    if (!t) {
      throw n.error("XB1007", `node "${n.name}" (Dropout): input "training_mode" is not a constant`,
        "xbarc runs inference only: make training_mode a constant false (or drop the input)", "training_mode");
    }
    if (readNumbers(t).some((v) => v !== 0) && !ratioIsZero) {
      throw n.error("XB1007", `node "${n.name}" (Dropout): training_mode is true, so the output would be random`,
        "xbarc runs inference only: export the model in eval mode", "training_mode");
    }
  }
  const seed = n.opset >= 12 ? n.attrs.int("seed", 0) : 0;
  const [y, mask] = n.outputs;
  if (!mask) {
    n.emit("dropout", [x, ratio, training], { seed }, [y!]);
    return;
  }
  if (n.opset >= 10) {
    n.emit("dropout", [x, ratio, training], { seed }, [y!, mask]);
    return;
  }
  // before opset 10 the mask has the input's element type: emit the bool mask and cast it
  const [, boolMask] = n.emit("dropout", [x, ratio, training], { seed }, [y!, n.fresh(`${mask}.bool`)]);
  n.emit("cast", [boolMask!], { to: x.type.dtype }, [mask]);
};

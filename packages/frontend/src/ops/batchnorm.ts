/**
 * @fileoverview BatchNormalization in inference form. Old versions carry `is_test`/`spatial`/`consumed_inputs`
 * (opset < 9) and training outputs; opset 14+ has `training_mode`. Training statistics are not supported.
 */
import type { OpImporter } from "../node-context.js";

export const importBatchNormalization: OpImporter = (n) => {
  const x = n.required(0, "X");
  const scale = n.required(1, "scale");
  const bias = n.required(2, "B");
  const mean = n.required(3, "input_mean");
  const variance = n.required(4, "input_var");
  if (n.opset >= 14 && n.attrs.int("training_mode", 0) !== 0) {
    throw n.attrs.error("training_mode", "is 1 (batch statistics and running-mean updates), which xbarc does not support",
      "export the model in eval mode (model.eval() before torch.onnx.export), so BatchNormalization uses the stored mean and variance");
  }
  const extra = n.outputs.slice(1).filter((o) => o !== "");
  if (extra.length > 0) {
    throw n.error("XB1007", `node "${n.name}" (BatchNormalization) asks for the training outputs ${extra.map((o) => `"${o}"`).join(", ")}, which xbarc does not support`,
      "export the model in eval mode so BatchNormalization has a single output", "outputs");
  }
  // spatial=0 (opset < 9) means per-activation statistics; with 1-D scale that is the same as per channel
  if (n.opset < 9 && n.attrs.int("spatial", 1) === 0 && scale.type.shape.length !== 1) {
    throw n.attrs.error("spatial", "is 0 with per-activation statistics, which xbarc does not support",
      "re-export the model with spatial=1 (per-channel statistics)");
  }
  n.emit("batchnorm", [x, scale, bias, mean, variance], { epsilon: n.attrs.float("epsilon", 1e-5) });
};

/**
 * @fileoverview BatchNormalization. Opset 14+ `training_mode=1` (batch statistics, optional running_mean/running_var
 * outputs) maps to batchnorm {training_mode=1}. Old versions carry `is_test`/`spatial`/`consumed_inputs` (opset < 9);
 * their training outputs (mean, var, saved_mean, saved_var before opset 14) are not supported.
 */
import type { OpImporter } from "../node-context.js";

export const importBatchNormalization: OpImporter = (n) => {
  const x = n.required(0, "X");
  const scale = n.required(1, "scale");
  const bias = n.required(2, "B");
  const mean = n.required(3, "input_mean");
  const variance = n.required(4, "input_var");
  const training = n.opset >= 14 && n.attrs.int("training_mode", 0) !== 0;
  const extra = n.outputs.slice(1).filter((o) => o !== "");
  if (extra.length > 0 && !training) {
    const [message, hint] = n.opset >= 14
      ? ["with training_mode=0, where ONNX allows only Y", "set training_mode=1 for running statistics, or drop the extra outputs"]
      : [`at opset ${n.opset}, whose training outputs (mean, var, saved_mean, saved_var) xbarc does not support`,
        "export the model in eval mode so BatchNormalization has a single output, or at opset 14+ with training_mode=1"];
    throw n.error("XB1007", `node "${n.name}" (BatchNormalization) asks for the outputs ${extra.map((o) => `"${o}"`).join(", ")} ${message}`,
      hint, "outputs");
  }
  // spatial=0 (opset < 9) means per-activation statistics; with 1-D scale that is the same as per channel
  if (n.opset < 9 && n.attrs.int("spatial", 1) === 0 && scale.type.shape.length !== 1) {
    throw n.attrs.error("spatial", "is 0 with per-activation statistics, which xbarc does not support",
      "re-export the model with spatial=1 (per-channel statistics)");
  }
  const attrs = {
    epsilon: n.attrs.float("epsilon", 1e-5),
    training_mode: training ? 1 : 0,
    momentum: n.attrs.float("momentum", 0.9),
  };
  const [y, runningMean, runningVar] = n.outputs;
  // the IR op has 1 or 3 results: a running statistic nobody asked for gets a fresh (unused) name
  const results = extra.length > 0 ? [y!, runningMean ?? "", runningVar ?? ""] : [y!];
  n.emit("batchnorm", [x, scale, bias, mean, variance], attrs, results);
};

/** @fileoverview The table of ONNX operators xbarc imports, one importer per operator (tfjs op-list style). */
import type { OpImporter } from "../node-context.js";
import { importBatchNormalization } from "./batchnorm.js";
import { importCast } from "./cast.js";
import { importClip } from "./clip.js";
import { importConcat } from "./concat.js";
import { importConstant } from "./constant.js";
import { importConv } from "./conv.js";
import { importDropout } from "./dropout.js";
import { importBinary, importLeakyRelu, importUnary } from "./elementwise.js";
import { importGemm, importMatMul } from "./gemm.js";
import { importPad } from "./pad.js";
import { importAveragePool, importGlobalAveragePool, importMaxPool } from "./pool.js";
import { importFlatten, importReshape, importTranspose } from "./reshape.js";
import { importGather, importShape, importSlice } from "./shape.js";
import { importSoftmax } from "./softmax.js";
import { importSqueeze, importUnsqueeze } from "./squeeze.js";

/** ONNX op type → importer. Every version from opset 1 to MAX_OPSET is handled inside the importer. */
export const IMPORTERS: Readonly<Record<string, OpImporter>> = {
  Conv: importConv,
  Gemm: importGemm,
  MatMul: importMatMul,
  Add: importBinary("add"),
  Sub: importBinary("sub"),
  Mul: importBinary("mul"),
  Div: importBinary("div"),
  Relu: importUnary("relu"),
  LeakyRelu: importLeakyRelu,
  Sigmoid: importUnary("sigmoid"),
  Tanh: importUnary("tanh"),
  Clip: importClip,
  MaxPool: importMaxPool,
  AveragePool: importAveragePool,
  GlobalAveragePool: importGlobalAveragePool,
  Flatten: importFlatten,
  Reshape: importReshape,
  Transpose: importTranspose,
  Concat: importConcat,
  BatchNormalization: importBatchNormalization,
  Softmax: importSoftmax("softmax"),
  LogSoftmax: importSoftmax("logsoftmax"),
  Dropout: importDropout,
  Identity: importUnary("identity"),
  Squeeze: importSqueeze,
  Unsqueeze: importUnsqueeze,
  Pad: importPad,
  Shape: importShape,
  Gather: importGather,
  Slice: importSlice,
  Cast: importCast,
  Constant: importConstant,
};

/** The ONNX operators xbarc can import (default domain), in the order the docs list them. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(IMPORTERS);

/** The newest default-domain opset whose operator semantics the importers know (ONNX 1.22). */
export const MAX_OPSET = 25;

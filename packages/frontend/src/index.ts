/** @fileoverview The public entry point of @xbarc/frontend: ONNX import and ONNX tensor files. */
export { importOnnx, loadOnnxFile, moduleNameFor, type ImportOptions, type LoadOptions } from "./import.js";
export {
  decodeTensorProto, encodeTensorProto, dtypeFromOnnx, onnxFromDtype, onnxDataTypeName, emptyStorageStats, type TensorStorageStats,
} from "./tensor-proto.js";
export { encodeModelProtoAligned, encodeTensorProtoAligned, RAW_DATA_ALIGNMENT } from "./encode.js";
export { SUPPORTED_ONNX_OPS, MAX_OPSET } from "./ops/index.js";
export { shortestFloat32 } from "./float-format.js";

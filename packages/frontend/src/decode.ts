/** @fileoverview Decodes ONNX model bytes with protobufjs and checks that the result is a model with a graph. */
import type { onnx } from "onnx-proto";
import { XbarcError } from "@xbarc/ir";
import { proto } from "./proto.js";

/** Decodes a ModelProto: XB1001 for an empty file, XB1002 when protobuf decoding fails, XB1003 when there is no graph. */
export function decodeModelProto(bytes: Uint8Array, file: string): onnx.ModelProto {
  const location = { kind: "file" as const, file };
  if (bytes.length === 0) {
    throw new XbarcError("XB1001", `"${file}" is empty`, { location, hint: "the file should be an ONNX model (.onnx); was it written completely?" });
  }
  let model: onnx.ModelProto;
  try {
    model = proto.ModelProto.decode(bytes);
  } catch (e) {
    // protobufjs names the byte offset where decoding stopped ("index out of range: 100 + 10 > 100")
    throw new XbarcError("XB1002",
      `"${file}" is not a valid ONNX model: protobuf decoding failed (protobufjs reported "${(e as Error).message}"; the file has ${bytes.length} bytes)`,
      { location, hint: "the file is truncated or corrupt, or it is not an ONNX model; export or download it again", cause: e });
  }
  const graph = model.graph;
  // any byte string without protobuf errors decodes, e.g. a short text file as an empty ModelProto
  if (!graph || ((graph.node?.length ?? 0) === 0 && (graph.output?.length ?? 0) === 0)) {
    throw new XbarcError("XB1003", `"${file}" decodes as protobuf but holds no ONNX graph (${graph ? "the graph has no nodes and no outputs" : "no graph field"})`,
      { location, hint: "is this an ONNX model? xbarc expects a .onnx file as written by torch.onnx.export or onnx.save_model" });
  }
  return model;
}

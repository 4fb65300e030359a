/**
 * @fileoverview The one catalogue of diagnostic codes, as data. Bands: XB1xxx ONNX import, XB2xxx IR text,
 * XB3xxx verifier, XB4xxx profiles/configs/inputs (schema), XB5xxx passes, XB6xxx program/simulator,
 * XB7xxx CLI usage and data files, XB9xxx internal (a bug in xbarc). Tests assert on codes, not wording.
 */
export const CODES = {
  // ONNX import
  XB1001: "file cannot be read",
  XB1002: "not a valid ONNX model (protobuf decoding failed)",
  XB1003: "ONNX model has no graph",
  XB1004: "unsupported ONNX operator",
  XB1005: "missing initializer or undefined input",
  XB1006: "shape cannot be inferred",
  XB1007: "unsupported or invalid attribute",
  XB1008: "unsupported tensor data type",
  XB1009: "external data file missing or too short",
  XB1010: "unsupported opset or domain",
  XB1011: "invalid tensor data",
  // IR text
  XB2001: "IR syntax error",
  XB2002: "undefined value",
  XB2003: "value defined twice",
  XB2004: "weights side file missing, short or changed",
  XB2005: "bad literal",
  // verifier
  XB3001: "operand type does not match the op's shape rule",
  XB3002: "unknown op",
  XB3003: "bad attribute",
  XB3004: "value used before it is defined",
  XB3005: "annotation does not match its schema",
  XB3006: "wrong number of operands or results",
  XB3007: "unknown annotation kind",
  // schemas and inputs
  XB4001: "JSON does not match its schema",
  XB4002: "input tensor does not match the model",
  XB4003: "input file cannot be decoded",
  XB4004: "op on the loss path has no gradient rule",
  // passes
  XB5001: "unknown pass or bad pipeline string",
  XB5002: "bad pass option",
  XB5003: "pass cannot handle this module",
  // interpreter / simulator
  XB6001: "constant has no data (load the weights side file)",
  XB6002: "op cannot be executed",
  XB6003: "cell states (#cells) do not match the module",
  XB6004: "program content does not match its hash",
  XB6005: "program is inconsistent (tiles, cell states or schedule)",
  XB6006: "program assembly syntax error",
  XB6007: "module cannot be emitted as a program",
  // CLI and data files
  XB7001: "bad command-line usage",
  XB7002: "dataset file cannot be read",
  XB7003: "output cannot be written",
  // internal
  XB9001: "internal error: this is a bug in xbarc",
} as const;

export type DiagnosticCode = keyof typeof CODES;

/** @fileoverview What an op importer sees of the node it lowers: inputs, attributes, and builders for IR ops and constants. */
import type { onnx } from "onnx-proto";
import type { Attrs, DiagnosticCode, DType, Tensor, TensorType, Value, XbarcError } from "@xbarc/ir";
import type { NodeAttributes } from "./attributes.js";

/** One ONNX node being imported. Importers call `emit` for each IR op they create. */
export interface NodeContext {
  /** the decoded node */
  readonly node: onnx.INodeProto;
  readonly opType: string;
  /** the node's name, or `<OpType>_<index>` when it has none; becomes `op.loc` */
  readonly name: string;
  /** the model's opset for the default domain: importers branch on it for old operator versions */
  readonly opset: number;
  readonly attrs: NodeAttributes;
  /** number of inputs the node lists (including empty names for skipped optional ones) */
  readonly inputCount: number;
  /** the node's output names (empty string = optional output not requested) */
  readonly outputs: readonly string[];

  /** Input `i`, or null when absent or given as "" (an optional input left out). */
  input(i: number): Value | null;
  /** Input `i`, which the operator requires: XB1005 naming the node and input when absent. */
  required(i: number, what: string): Value;
  /** The statically known value of `v` (constants, folded shape computations), if any. */
  known(v: Value | null): Tensor | undefined;

  /**
   * Creates an IR op: fills attribute defaults, infers result types (falling back to the types the ONNX
   * file declares), records folded values. `results` names the results; by default the node's outputs.
   */
  emit(opcode: string, operands: (Value | null)[], attrs: Attrs, results?: readonly string[]): Value[];
  /** A new constant with a unique name derived from the node name and `suffix` (old-opset attributes become these). */
  constant(suffix: string, tensor: Tensor): Value;
  /** A constant named exactly `name` (Constant nodes: the node's output name). */
  namedConstant(name: string, tensor: Tensor): Value;
  /** A constant i64[k] holding `values`. */
  intsConstant(suffix: string, values: readonly number[]): Value;
  /** A rank-0 constant of `dtype` holding `value`. */
  scalarConstant(suffix: string, dtype: DType, value: number): Value;
  /** A value name not used anywhere in the graph, built from `base`. */
  fresh(base: string): string;
  /** The type the ONNX file declares for a value name, if it declares one with static dims. */
  declaredType(name: string): TensorType | undefined;
  /** An error located at this node; `field` names an input or attribute. */
  error(code: DiagnosticCode, message: string, hint: string, field?: string): XbarcError;
}

/** Imports one ONNX node by emitting IR ops through the context. */
export type OpImporter = (n: NodeContext) => void;

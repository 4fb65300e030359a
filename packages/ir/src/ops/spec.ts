/** @fileoverview The shape of an op registry entry: operands, attributes and the shape rule. */
import type { Tensor } from "../tensor.js";
import type { TensorType } from "../types.js";
import type { Attrs, AttrValue } from "../module.js";

export type AttrKind = "int" | "float" | "ints" | "floats" | "string" | "dtype";

export interface AttrSpec {
  readonly name: string;
  readonly kind: AttrKind;
  /** filled in by builders when absent; an attribute without a default is required */
  readonly default?: AttrValue;
  /** one line for `--help`-style docs and verifier messages */
  readonly doc: string;
}

export interface OperandSpec {
  readonly name: string;
  /** may be absent (`none`) */
  readonly optional?: boolean;
  /** the last operand may repeat (concat) */
  readonly variadic?: boolean;
}

/** What a shape rule sees. */
export interface InferContext {
  /** operand types; null for an absent optional operand */
  readonly operands: readonly (TensorType | null)[];
  /** operand values when statically known (constants, or folded at import); undefined when not */
  readonly values: readonly (Tensor | undefined)[];
  readonly attrs: Attrs;
  /** how many results the op instance has (ops with optional results: dropout, maxpool) */
  readonly numResults: number;
}

export interface OpSpec {
  /** lowercase single word: the opcode in the text form */
  readonly name: string;
  /** one line saying what it computes, with its exact semantics */
  readonly summary: string;
  readonly operands: readonly OperandSpec[];
  readonly attrs: readonly AttrSpec[];
  /** allowed result counts, e.g. [1] or [1, 2] */
  readonly results: readonly number[];
  /**
   * Result types from operand types (and values, for data-dependent shapes such as reshape).
   * Returns undefined when the shape depends on a value that is not known statically.
   * Throws XbarcError XB3001/XB3003 for operands or attributes the op cannot accept.
   */
  infer(ctx: InferContext): TensorType[] | undefined;
}

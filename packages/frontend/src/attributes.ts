/** @fileoverview Typed access to an ONNX node's attributes, with XB1007 errors naming the node and the attribute. */
import type { onnx } from "onnx-proto";
import { XbarcError, type Tensor } from "@xbarc/ir";
import { shortestFloat32 } from "./float-format.js";
import { longToNumber, proto, type LongLike } from "./proto.js";
import { tensorFromProto, type TensorSource } from "./tensor-proto.js";

const T = proto.AttributeProto.AttributeType;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [T.FLOAT]: "float", [T.INT]: "int", [T.STRING]: "string", [T.TENSOR]: "tensor", [T.GRAPH]: "graph",
  [T.FLOATS]: "floats", [T.INTS]: "ints", [T.STRINGS]: "strings", [T.TENSORS]: "tensors", [T.GRAPHS]: "graphs",
  [T.SPARSE_TENSOR]: "sparse tensor", [T.SPARSE_TENSORS]: "sparse tensors", [T.TYPE_PROTO]: "type", [T.TYPE_PROTOS]: "types",
};

/** True when the decoded message carries the field itself (protobufjs puts defaults on the prototype). */
function hasField(a: onnx.IAttributeProto, field: "i" | "f"): boolean {
  return Object.prototype.hasOwnProperty.call(a, field) && a[field] !== null && a[field] !== undefined;
}

/** Who owns the attributes, for messages and locations. */
export interface AttrOwner {
  readonly file: string;
  /** node name as used in messages (the node's name or `<OpType>_<index>`) */
  readonly node: string;
  readonly opType: string;
  readonly readExternal?: (location: string) => Uint8Array;
}

/** The attributes of one node, read with the type each attribute must have. */
export class NodeAttributes {
  private readonly byName = new Map<string, onnx.IAttributeProto>();

  constructor(attributes: readonly onnx.IAttributeProto[], private readonly owner: AttrOwner) {
    for (const a of attributes) this.byName.set(a.name ?? "", a);
  }

  /** True when the node sets the attribute. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Attribute names the node sets. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** An XB1007 error for attribute `name` of this node. */
  error(name: string, message: string, hint: string): XbarcError {
    const { file, node, opType } = this.owner;
    return new XbarcError("XB1007", `node "${node}" (${opType}): attribute "${name}" ${message}`, {
      location: { kind: "onnx", file, node, opType, field: name },
      hint,
    });
  }

  /** Checks the stored type; old exporters leave `type` UNDEFINED, so then the field present decides. */
  private get(name: string, type: number, present: (a: onnx.IAttributeProto) => boolean): onnx.IAttributeProto | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    const t = a.type ?? T.UNDEFINED;
    if (t === type || (t === T.UNDEFINED && present(a))) return a;
    const found = TYPE_NAMES[t] ?? `type ${t}`;
    throw this.error(name, `must be of type ${TYPE_NAMES[type]}, found ${found}`, "the model does not follow the ONNX operator spec; re-export it");
  }

  /** An INT attribute (or `fallback` when absent; required when no fallback is given). */
  int(name: string, fallback?: number): number {
    const a = this.get(name, T.INT, (x) => hasField(x, "i"));
    if (!a) return this.missing(name, fallback);
    return longToNumber(a.i as LongLike);
  }

  /** A FLOAT attribute, as the shortest decimal that reads back to the same float32. */
  float(name: string, fallback?: number): number {
    const a = this.get(name, T.FLOAT, (x) => hasField(x, "f"));
    if (!a) return this.missing(name, fallback);
    return shortestFloat32(a.f ?? 0);
  }

  /** A STRING attribute decoded as UTF-8. */
  string(name: string, fallback?: string): string {
    const a = this.get(name, T.STRING, (x) => !!x.s && x.s.length > 0);
    if (!a) return this.missing(name, fallback);
    return Buffer.from(a.s ?? new Uint8Array()).toString("utf8");
  }

  /** An INTS attribute. */
  ints(name: string, fallback?: readonly number[]): number[] {
    const a = this.get(name, T.INTS, (x) => !!x.ints && x.ints.length > 0);
    if (!a) return [...this.missing(name, fallback)];
    return (a.ints ?? []).map((v) => longToNumber(v as LongLike));
  }

  /** A FLOATS attribute, each as the shortest float32 decimal. */
  floats(name: string, fallback?: readonly number[]): number[] {
    const a = this.get(name, T.FLOATS, (x) => !!x.floats && x.floats.length > 0);
    if (!a) return [...this.missing(name, fallback)];
    return (a.floats ?? []).map(shortestFloat32);
  }

  /** A TENSOR attribute decoded to an IR tensor (all encodings). */
  tensor(name: string): Tensor {
    const a = this.get(name, T.TENSOR, (x) => !!x.t);
    if (!a?.t) return this.missing<Tensor>(name, undefined);
    const { file, node, readExternal } = this.owner;
    const src: TensorSource = { file, node, readExternal, label: `attribute "${name}" of node "${node}"` };
    return tensorFromProto(a.t, src);
  }

  /** The stored type name of an attribute (for messages about attributes xbarc cannot use). */
  typeName(name: string): string {
    const a = this.byName.get(name);
    return a ? TYPE_NAMES[a.type ?? 0] ?? "undefined" : "absent";
  }

  private missing<V>(name: string, fallback: V | undefined): V {
    if (fallback !== undefined) return fallback;
    throw this.error(name, "is required but missing", "the model does not follow the ONNX operator spec; re-export it");
  }
}

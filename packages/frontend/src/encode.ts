/**
 * @fileoverview Writes ONNX ModelProto and TensorProto bytes whose raw_data payloads start at 64-byte-aligned file
 * offsets, so that the importer can view every initializer in the file buffer instead of copying it.
 *
 * The technique is plain protobuf: a parser accepts the fields of a message in any order, and for a singular field
 * that occurs twice the last occurrence wins (protobuf encoding guide, "Last One Wins"). Each tensor is written as
 * its other fields (dims, data_type, name, ...), then a `doc_string` (field 12) whose length is chosen so that the
 * payload lands on the boundary, then `raw_data` (field 9), then the tensor's own doc_string, or an empty one when
 * it has none (it comes last, so it wins over the padding: the tensor decodes with its own doc_string, at most
 * marked present-but-empty in proto2 terms). In a ModelProto the graph is written after the model's other fields
 * and the initializers after the graph's other fields; every length prefix is computed exactly, so the offsets
 * are absolute file offsets.
 */
import type { onnx } from "onnx-proto";
import protobuf from "protobufjs/minimal.js";
import { InternalError } from "@xbarc/ir";
import { proto } from "./proto.js";

/** Byte boundary of every raw_data payload in files xbarc writes (the weights side file uses the same, WEIGHTS_ALIGNMENT). */
export const RAW_DATA_ALIGNMENT = 64;

// protobuf field keys, (field number << 3) | wire type 2 (length-delimited)
const KEY_MODEL_GRAPH = (7 << 3) | 2;
const KEY_GRAPH_INITIALIZER = (5 << 3) | 2;
const KEY_TENSOR_RAW_DATA = (9 << 3) | 2;
const KEY_TENSOR_DOC_STRING = (12 << 3) | 2;
/** how far past the minimum the padding search goes; an aligned size always lies well within it (see choosePad) */
const MAX_PAD = 4 * RAW_DATA_ALIGNMENT + 4;
const EMPTY = new Uint8Array(0);

/** Bytes a varint-encoded unsigned 32-bit number takes. */
function varintSize(n: number): number {
  return protobuf.Writer.create().uint32(n).len;
}

/** A field key and a length prefix, as protobufjs writes them. */
function fieldHeader(key: number, length: number): Uint8Array {
  return protobuf.Writer.create().uint32(key).uint32(length).finish();
}

/**
 * The doc_string field (key, length, spaces) that takes exactly `size` bytes, or nothing for 0. Sizes 1 and 130
 * cannot be written (a field is at least 2 bytes; a 128-byte string needs a 2-byte length), so `isPadSize` rules them out.
 */
function padField(size: number): Uint8Array {
  if (size === 0) return EMPTY;
  const text = size <= 129 ? size - 2 : size - 3;
  const header = fieldHeader(KEY_TENSOR_DOC_STRING, text);
  if (header.length + text !== size) throw new InternalError(`padding field of ${size} bytes came out as ${header.length + text}`);
  const out = new Uint8Array(size).fill(0x20);
  out.set(header, 0);
  return out;
}

function isPadSize(size: number): boolean {
  return size === 0 || (size >= 2 && size !== 130);
}

/** One tensor split around its raw_data: everything before it, the payload with its field header, and its doc_string. */
interface TensorParts {
  readonly head: Uint8Array;
  readonly rawHeader: Uint8Array;
  readonly raw: Uint8Array;
  /** the tensor's own doc_string field, possibly empty (after raw_data, so it wins over the padding) */
  readonly tail: Uint8Array;
  readonly hasDocString: boolean;
}

/** The doc_string field written after raw_data: the tensor's own, or an empty one that cancels the padding text. */
function tailFor(parts: TensorParts, pad: number): Uint8Array {
  return parts.hasDocString || pad > 0 ? parts.tail : EMPTY;
}

function splitTensor(t: onnx.ITensorProto): TensorParts | undefined {
  const raw = t.rawData;
  if (!raw || raw.length === 0) return undefined;
  const head = proto.TensorProto.encode({ ...t, rawData: undefined, docString: undefined }).finish();
  // written after raw_data, even when empty if there is padding: it overrides the padding's text
  const tail = proto.TensorProto.encode({ docString: t.docString ?? "" }).finish();
  const hasDocString = !!t.docString;
  return { head, rawHeader: fieldHeader(KEY_TENSOR_RAW_DATA, raw.length), raw, tail, hasDocString };
}

/** The serialized length of a split tensor with a padding field of `pad` bytes. */
function tensorLength(parts: TensorParts, pad: number): number {
  return parts.head.length + pad + parts.rawHeader.length + parts.raw.length + tailFor(parts, pad).length;
}

/**
 * The smallest padding size ≥ `minPad` that puts the payload on the boundary. `bodyStart(length)` is the absolute
 * offset where the tensor's bytes begin when they are `length` bytes long (an enclosing length prefix may grow).
 * The payload offset grows by one per padding byte except where a length prefix widens, so a run of
 * RAW_DATA_ALIGNMENT consecutive sizes always contains an aligned one.
 */
function choosePad(parts: TensorParts, bodyStart: (length: number) => number, minPad: number): number {
  for (let pad = minPad; pad <= minPad + MAX_PAD; pad++) {
    if (!isPadSize(pad)) continue;
    const payload = bodyStart(tensorLength(parts, pad)) + parts.head.length + pad + parts.rawHeader.length;
    if (payload % RAW_DATA_ALIGNMENT === 0) return pad;
  }
  throw new InternalError(`no raw_data padding between ${minPad} and ${minPad + MAX_PAD} bytes aligns the payload`);
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function tensorBytes(parts: TensorParts, pad: number): Uint8Array[] {
  return [parts.head, padField(pad), parts.rawHeader, parts.raw, tailFor(parts, pad)];
}

/** Serializes a TensorProto on its own (a `.pb` file) with its raw_data, if any, at a 64-byte-aligned offset. */
export function encodeTensorProtoAligned(t: onnx.ITensorProto): Uint8Array {
  const parts = splitTensor(t);
  if (!parts) return proto.TensorProto.encode(t).finish();
  return concatBytes(tensorBytes(parts, choosePad(parts, () => 0, 0)));
}

/** The graph's initializers laid out from `graphBodyStart`, with per-tensor minimum padding sizes. */
function layoutInitializers(
  initializers: readonly onnx.ITensorProto[],
  split: readonly (TensorParts | undefined)[],
  plain: readonly (Uint8Array | undefined)[],
  start: number,
  minPads: readonly number[],
): { pads: number[]; end: number } {
  const pads: number[] = [];
  let at = start;
  for (let i = 0; i < initializers.length; i++) {
    const parts = split[i];
    if (!parts) {
      const bytes = plain[i]!;
      at += varintSize(KEY_GRAPH_INITIALIZER) + varintSize(bytes.length) + bytes.length;
      pads.push(0);
      continue;
    }
    const fieldStart = at;
    const pad = choosePad(parts, (length) => fieldStart + varintSize(KEY_GRAPH_INITIALIZER) + varintSize(length), minPads[i]!);
    const length = tensorLength(parts, pad);
    at += varintSize(KEY_GRAPH_INITIALIZER) + varintSize(length) + length;
    pads.push(pad);
  }
  return { pads, end: at };
}

/**
 * Serializes a ModelProto with every initializer's raw_data at a 64-byte-aligned offset from the start of the
 * returned bytes (see the file comment for how). The result decodes to the same model (protobufjs, onnx and
 * onnxruntime read it); only the field order differs, plus a padding doc_string that the tensor's own overrides.
 * Tensors elsewhere (Constant node attributes, training info) are written as protobufjs writes them.
 */
export function encodeModelProtoAligned(model: onnx.IModelProto): Uint8Array {
  const graph = model.graph;
  if (!graph) return proto.ModelProto.encode(model).finish();
  const modelHead = proto.ModelProto.encode({ ...model, graph: undefined }).finish();
  const graphHead = proto.GraphProto.encode({ ...graph, initializer: [] }).finish();
  const initializers = graph.initializer ?? [];
  const split = initializers.map(splitTensor);
  const plain = initializers.map((t, i) => (split[i] ? undefined : proto.TensorProto.encode(t).finish()));
  const minPads = initializers.map(() => 0);

  // the graph's length prefix sits before every payload and its width depends on the padding: iterate to a fixed point
  const graphKey = varintSize(KEY_MODEL_GRAPH);
  let width = 1;
  let bump = 0;
  for (let round = 0; round < 4 * initializers.length + 16; round++) {
    const bodyStart = modelHead.length + graphKey + width;
    const { pads, end } = layoutInitializers(initializers, split, plain, bodyStart + graphHead.length, minPads);
    const graphLength = end - bodyStart;
    const needed = varintSize(graphLength);
    if (needed > width) {
      width = needed;
      continue;
    }
    if (needed < width) {
      // the padding shrank below the wider prefix: grow some padding (each bump adds about one boundary's worth)
      const i = bump++ % Math.max(1, initializers.length);
      if (!split[i]) continue;
      minPads[i] = pads[i]! + 1;
      continue;
    }
    const chunks: Uint8Array[] = [modelHead, fieldHeader(KEY_MODEL_GRAPH, graphLength), graphHead];
    initializers.forEach((_, i) => {
      const parts = split[i];
      if (parts) {
        chunks.push(fieldHeader(KEY_GRAPH_INITIALIZER, tensorLength(parts, pads[i]!)), ...tensorBytes(parts, pads[i]!));
      } else {
        chunks.push(fieldHeader(KEY_GRAPH_INITIALIZER, plain[i]!.length), plain[i]!);
      }
    });
    return concatBytes(chunks);
  }
  throw new InternalError("the aligned ModelProto layout did not converge");
}

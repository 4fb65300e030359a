/**
 * @fileoverview Zero-copy ONNX import: initializers whose raw_data sits at an offset aligned for their element type
 * are typed-array views of the file buffer; misaligned ones are copied once, or, in a buffer the importer owns
 * (loadOnnxFile, or importOnnx with alignInPlace), moved down onto their own field header and viewed when that
 * header is provably theirs and long enough, touching no other byte; ONNX written by xbarc
 * (encodeModelProtoAligned, encodeTensorProto) has every payload 64-byte aligned, decodes to the same message in
 * onnx-proto and onnxruntime, and imports without copies; interpreting and compiling a model whose weights are views
 * leaves the file buffer untouched. Offsets are found by decoding with onnx-proto directly, independently of the frontend.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import onnxProto, { type onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { getBuiltinProfile, interpretModule, type Module, type Tensor, type TypedArray } from "@xbarc/ir";
import {
  RAW_DATA_ALIGNMENT,
  decodeTensorProto,
  emptyStorageStats,
  encodeModelProtoAligned,
  encodeTensorProto,
  importOnnx,
  loadOnnxFile,
  type TensorStorageStats,
} from "@xbarc/frontend";
import { runPipeline, type CalibrationSet } from "@xbarc/passes";
import { range } from "./helpers/datasets.js";
import { listFixtureModels, samplesFor } from "./helpers/models.js";
import { readFloatTensorProto } from "./helpers/tensor-proto.js";

/** the generated protobuf classes at run time; `onnx.` names their types */
const pb = onnxProto.onnx;
const FLOAT = pb.TensorProto.DataType.FLOAT;
const DOUBLE = pb.TensorProto.DataType.DOUBLE;
const INT64 = pb.TensorProto.DataType.INT64;
const UINT8 = pb.TensorProto.DataType.UINT8;
const FLOAT16 = pb.TensorProto.DataType.FLOAT16;

const tmp = mkdtempSync(join(tmpdir(), "xbarc-zero-copy-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An initializer with raw_data holding `data`'s bytes (little-endian, as this host). */
function rawInitializer(name: string, dataType: number, dims: number[], data: TypedArray, docString?: string): onnx.ITensorProto {
  const rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return docString === undefined ? { name, dataType, dims, rawData } : { name, dataType, dims, rawData, docString };
}

/** A float32 [n] vector input or output. */
function vectorInfo(name: string, n: number, elemType = FLOAT): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: [{ dimValue: n }] } } } };
}

/** A model y = x + a (the first initializer, float32 [4]) that carries the other initializers unused. */
function modelWith(initializers: onnx.ITensorProto[], docString = "", graphDocString = "", graphName = "zero_copy"): onnx.IModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "xbarc-test",
    docString,
    graph: {
      name: graphName,
      docString: graphDocString,
      node: [{ name: "add", opType: "Add", input: ["x", initializers[0]!.name!], output: ["y"] }],
      initializer: initializers,
      input: [vectorInfo("x", 4)],
      output: [vectorInfo("y", 4)],
    },
  };
}

/** Absolute byte offset of each initializer's raw_data in `bytes`' buffer, by name, decoded with onnx-proto. */
function rawOffsets(bytes: Uint8Array): Map<string, number> {
  const model = pb.ModelProto.decode(bytes);
  const out = new Map<string, number>();
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData ?? new Uint8Array(0);
    if (raw.length > 0) {
      expect(raw.buffer, "onnx-proto hands out raw_data as a view of the input").toBe(bytes.buffer);
      out.set(t.name ?? "", raw.byteOffset);
    }
  }
  return out;
}

function constantData(m: Module, name: string): TypedArray {
  const c = m.constants.find((v) => v.name === name);
  if (!c?.data) throw new Error(`module has no constant @${name}`);
  return c.data;
}

const ORIGINALS = {
  a: Float32Array.from([1.5, -2.25, 3.125, 1e-3]),
  a2: Float32Array.from([7, 8, 9]),
  b: Float64Array.from([Math.PI, -Math.E, 1 / 3]),
  c: BigInt64Array.from([-5n, 2n ** 40n, 7n]),
  d: Uint8Array.from([0, 1, 2, 250, 251, 252, 253]),
};

/**
 * A plain protobufjs model (payloads wherever the layout puts them) in which, by lengthening the graph's name (which
 * precedes the initializers) and then each later initializer's name, a (f32) is 4-aligned, a2 (f32) is 1 or 2 past
 * a multiple of 4 (within its 2-byte field header, so it can be moved in place), b (f64) is 4- but not 8-aligned
 * (4 past, more than its 2-byte header: never moved), c (i64) is 8-aligned; d is u8 (always viewable) and e uses
 * float_data (decoded).
 */
function mixedAlignmentModel(): { bytes: Uint8Array; names: Record<string, string> } {
  const want: [keyof typeof ORIGINALS, (offset: number) => boolean][] = [
    ["a", (o) => o % 4 === 0],
    ["a2", (o) => o % 4 === 1 || o % 4 === 2],
    ["b", (o) => o % 8 === 4],
    ["c", (o) => o % 8 === 0],
    ["d", () => true],
  ];
  const names: Record<string, string> = {};
  let graphName = "";
  const build = () => {
    const inits = want.filter(([key]) => names[key] !== undefined).map(([key]) => {
      const data = ORIGINALS[key];
      const type = key === "b" ? DOUBLE : key === "c" ? INT64 : key === "d" ? UINT8 : FLOAT;
      return rawInitializer(names[key]!, type, [data.length], data);
    });
    inits.push({ name: "e", dataType: FLOAT, dims: [2], floatData: [0.5, -0.5] });
    // the graph's doc_string (written after the initializers) keeps its length prefix 2 bytes wide throughout the search
    // copied out of protobufjs' result, which may sit at any offset of Node's shared Buffer pool
    return new Uint8Array(pb.ModelProto.encode(modelWith(inits, "", " ".repeat(300), graphName)).finish());
  };
  // a name's length moves its own payload and every later one; choose each in turn, re-checking the earlier ones
  for (const [key, ok] of want) {
    let found = false;
    for (let pad = 0; pad < 16 && !found; pad++) {
      // "a" is the Add node's operand (the node precedes it), so it keeps its name and the graph's name moves it
      if (key === "a") {
        names[key] = key;
        graphName = `g${"_".repeat(pad)}`;
      } else {
        names[key] = `${key}${"_".repeat(pad)}`;
      }
      const offsets = rawOffsets(build());
      found = want.every(([k, good]) => names[k] === undefined || good(offsets.get(names[k]!)!));
    }
    if (!found) throw new Error(`no name length puts ${key} where the test needs it`);
  }
  return { bytes: build(), names };
}

describe("zero-copy import of raw_data initializers", () => {
  const { bytes, names } = mixedAlignmentModel();

  it("views the aligned initializers in the file buffer and copies the misaligned ones, all with the original values", () => {
    const offsets = rawOffsets(bytes);
    const stats = emptyStorageStats();
    const m = importOnnx(bytes, { file: "mixed.onnx", stats });
    for (const key of ["a", "c", "d"] as const) {
      const data = constantData(m, names[key]!);
      expect(data.buffer, `${key} is a view`).toBe(bytes.buffer);
      expect(data.byteOffset).toBe(offsets.get(names[key]!));
      expect(data).toEqual(ORIGINALS[key]);
    }
    for (const key of ["a2", "b"] as const) {
      const data = constantData(m, names[key]!);
      expect(data.buffer, `${key} is a copy`).not.toBe(bytes.buffer);
      expect(data).toEqual(ORIGINALS[key]);
    }
    expect(constantData(m, "e")).toEqual(Float32Array.from([0.5, -0.5]));
    expect(stats).toEqual({ viewed: 3, moved: 0, movedBytes: 0, copied: 2, copiedBytes: 3 * 4 + 3 * 8, decoded: 1 });
  });

  it("judges alignment by the absolute offset when the bytes sit at a non-zero offset of a larger buffer", () => {
    // as a pooled Node Buffer does: 4 bytes in, float32 alignment is unchanged and 8-byte alignment flips
    const store = new ArrayBuffer(bytes.length + 4);
    const shifted = new Uint8Array(store, 4, bytes.length);
    shifted.set(bytes);
    const stats = emptyStorageStats();
    const m = importOnnx(shifted, { file: "shifted.onnx", stats });
    expect(constantData(m, names.a!).buffer).toBe(store);
    expect(constantData(m, names.a2!).buffer).not.toBe(store);
    expect(constantData(m, names.b!).buffer, "f64 at 4 mod 8, moved by 4, is aligned").toBe(store);
    expect(constantData(m, names.c!).buffer, "i64 at 0 mod 8, moved by 4, is misaligned").not.toBe(store);
    for (const key of ["a", "a2", "b", "c", "d"] as const) expect(constantData(m, names[key]!)).toEqual(ORIGINALS[key]);
    expect(stats).toMatchObject({ viewed: 3, moved: 0, copied: 2, decoded: 1 });
  });

  it("gives loadOnnxFile views into the buffer it read (a2 moved into alignment there), so a view changes with that buffer and a copy does not", () => {
    const path = join(tmp, "mixed.onnx");
    writeFileSync(path, bytes);
    const stats = emptyStorageStats();
    const m = loadOnnxFile(path, { stats });
    expect(stats).toEqual({ viewed: 3, moved: 1, movedBytes: 3 * 4, copied: 1, copiedBytes: 3 * 8, decoded: 1 });
    const viewed = constantData(m, names.a!) as Float32Array;
    const moved = constantData(m, names.a2!) as Float32Array;
    const copied = constantData(m, names.b!) as Float64Array;
    expect(moved).toEqual(ORIGINALS.a2);
    // the file buffer may be a slice of Node's Buffer pool: where the file starts in it follows from the view of a
    const fileStart = viewed.byteOffset - rawOffsets(bytes).get(names.a!)!;
    const a2Offset = fileStart + rawOffsets(bytes).get(names.a2!)!;
    expect(moved.buffer, "a2 is a view of the file buffer").toBe(viewed.buffer);
    expect(moved.byteOffset, "a2 moved down to the float32 boundary below it").toBe(a2Offset - (a2Offset % 4));
    // the copy owns a buffer of its own size
    expect(copied.buffer.byteLength).toBe(copied.byteLength);
    // zero the file's bytes only (a pooled buffer holds other Buffers too)
    new Uint8Array(viewed.buffer, fileStart, bytes.length).fill(0);
    expect(Array.from(viewed)).toEqual([0, 0, 0, 0]);
    expect(Array.from(moved)).toEqual([0, 0, 0]);
    expect(copied).toEqual(ORIGINALS.b);
  });
});

/** Bytes of a protobuf varint: 7 bits per byte, low first, the continuation bit on all but the last. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

type Outcome = "viewed" | "moved" | "copied";

/**
 * What the importer should do with a raw_data payload at absolute offset `offset` when it may align in place: view it
 * when aligned, move it when the shift fits in its field header (key byte + shortest varint of the length, which is
 * what protobufjs writes), else copy it.
 */
function expectedOutcome(offset: number, length: number, elementBytes: number): Outcome {
  const shift = offset % elementBytes;
  if (shift === 0) return "viewed";
  return shift <= 1 + varint(length).length ? "moved" : "copied";
}

/** One raw_data initializer of the assorted plain-layout model and its original values. */
interface PlainInit {
  readonly name: string;
  readonly data: TypedArray;
  readonly elementBytes: number;
}

/**
 * A plain protobufjs model (no alignment padding) with many raw_data initializers: float32 from 1 to 40000 elements
 * (field headers of 2 to 4 bytes), float16, float64 and int64 from tiny to a few thousand elements, uint8, and one
 * float_data tensor. Names of varying length scatter the payload offsets over all residues.
 */
function plainLayoutModel(): { bytes: Uint8Array; inits: PlainInit[] } {
  const inits: PlainInit[] = [{ name: "a", data: ORIGINALS.a, elementBytes: 4 }];
  const f32Sizes = [1, 2, 3, 5, 7, 17, 31, 32, 33, 100, 257, 1000, 4099, 40000];
  f32Sizes.forEach((n, i) => {
    inits.push({ name: `w${i}${"_".repeat(i % 4)}`, data: Float32Array.from(range(0, n), (k) => k * 0.37 - i), elementBytes: 4 });
  });
  [3, 70].forEach((n, i) => inits.push({ name: `h${i}`, data: Uint16Array.from(range(0, n), (k) => 0x3c00 + k), elementBytes: 2 }));
  [1, 3, 20, 3000].forEach((n, i) => {
    inits.push({ name: `f${i}${"_".repeat(i)}`, data: Float64Array.from(range(0, n), (k) => Math.PI * (k - i)), elementBytes: 8 });
  });
  [2, 300].forEach((n, i) => inits.push({ name: `i${i}__`, data: BigInt64Array.from(range(0, n), (k) => BigInt(k - 5) * 2n ** 33n), elementBytes: 8 }));
  inits.push({ name: "u", data: ORIGINALS.d, elementBytes: 1 });
  const typeOf = (data: TypedArray): number =>
    data instanceof Float32Array ? FLOAT : data instanceof Uint16Array ? FLOAT16 : data instanceof Float64Array ? DOUBLE : data instanceof BigInt64Array ? INT64 : UINT8;
  const protos = inits.map(({ name, data }) => rawInitializer(name, typeOf(data), [data.length], data));
  protos.push({ name: "e", dataType: FLOAT, dims: [2], floatData: [0.5, -0.5] });
  const bytes = new Uint8Array(pb.ModelProto.encode(modelWith(protos)).finish());
  return { bytes, inits };
}

/** The expected outcome of every raw_data initializer of `inits` when the model bytes start at absolute offset `fileStart`. */
function expectedOutcomes(bytes: Uint8Array, inits: readonly PlainInit[], fileStart: number): Map<string, Outcome> {
  const offsets = rawOffsets(bytes);
  return new Map(inits.map((i) => [i.name, expectedOutcome(fileStart + offsets.get(i.name)!, i.data.byteLength, i.elementBytes)]));
}

/** Counts of each outcome among the float32 and the 8-byte initializers. */
function outcomeCounts(inits: readonly PlainInit[], outcomes: Map<string, Outcome>, elementBytes: number): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { viewed: 0, moved: 0, copied: 0 };
  for (const i of inits) if (i.elementBytes === elementBytes) counts[outcomes.get(i.name)!]++;
  return counts;
}

describe("aligning misaligned raw_data in place in a buffer the importer owns", () => {
  const { bytes, inits } = plainLayoutModel();

  it("has a test model with float32 and float64 payloads that are aligned, movable and too far off to move", () => {
    // guards the cases below: without each kind they would prove less
    const outcomes = expectedOutcomes(bytes, inits, 0);
    for (const size of [4, 8]) {
      const counts = outcomeCounts(inits, outcomes, size);
      expect(counts.viewed, `${size}-byte viewed`).toBeGreaterThan(0);
      expect(counts.moved, `${size}-byte moved`).toBeGreaterThan(0);
      expect(counts.copied, `${size}-byte copied`).toBeGreaterThan(0);
    }
  });

  it("makes loadOnnxFile view every movable payload in the file buffer with the values a copying import decodes", () => {
    const path = join(tmp, "plain-layout.onnx");
    writeFileSync(path, bytes);
    const stats = emptyStorageStats();
    const m = loadOnnxFile(path, { stats });
    // the copy-based reference: the same bytes, imported without the flag
    const reference = importOnnx(bytes.slice(), { file: "plain-layout.onnx" });
    const first = constantData(m, "a");
    const fileBuffer = first.buffer;
    // where the file starts in its buffer (0 unless Node's Buffer pool served the read), from the aligned view of a
    const offsets = rawOffsets(bytes);
    const fileStart = first.byteOffset - offsets.get("a")!;
    const outcomes = expectedOutcomes(bytes, inits, fileStart);
    expect(outcomes.get("a")).toBe("viewed");
    const want = { viewed: 0, moved: 0, movedBytes: 0, copied: 0, copiedBytes: 0, decoded: 1 };
    for (const init of inits) {
      const data = constantData(m, init.name);
      expect(data, init.name).toEqual(init.data);
      expect(data, init.name).toEqual(constantData(reference, init.name));
      const absolute = fileStart + offsets.get(init.name)!;
      const outcome = outcomes.get(init.name)!;
      if (outcome === "copied") {
        expect(data.buffer, `${init.name} is a copy`).not.toBe(fileBuffer);
        want.copied++;
        want.copiedBytes += data.byteLength;
      } else {
        expect(data.buffer, `${init.name} is a view of the file buffer`).toBe(fileBuffer);
        const at = outcome === "moved" ? absolute - (absolute % init.elementBytes) : absolute;
        expect(data.byteOffset, `${init.name} (${outcome})`).toBe(at);
        want[outcome]++;
        if (outcome === "moved") want.movedBytes += data.byteLength;
      }
    }
    expect(constantData(m, "e")).toEqual(Float32Array.from([0.5, -0.5]));
    expect(stats.moved).toBeGreaterThan(0);
    expect(stats).toEqual(want);
  });

  it("changes nothing but the field headers of the moved payloads, wherever the bytes sit in their buffer", () => {
    // shifts 0..7 of the model in a larger buffer, as pooled Node Buffers are: alignment follows the absolute offset
    for (let fileStart = 0; fileStart < 8; fileStart++) {
      const store = new ArrayBuffer(bytes.length + 16);
      const held = new Uint8Array(store, fileStart, bytes.length);
      held.set(bytes);
      const stats = emptyStorageStats();
      const m = importOnnx(held, { file: "plain-layout.onnx", stats, alignInPlace: true });
      const outcomes = expectedOutcomes(bytes, inits, fileStart);
      const offsets = rawOffsets(bytes);
      // bytes a move may write: the payload and its field header (key + varint length)
      const writable = new Uint8Array(bytes.length);
      let moved = 0;
      for (const init of inits) {
        // bytewise (toEqual on 40000 floats eight times is slow); the same values as the originals' bytes
        const data = constantData(m, init.name);
        expect(Buffer.compare(Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.from(init.data.buffer)), `${init.name} at shift ${fileStart}`).toBe(0);
        if (outcomes.get(init.name) !== "moved") continue;
        moved++;
        const o = offsets.get(init.name)!;
        writable.fill(1, o - 1 - varint(init.data.byteLength).length, o + init.data.byteLength);
      }
      expect(stats.moved, `shift ${fileStart}`).toBe(moved);
      const outside: number[] = [];
      for (let k = 0; k < bytes.length; k++) if (held[k] !== bytes[k] && !writable[k]) outside.push(k);
      expect(outside, `bytes changed outside moved fields at shift ${fileStart}`).toEqual([]);
      // and the bytes around the model in the store are untouched
      expect(new Uint8Array(store, 0, fileStart).every((b) => b === 0)).toBe(true);
      expect(new Uint8Array(store, fileStart + bytes.length).every((b) => b === 0)).toBe(true);
    }
  });

  it("never modifies the bytes given to importOnnx without alignInPlace, and copies the misaligned payloads", () => {
    const held = bytes.slice();
    const stats = emptyStorageStats();
    const m = importOnnx(held, { file: "plain-layout.onnx", stats });
    expect(Buffer.compare(Buffer.from(held), Buffer.from(bytes)), "importOnnx modified its input").toBe(0);
    const outcomes = expectedOutcomes(bytes, inits, 0);
    const misaligned = inits.filter((i) => outcomes.get(i.name) !== "viewed");
    expect(stats).toMatchObject({ viewed: inits.length - misaligned.length, moved: 0, copied: misaligned.length });
    for (const init of inits) expect(constantData(m, init.name)).toEqual(init.data);
    // the same import with the flag does write into the bytes: the flag is what keeps them intact
    const opted = bytes.slice();
    importOnnx(opted, { file: "plain-layout.onnx", alignInPlace: true });
    expect(Buffer.compare(Buffer.from(opted), Buffer.from(bytes))).not.toBe(0);
  });
});

describe("refusing to move a payload in place", () => {
  /**
   * A model whose last initializer "t" holds `data` in raw_data with a hand-written field header (key 0x4A and the
   * length varint `lengthVarint`), its payload at an absolute offset ≡ `residue` (mod its element size); the rest is
   * plain protobufjs output. Returns the bytes and the payload's offset.
   */
  function modelWithPayload(data: TypedArray, dataType: number, lengthVarint: number[], residue: number, elementBytes: number): { bytes: Uint8Array; offset: number } {
    const payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // the graph's name (before the initializers) puts the Add operand "a" on a float32 boundary (viewed, never
    // moved); then the name of "t" puts its payload at the residue wanted
    for (let graphPad = 0; graphPad < 4; graphPad++) {
      const head = modelWith([rawInitializer("a", FLOAT, [4], ORIGINALS.a)], "", "", `g${"_".repeat(graphPad)}`);
      const modelHead = pb.ModelProto.encode({ ...head, graph: undefined }).finish();
      for (let pad = 0; pad < 16; pad++) {
        const name = `t${"_".repeat(pad)}`;
        const tensorHead = pb.TensorProto.encode({ name, dataType, dims: [data.length] }).finish();
        const tensor = [...tensorHead, 0x4a, ...lengthVarint, ...payload];
        const graphBytes = [...pb.GraphProto.encode(head.graph!).finish(), 0x2a, ...varint(tensor.length), ...tensor];
        const bytes = Uint8Array.from([...modelHead, 0x3a, ...varint(graphBytes.length), ...graphBytes]);
        const offsets = rawOffsets(bytes);
        const offset = offsets.get(name)!;
        // the oracle agrees that this is where the payload is
        expect(Array.from(bytes.subarray(offset, offset + payload.length))).toEqual(Array.from(payload));
        if (offsets.get("a")! % 4 === 0 && offset % elementBytes === residue) return { bytes, offset };
      }
    }
    throw new Error(`no name lengths put the payload at ${residue} mod ${elementBytes} with "a" aligned`);
  }

  /** Imports `bytes` with alignInPlace and checks that "t" was copied with its values and the bytes were not touched. */
  function expectCopied(bytes: Uint8Array, original: TypedArray): void {
    const held = bytes.slice();
    const stats = emptyStorageStats();
    const m = importOnnx(held, { file: "refused.onnx", stats, alignInPlace: true });
    const t = m.constants.find((c) => c.name.startsWith("t"))!;
    expect(t.data).toEqual(original);
    expect(t.data!.buffer, "t is a copy").not.toBe(held.buffer);
    expect(stats).toMatchObject({ viewed: 1, moved: 0, copied: 1, copiedBytes: original.byteLength });
    expect(Buffer.compare(Buffer.from(held), Buffer.from(bytes)), "a refused payload's bytes were modified").toBe(0);
  }

  it("copies a float64 payload misaligned by more than its 2-byte field header", () => {
    const data = Float64Array.from([Math.PI, -Math.E, 1 / 3]);
    const { bytes } = modelWithPayload(data, DOUBLE, varint(data.byteLength), 4, 8);
    expectCopied(bytes, data);
  });

  it("copies an int64 payload misaligned by 5, more than its 3-byte field header", () => {
    const data = BigInt64Array.from(range(0, 40), (k) => BigInt(k) * -(2n ** 40n) + 3n);
    expect(varint(data.byteLength).length).toBe(2);
    const { bytes } = modelWithPayload(data, INT64, varint(data.byteLength), 5, 8);
    expectCopied(bytes, data);
  });

  it("copies a tiny float32 payload 3 bytes off, more than its 2-byte field header", () => {
    const data = Float32Array.from([0.25, -8, 1e-7]);
    const { bytes } = modelWithPayload(data, FLOAT, varint(data.byteLength), 3, 4);
    expectCopied(bytes, data);
  });

  it("copies a payload whose length is written as a longer varint than needed, as the header cannot be proven", () => {
    // 50 floats = 200 bytes: shortest varint C8 01 (header 3 bytes), here C8 81 00; a shift of 1..3 would fit 3 bytes
    const data = Float32Array.from(range(0, 50), (k) => k / 3 - 4);
    for (const residue of [1, 2, 3]) {
      const { bytes } = modelWithPayload(data, FLOAT, [0xc8, 0x81, 0x00], residue, 4);
      expectCopied(bytes, data);
    }
    // the same payload with the shortest varint is moved, so it is the header that made the difference
    const { bytes } = modelWithPayload(data, FLOAT, varint(data.byteLength), 3, 4);
    const stats = emptyStorageStats();
    const m = importOnnx(bytes, { file: "moved.onnx", stats, alignInPlace: true });
    expect(stats).toMatchObject({ moved: 1, copied: 0 });
    expect(m.constants.find((c) => c.name.startsWith("t"))!.data).toEqual(data);
  });
});

/**
 * A decoded model as comparable plain data, unset fields at their defaults: a padded tensor without a doc_string of
 * its own decodes with an empty one, which is what an unset doc_string reads as.
 */
function plainModel(bytes: Uint8Array): unknown {
  return pb.ModelProto.toObject(pb.ModelProto.decode(bytes), { bytes: Array, longs: String, defaults: true });
}

/** Initializers of assorted element types, name lengths and encodings, one with a doc_string. */
function assortedInitializers(): onnx.ITensorProto[] {
  const inits: onnx.ITensorProto[] = [rawInitializer("a", FLOAT, [4], ORIGINALS.a)];
  for (let i = 0; i < 9; i++) {
    const n = 1 + 7 * i;
    inits.push(rawInitializer(`w${"x".repeat(i)}`, FLOAT, [n], Float32Array.from(range(0, n), (k) => k * 0.25 - i)));
  }
  inits.push(rawInitializer("b", DOUBLE, [3], ORIGINALS.b, "the b vector"));
  inits.push(rawInitializer("c_long_name_for_an_int64_tensor", INT64, [3], ORIGINALS.c));
  inits.push(rawInitializer("d", UINT8, [7], ORIGINALS.d));
  inits.push(rawInitializer("h", FLOAT16, [2], Uint16Array.from([0x3c00, 0xc000])));
  inits.push({ name: "e", dataType: FLOAT, dims: [2], floatData: [0.5, -0.5] });
  inits.push({ name: "s", dataType: INT64, dims: [1], int64Data: [4] });
  return inits;
}

describe("ONNX files written by xbarc", () => {
  it("have every initializer's raw_data at a 64-byte-aligned offset, decode to the same model and import with zero copies", () => {
    const model = modelWith(assortedInitializers(), "model doc");
    const bytes = encodeModelProtoAligned(model);
    const offsets = rawOffsets(bytes);
    expect(offsets.size).toBe(14);
    for (const [name, offset] of offsets) expect(offset % RAW_DATA_ALIGNMENT, `raw_data of ${name} at ${offset}`).toBe(0);
    // same message as protobufjs' own encoding, field for field (doc_strings included: the padding is overridden)
    expect(plainModel(bytes)).toEqual(plainModel(pb.ModelProto.encode(model).finish()));

    const stats = emptyStorageStats();
    const m = importOnnx(bytes, { file: "aligned.onnx", stats });
    expect(stats).toEqual({ viewed: 14, moved: 0, movedBytes: 0, copied: 0, copiedBytes: 0, decoded: 2 });
    for (const t of model.graph!.initializer!) {
      const data = constantData(m, t.name!);
      if (t.rawData) {
        expect(data.buffer).toBe(bytes.buffer);
        expect(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).toEqual(t.rawData);
      }
    }
  });

  it("stay aligned when the graph's length prefix grows a byte as the padding is chosen", () => {
    // graph lengths from below to above 2^14 (the 2- to 3-byte varint step), one float at a time
    let crossed = 0;
    for (let n = 4040; n <= 4100; n++) {
      const big = Float32Array.from(range(0, n), (k) => k);
      const model = modelWith([rawInitializer("a", FLOAT, [4], ORIGINALS.a), rawInitializer("big", FLOAT, [n], big)]);
      const bytes = encodeModelProtoAligned(model);
      if (bytes.length > 1 << 14) crossed++;
      for (const [name, offset] of rawOffsets(bytes)) expect(offset % RAW_DATA_ALIGNMENT, `${name} with n = ${n}`).toBe(0);
      expect(plainModel(bytes)).toEqual(plainModel(pb.ModelProto.encode(model).finish()));
    }
    expect(crossed, "the sweep crosses the boundary").toBeGreaterThan(0);
    expect(crossed).toBeLessThan(61);
  });

  it("load and run in onnxruntime with the results the graph defines", async () => {
    // y = reshape(x @ W + b, [2, 2]) with W, b float32 and the shape int64, all raw_data
    const W = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const b = Float32Array.from([0.5, -0.5, 0.25, -0.25]);
    const model: onnx.IModelProto = {
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name: "aligned_ort",
        node: [
          { name: "mm", opType: "MatMul", input: ["x", "W"], output: ["xw"] },
          { name: "add", opType: "Add", input: ["xw", "b"], output: ["z"] },
          { name: "reshape", opType: "Reshape", input: ["z", "shape"], output: ["y"] },
        ],
        initializer: [
          rawInitializer("W", FLOAT, [4, 4], W),
          rawInitializer("b", FLOAT, [4], b),
          rawInitializer("shape", INT64, [2], BigInt64Array.from([2n, 2n])),
        ],
        input: [{ name: "x", type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } }],
        output: [{ name: "y", type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 2 }, { dimValue: 2 }] } } } }],
      },
    };
    const path = join(tmp, "aligned-ort.onnx");
    const bytes = encodeModelProtoAligned(model);
    writeFileSync(path, bytes);
    for (const offset of rawOffsets(bytes).values()) expect(offset % RAW_DATA_ALIGNMENT).toBe(0);
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const x = Float32Array.from([1, -1, 2, 0.5]);
    const result = await session.run({ x: new ort.Tensor("float32", x, [1, 4]) });
    const expected = new Float32Array(4);
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let i = 0; i < 4; i++) s += x[i]! * W[i * 4 + j]!;
      expected[j] = s + b[j]!;
    }
    expect(result.y!.dims).toEqual([2, 2]);
    expect(Array.from(result.y!.data as Float32Array)).toEqual(Array.from(expected));
    // and xbarc reads it back with zero copies and computes the same
    const stats = emptyStorageStats();
    const m = loadOnnxFile(path, { stats });
    expect(stats).toMatchObject({ viewed: 3, copied: 0 });
    const y = interpretModule(m, new Map([["x", { type: { dtype: "f32", shape: [1, 4] }, data: x } as Tensor]])).get("y")!;
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(expected));
  });

  it("write tensor files whose payload is 64-byte aligned and decodes as a view, readable by onnx-proto", () => {
    for (const name of ["t", "logits", "a_tensor_with_a_longer_name"]) {
      const data = Float32Array.from(range(0, 37), (k) => k / 8 - 2);
      const bytes = encodeTensorProto(name, { type: { dtype: "f32", shape: [37] }, data });
      const raw = pb.TensorProto.decode(bytes).rawData;
      expect(raw.byteOffset % RAW_DATA_ALIGNMENT, name).toBe(0);
      const decoded = decodeTensorProto(bytes, `${name}.pb`);
      expect(decoded.name).toBe(name);
      expect(decoded.tensor.data.buffer).toBe(bytes.buffer);
      expect(decoded.tensor.data).toEqual(data);
      const path = join(tmp, `${name}.pb`);
      writeFileSync(path, bytes);
      const oracle = readFloatTensorProto(path);
      expect(oracle).toEqual({ name, dims: [37], data });
    }
  });
});

describe("compiling a model whose weights are views of the file buffer", () => {
  it("leaves the file buffer unchanged through the interpreter and the whole compile pipeline", () => {
    const fixture = listFixtureModels().find((f) => f.id === "lenet5");
    if (!fixture) throw new Error("fixture model lenet5 is missing (fixtures/models/trained/lenet5.onnx)");
    // re-encode the exported model so that every initializer is a view
    const bytes = encodeModelProtoAligned(pb.ModelProto.decode(readFileSync(fixture.path)));
    const pristine = bytes.slice();
    const stats: TensorStorageStats = emptyStorageStats();
    const m = importOnnx(bytes, { file: "lenet5.onnx", batch: 8, stats });
    expect(stats.copied).toBe(0);
    expect(stats.viewed).toBeGreaterThan(0);
    const input = m.inputs[0]!;
    const { data, labels } = samplesFor(fixture, range(0, 8));
    const batch = new Map([[input.name, { type: input.type, data } as Tensor]]);
    const calibration: CalibrationSet = { name: "t10k[0:8]", batches: [batch], counts: [8], labels: Int32Array.from(labels) };
    interpretModule(m, batch);
    runPipeline(m, `canonicalize,quantize{quantizer="fixed-point", bits=8},assign-levels,tile,bit-slice,place-truncation{rule=default}`, {
      device: getBuiltinProfile("isaac")!, calibration,
    });
    // quantize replaced the weights with fresh arrays; what it left alone (the biases) still views the file buffer
    const weights = m.constants.filter((c) => /\.weight$/.test(c.name));
    expect(weights.length).toBe(5);
    for (const w of weights) expect(w.data!.buffer, w.name).not.toBe(bytes.buffer);
    expect(m.constants.some((c) => c.data?.buffer === bytes.buffer)).toBe(true);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(pristine)), "the file bytes were modified").toBe(0);
  });
});

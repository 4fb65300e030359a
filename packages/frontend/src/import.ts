/**
 * @fileoverview ONNX ModelProto → IR Module: opset and domain checks, initializers, graph inputs with static shapes,
 * one importer call per node, static shape inference through the op registry (with known values folded so that
 * Shape→Gather→Concat→Reshape chains resolve), and graph outputs.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import type { onnx } from "onnx-proto";
import {
  Module,
  XbarcError,
  createTensor,
  formatType,
  inferTypes,
  runOp,
  shapeRange,
  tensorFromNumbers,
  withDefaults,
  type Attrs,
  type DiagnosticCode,
  type DType,
  type Op,
  type Tensor,
  type TensorType,
  type Value,
} from "@xbarc/ir";
import { NodeAttributes } from "./attributes.js";
import { decodeModelProto } from "./decode.js";
import type { NodeContext } from "./node-context.js";
import { IMPORTERS, MAX_OPSET, SUPPORTED_ONNX_OPS } from "./ops/index.js";
import { longToNumber, type LongLike } from "./proto.js";
import { SUPPORTED_DATA_TYPES_HINT, dtypeFromOnnx, onnxDataTypeName, tensorFromProto, type TensorStorageStats } from "./tensor-proto.js";

/** Options of `importOnnx`. */
export interface ImportOptions {
  /** the model's file name, used in messages, locations and the module name */
  readonly file: string;
  /** the size given to a symbolic or unset first dimension of graph inputs (default 1) */
  readonly batch?: number;
  /** reads an external data file named relative to the model's directory; without it external data is an error */
  readonly readExternal?: (location: string) => Uint8Array;
  /** receives counts of initializers viewed in the file buffer, moved in place, copied (misaligned) and decoded (typed fields) */
  readonly stats?: TensorStorageStats;
  /**
   * the importer may move misaligned initializer payloads within `bytes` (each onto its own raw_data field header)
   * so that they are viewed instead of copied; `bytes` is not usable as an ONNX file afterwards. Default false:
   * `bytes` is never modified. loadOnnxFile sets it for the buffer it reads itself.
   */
  readonly alignInPlace?: boolean;
}

/** Options of `loadOnnxFile`. */
export interface LoadOptions {
  /** the size given to a symbolic or unset first dimension of graph inputs (default 1) */
  readonly batch?: number;
  /** receives counts of initializers viewed in the file buffer, moved in place, copied (misaligned) and decoded (typed fields) */
  readonly stats?: TensorStorageStats;
}

/** Operand elements up to which an op with all-constant operands is evaluated at import (shape arithmetic is tiny). */
const FOLD_LIMIT = 1 << 16;

const SHAPE_HINT =
  "xbarc needs static shapes: fix the dimension in the model (e.g. onnxsim --overwrite-input-shape, or onnx.tools.update_model_dims); only the first (batch) dimension may be symbolic";

/**
 * Imports an ONNX model from its bytes into an IR module. Throws XbarcError XB1001–XB1011 on bad input. Initializers
 * whose raw_data is aligned for their element type (or, with `alignInPlace`, was moved into alignment) are views into
 * `bytes` (no copy), so they share its memory: do not modify `bytes` while the module is in use.
 */
export function importOnnx(bytes: Uint8Array, options: ImportOptions): Module {
  const model = decodeModelProto(bytes, options.file);
  return new GraphImporter(model, options).run();
}

/**
 * Reads an ONNX file (and external data files beside it) and imports it. The file's buffer is the importer's own, so
 * misaligned raw_data payloads are aligned in place (ImportOptions.alignInPlace) rather than copied.
 */
export function loadOnnxFile(path: string, options: LoadOptions = {}): Module {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new XbarcError("XB1001", `"${path}" cannot be read: ${(e as Error).message}`, {
      location: { kind: "file", file: path }, hint: "check the path and the file's permissions", cause: e,
    });
  }
  const dir = dirname(resolve(path));
  const cache = new Map<string, Uint8Array>();
  const readExternal = (location: string): Uint8Array => {
    // as onnxruntime does, external data must stay inside the model's directory
    if (isAbsolute(location) || location.split(/[\\/]/).includes("..")) {
      throw new Error(`the location must be a relative path inside the model's directory ${dir}`);
    }
    const full = resolve(dir, location);
    let data = cache.get(full);
    if (!data) {
      data = readFileSync(full);
      cache.set(full, data);
    }
    return data;
  };
  // nobody else holds `bytes`; external data files (readExternal) are never aligned in place
  return importOnnx(bytes, { file: path, batch: options.batch, readExternal, stats: options.stats, alignInPlace: true });
}

/** The module name: the file's base name without extension, reduced to identifier characters. */
export function moduleNameFor(file: string): string {
  const base = basename(file).replace(/\.onnx$/i, "");
  const name = base.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(name) ? name : `m_${name}`;
}

/** The default-domain opset a model imports (opset 1 when it lists none, as the ONNX spec says for IR version < 3). */
function defaultOpset(model: onnx.ModelProto): number {
  for (const o of model.opsetImport ?? []) {
    if (!o.domain || o.domain === "ai.onnx") return longToNumber(o.version as LongLike);
  }
  return 1;
}

/** Imports one graph; holds the name → value map and the statically known values. */
class GraphImporter {
  readonly module: Module;
  readonly file: string;
  readonly opset: number;
  readonly batch: number;
  readonly readExternal?: (location: string) => Uint8Array;
  private readonly stats?: TensorStorageStats;
  private readonly alignInPlace: boolean;
  private readonly graph: onnx.IGraphProto;
  /** ONNX value name → IR value */
  private readonly values = new Map<string, Value>();
  /** values known at import time: constants and folded results */
  private readonly known = new Map<Value, Tensor>();
  /** declared types of intermediate values and graph outputs (value_info, output) */
  private readonly declared = new Map<string, onnx.ITypeProto>();
  /** symbolic dim name → size, from graph inputs (their first dim is the batch) */
  private readonly dimParams = new Map<string, number>();
  /** every name in the graph plus every name we made up, so fresh names never collide */
  private readonly usedNames = new Set<string>();

  constructor(private readonly model: onnx.ModelProto, options: ImportOptions) {
    this.file = options.file;
    this.readExternal = options.readExternal;
    this.stats = options.stats;
    this.alignInPlace = options.alignInPlace ?? false;
    const batch = options.batch ?? 1;
    if (!Number.isSafeInteger(batch) || batch < 1) {
      throw new XbarcError("XB7001", `batch size must be a positive integer, got ${batch}`, { hint: "pass --batch N with N ≥ 1" });
    }
    this.batch = batch;
    this.graph = model.graph!;
    this.opset = defaultOpset(model);
    this.module = new Module(moduleNameFor(this.file));
  }

  run(): Module {
    const { model, graph, module } = this;
    if (this.opset > MAX_OPSET || this.opset < 1) {
      throw new XbarcError("XB1010", `"${this.file}" uses opset ${this.opset} of the default ONNX domain; xbarc knows opsets 1 to ${MAX_OPSET}`, {
        location: { kind: "onnx", file: this.file, field: "opset_import" },
        hint: `convert the model with onnx.version_converter.convert_version(model, ${MAX_OPSET})`,
      });
    }
    const producer = `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim();
    module.attrs = {
      source: basename(this.file),
      producer,
      ir_version: longToNumber(model.irVersion as LongLike),
      opset: this.opset,
      batch: this.batch,
    };
    this.collectNames();
    this.importInitializers();
    this.importInputs();
    for (const vi of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
      if (vi.name && vi.type) this.declared.set(vi.name, vi.type);
    }
    (graph.node ?? []).forEach((node, index) => this.importNode(node, index));
    this.importOutputs();
    return module;
  }

  private collectNames(): void {
    const g = this.graph;
    for (const t of g.initializer ?? []) this.usedNames.add(t.name ?? "");
    for (const v of g.input ?? []) this.usedNames.add(v.name ?? "");
    for (const node of g.node ?? []) {
      for (const o of node.output ?? []) this.usedNames.add(o);
      for (const i of node.input ?? []) this.usedNames.add(i);
    }
  }

  private define(name: string, value: Value, where: { node?: string; opType?: string }): void {
    if (this.values.has(name)) {
      throw new XbarcError("XB1005", `value "${name}" is defined twice${where.node ? ` (again by node "${where.node}")` : ""}`, {
        location: { kind: "onnx", file: this.file, node: where.node, opType: where.opType, field: name },
        hint: "ONNX graphs are SSA: each value name must be produced once; the model is malformed",
      });
    }
    this.values.set(name, value);
  }

  private importInitializers(): void {
    const g = this.graph;
    if ((g.sparseInitializer?.length ?? 0) > 0) {
      const name = g.sparseInitializer![0]!.values?.name ?? "";
      throw new XbarcError("XB1008", `sparse initializer "${name}" is not supported`, {
        location: { kind: "onnx", file: this.file, field: name }, hint: "store the initializer as a dense tensor",
      });
    }
    for (const t of g.initializer ?? []) {
      const name = t.name ?? "";
      const tensor = tensorFromProto(t, {
        file: this.file, label: `initializer "${name}"`, readExternal: this.readExternal, stats: this.stats, alignInPlace: this.alignInPlace,
      });
      const v = this.module.addConstant(name, tensor.type, tensor.data);
      this.known.set(v, tensor);
      this.define(name, v, {});
    }
  }

  private importInputs(): void {
    for (const vi of this.graph.input ?? []) {
      const name = vi.name ?? "";
      // IR version < 4 models list every initializer among the graph inputs: those are constants
      if (this.values.has(name)) continue;
      const type = this.inputType(vi);
      this.define(name, this.module.addInput(name, type), {});
    }
  }

  /** A graph input's static type: a symbolic or unset first dim becomes the batch size, any other symbolic dim is an error. */
  private inputType(vi: onnx.IValueInfoProto): TensorType {
    const name = vi.name ?? "";
    const location = { kind: "onnx" as const, file: this.file, field: name };
    const tt = vi.type?.tensorType;
    if (!tt) {
      throw new XbarcError("XB1008", `graph input "${name}" is not a tensor`, { location, hint: "xbarc imports tensor inputs only (no sequences, maps or optionals)" });
    }
    const dtype = dtypeFromOnnx(tt.elemType ?? 0);
    if (!dtype) {
      throw new XbarcError("XB1008", `graph input "${name}" has element type ${onnxDataTypeName(tt.elemType ?? 0)}, which xbarc does not support`, {
        location, hint: SUPPORTED_DATA_TYPES_HINT,
      });
    }
    if (!tt.shape) {
      throw new XbarcError("XB1006", `graph input "${name}" has no shape (not even a rank)`, { location, hint: SHAPE_HINT });
    }
    const dims = tt.shape.dim ?? [];
    const shape = dims.map((d, i) => {
      if (d.dimValue !== null && d.dimValue !== undefined && (d as onnx.TensorShapeProto.Dimension).value !== "dimParam") {
        return longToNumber(d.dimValue as LongLike);
      }
      if (i === 0) {
        if (d.dimParam) this.dimParams.set(d.dimParam, this.batch);
        return this.batch;
      }
      const what = d.dimParam ? `is symbolic ("${d.dimParam}")` : "has no size";
      throw new XbarcError("XB1006", `graph input "${name}": dimension ${i} ${what}`, { location: { ...location, field: `${name}[${i}]` }, hint: SHAPE_HINT });
    });
    return { dtype, shape };
  }

  /** The type a model declares for a value (value_info or graph output), resolved to static dims; undefined when it declares none. */
  declaredType(name: string): TensorType | undefined {
    const tt = this.declared.get(name)?.tensorType;
    if (!tt || !tt.shape) return undefined;
    const dtype = dtypeFromOnnx(tt.elemType ?? 0);
    if (!dtype) return undefined;
    const shape: number[] = [];
    for (const d of tt.shape.dim ?? []) {
      if (d.dimValue !== null && d.dimValue !== undefined) shape.push(longToNumber(d.dimValue as LongLike));
      else if (d.dimParam && this.dimParams.has(d.dimParam)) shape.push(this.dimParams.get(d.dimParam)!);
      else return undefined;
    }
    return { dtype, shape };
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}.${i}`;
    this.usedNames.add(name);
    return name;
  }

  private importNode(node: onnx.INodeProto, index: number): void {
    const opType = node.opType ?? "";
    const name = node.name || `${opType}_${index}`;
    const location = { kind: "onnx" as const, file: this.file, node: name, opType };
    const domain = node.domain ?? "";
    if (domain !== "" && domain !== "ai.onnx") {
      throw new XbarcError("XB1010", `node "${name}" (${opType}): domain "${domain}" is not supported`, {
        location, hint: "xbarc imports operators of the default ONNX domain (ai.onnx) only; export without custom or contrib ops",
      });
    }
    const importer = IMPORTERS[opType];
    if (!importer) {
      throw new XbarcError("XB1004", `node "${name}" (${opType}, opset ${this.opset}): operator is not supported`, {
        location, hint: `xbarc supports ${SUPPORTED_ONNX_OPS.join(", ")}; simplify or re-export the model without ${opType}`,
      });
    }
    const ctx = new NodeImport(this, node, opType, name);
    importer(ctx);
    for (const out of node.output ?? []) {
      if (out && !this.values.has(out)) throw new XbarcError("XB9001", `importer for ${opType} did not define output "${out}" of node "${name}" (this is a bug in xbarc)`, { location });
    }
  }

  private importOutputs(): void {
    for (const vi of this.graph.output ?? []) {
      const name = vi.name ?? "";
      const v = this.values.get(name);
      if (!v) {
        throw new XbarcError("XB1005", `graph output "${name}" is not produced by any node, initializer or input`, {
          location: { kind: "onnx", file: this.file, field: name }, hint: "the model is malformed; re-export it",
        });
      }
      const elem = vi.type?.tensorType?.elemType ?? 0;
      const declared = dtypeFromOnnx(elem);
      if (elem !== 0 && declared !== v.type.dtype) {
        throw new XbarcError("XB1006", `graph output "${name}" is declared ${onnxDataTypeName(elem)}, but the graph computes ${formatType(v.type)}`, {
          location: { kind: "onnx", file: this.file, field: name }, hint: "the model's declared output type disagrees with its nodes; re-export it",
        });
      }
      this.module.outputs.push(v);
    }
  }

  lookup(name: string): Value | undefined {
    return this.values.get(name);
  }

  knownValue(v: Value | null): Tensor | undefined {
    return v ? this.known.get(v) : undefined;
  }

  addConstant(name: string, tensor: Tensor, where: { node?: string; opType?: string }): Value {
    const v = this.module.addConstant(name, tensor.type, tensor.data);
    this.known.set(v, tensor);
    this.define(name, v, where);
    return v;
  }

  addOp(opcode: string, operands: (Value | null)[], results: { name: string; type: TensorType }[], attrs: Attrs, loc: string, opType: string): Op {
    const op = this.module.addOp(opcode, operands, results, attrs, loc);
    op.results.forEach((r) => this.define(r.name, r, { node: loc, opType }));
    this.fold(op);
    return op;
  }

  /** Records the values of an op whose operands are all known and small; `shape` is known from static types alone. */
  private fold(op: Op): void {
    if (op.opcode === "shape") {
      const x = op.operands[0]!;
      const [start, end] = shapeRange(x.type.shape.length, op.attrs.start as number, op.attrs.end as number);
      const dims = x.type.shape.slice(start, end);
      const t = createTensor({ dtype: "i64", shape: [dims.length] }, BigInt64Array.from(dims, (d) => BigInt(d)));
      this.known.set(op.results[0]!, t);
      return;
    }
    const operands: (Tensor | null)[] = [];
    let size = 0;
    for (const v of op.operands) {
      if (!v) {
        operands.push(null);
        continue;
      }
      const t = this.known.get(v);
      if (!t) return;
      size += t.data.length;
      operands.push(t);
    }
    if (size > FOLD_LIMIT) return;
    let results: Tensor[];
    try {
      results = runOp(op, operands);
    } catch (e) {
      // a kernel that cannot run this case leaves the value unknown; shape inference then uses declared types
      if (e instanceof XbarcError && e.code === "XB6002") return;
      throw e;
    }
    results.forEach((t, i) => this.known.set(op.results[i]!, t));
  }
}

/** The NodeContext handed to op importers. */
class NodeImport implements NodeContext {
  readonly attrs: NodeAttributes;
  readonly opset: number;
  readonly inputCount: number;
  readonly outputs: readonly string[];

  constructor(
    private readonly g: GraphImporter,
    readonly node: onnx.INodeProto,
    readonly opType: string,
    readonly name: string,
  ) {
    this.opset = g.opset;
    this.attrs = new NodeAttributes(node.attribute ?? [], { file: g.file, node: name, opType, readExternal: g.readExternal });
    this.inputCount = node.input?.length ?? 0;
    this.outputs = node.output ?? [];
  }

  error(code: DiagnosticCode, message: string, hint: string, field?: string): XbarcError {
    return new XbarcError(code, message, { location: { kind: "onnx", file: this.g.file, node: this.name, opType: this.opType, field }, hint });
  }

  input(i: number): Value | null {
    const name = this.node.input?.[i];
    if (!name) return null;
    const v = this.g.lookup(name);
    if (!v) {
      throw this.error("XB1005", `node "${this.name}" (${this.opType}): input ${i} "${name}" is not defined by any initializer, graph input or earlier node`,
        "the model is missing an initializer or its nodes are not in topological order; re-export it", name);
    }
    return v;
  }

  required(i: number, what: string): Value {
    const v = this.input(i);
    if (!v) {
      throw this.error("XB1005", `node "${this.name}" (${this.opType}): required input ${i} ("${what}") is missing`,
        `${this.opType} needs its ${what} input; the model is malformed`, what);
    }
    return v;
  }

  known(v: Value | null): Tensor | undefined {
    return this.g.knownValue(v);
  }

  fresh(base: string): string {
    return this.g.fresh(base);
  }

  declaredType(name: string): TensorType | undefined {
    return this.g.declaredType(name);
  }

  emit(opcode: string, operands: (Value | null)[], attrs: Attrs, results?: readonly string[]): Value[] {
    const names = this.resultNames(results);
    const filled = withDefaults(opcode, attrs);
    let types: TensorType[] | undefined;
    try {
      types = inferTypes(opcode, {
        operands: operands.map((v) => v?.type ?? null),
        values: operands.map((v) => this.g.knownValue(v)),
        attrs: filled,
        numResults: names.length,
      });
    } catch (e) {
      if (!(e instanceof XbarcError)) throw e;
      const code: DiagnosticCode = e.code === "XB3003" ? "XB1007" : "XB1006";
      const shapes = operands.map((v) => (v ? `${v.name}: ${formatType(v.type)}` : "none")).join(", ");
      throw new XbarcError(code, `node "${this.name}" (${this.opType}): ${e.message}`, {
        location: { kind: "onnx", file: this.g.file, node: this.name, opType: this.opType },
        hint: e.hint ?? "the node's inputs or attributes do not fit the operator; check the model",
        notes: [`operands: ${shapes}`], cause: e,
      });
    }
    if (!types) types = names.map((n) => this.fallbackType(n, operands));
    const op = this.g.addOp(opcode, operands, names.map((name, i) => ({ name, type: types![i]! })), filled, this.name, this.opType);
    return op.results;
  }

  /** The declared type of a result whose shape depends on values unknown at import time, or XB1006. */
  private fallbackType(name: string, operands: (Value | null)[]): TensorType {
    const t = this.g.declaredType(name);
    if (t) return t;
    const unknown = operands.filter((v): v is Value => !!v && v.kind !== "const" && !this.g.knownValue(v)).map((v) => `"${v.name}"`);
    throw this.error("XB1006",
      `node "${this.name}" (${this.opType}): the shape of "${name}" cannot be inferred: it depends on the run-time value of ${unknown.join(", ") || "an operand"}, and the model declares no static type for it`,
      "make those values constants (onnxsim folds them), or declare the output's shape in value_info", name);
  }

  private resultNames(results?: readonly string[]): string[] {
    let names = results ? [...results] : [...this.outputs];
    if (!results) {
      // trailing empty names are optional outputs nobody asked for
      while (names.length > 1 && names[names.length - 1] === "") names.pop();
    }
    names = names.map((n, i) => n || this.fresh(`${this.name}.out${i}`));
    return names;
  }

  constant(suffix: string, tensor: Tensor): Value {
    return this.g.addConstant(this.fresh(`${this.name}.${suffix}`), tensor, { node: this.name, opType: this.opType });
  }

  namedConstant(name: string, tensor: Tensor): Value {
    return this.g.addConstant(name, tensor, { node: this.name, opType: this.opType });
  }

  intsConstant(suffix: string, values: readonly number[]): Value {
    return this.constant(suffix, createTensor({ dtype: "i64", shape: [values.length] }, BigInt64Array.from(values, (v) => BigInt(v))));
  }

  scalarConstant(suffix: string, dtype: DType, value: number): Value {
    // the IR's cast-like writer truncates ints and encodes f16
    return this.constant(suffix, tensorFromNumbers(dtype, [], [value]));
  }
}

/** @fileoverview Shape arithmetic shared by the op registry, the interpreter and the importer: broadcasting, axes, conv/pool windows. */
import { XbarcError } from "../diagnostics/error.js";
import type { AttrValue } from "../module.js";

/** XB3001 error for an operand type the op cannot accept; the message is prefixed with the opcode. */
export function shapeError(opcode: string, message: string, hint?: string): XbarcError {
  return new XbarcError("XB3001", `${opcode}: ${message}`, { hint });
}

/** XB3003 error for a bad attribute value; the message is prefixed with the opcode. */
export function attrError(opcode: string, message: string, hint?: string): XbarcError {
  return new XbarcError("XB3003", `${opcode}: ${message}`, { hint });
}

/** Formats a shape as `[1,2,3]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Broadcast result of two shapes under numpy rules, or undefined when they do not broadcast. */
export function tryBroadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return undefined;
  }
  return out;
}

/** Broadcast result of two shapes under numpy rules; throws XB3001 when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const out = tryBroadcastShapes(a, b);
  if (!out) throw new XbarcError("XB3001", `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together`, {
    hint: "numpy broadcasting aligns trailing dims; each pair must be equal or one of them 1",
  });
  return out;
}

/** True when `from` broadcasts to exactly `to` (one-directional, as Gemm's C). */
export function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  for (let i = 0; i < from.length; i++) if (from[i] !== 1 && from[i] !== to[i + off]) return false;
  return true;
}

/** Normalises a possibly negative axis into [0, rank); returns -1 when out of range. */
export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : -1;
}

/** Reads an int attribute, throwing XB3003 when it is not an integer. */
export function intAttr(opcode: string, attrs: Readonly<Record<string, AttrValue>>, name: string, fallback?: number): number {
  const v = attrs[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw attrError(opcode, `attribute ${name} must be an integer, found ${JSON.stringify(v)}`);
  }
  return v;
}

/** Reads a float attribute, throwing XB3003 when it is not a number. */
export function floatAttr(opcode: string, attrs: Readonly<Record<string, AttrValue>>, name: string, fallback?: number): number {
  const v = attrs[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "number") throw attrError(opcode, `attribute ${name} must be a number, found ${JSON.stringify(v)}`);
  return v;
}

/** Reads an ints attribute, throwing XB3003 when it is not a list of integers; `fallback` when absent. */
export function intsAttr(opcode: string, attrs: Readonly<Record<string, AttrValue>>, name: string, fallback?: readonly number[]): number[] {
  const v = attrs[name];
  if (v === undefined && fallback !== undefined) return [...fallback];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isInteger(x))) {
    throw attrError(opcode, `attribute ${name} must be a list of integers, found ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** Reads a string attribute, throwing XB3003 when it is not a string. */
export function stringAttr(opcode: string, attrs: Readonly<Record<string, AttrValue>>, name: string, fallback?: string): string {
  const v = attrs[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "string") throw attrError(opcode, `attribute ${name} must be a string, found ${JSON.stringify(v)}`);
  return v;
}

/** Spatial window parameters of a conv or pool over spatial rank r, checked and defaulted. */
export interface WindowParams {
  readonly kernel: number[];
  readonly strides: number[];
  /** [begin_1..begin_r, end_1..end_r] */
  readonly pads: number[];
  readonly dilations: number[];
}

/** Reads strides/pads/dilations (defaulting to ones/zeros of rank r) and checks lengths and signs (XB3003). */
export function readWindowParams(opcode: string, attrs: Readonly<Record<string, AttrValue>>, kernel: readonly number[]): WindowParams {
  const r = kernel.length;
  const ones = new Array<number>(r).fill(1);
  const strides = intsAttr(opcode, attrs, "strides", ones);
  const pads = intsAttr(opcode, attrs, "pads", new Array<number>(2 * r).fill(0));
  const dilations = intsAttr(opcode, attrs, "dilations", ones);
  if (strides.length !== r) throw attrError(opcode, `strides has ${strides.length} values but the op has ${r} spatial dims`);
  if (dilations.length !== r) throw attrError(opcode, `dilations has ${dilations.length} values but the op has ${r} spatial dims`);
  if (pads.length !== 2 * r) throw attrError(opcode, `pads has ${pads.length} values but needs ${2 * r} ([begins..., ends...] over ${r} spatial dims)`);
  if (strides.some((s) => s < 1)) throw attrError(opcode, `strides must be ≥ 1, found ${formatShape(strides)}`);
  if (dilations.some((s) => s < 1)) throw attrError(opcode, `dilations must be ≥ 1, found ${formatShape(dilations)}`);
  if (pads.some((s) => s < 0)) throw attrError(opcode, `pads must be ≥ 0, found ${formatShape(pads)}`);
  if (kernel.some((k) => k < 1)) throw attrError(opcode, `kernel sizes must be ≥ 1, found ${formatShape(kernel)}`);
  return { kernel: [...kernel], strides, pads, dilations };
}

/**
 * Output sizes of a sliding window: floor((in + pb + pe − dil·(k−1) − 1)/s) + 1, or with ceil_mode the
 * ceiling, dropping a last window that would start inside the end padding (ONNX MaxPool/AveragePool, ORT).
 */
export function windowOutputShape(opcode: string, spatial: readonly number[], p: WindowParams, ceilMode = false): number[] {
  const r = spatial.length;
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const span = spatial[i]! + p.pads[i]! + p.pads[i + r]! - p.dilations[i]! * (p.kernel[i]! - 1) - 1;
    if (span < 0) {
      throw shapeError(opcode, `spatial dim ${i} of size ${spatial[i]} (padded ${spatial[i]! + p.pads[i]! + p.pads[i + r]!}) is smaller than the dilated kernel ${p.dilations[i]! * (p.kernel[i]! - 1) + 1}`);
    }
    let o = (ceilMode ? Math.ceil(span / p.strides[i]!) : Math.floor(span / p.strides[i]!)) + 1;
    if (ceilMode && (o - 1) * p.strides[i]! >= spatial[i]! + p.pads[i]!) o--;
    out[i] = o;
  }
  return out;
}

/** Product of dims in [from, to). */
export function prodDims(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i]!;
  return n;
}

/** One sliced dim: first index, step, element count. */
export interface SliceDim {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/**
 * Resolves ONNX Slice (opset 13) parameters into per-dim (start, step, count): negative starts/ends count
 * from the end, then clamp to [0, dim] for positive steps and [−1, dim−1] for negative ones; INT64_MAX/MIN
 * ends clamp the same way. Dims not in `axes` are taken whole.
 */
export function resolveSlice(
  opcode: string,
  shape: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): SliceDim[] {
  const rank = shape.length;
  const dims: SliceDim[] = shape.map((d) => ({ start: 0, step: 1, count: d }));
  if (starts.length !== ends.length) throw shapeError(opcode, `starts has ${starts.length} values but ends has ${ends.length}`);
  const k = starts.length;
  const axisList = axes ?? Array.from({ length: k }, (_, i) => i);
  if (axisList.length !== k) throw shapeError(opcode, `axes has ${axisList.length} values but starts has ${k}`);
  if (steps && steps.length !== k) throw shapeError(opcode, `steps has ${steps.length} values but starts has ${k}`);
  const seen = new Set<number>();
  for (let i = 0; i < k; i++) {
    const axis = normalizeAxis(axisList[i]!, rank);
    if (axis < 0) throw shapeError(opcode, `axis ${axisList[i]} is out of range for rank ${rank}`);
    if (seen.has(axis)) throw shapeError(opcode, `axis ${axis} appears twice in axes`);
    seen.add(axis);
    const dim = shape[axis]!;
    const step = steps ? steps[i]! : 1;
    if (step === 0) throw shapeError(opcode, `step for axis ${axis} is 0`);
    let start = starts[i]!;
    let end = ends[i]!;
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    if (step > 0) {
      start = Math.min(Math.max(start, 0), dim);
      end = Math.min(Math.max(end, 0), dim);
    } else {
      start = Math.min(Math.max(start, 0), dim - 1);
      end = Math.min(Math.max(end, -1), dim - 1);
    }
    const count = Math.max(0, Math.ceil((end - start) / step));
    dims[axis] = { start: count > 0 ? start : 0, step, count };
  }
  return dims;
}

/** Resolves a Reshape target (0 copies the input dim unless allowzero, one −1 inferred); throws XB3001 on mismatch. */
export function resolveReshape(opcode: string, input: readonly number[], target: readonly number[], allowzero: boolean): number[] {
  const out = target.map((d, i) => {
    if (d === 0 && !allowzero) {
      if (i >= input.length) throw shapeError(opcode, `shape[${i}] = 0 copies input dim ${i}, but the input has rank ${input.length}`);
      return input[i]!;
    }
    return d;
  });
  const total = prodDims(input);
  const minus = out.reduce((n, d) => n + (d === -1 ? 1 : 0), 0);
  if (minus > 1) throw shapeError(opcode, `shape ${formatShape(target)} has more than one -1`);
  if (out.some((d) => d < -1)) throw shapeError(opcode, `shape ${formatShape(target)} has a negative dim other than -1`);
  if (minus === 1) {
    if (allowzero && out.includes(0)) throw shapeError(opcode, `shape ${formatShape(target)} has both -1 and 0 with allowzero=1`);
    const known = out.reduce((n, d) => (d === -1 ? n : n * d), 1);
    if (known === 0 || total % known !== 0) {
      throw shapeError(opcode, `cannot reshape ${formatShape(input)} (${total} elements) into ${formatShape(target)}`);
    }
    out[out.indexOf(-1)] = total / known;
  }
  if (prodDims(out) !== total) {
    throw shapeError(opcode, `cannot reshape ${formatShape(input)} (${total} elements) into ${formatShape(out)} (${prodDims(out)} elements)`);
  }
  return out;
}

/** Resolves Pad's pads over `axes` (default all) into full-rank [begins..., ends...]; throws XB3001 on bad lengths. */
export function resolvePads(opcode: string, rank: number, pads: readonly number[], axes?: readonly number[]): number[] {
  const axisList = axes ?? Array.from({ length: rank }, (_, i) => i);
  if (pads.length !== 2 * axisList.length) {
    throw shapeError(opcode, `pads has ${pads.length} values but needs ${2 * axisList.length} ([begins..., ends...] over ${axisList.length} axes)`);
  }
  const full = new Array<number>(2 * rank).fill(0);
  const k = axisList.length;
  for (let i = 0; i < k; i++) {
    const axis = normalizeAxis(axisList[i]!, rank);
    if (axis < 0) throw shapeError(opcode, `axis ${axisList[i]} is out of range for rank ${rank}`);
    full[axis] = pads[i]!;
    full[axis + rank] = pads[i + k]!;
  }
  return full;
}

/** The normalised, sorted, duplicate-free list of axes; throws XB3001 naming the bad axis. */
export function normalizeAxes(opcode: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => {
    const n = normalizeAxis(a, rank);
    if (n < 0) throw shapeError(opcode, `axis ${a} is out of range for rank ${rank}`);
    return n;
  });
  const sorted = [...out].sort((x, y) => x - y);
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) throw shapeError(opcode, `axis ${sorted[i]} appears twice`);
  return sorted;
}

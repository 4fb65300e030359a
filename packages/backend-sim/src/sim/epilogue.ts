/**
 * @fileoverview The digital ops between two weight layers, fused: move (accumulators → reals, ×2^−fl), an optional
 * ReLU, an optional max pool, any reshapes, and the next layer's quantize, in one pass over the accumulators instead
 * of one pass (and one array) per op. Each element goes through the same float64 operations as the op-by-op
 * schedule (the same scalings, `v < 0 ? 0 : v`, the first maximum of the window, roundHalfEven and the clamp), so the
 * result is the same to the bit. A chain is fused only where every buffer inside it is read once, by the next op of
 * the chain, and is not a program output.
 */
import { getPoolParams, Op, poolOutputSpatial, forEachWindow } from "@xbarc/ir";
import { getIntegerRange, roundHalfEven } from "../fixed-point/kernels.js";
import type { Program, ScheduleOp } from "../program/types.js";

/** A fused chain of the schedule: ops [start, end] run as one. */
export interface Epilogue {
  readonly start: number;
  readonly end: number;
  /** the move's source (the layer's accumulators) and its 2^−fl */
  readonly from: string;
  readonly moveScale: number;
  readonly relu: boolean;
  /** max pool over [N, C, ...spatial] planes: per output position its taps (offsets within a plane) */
  readonly pool?: { readonly plane: number; readonly positions: number; readonly tapStarts: Int32Array; readonly taps: Int32Array };
  /** the quantize op ending the chain */
  readonly quantize: Extract<ScheduleOp, { op: "quantize" }>;
  /** the move's source is read by the move alone and is not an output (a layer engine may then fuse its accumulate too) */
  readonly fromInternal: boolean;
}

function readsOf(op: ScheduleOp): readonly string[] {
  if ("inputs" in op) return op.inputs.filter((n): n is string => n !== null);
  if ("from" in op) return [op.from];
  return [];
}

/** Window taps of a max pool over per-image shape `[C, ...spatial]`, or undefined if the op is not one this fuses. */
function planPool(op: Extract<ScheduleOp, { inputs: unknown }>, inShape: readonly number[]): Epilogue["pool"] {
  if (op.kind !== "maxpool" || op.outputs.length !== 1) return undefined;
  const params = getPoolParams(new Op("maxpool", [], [], op.attrs as Op["attrs"]));
  const inSpatial = inShape.slice(2);
  const outSpatial = poolOutputSpatial(inSpatial, params);
  const positions = outSpatial.reduce((a, b) => a * b, 1);
  const tapStarts = new Int32Array(positions + 1);
  const taps: number[] = [];
  forEachWindow(inSpatial, outSpatial, params, (q, windowTaps, count) => {
    for (let k = 0; k < count; k++) taps.push(windowTaps[k]!);
    tapStarts[q + 1] = taps.length;
  });
  return { plane: inSpatial.reduce((a, b) => a * b, 1), positions, tapStarts, taps: Int32Array.from(taps) };
}

/** The fusable chains of a program's schedule, by start index. */
function planEpilogues(program: Program): Map<number, Epilogue> {
  const schedule = program.schedule;
  const readers = new Map<string, number>();
  for (const op of schedule) for (const name of readsOf(op)) readers.set(name, (readers.get(name) ?? 0) + 1);
  const outputs = new Set(program.outputs);
  const shapes = new Map(program.buffers.map((b) => [b.name, b.shape]));
  // a buffer inside a chain: read once (by the next op) and not an output
  const internal = (name: string): boolean => readers.get(name) === 1 && !outputs.has(name);
  const plans = new Map<number, Epilogue>();
  for (let i = 0; i < schedule.length; i++) {
    const move = schedule[i]!;
    if (move.op !== "move" || !internal(move.to)) continue;
    let j = i + 1;
    let value = move.to;
    let relu = false;
    let pool: Epilogue["pool"];
    const next = (): ScheduleOp | undefined => schedule[j];
    let op = next();
    if (op && "inputs" in op && op.kind === "relu" && op.inputs[0] === value && op.outputs.length === 1 && internal(op.outputs[0]!)) {
      relu = true;
      value = op.outputs[0]!;
      op = schedule[++j];
    }
    if (op && "inputs" in op && op.kind === "maxpool" && op.inputs[0] === value && op.outputs.length === 1 && internal(op.outputs[0]!)) {
      const shape = shapes.get(value);
      pool = shape && shape.length >= 3 ? planPool(op, shape) : undefined;
      if (!pool) continue;
      value = op.outputs[0]!;
      op = schedule[++j];
    }
    // reshapes move no data: the quantize reads the same elements in the same order
    while (op && "inputs" in op && (op.kind === "flatten" || op.kind === "reshape") && op.inputs[0] === value && op.outputs.length === 1 && internal(op.outputs[0]!)) {
      value = op.outputs[0]!;
      op = schedule[++j];
    }
    if (!op || op.op !== "quantize" || op.from !== value) continue;
    plans.set(i, {
      start: i, end: j, from: move.from, moveScale: move.fl === undefined ? 1 : 2 ** -move.fl, relu, ...(pool ? { pool } : {}), quantize: op,
      fromInternal: internal(move.from),
    });
    i = j;
  }
  return plans;
}

const epilogueCache = new WeakMap<Program, Map<number, Epilogue>>();

/** The program's fusable chains (move … quantize), by the schedule index of their move; planned once per program. */
export function getEpilogues(program: Program): Map<number, Epilogue> {
  let plans = epilogueCache.get(program);
  if (!plans) epilogueCache.set(program, (plans = planEpilogues(program)));
  return plans;
}

/** clamp(roundHalfEven(v · qScale), lo, hi): quantizeActivationsImpl's expression for one element. */
function quantizeOne(v: number, qScale: number, lo: number, hi: number): number {
  const q = roundHalfEven(v * qScale);
  return q < lo ? lo : q > hi ? hi : q;
}

/** Runs a fused chain on the accumulators `acc` and returns the next layer's x_int (float64 integers). */
export function runEpilogueImpl(e: Epilogue, acc: Float64Array): Float64Array {
  const { moveScale, relu } = e;
  const [lo, hi] = getIntegerRange(e.quantize.bits, e.quantize.signed);
  const qScale = 2 ** e.quantize.fl;
  if (!e.pool) {
    const out = new Float64Array(acc.length);
    if (relu) {
      for (let i = 0; i < acc.length; i++) {
        const v = acc[i]! * moveScale;
        out[i] = quantizeOne(v < 0 ? 0 : v, qScale, lo, hi);
      }
    } else {
      for (let i = 0; i < acc.length; i++) out[i] = quantizeOne(acc[i]! * moveScale, qScale, lo, hi);
    }
    return out;
  }
  const { plane, positions, tapStarts, taps } = e.pool;
  const planes = acc.length / plane;
  const out = new Float64Array(planes * positions);
  for (let nc = 0; nc < planes; nc++) {
    const xBase = nc * plane;
    const oBase = nc * positions;
    for (let q = 0; q < positions; q++) {
      let best = -Infinity;
      for (let k = tapStarts[q]!; k < tapStarts[q + 1]!; k++) {
        let v = acc[xBase + taps[k]!]! * moveScale;
        if (relu && v < 0) v = 0;
        if (v > best) best = v;
      }
      out[oBase + q] = quantizeOne(best, qScale, lo, hi);
    }
  }
  return out;
}

/**
 * The digital tail of the layer accumulated by `schedule[index]` (an accumulate), when the layer engine can run it with
 * the layer: an optional bias op on the accumulators (digital or bias row), then a fusable chain whose move reads the
 * accumulators alone.
 */
export function getLayerTail(program: Program, epilogues: ReadonlyMap<number, Epilogue>, index: number):
  { readonly bias?: Extract<ScheduleOp, { op: "bias" }>; readonly epilogue: Epilogue } | undefined {
  const accumulate = program.schedule[index];
  if (accumulate?.op !== "accumulate") return undefined;
  const next = program.schedule[index + 1];
  const bias = next?.op === "bias" && next.layer === accumulate.layer && next.to === accumulate.to ? next : undefined;
  if (bias && bias.mode === "float") return undefined;
  const epilogue = epilogues.get(index + (bias ? 2 : 1));
  if (!epilogue || epilogue.from !== accumulate.to || !epilogue.fromInternal) return undefined;
  return bias ? { bias, epilogue } : { epilogue };
}

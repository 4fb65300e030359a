/**
 * @fileoverview The digital ops between two weight layers as one fusable chain: move (accumulators → reals, ×2^−fl),
 * an optional ReLU, an optional max pool, any reshapes, and the next layer's quantize — planned here, run by the layer
 * engine in one pass over the accumulators (layer-wasm.ts, kernels.wat `epilogue`) with the same float64 operations
 * per element as the op-by-op schedule. A chain is fused only where every buffer inside it is read once, by the next
 * op of the chain, and is not a program output.
 */
import { getPoolParams, Op, poolOutputSpatial, forEachWindow } from "@xbarc/ir";
import type { Program, ScheduleOp } from "../program/types.js";

/** A fused chain of the schedule: ops from its move to `end` run as one. */
export interface Epilogue {
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
      end: j, from: move.from, moveScale: move.fl === undefined ? 1 : 2 ** -move.fl, relu, ...(pool ? { pool } : {}), quantize: op,
      fromInternal: internal(move.from),
    });
    i = j;
  }
  return plans;
}

const epilogueCache = new WeakMap<Program, Map<number, Epilogue>>();

/** The program's fusable chains (move … quantize), by the schedule index of their move; planned once per program. */
function getEpilogues(program: Program): Map<number, Epilogue> {
  let plans = epilogueCache.get(program);
  if (!plans) epilogueCache.set(program, (plans = planEpilogues(program)));
  return plans;
}

/**
 * The fusable chain after the layer accumulated by `schedule[index]` (an accumulate): behind an optional bias op on the
 * accumulators (digital or bias row, not float), a chain whose move reads the accumulators alone.
 */
export function getLayerEpilogue(program: Program, index: number): Epilogue | undefined {
  const accumulate = program.schedule[index];
  if (accumulate?.op !== "accumulate") return undefined;
  const next = program.schedule[index + 1];
  const bias = next?.op === "bias" && next.layer === accumulate.layer && next.to === accumulate.to ? next : undefined;
  if (bias && bias.mode === "float") return undefined;
  const epilogue = getEpilogues(program).get(index + (bias ? 2 : 1));
  return epilogue && epilogue.from === accumulate.to && epilogue.fromInternal ? epilogue : undefined;
}

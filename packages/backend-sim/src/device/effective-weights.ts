/**
 * @fileoverview Effective weights of one Monte Carlo instance: every layer with cell states (#cells, written by
 * assign-levels) gets its cells' conductances sampled and mapped back to weight units, ready for the float interpreter.
 */
import {
  allocFloat, createRng, numel, storeFloat, XbarcError,
  type FloatArray, type Module, type Op, type Rng, type TypedArray, type Value,
} from "@xbarc/ir";
import { sampleConductances, type CellSampler } from "./sample.js";

/** How a layer's signed weights sit on cells (the #cells `map`). */
export type CellMap = "differential" | "offset-column";

/** One layer's cell states, read from its #cells annotation and the level-index constants it names. */
export interface CellLayer {
  /** the layer's name: its op's first result */
  readonly name: string;
  /** the conv/linear op carrying #cells */
  readonly op: Op;
  /** the weight constant whose data the effective weights replace */
  readonly weight: Value;
  /** the weight data as assign-levels left it: the nominal (ideal-device) values */
  readonly nominal: TypedArray;
  /** differential: w = scale·(G+ − G−) + offset; offset-column: w = scale·(G − G_ref[row]) + offset */
  readonly map: CellMap;
  /** level index of each weight's G+ cell (or its own cell with an offset column), weight order */
  readonly plus: Uint8Array;
  /** differential: level index of each weight's G− cell */
  readonly minus: Uint8Array;
  /** offset-column: level index of each crossbar row's reference cell (rowLength entries) */
  readonly reference: Uint8Array;
  /** weight units per siemens */
  readonly scale: number;
  /** weight units added digitally */
  readonly offset: number;
  /** levels per cell the states were assigned for */
  readonly levelCount: number;
  /** crossbar rows the layer occupies = numel / out_channels (the im2col / linear input index) */
  readonly rowLength: number;
}

/** The #cells fields this module reads (the annotation's schema is owned by the assign-levels pass). */
interface CellsAnnotation {
  map: string;
  levels: number;
  plus: string;
  minus: string;
  scale: number;
  offset: number;
}

function cellsError(op: Op, message: string, hint: string): XbarcError {
  return new XbarcError("XB6003", `layer %${op.results[0]?.name ?? "?"}: ${message}`, {
    location: { kind: "ir", loc: op.loc, value: op.results[0]?.name, op: op.opcode },
    hint,
  });
}

/**
 * Every layer with a #cells annotation, in op order, one entry per weight constant (a weight shared by two ops is
 * programmed once). Throws XB6003 when the annotation names constants that are missing, have no data, or do not
 * match the weight's shape, or when an offset-column row has more than one reference level.
 */
export function getCellLayers(module: Module): CellLayer[] {
  const constants = new Map(module.constants.map((c) => [c.name, c]));
  const seen = new Set<Value>();
  const layers: CellLayer[] = [];
  for (const op of module.ops) {
    const cells = op.getAnnotation("cells");
    if (!cells) continue;
    const a = cells.data as unknown as CellsAnnotation;
    const weight = op.operands[1];
    if (!weight || weight.kind !== "const") throw cellsError(op, "has #cells but its weight (operand 2) is not a constant", "run assign-levels on a module whose conv/linear weights are constants");
    if (seen.has(weight)) continue;
    seen.add(weight);
    const dtype = weight.type.dtype;
    if (dtype !== "f16" && dtype !== "f32" && dtype !== "f64") throw cellsError(op, `weight @${weight.name} is ${dtype}, not a float`, "cell states map back to float weights");
    if (!weight.data) throw cellsError(op, `weight @${weight.name} has no data`, "pass the weights side file with --weights");
    if (a.map !== "differential" && a.map !== "offset-column") throw cellsError(op, `#cells map="${a.map}" is neither "differential" nor "offset-column"`, "re-run assign-levels");
    const n = numel(weight.type.shape);
    const levelConstant = (name: string, field: string): Uint8Array => {
      const c = constants.get(name);
      if (!c) throw cellsError(op, `#cells ${field}="${name}" names no constant`, "re-run assign-levels, or keep its constants when editing the IR");
      if (!(c.data instanceof Uint8Array)) throw cellsError(op, `constant @${name} (#cells ${field}) ${c.data ? `is ${c.type.dtype}, not u8` : "has no data"}`, "pass the weights side file with --weights");
      if (c.data.length !== n) throw cellsError(op, `constant @${name} (#cells ${field}) has ${c.data.length} level indices for ${n} weights`, "re-run assign-levels");
      for (let i = 0; i < n; i++) {
        if (c.data[i]! >= a.levels) throw cellsError(op, `constant @${name}[${i}] is level ${c.data[i]}, but the cells have ${a.levels} levels`, "re-run assign-levels");
      }
      return c.data;
    };
    const plus = levelConstant(a.plus, "plus");
    const minus = levelConstant(a.minus, "minus");
    const outChannels = weight.type.shape[0] ?? 1;
    const rowLength = outChannels > 0 ? n / outChannels : 0;
    let reference = new Uint8Array(0);
    if (a.map === "offset-column") {
      // one reference cell per crossbar row, shared by every output column: minus repeats it for each output channel
      reference = minus.slice(0, rowLength);
      for (let i = rowLength; i < n; i++) {
        if (minus[i] !== reference[i % rowLength]) {
          throw cellsError(op, `offset column: @${a.minus}[${i}] is level ${minus[i]}, but row ${i % rowLength}'s reference cell is level ${reference[i % rowLength]}`, "an offset column holds one reference cell per row; re-run assign-levels");
        }
      }
    }
    layers.push({
      name: op.results[0]!.name,
      op,
      weight,
      nominal: weight.data,
      map: a.map,
      plus,
      minus,
      reference,
      scale: a.scale,
      offset: a.offset,
      levelCount: a.levels,
      rowLength,
    });
  }
  return layers;
}

/** Scratch conductance buffers reused across layers and runs (sized to the largest layer). */
export class ConductanceScratch {
  private plus = new Float64Array(0);
  private minus = new Float64Array(0);

  /** Buffers of at least `n` cells. */
  get(n: number): { plus: Float64Array; minus: Float64Array } {
    if (this.plus.length < n) {
      this.plus = new Float64Array(n);
      this.minus = new Float64Array(n);
    }
    return { plus: this.plus, minus: this.minus };
  }
}

/** Throws XB6003 unless the sampler's device has the level count the layer's states were assigned for. */
export function checkLevelCount(layer: CellLayer, sampler: CellSampler): void {
  if (sampler.levels.length !== layer.levelCount) {
    throw cellsError(layer.op, `its cell states were assigned for ${layer.levelCount} levels, but the device has ${sampler.levels.length}`, "evaluate with the device that assign-levels used (--device)");
  }
}

/**
 * One instance of the layer's weights: each cell's conductance sampled, then mapped back to weight units.
 * - differential: w_i = scale·(G+_i − G−_i) + offset, G+ and G− sampled independently;
 * - offset-column: w_i = scale·(G_i − G_ref[row(i)]) + offset, one reference cell sampled per crossbar row,
 *   row(i) = i mod (numel / out_channels) (Halawani et al., IEEE Access: shifted weights minus a reference column).
 * Draws: every G+ in weight order, then every G− (or every reference cell in row order), all from `rng`.
 * Returns a float array of the weight's compute precision (f32, or f64 for an f64 weight).
 */
export function sampleEffectiveWeights(layer: CellLayer, sampler: CellSampler, rng: Rng, scratch = new ConductanceScratch()): FloatArray {
  checkLevelCount(layer, sampler);
  const n = layer.plus.length;
  const out = allocFloat(layer.weight.type.dtype, n);
  const { plus: gPlus, minus: gMinus } = scratch.get(n);
  sampleConductances(sampler, layer.plus, rng, gPlus);
  const { scale, offset } = layer;
  if (layer.map === "differential") {
    sampleConductances(sampler, layer.minus, rng, gMinus);
    // same operation order as assign-levels' nominal value, so an ideal device reproduces it bit for bit
    for (let i = 0; i < n; i++) out[i] = scale * (gPlus[i]! - gMinus[i]!) + offset;
  } else {
    const rows = layer.rowLength;
    sampleConductances(sampler, layer.reference, rng, gMinus);
    for (let i = 0; i < n; i++) out[i] = scale * (gPlus[i]! - gMinus[i % rows]!) + offset;
  }
  return out;
}

/** The random stream of layer `layerIndex` (op order) in Monte Carlo run `run`: a function of (seed, run, layer) only. */
export function createInstanceRng(seed: number, run: number, layerIndex: number): Rng {
  return createRng(seed, `montecarlo/run-${run}/layer-${layerIndex}`);
}

/**
 * Replaces every layer's weight data with Monte Carlo instance `run` of its effective weights. The instance depends
 * only on (seed, run, layer order), never on which worker or in which order runs are evaluated.
 */
export function applyInstance(layers: readonly CellLayer[], sampler: CellSampler, seed: number, run: number, scratch = new ConductanceScratch()): void {
  layers.forEach((layer, k) => {
    const w = sampleEffectiveWeights(layer, sampler, createInstanceRng(seed, run, k), scratch);
    layer.weight.data = storeFloat(layer.weight.type.dtype, w);
  });
}

/** Puts the nominal (ideal-device) weights back. */
export function restoreNominal(layers: readonly CellLayer[]): void {
  for (const layer of layers) layer.weight.data = layer.nominal;
}

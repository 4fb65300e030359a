/**
 * @fileoverview The three prune rules: magnitude (one shot, or progressive under a budget), sensitivity (progressive,
 * first-order Taylor saliency re-scored after every step) and crossbar (structured: whole matrix rows and columns, in
 * amounts that free whole crossbars). Every rule is deterministic: layers in a fixed order, ties broken by index.
 */
import type { Module } from "@xbarc/ir";
import type { CalibrationSet } from "../pass.js";
import type { CrossbarCounter } from "./geometry.js";
import { countCorrect, countZeros, getAscendingOrder, getCalibrationSize, getVisitOrder, restoreWeights, zeroWeights, type PruneLayer } from "./layers.js";
import { scoreCalibration, type CalibrationScore } from "./saliency.js";

/** Why the loop stopped for a layer. */
export type StopReason = "budget" | "limit" | "target";

/** What a rule did to one layer (the #prune fields beyond rule/sparsity/zeros/mask). */
export interface LayerOutcome {
  steps: number;
  stop: StopReason;
  /** calibration images correct after the layer's last accepted step */
  correct?: number;
  rowsRemoved?: number;
  colsRemoved?: number;
  xbarsBefore?: number;
  xbarsAfter?: number;
}

/** A progressive rule's budget: the calibration set and the accuracy points it may lose against the unpruned model. */
export interface Budget {
  readonly calibration: CalibrationSet;
  /** accuracy points (percent of the calibration images) */
  readonly points: number;
  /** images correct before any pruning */
  readonly baseCorrect: number;
}

/** True when `correct` images keep the accuracy drop within the budget: (base − correct)/N·100 ≤ points. */
export function isWithinBudget(budget: Budget, correct: number): boolean {
  const n = getCalibrationSize(budget.calibration);
  // compared in integers scaled by N, so the comparison does not depend on rounding
  return (budget.baseCorrect - correct) * 100 <= budget.points * n + 1e-9;
}

/** Indices of the layer's nonzero weights in the order `scores` ranks them (ascending, ties by index). */
function rankNonzero(layer: PruneLayer, scores: ArrayLike<number>): Int32Array {
  return getAscendingOrder(scores, (i) => layer.data[i] !== 0);
}

/** Zero count after the k-th step of size `step`, capped by `limit` (fractions of the layer's weights). */
function stepTarget(n: number, k: number, step: number, limit: number): number {
  return Math.round(Math.min(k * step, limit) * n);
}

/**
 * Magnitude pruning: zero each layer's smallest |w| (ties by index) until a fraction `target` of its weights is zero.
 * Without a budget in one shot, layer by layer in op order. With a budget, progressively: per layer (most weights
 * first) the zero count rises to round(k·step·n) for k = 1, 2, ... (capped at target), the calibration accuracy is
 * measured after every step, and the first step that leaves the budget is undone and ends that layer.
 */
export function pruneByMagnitude(module: Module, layers: readonly PruneLayer[], target: number, step: number, budget?: Budget): Map<PruneLayer, LayerOutcome> {
  const outcomes = new Map<PruneLayer, LayerOutcome>();
  const magnitude = (l: PruneLayer): Float64Array => Float64Array.from(l.data, Math.abs);
  if (!budget) {
    for (const layer of layers) {
      const want = Math.round(target * layer.data.length) - countZeros(layer.data);
      if (want > 0) zeroWeights(layer, rankNonzero(layer, magnitude(layer)).subarray(0, want));
      outcomes.set(layer, { steps: 1, stop: "target" });
    }
    return outcomes;
  }
  let correct = budget.baseCorrect;
  for (const layer of getVisitOrder(layers)) {
    const n = layer.data.length;
    let steps = 0;
    let stop: StopReason = "target";
    for (let k = 1; ; k++) {
      const zeros = countZeros(layer.data);
      const want = stepTarget(n, k, step, target) - zeros;
      if (want <= 0) {
        if (k * step >= target) break;
        continue;
      }
      const indices = rankNonzero(layer, magnitude(layer)).subarray(0, want);
      const old = zeroWeights(layer, indices);
      const next = countCorrect(module, budget.calibration);
      if (!isWithinBudget(budget, next)) {
        restoreWeights(layer, indices, old);
        stop = "budget";
        break;
      }
      correct = next;
      steps++;
    }
    outcomes.set(layer, { steps, stop, correct });
  }
  return outcomes;
}

/**
 * Sensitivity pruning (Ma et al. 2025, progressive pruning by gradient sensitivity). Per layer, most weights first
 * (ties by op order): the zero count rises to round(min(k·step, maxSparsity)·n) for k = 1, 2, ...; each step zeroes
 * the nonzero weights of lowest saliency Σ|w·∂L/∂w| (ties by index) computed on the current weights; the step's
 * forward/backward pass over the calibration set gives both its accuracy and the saliency for the next step
 * (re-scoring). The first step whose accuracy drop against the unpruned model exceeds the budget is undone and ends
 * the layer; the next layer starts from what the previous ones left.
 */
export function pruneBySensitivity(module: Module, layers: readonly PruneLayer[], step: number, maxSparsity: number, budget: Budget, first: CalibrationScore): Map<PruneLayer, LayerOutcome> {
  const outcomes = new Map<PruneLayer, LayerOutcome>();
  let score = first;
  for (const layer of getVisitOrder(layers)) {
    const n = layer.data.length;
    let steps = 0;
    let stop: StopReason = "limit";
    for (let k = 1; ; k++) {
      const goal = stepTarget(n, k, step, maxSparsity);
      const want = goal - countZeros(layer.data);
      if (want <= 0) {
        if (k * step >= maxSparsity) break;
        continue;
      }
      const indices = rankNonzero(layer, score.saliency.get(layer.weight.name)!).subarray(0, want);
      const old = zeroWeights(layer, indices);
      const next = scoreCalibration(module, budget.calibration, layers);
      if (!isWithinBudget(budget, next.correct)) {
        restoreWeights(layer, indices, old);
        stop = "budget";
        break;
      }
      score = next;
      steps++;
    }
    outcomes.set(layer, { steps, stop, correct: score.correct });
  }
  return outcomes;
}

/** Element indices of matrix row r (all groups, all columns) or column c (all groups, all rows). */
function rowElements(layer: PruneLayer, r: number): number[] {
  const out: number[] = [];
  for (let g = 0; g < layer.groups; g++) for (let c = 0; c < layer.cols; c++) out.push((g * layer.cols + c) * layer.rows + r);
  return out;
}
function colElements(layer: PruneLayer, c: number): number[] {
  const out: number[] = [];
  for (let g = 0; g < layer.groups; g++) {
    const base = (g * layer.cols + c) * layer.rows;
    for (let r = 0; r < layer.rows; r++) out.push(base + r);
  }
  return out;
}

/** A structured step: remove these rows or columns, freeing `saved` crossbars at saliency cost `cost`. */
interface Move {
  readonly kind: "rows" | "cols";
  readonly units: readonly number[];
  readonly cost: number;
  readonly saved: number;
}

/**
 * The cheapest run of lowest-scored kept units whose removal drops the layer's crossbar count by at least one:
 * the smallest k such that counter(kept − k) < counter(kept), then the k lowest scores (ties by index).
 */
function proposeMove(kind: "rows" | "cols", scores: Float64Array, kept: Uint8Array, count: (keptUnits: number) => number): Move | undefined {
  let keptUnits = 0;
  for (let i = 0; i < kept.length; i++) keptUnits += kept[i]!;
  const now = count(keptUnits);
  let k = 1;
  // at least one unit stays: a layer never loses all its rows or all its columns
  while (k < keptUnits && count(keptUnits - k) >= now) k++;
  if (k >= keptUnits) return undefined;
  const order = getAscendingOrder(scores, (i) => kept[i] === 1);
  const units = Array.from(order.subarray(0, k));
  let cost = 0;
  for (const u of units) cost += scores[u]!;
  return { kind, units, cost, saved: now - count(keptUnits - k) };
}

/**
 * Crossbar (structured) pruning: the units are the layer's matrix rows (im2col inputs, across all groups) and
 * columns (output channels of a group, across all groups), scored by the summed saliency Σ|w·∂L/∂w| of their weights.
 * Per layer (most weights first), each step proposes the cheapest row removal and the cheapest column removal that
 * free at least one crossbar (by the tile planner, `counter`), and takes the one with the lower saliency per crossbar
 * freed (rows on ties); when it leaves the budget it is undone and the other proposal is tried; when both fail the
 * layer ends. Re-scored after every accepted step. The last layer's columns (the class logits) are never removed,
 * and a removed output channel keeps its bias (its output becomes the constant bias, so the function is still the
 * float model's with those weights zero).
 */
export function pruneByCrossbars(
  module: Module, layers: readonly PruneLayer[], counters: ReadonlyMap<PruneLayer, CrossbarCounter>, budget: Budget, first: CalibrationScore,
): Map<PruneLayer, LayerOutcome> {
  const outcomes = new Map<PruneLayer, LayerOutcome>();
  let score = first;
  for (const layer of getVisitOrder(layers)) {
    const counter = counters.get(layer)!;
    const keptRows = new Uint8Array(layer.rows).fill(1);
    const keptCols = new Uint8Array(layer.cols).fill(1);
    // rows or columns that are already zero everywhere count as removed: the tile pass drops them too
    for (let r = 0; r < layer.rows; r++) if (rowElements(layer, r).every((i) => layer.data[i] === 0)) keptRows[r] = 0;
    for (let c = 0; c < layer.cols; c++) if (colElements(layer, c).every((i) => layer.data[i] === 0)) keptCols[c] = 0;
    const sum = (a: Uint8Array): number => a.reduce((s, x) => s + x, 0);
    const before = counter(sum(keptRows), sum(keptCols));
    let steps = 0;
    let stop: StopReason = "limit";
    for (;;) {
      const sal = score.saliency.get(layer.weight.name)!;
      const rowScores = new Float64Array(layer.rows);
      const colScores = new Float64Array(layer.cols);
      for (let g = 0; g < layer.groups; g++) {
        for (let c = 0; c < layer.cols; c++) {
          const base = (g * layer.cols + c) * layer.rows;
          for (let r = 0; r < layer.rows; r++) {
            const s = sal[base + r]!;
            rowScores[r]! += s;
            colScores[c]! += s;
          }
        }
      }
      const colsNow = sum(keptCols);
      const rowsNow = sum(keptRows);
      const moves: Move[] = [];
      const rowMove = proposeMove("rows", rowScores, keptRows, (k) => counter(k, colsNow));
      if (rowMove) moves.push(rowMove);
      const colMove = layer.isLast ? undefined : proposeMove("cols", colScores, keptCols, (k) => counter(rowsNow, k));
      if (colMove) moves.push(colMove);
      if (moves.length === 0) break;
      moves.sort((a, b) => a.cost / a.saved - b.cost / b.saved || (a.kind === "rows" ? -1 : 1));
      let accepted = false;
      for (const move of moves) {
        const elements = move.units.flatMap((u) => (move.kind === "rows" ? rowElements(layer, u) : colElements(layer, u))).filter((i) => layer.data[i] !== 0);
        const old = zeroWeights(layer, elements);
        const next = scoreCalibration(module, budget.calibration, layers);
        if (!isWithinBudget(budget, next.correct)) {
          restoreWeights(layer, elements, old);
          continue;
        }
        for (const u of move.units) (move.kind === "rows" ? keptRows : keptCols)[u] = 0;
        score = next;
        steps++;
        accepted = true;
        break;
      }
      if (!accepted) {
        stop = "budget";
        break;
      }
    }
    outcomes.set(layer, {
      steps, stop, correct: score.correct,
      rowsRemoved: layer.rows - sum(keptRows), colsRemoved: layer.cols - sum(keptCols),
      xbarsBefore: before, xbarsAfter: counter(sum(keptRows), sum(keptCols)),
    });
  }
  return outcomes;
}

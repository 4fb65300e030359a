/**
 * @fileoverview The prune pass (Ma, Jiang, Liu, Du, Ma, Du, "A Resource-Efficient Weight Quantization and Mapping
 * Method for Crossbar Arrays in ReRAM-Based Computing-in-Memory Systems", Integrated Circuits and Systems 2(4), 2025):
 * set conv/linear weights to exactly 0 by one of three rules — magnitude, sensitivity (progressive first-order Taylor
 * saliency under a calibration-accuracy budget) or crossbar (whole matrix rows/columns so whole crossbars disappear) —
 * and record `#prune` per layer with a u8 mask constant naming every weight it removed.
 *
 * Algorithm (progressive rules; exact, deterministic):
 *   base = top-1 accuracy of the float model on the calibration set (padding excluded)
 *   for each layer, most weights first (ties: op order):
 *     repeat: propose a step (below) on the current weights; zero it; measure the calibration accuracy;
 *             if (base − acc)·100/N > budget: undo the step, stop this layer ("budget"); else accept (re-score)
 *     until the rule has nothing left to propose ("limit"/"target")
 *   magnitude step k: the zero count rises to round(min(k·step, sparsity)·n), smallest |w| first
 *   sensitivity step k: the zero count rises to round(min(k·step, max_sparsity)·n), smallest Σ_b n_b|w·∂L_b/∂w| first
 *   crossbar step: the cheaper (saliency per crossbar freed) of the fewest lowest-scored rows, or columns, whose
 *     removal frees ≥ 1 crossbar per the tile planner; if it breaks the budget the other is tried
 *   ties in every ranking: lower element (or row/column) index first.
 */
import { XbarcError, type Module, type Value } from "@xbarc/ir";
import type { Pass, PassContext, PassResult } from "../pass.js";
import "./annotation.js";
import { getCrossbarCounter, type CrossbarCounter } from "./geometry.js";
import { countCorrect, countZeros, getCalibrationSize, getPruneLayers, type PruneLayer } from "./layers.js";
import { pruneByCrossbars, pruneByMagnitude, pruneBySensitivity, type Budget, type LayerOutcome } from "./rules.js";
import { scoreCalibration } from "./saliency.js";

/** The prune rules, as `rule=` spells them. */
export const PRUNE_RULES = ["magnitude", "sensitivity", "crossbar"] as const;
/** One prune rule. */
export type PruneRule = (typeof PRUNE_RULES)[number];

/** Default accuracy budget of the progressive rules, in accuracy points. */
export const DEFAULT_PRUNE_BUDGET = 1;

export interface PruneOptions {
  /** magnitude, sensitivity (default) or crossbar */
  rule: string;
  /** accuracy points of calibration accuracy the pruning may lose; −1 = the rule's default (1 for sensitivity and crossbar, none for magnitude) */
  budget: number;
  /** magnitude: the fraction of each layer's weights to zero */
  sparsity: number;
  /** sensitivity: the largest fraction of a layer's weights it may zero */
  max_sparsity: number;
  /** progressive rules: sparsity added per step */
  step: number;
  /** crossbar: bits per weight the quantizer will use (fixed-point: S = ceil(bits/cell_bits) slices); 0 = one weight per cell (pair) */
  weight_bits: number;
}

const OPTIONS_DOC: Record<keyof PruneOptions, string> = {
  rule: "magnitude | sensitivity | crossbar",
  budget: `calibration accuracy points the pruning may lose against the unpruned model; -1 = the rule's default (${DEFAULT_PRUNE_BUDGET} for sensitivity and crossbar, no budget for magnitude)`,
  sparsity: "magnitude: fraction of each layer's weights set to 0 (with a budget: the most it goes to)",
  max_sparsity: "sensitivity: the largest fraction of a layer's weights it may set to 0",
  step: "progressive rules: sparsity added per step (re-scored after each)",
  weight_bits: "crossbar: weight word length the quantizer will use, for the crossbar count (0 = one weight per cell)",
};

/** The mask constant of a layer: reused when a previous prune named one, else a fresh `<weight>.prune_mask`. */
function getMaskConstant(module: Module, layer: PruneLayer): Value {
  const previous = layer.op.getAnnotation("prune")?.data.mask;
  const existing = typeof previous === "string" ? module.constants.find((c) => c.name === previous) : undefined;
  if (existing && existing.data instanceof Uint8Array && existing.data.length === layer.mask.length) {
    const old = existing.data;
    for (let i = 0; i < old.length; i++) if (old[i]) layer.mask[i] = 1;
    existing.data = layer.mask;
    return existing;
  }
  return module.addConstant(module.freshName(`${layer.weight.name}.prune_mask`), { dtype: "u8", shape: [...layer.weight.type.shape] }, layer.mask);
}

export const prune: Pass<PruneOptions> = {
  name: "prune",
  summary: "set conv/linear weights to 0: magnitude, progressive sensitivity (Taylor saliency) under an accuracy budget, or whole crossbar rows/columns",
  description: `Sets weights of every conv and linear layer to exactly 0 (the module stays a valid float model) and
records #prune on each layer, with a u8 mask constant <weight>.prune_mask (1 = removed here). Runs after
canonicalize and before quantize, so the codebook is fitted to the surviving weights.
Rules (Ma, Jiang, Liu, Du, Ma, Du, Integrated Circuits and Systems 2(4), 2025: progressive pruning by
gradient sensitivity, then fewer crossbar units):
  magnitude    zero each layer's smallest |w| up to \`sparsity\` (one shot). With a budget (needs calibration)
               progressively, as below, stopping early when the budget breaks.
  sensitivity  progressive: per layer, the zero count rises by \`step\` of the layer's weights per step (up to
               max_sparsity), zeroing the weights of lowest saliency s = Σ_b n_b·|w·∂L_b/∂w| over the
               calibration batches (first-order Taylor estimate of the loss change), re-scored after every step.
  crossbar     structured: removes whole matrix rows (im2col inputs c,kh,kw, across groups) or columns (output
               channels) of lowest summed saliency, each step the fewest that free at least one crossbar of the
               device (counted by the tile planner, weights weight_bits wide); rows vs columns by saliency per
               crossbar freed, the other tried when one breaks the budget. Never the last layer's columns (the
               class logits); a removed output channel keeps its bias (its output is the constant bias).
Progressive loop (sensitivity, crossbar, magnitude with a budget), deterministic:
  base = float top-1 accuracy on the calibration set; layers most weights first (ties: op order); per layer,
  repeat {propose a step; apply; measure accuracy; if (base − acc)·100 > budget undo it and stop the layer}.
  The budget is cumulative against the unpruned model: later layers get what earlier ones left.
  Ties in every ranking: lower index first. One step = one forward + backward pass over the calibration set.
Needs --calib-images for sensitivity, crossbar and any budget (XB5003 otherwise); never sees evaluation images.
Stats: pruned-layers, pruned-weights, zero-weights, rows-removed, cols-removed, calibration-correct-before/after.

Crossbar counts assume the tile pass drops all-zero matrix rows and columns (tile{merge="zeros"} or more); rows
whose weights only become zero when quantized are not foreseen, so the real saving can be larger.

Example (mlp784-32-10-relu, rule=sensitivity, budget=1, calibration t10k[0:500]; acc is the model's after this layer):
  before:
    %/fc1/Gemm_output_0 = linear %input, @fc1.weight, @fc1.bias : f32[100,32] loc("/fc1/Gemm")
  after:
    const @fc1.weight.prune_mask : u8[32,784]
    %/fc1/Gemm_output_0 = linear %input, @fc1.weight, @fc1.bias : f32[100,32] loc("/fc1/Gemm")
        #prune{rule="sensitivity", sparsity=0.75, zeros=18816, mask="fc1.weight.prune_mask", budget=1, step=0.05, steps=15, stop="budget", acc=0.998, calibration="t10k[0:500]"}`,
  options: {
    type: "object",
    additionalProperties: false,
    required: [],
    properties: {
      rule: { type: "string", enum: [...PRUNE_RULES], default: "sensitivity", description: OPTIONS_DOC.rule },
      budget: { type: "number", minimum: -1, default: -1, description: OPTIONS_DOC.budget },
      sparsity: { type: "number", minimum: 0, maximum: 1, default: 0.5, description: OPTIONS_DOC.sparsity },
      max_sparsity: { type: "number", minimum: 0, maximum: 1, default: 0.95, description: OPTIONS_DOC.max_sparsity },
      step: { type: "number", exclusiveMinimum: 0, maximum: 1, default: 0.05, description: OPTIONS_DOC.step },
      weight_bits: { type: "integer", minimum: 0, maximum: 32, default: 8, description: OPTIONS_DOC.weight_bits },
    },
  } as unknown as Pass<PruneOptions>["options"],
  requires: [],
  provides: ["prune"],
  run(module: Module, options: PruneOptions, ctx: PassContext): PassResult {
    const rule = options.rule as PruneRule;
    if (options.budget !== -1 && options.budget < 0) {
      throw new XbarcError("XB5002", `prune: budget=${options.budget} must be ≥ 0 (accuracy points) or -1 for the rule's default`, { hint: OPTIONS_DOC.budget });
    }
    const points = options.budget >= 0 ? options.budget : rule === "magnitude" ? undefined : DEFAULT_PRUNE_BUDGET;
    const calibration = ctx.calibration;
    if (points !== undefined && !calibration) {
      const why = rule === "magnitude" ? `prune{rule="magnitude", budget=${options.budget}} measures its budget` : `prune{rule="${rule}"} scores weights and measures its budget`;
      throw new XbarcError("XB5003", `${why} on calibration images, but none were given`, {
        hint: 'pass --calib-images and --calib-labels (disjoint from your evaluation images), or use rule="magnitude" without a budget',
      });
    }
    if (rule === "crossbar" && !ctx.device) {
      throw new XbarcError("XB5003", 'prune{rule="crossbar"} needs a device profile: it removes rows and columns in amounts that free whole crossbars', { hint: "pass --device <name|file> (see `xbarc devices`)" });
    }
    if (module.inputs.length !== 1 && calibration) {
      throw new XbarcError("XB5003", `prune measures accuracy on one image input, but module @${module.name} has ${module.inputs.length} inputs`, { hint: "prune a single-input classifier" });
    }
    const layers = getPruneLayers(module);
    const zerosBefore = layers.map((l) => countZeros(l.data));
    const budget: Budget | undefined = points !== undefined ? { calibration: calibration!, points, baseCorrect: 0 } : undefined;
    let outcomes: Map<PruneLayer, LayerOutcome>;
    let baseCorrect = 0;
    if (rule === "magnitude") {
      if (budget) baseCorrect = countCorrect(module, budget.calibration);
      outcomes = pruneByMagnitude(module, layers, options.sparsity, options.step, budget && { ...budget, baseCorrect });
    } else {
      const first = scoreCalibration(module, budget!.calibration, layers);
      baseCorrect = first.correct;
      const b = { ...budget!, baseCorrect };
      if (rule === "sensitivity") {
        outcomes = pruneBySensitivity(module, layers, options.step, options.max_sparsity, b, first);
      } else {
        const counters = new Map<PruneLayer, CrossbarCounter>(layers.map((l) => [l, getCrossbarCounter(module, l.op, ctx.device!, options.weight_bits)]));
        outcomes = pruneByCrossbars(module, layers, counters, b, first);
      }
    }
    const n = calibration ? getCalibrationSize(calibration) : 0;
    let changed = false;
    layers.forEach((layer, i) => {
      const outcome = outcomes.get(layer)!;
      const zeros = countZeros(layer.data);
      if (zeros !== zerosBefore[i]) changed = true;
      const mask = getMaskConstant(module, layer);
      const data: Record<string, number | string> = {
        rule,
        sparsity: zeros / layer.data.length,
        zeros,
        mask: mask.name,
        ...(rule === "magnitude" ? { target: options.sparsity } : {}),
        ...(points !== undefined ? { budget: points } : {}),
        ...(points !== undefined && rule !== "crossbar" ? { step: options.step } : {}),
        ...(points !== undefined ? { steps: outcome.steps } : {}),
        stop: outcome.stop,
        ...(outcome.correct !== undefined && n > 0 ? { acc: outcome.correct / n } : {}),
        ...(outcome.rowsRemoved !== undefined ? { rows_removed: outcome.rowsRemoved, cols_removed: outcome.colsRemoved!, xbars_before: outcome.xbarsBefore!, xbars_after: outcome.xbarsAfter! } : {}),
        ...(calibration && points !== undefined ? { calibration: calibration.name } : {}),
      };
      const old = layer.op.getAnnotation("prune");
      if (!old || JSON.stringify(old.data) !== JSON.stringify(data)) {
        layer.op.setAnnotation("prune", data);
        changed = true;
      }
      ctx.stats.add("zero-weights", zeros);
      ctx.stats.add("pruned-weights", zeros - zerosBefore[i]!);
      if (zeros > zerosBefore[i]!) ctx.stats.add("pruned-layers");
      if (outcome.rowsRemoved !== undefined) {
        ctx.stats.add("rows-removed", outcome.rowsRemoved);
        ctx.stats.add("cols-removed", outcome.colsRemoved!);
      }
      ctx.diag.remark(`layer ${layer.name}: ${(100 * zeros / layer.data.length).toFixed(1)}% zero (${zeros} of ${layer.data.length})` +
        (outcome.rowsRemoved !== undefined ? `, ${outcome.rowsRemoved} row(s) and ${outcome.colsRemoved} column(s) removed, crossbars ${outcome.xbarsBefore} → ${outcome.xbarsAfter}` : "") +
        ` (stopped: ${outcome.stop})`);
    });
    if (budget) {
      // the final accuracy is the one after the last accepted step of any layer
      const finalCorrect = outcomesFinalCorrect(outcomes, baseCorrect);
      ctx.stats.add("calibration-correct-before", baseCorrect);
      ctx.stats.add("calibration-correct-after", finalCorrect);
      ctx.diag.remark(`calibration ${calibration!.name}: top-1 ${(100 * baseCorrect / n).toFixed(2)}% → ${(100 * finalCorrect / n).toFixed(2)}% (budget ${points} points)`);
    }
    return { changed };
  },
};

/** The calibration correct count after the last layer the progressive loop visited (later layers start from earlier ones). */
function outcomesFinalCorrect(outcomes: ReadonlyMap<PruneLayer, LayerOutcome>, base: number): number {
  let last = base;
  for (const o of outcomes.values()) if (o.correct !== undefined) last = o.correct;
  return last;
}

export { getPruneLayers, countCorrect as countCalibrationCorrect, type PruneLayer } from "./layers.js";
export { PRUNE_ANNOTATION_SCHEMA } from "./annotation.js";
export * from "./report.js";

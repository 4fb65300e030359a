/** @fileoverview The canonicalize pass: drive the rewrites, in order, to a fixed point, then remove dead code. */
import { InternalError, type Module } from "@xbarc/ir";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { Rewriter } from "./rewriter.js";
import { dropIdentities } from "./drop-identity.js";
import { foldConstants } from "./fold-constants.js";
import { simplifyReshapes } from "./simplify-reshapes.js";
import { foldBatchnorms } from "./fold-batchnorm.js";
import { convertToLinear } from "./to-linear.js";
import { foldBiasAdds } from "./fold-bias-add.js";

/** canonicalize takes no options. */
export type CanonicalizeOptions = Record<string, never>;

/** The rewrites in the order they run in each sweep; each returns how many times it fired. */
const rewrites: readonly ((r: Rewriter) => number)[] = [
  // copies first, so the patterns below see producers and readers directly connected
  dropIdentities,
  // folding first exposes constant reshape targets and precomputed weights to the rewrites after it
  foldConstants,
  simplifyReshapes,
  // BatchNorm before the linear conversion: gemm folds directly, and matmul-then-BN folds on the next sweep
  foldBatchnorms,
  convertToLinear,
  // last: needs the linear ops the conversion just produced
  foldBiasAdds,
];

/** Far above what any real graph needs (each sweep removes or replaces ops); hitting it means two rewrites undo each other. */
const MAX_SWEEPS = 1000;

export const canonicalize: Pass<CanonicalizeOptions> = {
  name: "canonicalize",
  summary: "fold constants and BatchNorm, turn Gemm/MatMul with constant weights into linear, drop copies",
  description: `Brings an imported graph to the hardware-facing form every later pass expects.
Runs these rewrites, in order, repeatedly until none applies, then removes dead ops and constants:
  1. identity and (inference) dropout are dropped; their readers read the input;
  2. an op whose operands are all constants is evaluated and becomes a constant; \`shape\` of any value
     folds (types are static), so Shape→Gather→Unsqueeze→Concat→Reshape chains give constant targets;
  3. a reshape/flatten that keeps its input's shape is dropped; reshape of reshape becomes one reshape;
  4. inference batchnorm (training_mode=0) after a conv, linear or gemm read only by it folds into the
     weights and bias (s = scale/sqrt(var+eps), w' = w·s per output channel, b' = (b − mean)·s + bias);
  5. gemm/matmul with a constant right operand becomes linear (w = [N,K], alpha folded into w, beta·C into
     the bias when C is the same for every row), and add of a per-channel constant after a linear or conv
     folds into its bias.
Value names are kept: the op that replaces another produces the same %name, and a constant read only by
the rewritten op keeps its @name with the new data.

Example (PyTorch Linear exported as Gemm, then BatchNorm1d):
  before:
    %h = gemm %x, @fc.weight, @fc.bias {alpha=1, beta=1, trans_a=0, trans_b=1} : f32[1,32]
    %y = batchnorm %h, @bn.scale, @bn.bias, @bn.mean, @bn.var {epsilon=1e-5, training_mode=0, momentum=0.9} : f32[1,32]
  after:
    %y = linear %x, @fc.weight, @fc.bias : f32[1,32]
  where @fc.weight and @fc.bias now hold the folded values.`,
  options: { type: "object", properties: {}, required: [], additionalProperties: false },
  requires: [],
  provides: [],
  run(module: Module, _options: CanonicalizeOptions, ctx: PassContext): PassResult {
    const r = new Rewriter(module, ctx.stats);
    let changed = false;
    let dead = 0;
    for (let sweep = 0; ; sweep++) {
      if (sweep === MAX_SWEEPS) throw new InternalError(`canonicalize did not reach a fixed point after ${MAX_SWEEPS} sweeps`);
      dead += module.removeDeadCode();
      r.invalidate();
      let fired = 0;
      for (const rewrite of rewrites) fired += rewrite(r);
      if (fired === 0) break;
      changed = true;
    }
    dead += module.removeDeadCode();
    if (dead > 0) ctx.stats.add("removed-dead", dead);
    return { changed: changed || dead > 0 };
  },
};

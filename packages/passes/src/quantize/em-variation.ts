/**
 * @fileoverview The variation-aware EM quantizer (variation-aware EM quantizer (slides)): clusters a layer's weights
 * onto the device's realizable states so that regions of large conductance variation get fewer levels and dense
 * weight regions more, by minimising quantization error + expected variation error layer by layer.
 *
 * Formulation implemented (the slides give the idea and the two-step EM; the equations are xbarc's):
 *   representative value of state s: q_s = α·Δ_s + β   (Δ_s = StateSpace delta, β added digitally)
 *   J(α, β, s_·) = Σ_i [ (w_i − α·Δ_{s_i} − β)² + α²·V_{s_i} ]      (V_s = StateSpace variance)
 * because a programmed state realizes Δ_s + ε with E[ε] = 0, Var ε = V_s, and
 * E[(w − α(Δ + ε) − β)²] = (w − αΔ − β)² + α²V: the first term is the quantization error, the second the
 * expected variation error. Starting from MES-CAQ's α, β (Huang et al., Micromachines 13:667, 2022, eq. 4), it
 * alternates
 *   (a) "E-step" of the slides — assignments fixed, α, β in closed form: with n_s weights in state s,
 *       β = w̄ − αΔ̄,  α = Σ_i (Δ_i − Δ̄)(w_i − w̄) / (Σ_i (Δ_i − Δ̄)² + Σ_i V_i);
 *   (b) "M-step" — α, β fixed, each weight to argmin_s (w − αΔ_s − β)² + α²V_s;
 * until the assignments stop changing (at most 5000 rounds; a few hundred on 400k weights). Each step minimises J
 * exactly over its own variables, so J never increases. With zero variance this is MES-CAQ with a least-squares
 * refitted scale and offset.
 *
 * NOTE: under variation this is not a projection: fitting its own output again moves it (the α² penalty pulls
 * the scale in for any input, and a state's cell of the power diagram need not contain the state's own value),
 * so it is meant to run once per layer. With zero variance re-fitting reproduces it up to float32 rounding.
 *
 * Speed: (b) is the lower envelope of the lines w ↦ −2q_s·w + q_s² + α²V_s (a 1-D power diagram), so each state
 * owns an interval of w; on the once-sorted weights every step is O(states·log n) with prefix sums.
 */
import { searchSorted, type QuantizeContext, type QuantResult, type Quantizer } from "./quantizer.js";
import { createConstantResult, getWeightRange } from "./mes-caq.js";

/** Rounds of (a)+(b) before stopping without convergence (each round costs O(states·log n), not O(n)). */
const MAX_EM_ROUNDS = 5000;

/** The fit and how it got there, for tests and `--stats`. */
export interface EmVariationTrace {
  readonly result: QuantResult;
  /** J after the initial assignment, then after every (a) and every (b) step, weight units² (summed over weights) */
  readonly objective: Float64Array;
  /** rounds of (a)+(b) run */
  readonly rounds: number;
  /** whether the assignments stopped changing within the round limit */
  readonly converged: boolean;
}

/** The lower envelope of the penalized costs for given α, β (normalized units): states and breakpoints. */
interface Envelope {
  /** the states on the envelope, by increasing value q */
  readonly states: Int32Array;
  /** breakpoints[h] = w at which states[h] hands over to states[h + 1] (a weight equal to it stays with h) */
  readonly breakpoints: Float64Array;
}

/**
 * Runs the EM quantizer and returns its result with the objective after every step. `u` and `v` below are the
 * state deltas and variances in units of the delta range D, so α is O(weight range) whatever the siemens scale.
 */
export function fitEmVariationWithTrace(weights: Float32Array, ctx: QuantizeContext): EmVariationTrace {
  const { states } = ctx;
  const S = states.delta.length;
  const { min: wMin, max: wMax } = getWeightRange(weights);
  if (!(wMax > wMin) || S < 2) {
    return { result: createConstantResult(wMin, weights.length, states), objective: Float64Array.of(0), rounds: 0, converged: true };
  }
  const D = states.delta[S - 1]! - states.delta[0]!;
  const u = Float64Array.from(states.delta, (d) => d / D);
  const v = Float64Array.from(states.variance, (x) => x / (D * D));

  // sorted weights and prefix sums of (w − w̄) and (w − w̄)², centred to keep per-interval sums accurate
  const n = weights.length;
  const sorted = Float64Array.from(weights).sort();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += sorted[i]!;
  mean /= n;
  const p1 = new Float64Array(n + 1);
  const p2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const c = sorted[i]! - mean;
    p1[i + 1] = p1[i]! + c;
    p2[i + 1] = p2[i]! + c * c;
  }

  // assignment = for each state the interval [lo[s], hi[s]) of the sorted weights (empty when lo = hi)
  const assign = (alpha: number, beta: number): { lo: Int32Array; hi: Int32Array; envelope: Envelope } => {
    const envelope = getEnvelope(u, v, alpha, beta);
    const lo = new Int32Array(S);
    const hi = new Int32Array(S);
    let start = 0;
    for (let h = 0; h < envelope.states.length; h++) {
      const end = h < envelope.breakpoints.length ? searchSorted(sorted, envelope.breakpoints[h]!, "right") : n;
      lo[envelope.states[h]!] = start;
      hi[envelope.states[h]!] = Math.max(start, end);
      start = Math.max(start, end);
    }
    return { lo, hi, envelope };
  };
  const objective = (alpha: number, beta: number, lo: Int32Array, hi: Int32Array): number => {
    let J = 0;
    for (let s = 0; s < S; s++) {
      const ns = hi[s]! - lo[s]!;
      if (ns === 0) continue;
      const c1 = p1[hi[s]!]! - p1[lo[s]!]!;
      const c2 = p2[hi[s]!]! - p2[lo[s]!]!;
      const d = alpha * u[s]! + beta - mean; // q_s − w̄
      J += Math.max(0, c2 - 2 * d * c1 + ns * d * d) + ns * alpha * alpha * v[s]!;
    }
    return J;
  };
  // (a): closed-form least squares with the α² variance penalty (see the file comment)
  const refit = (lo: Int32Array, hi: Int32Array, alpha: number): { alpha: number; beta: number } => {
    let uBar = 0;
    for (let s = 0; s < S; s++) uBar += ((hi[s]! - lo[s]!) * u[s]!) / n;
    let suw = 0;
    let suu = 0;
    let vt = 0;
    for (let s = 0; s < S; s++) {
      const ns = hi[s]! - lo[s]!;
      if (ns === 0) continue;
      const du = u[s]! - uBar;
      suw += du * (p1[hi[s]!]! - p1[lo[s]!]!);
      suu += ns * du * du;
      vt += ns * v[s]!;
    }
    // all weights in one noiseless state: J does not depend on α, keep it
    const a = suu + vt > 0 ? suw / (suu + vt) : alpha;
    return { alpha: a, beta: mean - a * uBar };
  };

  // initialise from MES-CAQ, eq. 4 (in normalized units the delta range is 1)
  let alpha = wMax - wMin;
  let beta = wMin - alpha * u[0]!;
  let current = assign(alpha, beta);
  const trace = [objective(alpha, beta, current.lo, current.hi)];
  let rounds = 0;
  let converged = false;
  while (rounds < MAX_EM_ROUNDS) {
    rounds++;
    ({ alpha, beta } = refit(current.lo, current.hi, alpha));
    trace.push(objective(alpha, beta, current.lo, current.hi));
    const next = assign(alpha, beta);
    trace.push(objective(alpha, beta, next.lo, next.hi));
    const same = next.lo.every((x, s) => x === current.lo[s]) && next.hi.every((x, s) => x === current.hi[s]);
    current = next;
    if (same) {
      converged = true;
      break;
    }
  }

  // codebook = the states in use, by value; codes by the same envelope that produced the final assignment
  const { envelope } = current;
  const used: number[] = [];
  for (let h = 0; h < envelope.states.length; h++) {
    const s = envelope.states[h]!;
    if (current.hi[s]! > current.lo[s]!) used.push(h);
  }
  const codeOfHull = new Int32Array(envelope.states.length).fill(-1);
  used.forEach((h, c) => (codeOfHull[h] = c));
  const scale = alpha / D;
  const state = Int32Array.from(used, (h) => envelope.states[h]!);
  const codebook = Float64Array.from(state, (s) => scale * states.delta[s]! + beta);
  const codes = new Int32Array(n);
  // the envelope piece of w is the number of breakpoints strictly below w ("left": a weight on a breakpoint stays lower)
  for (let i = 0; i < n; i++) codes[i] = codeOfHull[searchSorted(envelope.breakpoints, weights[i]!, "left")]!;
  return { result: { codebook, codes, state, scale, offset: beta }, objective: Float64Array.from(trace), rounds, converged };
}

/**
 * The lower envelope of cost_s(w) = (w − q_s)² + α²v_s over states, q_s = α·u_s + β. Up to the common w², cost_s is
 * the line −2q_s·w + (q_s² + α²v_s); as w grows the minimiser moves to larger q (convex-hull trick). Among states
 * of equal q (only when α = 0) the one of least variance, then smallest |u|, is kept.
 */
function getEnvelope(u: Float64Array, v: Float64Array, alpha: number, beta: number): Envelope {
  const S = u.length;
  const order = Array.from({ length: S }, (_, s) => s);
  const q = Float64Array.from(u, (x) => alpha * x + beta);
  const b = Float64Array.from(q, (x, s) => x * x + alpha * alpha * v[s]!);
  order.sort((i, j) => q[i]! - q[j]! || b[i]! - b[j]! || Math.abs(u[i]!) - Math.abs(u[j]!) || i - j);
  // w where line i (smaller q) and line j (larger q) cost the same
  const cross = (i: number, j: number) => (b[j]! - b[i]!) / (2 * (q[j]! - q[i]!));
  const hull: number[] = [];
  for (const s of order) {
    if (hull.length > 0 && q[hull[hull.length - 1]!] === q[s]) continue; // same value, larger cost
    while (hull.length >= 2 && cross(hull[hull.length - 2]!, s) <= cross(hull[hull.length - 2]!, hull[hull.length - 1]!)) hull.pop();
    hull.push(s);
  }
  const breakpoints = new Float64Array(hull.length - 1);
  for (let h = 0; h + 1 < hull.length; h++) breakpoints[h] = cross(hull[h]!, hull[h + 1]!);
  return { states: Int32Array.from(hull), breakpoints };
}

/** Variation-aware EM quantizer: fewer levels where σ is large, more where weights are dense. */
export const emVariationQuantizer: Quantizer = {
  name: "em-variation",
  summary: "variation-aware EM: states q_s = a*delta_s + b, alternately refit a, b and reassign to minimise quantization error + a^2*Var(delta_s)",
  cite: "variation-aware EM quantizer (slides); initialised from Huang, Xu, Wang, Hu, Fang, Micromachines 13:667, 2022, eq. 4",
  fit: (weights, ctx) => fitEmVariationWithTrace(weights, ctx).result,
};

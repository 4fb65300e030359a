/**
 * @fileoverview canonicalize step 3: a reshape or flatten whose result has its input's shape is a copy and goes;
 * a reshape/flatten of a reshape/flatten reads the original value with one constant target.
 */
import { Op, withDefaults } from "@xbarc/ir";
import { makeI64, sameShape, type Rewriter } from "./rewriter.js";

const isReshapeLike = (op: Op | undefined): op is Op => op !== undefined && (op.opcode === "reshape" || op.opcode === "flatten");

/** Removes no-op reshapes and merges chains. Returns the number of rewrites. */
export function simplifyReshapes(r: Rewriter): number {
  let count = 0;
  for (const op of r.liveOps()) {
    if (r.isRemoved(op) || !isReshapeLike(op)) continue;
    const x = op.operands[0];
    const y = op.results[0];
    if (!x || !y) continue;
    // every IR type is static, so equal shapes mean the op moves no element
    if (x.type.dtype === y.type.dtype && sameShape(x.type.shape, y.type.shape) && r.canForward(y, x)) {
      r.removeOp(op);
      r.forward(y, x);
      r.stats.add("removed-noop-reshapes");
      count++;
      continue;
    }
    const inner = x.def;
    if (x.kind === "result" && isReshapeLike(inner) && inner.operands[0]) {
      // the element order of row-major reshapes composes: reshape(reshape(a, s1), s2) = reshape(a, s2)
      const target = r.newConstant(`${y.name}.shape`, makeI64(y.type.shape));
      const merged = new Op("reshape", [inner.operands[0], target], [y], withDefaults("reshape", { allowzero: y.type.shape.includes(0) ? 1 : 0 }), op.loc);
      merged.annotations = op.annotations;
      r.replaceOp(op, merged);
      r.stats.add("merged-reshapes");
      count++;
    }
  }
  return count;
}

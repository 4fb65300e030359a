/**
 * @fileoverview canonicalize step 2: constant folding. An op whose operands are all constants with data is
 * evaluated by the reference interpreter and replaced by a constant; `shape` of any value folds because every
 * IR type is static. This turns PyTorch's Shape→Gather→Unsqueeze→Concat→Reshape plumbing into a constant
 * reshape target and precomputes weight transforms (the Model Zoo MNIST model reshapes an initializer).
 */
import { InternalError, formatType, runOp, sameType, type Op, type Tensor } from "@xbarc/ir";
import { constTensor, makeI64, type Rewriter } from "./rewriter.js";

/** The dims `shape` returns for a value of `shape`, with ONNX's start/end clamping (Shape-15). */
function shapeSlice(shape: readonly number[], attrs: Op["attrs"]): number[] {
  const rank = shape.length;
  const clamp = (v: number): number => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const start = clamp(typeof attrs.start === "number" ? attrs.start : 0);
  const end = clamp(typeof attrs.end === "number" ? attrs.end : rank);
  return shape.slice(start, Math.max(start, end));
}

/** Folds every foldable op into constants. Returns the number of ops folded. */
export function foldConstants(r: Rewriter): number {
  let count = 0;
  for (const op of r.liveOps()) {
    if (r.isRemoved(op)) continue;
    // a folded module output would become a constant output; keep the op that computes it
    if (op.results.some((v) => r.isOutput(v))) continue;
    let results: Tensor[];
    let stat: string;
    if (op.opcode === "shape" && op.operands[0]) {
      results = [makeI64(shapeSlice(op.operands[0].type.shape, op.attrs))];
      stat = "folded-shapes";
    } else {
      const present = op.operands.filter((v) => v !== null);
      if (present.length === 0 || !present.every((v) => constTensor(v) !== undefined)) continue;
      results = runOp(op, op.operands.map((v) => (v ? constTensor(v)! : null)));
      stat = "folded-constants";
    }
    if (results.length !== op.results.length) {
      throw new InternalError(`folding ${op.opcode} ${op.results[0]?.name ?? ""} gave ${results.length} results, expected ${op.results.length}`);
    }
    r.removeOp(op);
    op.results.forEach((v, i) => {
      const t = results[i]!;
      if (!sameType(t.type, v.type)) {
        throw new InternalError(`folding ${op.opcode} %${v.name} computed ${formatType(t.type)} but the op declares ${formatType(v.type)}`, {
          location: { kind: "ir", loc: op.loc, value: v.name, op: op.opcode },
        });
      }
      if (r.isUnused(v)) return;
      const c = r.newConstant(v.name, t);
      r.module.replaceAllUses(v, c);
      r.invalidate();
    });
    r.stats.add(stat);
    count++;
  }
  return count;
}

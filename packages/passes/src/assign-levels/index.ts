/**
 * @fileoverview The assign-levels pass: every quantized weight becomes concrete cell states — a level index on G+
 * and on G− (differential pair), or on its cell with the row's reference cell (offset column) — and the weight
 * constant then holds the value those states give on an ideal device.
 */
import { getLevels, registerAnnotationKind, XbarcError, type Module, type Value } from "@xbarc/ir";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { getWeightOps } from "../quantize/index.js";

export const CELLS_ANNOTATION_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["map", "device", "levels", "plus", "minus", "scale", "offset", "g_min", "g_max", "map_err"],
  properties: {
    /** differential: w = scale·(G+ − G−) + offset; offset-column: w = scale·(G − G_ref[row]) + offset */
    map: { enum: ["differential", "offset-column"] },
    /** the device profile's name */
    device: { type: "string" },
    /** conductance levels per cell */
    levels: { type: "integer", minimum: 1 },
    /** constant with each weight's G+ level index (same shape as the weight) */
    plus: { type: "string" },
    /** constant with each weight's G− level index; for an offset column, the reference cell's level (shared by the row) */
    minus: { type: "string" },
    /** weight units per siemens */
    scale: { type: "number" },
    /** weight units added digitally */
    offset: { type: "number" },
    /** lowest and highest level, siemens */
    g_min: { type: "number" },
    g_max: { type: "number" },
    /** mean squared difference between the quantized weights and what the cell states give (0 for device-aware quantizers) */
    map_err: { type: "number", minimum: 0 },
  },
} as const;

registerAnnotationKind("cells", CELLS_ANNOTATION_SCHEMA);

export type AssignLevelsOptions = Record<string, never>;

export const assignLevels: Pass<AssignLevelsOptions> = {
  name: "assign-levels",
  summary: "turn each quantized weight into cell states (levels on G+/G− or cell + offset column) and their conductances",
  description: `For each layer quantized by the quantize pass, looks up the state every code is programmed as and writes
two constants with the level index of every weight: <weight>.plus (G+, or the weight's own cell) and
<weight>.minus (G−, or the row's reference cell when the device uses an offset column). The weight constant
then holds scale·(g[plus] − g[minus]) + offset: what an ideal device computes. For MES-CAQ and EM this equals
the quantized value; for device-oblivious quantizers (uniform LQ on a non-linear device) the difference is
reported as map_err.

Example:
  before:
    %y = linear %x, @fc.weight, @fc.bias : f32[1,10]
        #quant{scheme="uniform", ...}
  after:
    const @fc.weight.plus : u8[10,32]
    const @fc.weight.minus : u8[10,32]
    %y = linear %x, @fc.weight, @fc.bias : f32[1,10]
        #quant{scheme="uniform", ...}
        #cells{map="differential", device="exp-a3", levels=8, plus="fc.weight.plus", minus="fc.weight.minus", scale=..., offset=..., g_min=..., g_max=..., map_err=...}`,
  options: { type: "object", properties: {}, required: [], additionalProperties: false },
  requires: ["quant"],
  provides: ["cells"],
  run(module: Module, _options: AssignLevelsOptions, ctx: PassContext): PassResult {
    const device = ctx.device;
    if (!device) throw new XbarcError("XB5003", "assign-levels needs a device profile", { hint: "pass --device <name|file> (see `xbarc devices`)" });
    const levels = getLevels(device.cell);
    const constants = new Map(module.constants.map((c) => [c.name, c]));
    let changed = false;
    const done = new Set<Value>();
    for (const op of getWeightOps(module)) {
      const quant = op.getAnnotation("quant");
      const weight = op.operands[1]!;
      // levels already assigned (a second run) stay as they are
      if (!quant || done.has(weight) || op.getAnnotation("cells")) continue;
      done.add(weight);
      const q = quant.data as { scale: number; offset: number; codebook: string; codes_of: string; code_levels: string };
      const codebook = constants.get(q.codebook)?.data as Float32Array | undefined;
      const codes = constants.get(q.codes_of)?.data as Uint8Array | Uint16Array | undefined;
      const codeLevels = constants.get(q.code_levels)?.data as Uint8Array | undefined;
      if (!codebook || !codes || !codeLevels) {
        throw new XbarcError("XB5003", `assign-levels: layer ${op.results[0]!.name} has #quant but its codebook, codes or code_levels constant is missing or has no data`, {
          location: { kind: "ir", loc: op.loc, value: op.results[0]!.name, op: op.opcode },
          hint: "run quantize in the same pipeline, or pass the weights side file with --weights",
        });
      }
      // the quantizer decided each code's cell states (code_levels); here they become per-weight states
      const realizedOfCode = new Float64Array(codebook.length);
      for (let c = 0; c < codebook.length; c++) {
        const p = codeLevels[2 * c]!;
        const m = codeLevels[2 * c + 1]!;
        if (p >= levels.length || m >= levels.length) {
          throw new XbarcError("XB5003", `assign-levels: layer ${op.results[0]!.name} code ${c} uses level ${Math.max(p, m)}, but device ${device.name} has ${levels.length} levels`, {
            location: { kind: "ir", loc: op.loc, value: op.results[0]!.name, op: op.opcode },
            hint: "quantize and assign-levels must run with the same --device",
          });
        }
        realizedOfCode[c] = q.scale * (levels[p]! - levels[m]!) + q.offset;
      }
      const n = codes.length;
      const plus = new Uint8Array(n);
      const minus = new Uint8Array(n);
      const realized = new Float32Array(n);
      let mapErr = 0;
      for (let i = 0; i < n; i++) {
        const c = codes[i]!;
        plus[i] = codeLevels[2 * c]!;
        minus[i] = codeLevels[2 * c + 1]!;
        realized[i] = realizedOfCode[c]!;
        mapErr += (realized[i]! - codebook[c]!) ** 2;
      }
      const plusName = module.freshName(`${weight.name}.plus`);
      module.addConstant(plusName, { dtype: "u8", shape: weight.type.shape }, plus);
      const minusName = module.freshName(`${weight.name}.minus`);
      module.addConstant(minusName, { dtype: "u8", shape: weight.type.shape }, minus);
      weight.data = realized;
      op.setAnnotation("cells", {
        map: device.mapping.signed,
        device: device.name,
        levels: levels.length,
        plus: plusName,
        minus: minusName,
        scale: q.scale,
        offset: q.offset,
        g_min: levels[0]!,
        g_max: levels[levels.length - 1]!,
        map_err: n ? mapErr / n : 0,
      });
      ctx.stats.add("assigned-layers", 1);
      changed = true;
    }
    return { changed };
  },
};

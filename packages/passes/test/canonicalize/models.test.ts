/**
 * @fileoverview canonicalize on every real fixture model (fixtures/models/**\/*.onnx): afterwards only hardware-facing
 * ops remain (conv/linear with constant weights; no gemm, matmul, batchnorm, dropout, identity, shape or gather),
 * the IR verifies and round-trips, and the outputs on the model's fixture input are unchanged.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { interpretModule, readNumbers, type Module, type Tensor } from "@xbarc/ir";
import { decodeTensorProto, loadOnnxFile } from "@xbarc/frontend";
import { runPipeline } from "@xbarc/passes";
import { fixturePath } from "../../../../test/helpers/paths.js";
import { cloneModule, expectSameOutputs, opcodeCounts } from "../helpers.js";

function onnxFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? onnxFiles(p) : f.endsWith(".onnx") ? [p] : [];
    })
    .sort();
}

/** The first test data set's input and ORT output, as tensors. */
function fixtureData(model: string): { input: Tensor; output: Tensor } {
  const dir = join(model.slice(0, -".onnx".length), "test_data_set_0");
  const read = (f: string) => decodeTensorProto(readFileSync(join(dir, f)), join(dir, f)).tensor;
  return { input: read("input_0.pb"), output: read("output_0.pb") };
}

const GONE = ["gemm", "matmul", "batchnorm", "dropout", "identity", "shape", "gather"];

describe("canonicalize on the fixture models", () => {
  const models = onnxFiles(fixturePath("models"));

  it("finds the eight bundled models", () => {
    expect(models.map((p) => basename(p))).toHaveLength(8);
  });

  for (const path of models) {
    it(`${basename(path)}: leaves only conv/linear with constant weights and the same outputs`, () => {
      const { input, output } = fixtureData(path);
      const m: Module = loadOnnxFile(path, { batch: input.type.shape[0] });
      const before = cloneModule(m);
      const result = runPipeline(m, "canonicalize", { checkNoopChanges: true, roundTripEach: true, verifyEach: true });
      expect(result.steps[0]!.changed).toBe(true);

      const counts = opcodeCounts(m);
      for (const opcode of GONE) expect(counts[opcode] ?? 0, `${opcode} left in ${basename(path)}`).toBe(0);
      expect((counts.conv ?? 0) + (counts.linear ?? 0)).toBeGreaterThan(0);
      for (const op of m.ops) {
        if (op.opcode !== "conv" && op.opcode !== "linear") continue;
        expect(op.operands[1]?.kind, `weight of %${op.results[0]!.name}`).toBe("const");
        expect(op.operands[2]?.kind, `bias of %${op.results[0]!.name}`).toBe("const");
        expect(op.operands[1]!.data).toBeDefined();
      }
      // a bias add after conv/linear is folded: no add reads a conv/linear result and a constant
      for (const op of m.ops) {
        if (op.opcode !== "add") continue;
        const producers = op.operands.map((v) => v?.def?.opcode);
        expect(producers.includes("conv") || producers.includes("linear"), `bias add %${op.results[0]!.name} left`).toBe(false);
      }

      const inputs = new Map([[m.inputs[0]!.name, { type: m.inputs[0]!.type, data: input.data }]]);
      expectSameOutputs(before, m, inputs);
      // and both still agree with onnxruntime's stored output
      const got = readNumbers(interpretModule(m, inputs).values().next().value!);
      const want = readNumbers(output);
      let range = 0;
      for (const v of want) range = Math.max(range, Math.abs(v));
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(got.length).toBe(want.length);
      expect(worst, `max |Δ| vs onnxruntime for ${basename(path)}`).toBeLessThanOrEqual(1e-4 * Math.max(1, range));
    });
  }
});

/**
 * @fileoverview The tile and bit-slice passes on a real fixture model: golden dumps of lenet5 on isaac after each,
 * with focused checks on the lines that matter, and the dumps parsing back to the same text.
 */
import { describe, expect, it } from "vitest";
import { getBuiltinProfile, parseModule, printModule } from "@xbarc/ir";
import { loadOnnxFile } from "@xbarc/frontend";
import { runPipeline } from "@xbarc/passes";
import { fixturePath } from "./helpers/paths.js";

const LENET5 = fixturePath("models", "trained", "lenet5.onnx");

/** The annotation line of `kind` under the op defining `%name` in a dump. */
function annotationOf(text: string, name: string, kind: string): string {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.trimStart().startsWith(`${name} =`));
  if (at < 0) throw new Error(`no line defines ${name}`);
  for (let i = at + 1; i < lines.length && lines[i]!.trimStart().startsWith("#"); i++) {
    if (lines[i]!.trimStart().startsWith(`#${kind}{`)) return lines[i]!.trim();
  }
  throw new Error(`${name} has no #${kind}`);
}

describe("tile and bit-slice: golden dumps", () => {
  it("on lenet5 with device isaac and 8-bit fixed-point weights, match the reviewed dumps", async () => {
    const m = loadOnnxFile(LENET5);
    const dumps = new Map<string, string>();
    runPipeline(m, `canonicalize,quantize{quantizer="fixed-point", bits=8},tile,bit-slice`, {
      device: getBuiltinProfile("isaac")!,
      dumpAfter: ["tile", "bit-slice"],
      onDump: (f, t) => dumps.set(f, t),
      roundTripEach: true,
      checkNoopChanges: true,
    });
    expect([...dumps.keys()]).toEqual(["03-tile.xir", "04-bit-slice.xir"]);
    const tiled = dumps.get("03-tile.xir")!;
    const sliced = dumps.get("04-bit-slice.xir")!;
    // FileCheck-style: f5 (K = 400, N = 120) on 128 × 128 with 4 slices and 4 offset columns per tile
    expect(annotationOf(tiled, "%/f5/Gemm_output_0", "tiles")).toMatch(/^#tiles\{xbar=\[128,128\], grid=\[4,4\], tiles=16, rows_used=\[128,128,128,16\], cols_used=\[128,128,128,112\]/);
    expect(annotationOf(sliced, "%/f5/Gemm_output_0", "slice")).toMatch(/^#slice\{w_bits=8, w_fl=\d+, cell_bits=2, slices=4, scheme="offset-unsigned", in_bits=8, in_fl=4, in_signed=false, dac_bits=1, steps=8, slices_of="f5.weight.slices", offset=128\}$/);
    expect(sliced).toContain("const @f5.weight.slices : u8[4,120,400]");
    for (const text of [tiled, sliced]) expect(printModule(parseModule(text)).text).toBe(text.split("\n").filter((l) => !l.startsWith("//")).join("\n"));
    await expect(tiled).toMatchFileSnapshot("golden/lenet5-isaac/03-tile.xir");
    await expect(sliced).toMatchFileSnapshot("golden/lenet5-isaac/04-bit-slice.xir");
  });
});

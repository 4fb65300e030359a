/**
 * @fileoverview ONNX backend conformance: every test in fixtures/onnx-node is imported, canonicalized and run by the
 * reference interpreter, and each output is compared with the stored output_*.pb (abs 1e-4 + rel 1e-3). Tests whose
 * graphs use operators outside the supported list must be rejected with XB1004 naming the operator.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { XbarcError, formatType, interpretModule, readNumbers, type Tensor } from "@xbarc/ir";
import { SUPPORTED_ONNX_OPS, decodeTensorProto, loadOnnxFile } from "@xbarc/frontend";
import { runPipeline } from "@xbarc/passes";

const ROOT = "fixtures/onnx-node";

interface ManifestEntry {
  path: string;
  operator: string;
  opset: Record<string, number>;
  ops_in_graph: string[];
  files: string[];
}

const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as { tests: ManifestEntry[] };

/**
 * Tests that use a supported operator in a mode xbarc deliberately does not import, with the error it must give.
 * None today: training-mode BatchNormalization, once listed here, now imports as batchnorm {training_mode=1}.
 */
const EXPECTED_REJECTIONS: Readonly<Record<string, { code: string; mentions: string; why: string }>> = {};

/** Reads test_data_set_0/<prefix>_<i>.pb files in index order. */
function readTensors(dir: string, files: string[], prefix: string): { name: string; tensor: Tensor }[] {
  const re = new RegExp(`^test_data_set_0/${prefix}_(\\d+)\\.pb$`);
  return files
    .map((f) => ({ f, m: re.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
    .map(({ f }) => decodeTensorProto(readFileSync(join(dir, f)), join(dir, f)));
}

/** Checks |a − e| ≤ atol + rtol·|e| elementwise (NaN matches NaN, infinities must be equal); ints and bools exactly. */
function expectClose(actual: Tensor, expected: Tensor, label: string): void {
  expect(formatType(actual.type), `${label} type`).toBe(formatType(expected.type));
  const { dtype } = expected.type;
  const a = readNumbers(actual);
  const e = readNumbers(expected);
  if (dtype === "f32" || dtype === "f64" || dtype === "f16") {
    // float16 keeps 11 significant bits: allow about two units in the last place
    const [atol, rtol] = dtype === "f16" ? [1e-3, 2e-3] : [1e-4, 1e-3];
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < e.length; i++) {
      const x = a[i]!;
      const y = e[i]!;
      if (Number.isNaN(y) ? Number.isNaN(x) : x === y) continue;
      const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
      if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
        worst = i;
        worstExcess = excess;
      }
    }
    expect(worst < 0 ? "all close" : `element ${worst}: got ${a[worst]}, expected ${e[worst]}`, label).toBe("all close");
  } else {
    expect(Array.from(a), label).toEqual(Array.from(e));
  }
}

/** Asserts that importing `dir`/model.onnx throws an XbarcError with `code` whose message contains `mentions`. */
function expectImportRejected(dir: string, code: string, mentions: string): void {
  let error: unknown;
  try {
    loadOnnxFile(join(dir, "model.onnx"));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(XbarcError);
  expect((error as XbarcError).code).toBe(code);
  expect((error as XbarcError).message).toContain(mentions);
}

const supported = new Set(SUPPORTED_ONNX_OPS);

describe("ONNX backend node tests", () => {
  for (const entry of manifest.tests) {
    const dir = join(ROOT, entry.path);
    const unsupported = entry.ops_in_graph.filter((op) => !supported.has(op));
    const rejection = EXPECTED_REJECTIONS[entry.path];

    if (unsupported.length > 0) {
      it(`${entry.path}: unsupported operator ${unsupported[0]} is rejected by name`, () => {
        expectImportRejected(dir, "XB1004", `(${unsupported[0]}, opset`);
      });
      continue;
    }

    if (rejection) {
      it(`${entry.path}: ${rejection.why} (${rejection.code})`, () => {
        expectImportRejected(dir, rejection.code, rejection.mentions);
      });
      continue;
    }

    it(entry.path, () => {
      const module = loadOnnxFile(join(dir, "model.onnx"));
      runPipeline(module, "canonicalize");
      const inputs = readTensors(dir, entry.files, "input");
      expect(inputs.length, "input files vs graph inputs").toBe(module.inputs.length);
      const feed = new Map<string, Tensor>();
      module.inputs.forEach((v, i) => feed.set(v.name, inputs[i]!.tensor));
      const outputs = interpretModule(module, feed);
      const expected = readTensors(dir, entry.files, "output");
      expect(expected.length, "output files vs graph outputs").toBe(module.outputs.length);
      module.outputs.forEach((v, i) => {
        const got = outputs.get(v.name);
        expect(got, `output ${v.name}`).toBeDefined();
        expectClose(got!, expected[i]!.tensor, `output ${i} (${v.name})`);
      });
    });
  }
});

/**
 * @fileoverview End-to-end checks on every real fixture model (fixtures/models/{public,trained}): import + verify,
 * text round trips (with the weights side file, and every canonicalize dump), agreement with onnxruntime-node on the
 * stored test data and on real MNIST/digits samples, and top-1 accuracy equal to the figure in fixtures/README.md.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeTensorProto, loadOnnxFile } from "@xbarc/frontend";
import { parseModule, printModule, readNumbers, verifyModule } from "@xbarc/ir";
import { runPipeline } from "@xbarc/passes";
import { argmaxRows, concatFloat32, countCorrect, disagreements, expectClose } from "./helpers/compare.js";
import { preprocessSamples, range } from "./helpers/datasets.js";
import { datasetOf, listFixtureModels, sampleSize, samplesFor, type FixtureModel } from "./helpers/models.js";
import { runOrtBatched, runOrtSingle } from "./helpers/ort.js";
import { readFloatTensorProto } from "./helpers/tensor-proto.js";
import { importModel, interpretBatched, interpretFloat } from "./helpers/xbarc.js";

/** max |ours − ort| ≤ TOL · max(1, range of the ORT output) */
const TOL = 1e-4;
const TOL_TEXT = "max |Δ| ≤ 1e-4·max(1, range)";

const models = listFixtureModels();

/** The batch a model is imported and run at for a check of `wanted` samples: its fixed batch, or `wanted`. */
function batchFor(model: FixtureModel, wanted: number): number {
  return model.fixedBatch ?? wanted;
}

/** Removes `//` comment lines a dump writer may put above the module (the parser ignores them; the printer never writes them). */
function stripHeaderComments(text: string): string {
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith("//")) i++;
  return lines.slice(i).join("\n");
}

it("finds the 3 public and 5 trained fixture models with test data next to each", () => {
  expect(models.filter((m) => m.suite === "public")).toHaveLength(3);
  expect(models.filter((m) => m.suite === "trained")).toHaveLength(5);
  for (const m of models) expect(m.testDataSets.length, m.id).toBeGreaterThan(0);
});

describe.each(models)("model $id", (model) => {
  const importBatch = batchFor(model, 1);

  it(`the manifest's preprocessing (${model.preprocess}) reproduces every stored input_0.pb sample bit for bit`, () => {
    const set = datasetOf(model);
    const size = sampleSize(model);
    let next = model.suite === "trained" && model.dataset === "mnist" ? 8000 : 0;
    for (const dir of model.testDataSets) {
      const input = readFloatTensorProto(join(dir, "input_0.pb"));
      expect(input.dims.slice(1), dir).toEqual(model.sampleDims);
      for (let k = 0; k < input.dims[0]!; k++) {
        const row = input.data.subarray(k * size, (k + 1) * size);
        // search the dataset for the sample, starting after the previous match (the sets hold consecutive samples)
        let found = -1;
        for (let step = 0; step < set.count && found < 0; step++) {
          const candidate = (next + step) % set.count;
          const pre = preprocessSamples(set, [candidate], model.preprocess).data;
          if (pre.every((v, j) => v === row[j])) found = candidate;
        }
        expect(found, `${dir} sample ${k} is no preprocessed ${model.dataset} sample`).toBeGreaterThanOrEqual(0);
        next = found + 1;
      }
    }
  });

  it(`imports at batch ${importBatch} and passes verifyModule`, () => {
    const m = loadOnnxFile(model.path, { batch: importBatch });
    expect(() => verifyModule(m)).not.toThrow();
    expect(m.inputs).toHaveLength(1);
    expect(m.inputs[0]!.type).toEqual({ dtype: "f32", shape: [importBatch, ...model.sampleDims] });
    expect(m.outputs).toHaveLength(1);
    expect(m.outputs[0]!.type).toEqual({ dtype: "f32", shape: [importBatch, model.classes] });
  });

  it("round-trips through text with a weights side file: print → parse → print gives the same text and bytes", () => {
    const m = loadOnnxFile(model.path, { batch: importBatch });
    const first = printModule(m, { weights: true });
    expect(first.weights).toBeInstanceOf(Uint8Array);
    const parsed = parseModule(first.text, { file: `${model.id}.xir`, weights: first.weights });
    expect(() => verifyModule(parsed)).not.toThrow();
    const second = printModule(parsed, { weights: true });
    expect(second.text).toBe(first.text);
    expect(Buffer.from(second.weights!).equals(Buffer.from(first.weights!))).toBe(true);
    // the weights came back by value, not just the same bytes in the side file
    expect(parsed.constants.map((c) => c.name)).toEqual(m.constants.map((c) => c.name));
    m.constants.forEach((c, i) => {
      const back = parsed.constants[i]!;
      expect(back.type, c.name).toEqual(c.type);
      expect(Buffer.from(back.data!.buffer, back.data!.byteOffset, back.data!.byteLength).equals(Buffer.from(c.data!.buffer, c.data!.byteOffset, c.data!.byteLength)), `@${c.name} bytes`).toBe(true);
    });
  });

  it("dumps 00-import and 01-canonicalize, each printing back identically: print(parse(dump)) is the dump", () => {
    const m = loadOnnxFile(model.path, { batch: importBatch });
    const dumps: { fileName: string; text: string }[] = [];
    runPipeline(m, "canonicalize", { dumpAfter: "all", onDump: (fileName, text) => dumps.push({ fileName, text }) });
    expect(dumps.map((d) => d.fileName)).toEqual(["00-import.xir", "01-canonicalize.xir"]);
    for (const { fileName, text } of dumps) {
      // the dump writer adds `//` header lines that the parser skips and the printer never writes
      const body = stripHeaderComments(text);
      expect(body, fileName).toMatch(/^module @/);
      const reprinted = printModule(parseModule(text, { file: fileName }), { weights: false }).text;
      expect(reprinted, fileName).toBe(body);
    }
    // the last dump is the module the pipeline left behind
    expect(stripHeaderComments(dumps[dumps.length - 1]!.text)).toBe(printModule(m, { weights: false }).text);
    expect(() => verifyModule(m)).not.toThrow();
  });

  it("round-trips the canonicalized module through text with a weights side file", () => {
    const m = importModel(model.path, importBatch);
    const first = printModule(m, { weights: true });
    const parsed = parseModule(first.text, { file: `${model.id}.canonical.xir`, weights: first.weights });
    expect(() => verifyModule(parsed)).not.toThrow();
    const second = printModule(parsed, { weights: true });
    expect(second.text).toBe(first.text);
    expect(Buffer.from(second.weights!).equals(Buffer.from(first.weights!))).toBe(true);
  });

  for (const dir of model.testDataSets) {
    const set = dir.slice(dir.lastIndexOf("test_data_set_"));
    it(`matches onnxruntime and the stored output_0.pb on ${set} (${TOL_TEXT})`, async () => {
      const inputPath = join(dir, "input_0.pb");
      const input = readFloatTensorProto(inputPath);
      const expected = readFloatTensorProto(join(dir, "output_0.pb"));
      // the frontend's decoder must read the same tensor as onnx-proto does
      const decoded = decodeTensorProto(readFileSync(inputPath), inputPath);
      expect(decoded.name).toBe(input.name);
      expect(decoded.tensor.type.shape).toEqual(input.dims);
      expect(Float32Array.from(readNumbers(decoded.tensor))).toEqual(input.data);

      const batch = input.dims[0]!;
      const ort = await runOrtSingle(model.path, model.inputName, { data: input.data, dims: input.dims });
      expect(ort.dims).toEqual(expected.dims);
      for (const canonicalize of [false, true]) {
        const ours = interpretFloat(importModel(model.path, batch, canonicalize), input.data, input.dims);
        const stage = canonicalize ? "canonicalized IR" : "imported IR";
        expect(ours.dims, stage).toEqual(expected.dims);
        expectClose(ours.data, ort.data, { relToRange: TOL, label: `${stage} vs onnxruntime` });
        expectClose(ours.data, expected.data, { relToRange: TOL, label: `${stage} vs output_0.pb` });
      }
    });
  }

  // a batch of real samples: zoo model one at a time, batch-10 model in batches of 10, dynamic models in one batch
  const sampleCount = model.fixedBatch === 1 ? 16 : model.fixedBatch === 10 ? 40 : 48;
  const sampleIndices = model.dataset === "digits" ? model.evalIndices.slice(0, sampleCount) : range(8000, 8000 + sampleCount);
  const sampleSlice = model.dataset === "digits" ? `the first ${sampleCount} rows of the digits test split` : `t10k[8000:${8000 + sampleCount}]`;
  it(`matches onnxruntime on ${sampleSlice} in batches of ${batchFor(model, sampleCount)} (${TOL_TEXT})`, async () => {
    const { data } = samplesFor(model, sampleIndices);
    const batch = batchFor(model, sampleCount);
    const ort = await runOrtBatched(model.path, model.inputName, data, model.sampleDims, sampleCount, batch);
    expect(ort.length).toBe(sampleCount * model.classes);
    for (const canonicalize of [false, true]) {
      const stage = canonicalize ? "canonicalized IR" : "imported IR";
      const m = importModel(model.path, batch, canonicalize);
      const parts: Float32Array[] = [];
      for (let start = 0; start < sampleCount; start += batch) {
        const chunk = data.subarray(start * sampleSize(model), (start + batch) * sampleSize(model));
        parts.push(interpretFloat(m, chunk, [batch, ...model.sampleDims]).data);
      }
      const ours = concatFloat32(parts);
      // compare per batch so the tolerance follows each ORT run's own output range
      for (let start = 0; start < sampleCount; start += batch) {
        const lo = start * model.classes;
        const hi = (start + batch) * model.classes;
        expectClose(ours.subarray(lo, hi), ort.subarray(lo, hi), { relToRange: TOL, label: `${stage} vs onnxruntime, samples ${start}..${start + batch - 1}` });
      }
    }
  });

  describe(`top-1 accuracy on ${model.evalSliceName}`, () => {
    const n = model.evalIndices.length;
    // dynamic-batch models run in batches of 100 (the digits split, 359 rows, in one batch)
    const batch = model.fixedBatch ?? (model.dataset === "digits" ? n : 100);
    let labels: Uint8Array;
    let ortOut: Float32Array;
    let ourOut: Float32Array;
    let ortPred: Int32Array;
    let ourPred: Int32Array;

    beforeAll(async () => {
      const samples = samplesFor(model, model.evalIndices);
      labels = samples.labels;
      ortOut = await runOrtBatched(model.path, model.inputName, samples.data, model.sampleDims, n, batch);
      ourOut = interpretBatched(model.path, samples.data, model.sampleDims, n, batch);
      ortPred = argmaxRows(ortOut, model.classes);
      ourPred = argmaxRows(ourOut, model.classes);
    });

    it(`the interpreter's outputs on all ${n} samples agree with onnxruntime per batch of ${batch} (${TOL_TEXT})`, () => {
      expect(ourOut.length).toBe(n * model.classes);
      for (let start = 0; start < n; start += batch) {
        const lo = start * model.classes;
        const hi = Math.min(n, start + batch) * model.classes;
        expectClose(ourOut.subarray(lo, hi), ortOut.subarray(lo, hi), { relToRange: TOL, label: `samples ${start}..${Math.min(n, start + batch) - 1}` });
      }
    });

    const percent = (model.referenceAccuracy * 100).toFixed(2);
    it(`onnxruntime reproduces the README figure ${percent}% to 0.01%`, () => {
      expect(Math.abs(countCorrect(ortPred, labels) / n - model.referenceAccuracy)).toBeLessThanOrEqual(1e-4);
    });

    it(`the interpreter on the canonicalized IR predicts like onnxruntime and scores ${percent}% to 0.01%`, () => {
      const differ = disagreements(ourPred, ortPred);
      expect(differ.length, `samples predicted differently: ${differ.map((i) => model.evalIndices[i]).join(", ")}`).toBeLessThanOrEqual(1);
      expect(Math.abs(countCorrect(ourPred, labels) - countCorrect(ortPred, labels))).toBeLessThanOrEqual(1);
      expect(Math.abs(countCorrect(ourPred, labels) / n - model.referenceAccuracy)).toBeLessThanOrEqual(1e-4);
    });
  });
});

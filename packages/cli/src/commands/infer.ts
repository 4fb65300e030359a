/** @fileoverview `xbarc infer`: run the float reference interpreter (after canonicalize) on input tensors; write outputs as TensorProto files. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Option, type Command } from "commander";
import { formatType, readNumbers, XbarcError, type Tensor } from "@xbarc/ir";
import { encodeTensorProto } from "@xbarc/frontend";
import { getModelFormat, inferModule, loadModel, readTensorFile } from "../api.js";
import type { CliContext } from "../context.js";
import { batchOption, collect, jsonOption, weightsReadOption } from "../options.js";
import { printJson, toSafeFileName, writeOutputs } from "../output.js";

interface InferOptions {
  input: string[];
  outputDir: string;
  batch?: number;
  weights?: string;
  json?: boolean;
}

/** How many values of each output the summary shows. */
const PREVIEW_VALUES = 8;

/** `name=file` or just `file` (a path that exists as written is never split at "="). */
function parseInputSpec(spec: string): { name?: string; file: string } {
  const eq = spec.indexOf("=");
  if (eq > 0 && !existsSync(spec)) return { name: spec.slice(0, eq), file: spec.slice(eq + 1) };
  return { file: spec };
}

/** Distinct file names for the outputs: `<sanitised name>.pb`, with a numeric suffix when two names sanitise alike. */
function outputFileNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    const base = toSafeFileName(n);
    let file = `${base}.pb`;
    for (let i = 1; used.has(file.toLowerCase()); i++) file = `${base}.${i}.pb`;
    used.add(file.toLowerCase());
    return file;
  });
}

function preview(t: Tensor): number[] {
  return Array.from(readNumbers(t).subarray(0, PREVIEW_VALUES));
}

/** Registers `xbarc infer <model> --input ... --output-dir <dir>`. */
export function registerInfer(program: Command, ctx: CliContext): void {
  program
    .command("infer")
    .description("Run a model on input tensors with the float reference interpreter (after canonicalize) and write every graph output as <output name>.pb (ONNX TensorProto).")
    .argument("<model>", "an .onnx model or an .xir file")
    .addOption(new Option("-i, --input <name=file>", "an input tensor: ONNX TensorProto (.pb) or NumPy .npy; repeat per input; the name may be left out when the model has one input (or the .pb names it)").argParser(collect).makeOptionMandatory())
    .requiredOption("-d, --output-dir <dir>", "directory for the output tensors (created; nothing is written when the run fails)")
    .addOption(batchOption("the first input tensor's first dimension"))
    .addOption(weightsReadOption())
    .addOption(jsonOption())
    .addHelpText("after", `
Examples:
  $ xbarc infer fixtures/models/trained/lenet5.onnx --input fixtures/models/trained/lenet5/test_data_set_0/input_0.pb --output-dir out/
  $ xbarc infer model.onnx --input input=x.npy --output-dir out/ --json

Each input must have exactly the model's input type (dtype and shape), otherwise XB4002 names the input,
the expected and the found type. Output file names replace "/" and other path characters with "_".`)
    .action((model: string, opts: InferOptions) => {
      const read = opts.input.map((spec) => {
        const { name, file } = parseInputSpec(spec);
        const { name: tensorName, tensor } = readTensorFile(file);
        return { given: name, tensorName, file, tensor };
      });
      // a symbolic batch takes the size of the tensors given, so test_data_set inputs of any batch just work
      const firstShape = read[0]?.tensor.type.shape;
      const batch = opts.batch ?? (getModelFormat(model) === "onnx" && firstShape && firstShape.length > 0 ? firstShape[0] : undefined);
      const module = loadModel(model, { batch, weights: opts.weights });

      const inputNames = module.inputs.map((v) => v.name);
      const inputs = new Map<string, Tensor>();
      const files = new Map<string, string>();
      for (const r of read) {
        // an unnamed input is the one its .pb names, else the model's only input
        const name = r.given
          ?? (inputNames.includes(r.tensorName) ? r.tensorName : inputNames.length === 1 && read.length === 1 ? inputNames[0]! : undefined);
        if (name === undefined) {
          throw new XbarcError("XB7001", `--input ${r.file}: the model has ${inputNames.length} inputs (${inputNames.join(", ")}); say which one this file is`, {
            hint: `write --input <name>=${r.file}`,
          });
        }
        if (inputs.has(name)) {
          throw new XbarcError("XB7001", `input "${name}" is given twice (${files.get(name)} and ${r.file})`, { hint: "give each input once" });
        }
        inputs.set(name, r.tensor);
        files.set(name, r.file);
      }

      const results = inferModule(module, inputs, { files });
      const names = module.outputs.map((v) => v.name);
      const fileNames = outputFileNames(names);
      const outputs = module.outputs.map((v, i) => {
        const tensor = results.get(v.name);
        if (!tensor) throw new Error(`the interpreter returned no value for output %${v.name}`);
        return { name: v.name, tensor, file: join(opts.outputDir, fileNames[i]!) };
      });
      // every output appears, or none, and the directory only if the run got this far
      writeOutputs((out) => {
        out.ensureDir(opts.outputDir);
        for (const o of outputs) out.add(o.file, encodeTensorProto(o.name, o.tensor));
      });

      if (opts.json) {
        printJson(ctx.io, {
          model,
          inputs: [...inputs].map(([name, t]) => ({ name, type: formatType(t.type), file: files.get(name) })),
          outputs: outputs.map((o) => ({ name: o.name, type: formatType(o.tensor.type), file: o.file, values: preview(o.tensor) })),
        });
      } else {
        for (const o of outputs) {
          const values = preview(o.tensor).map((x) => Number(x.toPrecision(6)));
          const more = o.tensor.data.length > PREVIEW_VALUES ? ", ..." : "";
          ctx.io.writeOut(`${o.file}: ${o.name} ${formatType(o.tensor.type)} = [${values.join(", ")}${more}]\n`);
        }
      }
    });
}

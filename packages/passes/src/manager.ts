/**
 * @fileoverview The pass manager (after XLA's HloPassPipeline and MLIR's PassManager): builds and checks the
 * pipeline, runs each pass with its own context, verifies after changes, writes per-pass dumps and the
 * failure reproducer through a callback, and (in tests) checks noop honesty and the text round trip.
 */
import { InternalError, isXbarcError, parseModule, printModule, verifyModule, type DeviceProfile, type Module } from "@xbarc/ir";
import { createRng, DiagnosticSink, PassStats, type CalibrationSet, type Diagnostic, type PassContext } from "./pass.js";
import { buildPipeline, printPipeline, type PipelineStep } from "./pipeline.js";

/** How to run a pipeline. Every field is optional. */
export interface RunPipelineOptions {
  /** which snapshots to hand to onDump: every step, steps whose printed IR changed, the failing step, or these passes (and "import") */
  dumpAfter?: "all" | "changed" | "failure" | readonly string[];
  /** receives each snapshot (`01-canonicalize.xir`, text with header); the CLI writes the files, a pass never does */
  onDump?: (fileName: string, text: string) => void;
  /** verify the module at the start and after every pass that reports a change (default true) */
  verifyEach?: boolean;
  /** tests: a pass that reports changed=false must leave the printed IR identical (XLA's noop-change check) */
  checkNoopChanges?: boolean;
  /** tests: print → parse → print after every pass must be the identity */
  roundTripEach?: boolean;
  /** the run's seed; each pass's rng derives from it and the pass name (default 0) */
  seed?: number;
  /** the model name shown in dump headers (default: the module's name) */
  modelName?: string;
  /** the target device, handed to every pass */
  device?: DeviceProfile;
  /** calibration data, handed to every pass */
  calibration?: CalibrationSet;
}

/** What one step did. */
export interface PipelineStepResult {
  /** 1-based step number, as in the dump file name */
  index: number;
  /** the pass's name */
  pass: string;
  /** what the pass reported */
  changed: boolean;
  /** the pass's counters */
  stats: Record<string, number>;
  /** warnings and remarks the pass emitted */
  diagnostics: Diagnostic[];
}

/** What a pipeline run did. */
export interface PipelineResult {
  /** one entry per step, in order */
  steps: PipelineStepResult[];
  /** the canonical pipeline string that ran */
  pipeline: string;
}

/** `NN-<pass>.xir`: two-digit step numbers so `ls` sorts the dumps in pipeline order (XLA's %04d idea). */
export function getDumpFileName(index: number, pass: string, failed = false): string {
  return `${String(index).padStart(2, "0")}-${pass}${failed ? ".failed" : ""}.xir`;
}

/** The two header comment lines of a dump: model, step, canonical pipeline, seed and device. The parser skips `//` lines. */
export function getDumpHeader(modelName: string, stage: string, pipeline: string, seed: number, device?: string): string {
  return `// xbarc-ir 1 · model ${modelName} · ${stage}\n// pipeline: ${pipeline} · seed ${seed}${device ? ` · device ${device}` : ""}\n`;
}

/** Where two texts first differ: a short excerpt of both around the first differing line. */
export function describeTextDifference(a: string, b: string, labelA = "before", labelB = "after"): string {
  const la = a.split("\n");
  const lb = b.split("\n");
  let i = 0;
  while (i < la.length && i < lb.length && la[i] === lb[i]) i++;
  const show = (lines: string[]): string => (i < lines.length ? JSON.stringify(lines[i]) : "(end of text)");
  return `first difference at line ${i + 1}:\n  ${labelA}: ${show(la)}\n  ${labelB}: ${show(lb)}`;
}

function annotationKindsOf(module: Module): Set<string> {
  const kinds = new Set<string>();
  for (const op of module.ops) for (const a of op.annotations) kinds.add(a.kind);
  return kinds;
}

function printText(module: Module): string {
  return printModule(module).text;
}

/**
 * Runs `pipeline` (a pipeline string, or steps) on `module`, mutating it in place. Throws XB5001/XB5002
 * for a bad pipeline before anything runs, rethrows a pass's XbarcError, and turns any other throw (or
 * invalid IR after a pass) into an InternalError naming the pass and its reproducer file.
 */
export function runPipeline(module: Module, pipeline: string | readonly PipelineStep[], options: RunPipelineOptions = {}): PipelineResult {
  const built = buildPipeline(pipeline, annotationKindsOf(module));
  const seed = options.seed ?? 0;
  const modelName = options.modelName ?? module.name;
  const verifyEach = options.verifyEach ?? true;
  const dumpAfter = options.dumpAfter;
  const onDump = options.onDump;

  const dumpAll = dumpAfter === "all";
  const dumpChanged = dumpAfter === "changed";
  const dumpNames = Array.isArray(dumpAfter) ? new Set<string>(dumpAfter as readonly string[]) : undefined;
  const dumpFailure = onDump !== undefined && (dumpAll || dumpAfter === "failure" || dumpNames?.has("failure") === true);
  const wantsDump = (pass: string): boolean => onDump !== undefined && (dumpAll || dumpNames?.has(pass) === true);
  const header = (stage: string): string => getDumpHeader(modelName, stage, built.text, seed, options.device?.name);

  if (verifyEach) verifyModule(module);

  // the printed IR before the current step; kept only when something needs it (dumps, noop checks)
  const needBefore = dumpChanged || dumpFailure || options.checkNoopChanges === true;
  let before: string | undefined = needBefore || wantsDump("import") ? printText(module) : undefined;
  if (wantsDump("import")) onDump!(getDumpFileName(0, "import"), header("after 00-import") + before!);

  const results: PipelineStepResult[] = [];
  built.steps.forEach((step, i) => {
    const index = i + 1;
    const name = step.pass.name;
    const failedFile = getDumpFileName(index, name, true);
    const ctx: PassContext = {
      rng: createRng(seed, name),
      diag: new DiagnosticSink(name),
      stats: new PassStats(),
      seed,
      device: options.device,
      calibration: options.calibration,
    };
    const fail = (e: unknown, what: string): never => {
      if (dumpFailure && before !== undefined) {
        // the failing pass and everything after it: what `xbarc opt` must run on this file to reproduce
        const rest = printPipeline(built.steps.slice(i).map((s) => ({ pass: s.pass.name, options: s.written })));
        onDump!(failedFile, header(`before ${getDumpFileName(index, name).slice(0, -4)} (failed)`) +
          `// reproduce: xbarc opt --pipeline '${rest}' --seed ${seed} ${failedFile}\n` + before);
      }
      const reproducer = dumpFailure ? `the IR before this pass is in ${failedFile}` : `rerun with --dump-after failure to get ${failedFile}`;
      if (isXbarcError(e) && what === "threw") {
        e.notes.push(`while running pass ${index} "${name}" of ${built.text}; ${reproducer}`);
        throw e;
      }
      const message = e instanceof Error ? e.message : String(e);
      throw new InternalError(`pass "${name}" (step ${index}) ${what}: ${message}`, {
        cause: e,
        location: isXbarcError(e) ? e.location : undefined,
        notes: [reproducer, ...(isXbarcError(e) ? [`${e.code}: ${e.title}`] : [])],
        hint: `report it with ${failedFile} and the pipeline string '${built.text}'`,
      });
    };

    let changed: boolean;
    try {
      changed = step.pass.run(module, step.options, ctx).changed;
    } catch (e) {
      return fail(e, "threw");
    }
    if (changed && verifyEach) {
      try {
        verifyModule(module);
      } catch (e) {
        fail(e, "left invalid IR");
      }
    }

    const needAfter = needBefore || wantsDump(name) || options.roundTripEach === true;
    let after: string | undefined;
    try {
      after = needAfter ? printText(module) : undefined;
    } catch (e) {
      return fail(e, "left IR that cannot be printed");
    }
    if (options.checkNoopChanges && !changed && after !== before) {
      fail(new Error(`it reported changed=false but the printed IR changed; ${describeTextDifference(before!, after!)}`), "lied about changes");
    }
    if (options.roundTripEach) {
      let again: string;
      try {
        again = printText(parseModule(after!, { file: getDumpFileName(index, name) }));
      } catch (e) {
        return fail(e, "produced IR that does not parse back");
      }
      if (again !== after) {
        fail(new Error(`print → parse → print is not the identity; ${describeTextDifference(after!, again, "printed", "reprinted")}`), "broke the text round trip");
      }
    }
    if (onDump && (wantsDump(name) || (dumpChanged && after !== before))) {
      onDump(getDumpFileName(index, name), header(`after ${getDumpFileName(index, name).slice(0, -4)}`) + after!);
    }
    if (needBefore) before = after;
    results.push({ index, pass: name, changed, stats: ctx.stats.toRecord(), diagnostics: ctx.diag.items });
  });
  return { steps: results, pipeline: built.text };
}

/**
 * @fileoverview The pass manager: dump naming and headers for all/changed/<names>, the failure reproducer, verify-each,
 * the noop-change and round-trip checks (with deliberately broken test-only passes), seeds, stats and diagnostics.
 */
import { describe, expect, it } from "vitest";
import { InternalError, XbarcError, parseModule, type Module } from "@xbarc/ir";
import {
  createRng,
  describeTextDifference,
  getDumpFileName,
  registerPass,
  runPipeline,
  type Pass,
  type PassContext,
  type RunPipelineOptions,
} from "@xbarc/passes";
import { printText } from "./helpers.js";

type NoOptions = Record<string, never>;
const noOptions = { type: "object", properties: {}, required: [], additionalProperties: false } as const;

function testPass(name: string, run: (m: Module, ctx: PassContext) => boolean): Pass<NoOptions> {
  return { name, summary: `test pass ${name}`, description: "test only", options: noOptions, requires: [], provides: [], run: (m, _o, ctx) => ({ changed: run(m, ctx) }) };
}

/** does nothing and says so */
registerPass(testPass("test-noop", () => false));
/** renames the first op's result and says so */
registerPass(testPass("test-rename", (m) => {
  m.ops[0]!.results[0]!.name += "_renamed";
  return true;
}));
/** breaks the IR (a result type that contradicts the shape rule) and admits a change */
registerPass(testPass("test-break-ir", (m) => {
  const r = m.ops[0]!.results[0]!;
  r.type = { dtype: r.type.dtype, shape: [...r.type.shape, 7] };
  return true;
}));
/** changes the IR but claims it did not */
registerPass(testPass("test-liar", (m) => {
  m.ops[0]!.loc = "Sneaky_0";
  return false;
}));
/** throws a plain Error, as a bug would */
registerPass(testPass("test-crash", () => {
  throw new TypeError("cannot read properties of undefined");
}));
/** throws a user error, as a pass that cannot handle its input does */
registerPass(testPass("test-refuse", () => {
  throw new XbarcError("XB5003", "test-refuse cannot handle this module", { hint: "do not use it" });
}));
/** makes two values share a name: the printer prints it, the parser rejects it */
registerPass(testPass("test-duplicate-name", (m) => {
  m.ops[1]!.results[0]!.name = m.ops[0]!.results[0]!.name;
  return true;
}));
/** records what the context gives it */
const seen: { rng: number[]; seed: number }[] = [];
registerPass(testPass("test-observe", (_m, ctx) => {
  seen.push({ rng: [ctx.rng.next(), ctx.rng.next()], seed: ctx.seed });
  ctx.stats.add("observed");
  ctx.stats.add("observed", 2);
  ctx.diag.warn("something to look at", { hint: "look" });
  ctx.diag.warn("something to look at", { hint: "look" });
  ctx.diag.remark("a remark");
  return false;
}));

const SOURCE = `module @tiny {
  input %x : f32[1,4]
  const @unused : f32[1] = [5]
  %a = identity %x : f32[1,4] loc("Identity_0")
  %b = relu %a : f32[1,4] loc("Relu_1")
  output %b
}
`;

function tiny(): Module {
  return parseModule(SOURCE);
}

/** Runs a pipeline and collects the dumps it hands out. */
function runWithDumps(pipeline: string, options: RunPipelineOptions, m = tiny()): { dumps: Map<string, string>; m: Module } {
  const dumps = new Map<string, string>();
  runPipeline(m, pipeline, { ...options, onDump: (file, text) => dumps.set(file, text) });
  return { dumps, m };
}

function runExpectingError(pipeline: string, options: RunPipelineOptions, m = tiny()): { error: XbarcError; dumps: Map<string, string> } {
  const dumps = new Map<string, string>();
  try {
    runPipeline(m, pipeline, { ...options, onDump: (file, text) => dumps.set(file, text) });
  } catch (e) {
    if (e instanceof XbarcError) return { error: e, dumps };
    throw e;
  }
  throw new Error("expected the pipeline to fail");
}

/** The dump without its `//` header lines. */
function body(dump: string): string {
  return dump.split("\n").filter((l) => !l.startsWith("//")).join("\n");
}

describe("runPipeline dumps", () => {
  it("writes 00-import and one numbered file per step for dumpAfter=all, each with the header and parsing back", () => {
    const { dumps } = runWithDumps("canonicalize,test-noop", { dumpAfter: "all", seed: 7, modelName: "tiny.onnx" });
    expect([...dumps.keys()]).toEqual(["00-import.xir", "01-canonicalize.xir", "02-test-noop.xir"]);
    const [first, second] = dumps.get("01-canonicalize.xir")!.split("\n");
    expect(first).toBe("// xbarc-ir 1 · model tiny.onnx · after 01-canonicalize");
    expect(second).toBe("// pipeline: canonicalize,test-noop · seed 7");
    expect(dumps.get("00-import.xir")!.split("\n")[0]).toBe("// xbarc-ir 1 · model tiny.onnx · after 00-import");
    expect(body(dumps.get("00-import.xir")!)).toBe(SOURCE);
    for (const [file, text] of dumps) expect(printText(parseModule(text, { file })), file).toBe(body(text));
    // canonicalize dropped the identity and the unused constant
    expect(body(dumps.get("01-canonicalize.xir")!)).not.toContain("identity");
    expect(body(dumps.get("02-test-noop.xir")!)).toBe(body(dumps.get("01-canonicalize.xir")!));
  });

  it("writes only the steps whose printed IR changed for dumpAfter=changed", () => {
    const { dumps } = runWithDumps("test-noop,canonicalize,test-noop,canonicalize,test-rename", { dumpAfter: "changed" });
    expect([...dumps.keys()]).toEqual(["02-canonicalize.xir", "05-test-rename.xir"]);
    expect(dumps.get("05-test-rename.xir")).toContain("%b_renamed = relu %x");
  });

  it("writes the named passes' steps for a list of pass names, and 00-import when asked", () => {
    const { dumps } = runWithDumps("test-noop,canonicalize,test-noop", { dumpAfter: ["test-noop", "import"] });
    expect([...dumps.keys()]).toEqual(["00-import.xir", "01-test-noop.xir", "03-test-noop.xir"]);
  });

  it("writes nothing without onDump and nothing but failures for dumpAfter=failure", () => {
    expect(() => runPipeline(tiny(), "canonicalize", { dumpAfter: "all" })).not.toThrow();
    const { dumps } = runWithDumps("canonicalize,test-noop", { dumpAfter: "failure" });
    expect(dumps.size).toBe(0);
  });

  it("returns per-step results and the canonical pipeline string", () => {
    const result = runPipeline(tiny(), " canonicalize , test-noop ");
    expect(result.pipeline).toBe("canonicalize,test-noop");
    expect(result.steps.map((s) => [s.index, s.pass, s.changed])).toEqual([
      [1, "canonicalize", true],
      [2, "test-noop", false],
    ]);
    expect(result.steps[0]!.stats).toEqual({ "removed-dead": 1, "removed-identities": 1 });
  });
});

describe("runPipeline failures", () => {
  it("turns a crash into an InternalError and writes NN-<pass>.failed.xir with the IR before the pass", () => {
    const m = tiny();
    const { error, dumps } = runExpectingError("canonicalize,test-crash,test-noop", { dumpAfter: "failure", seed: 3 }, m);
    expect(error).toBeInstanceOf(InternalError);
    expect(error.code).toBe("XB9001");
    expect(error.message).toContain('"test-crash"');
    expect(error.message).toContain("cannot read properties of undefined");
    expect(error.notes.join("\n")).toContain("02-test-crash.failed.xir");
    expect([...dumps.keys()]).toEqual(["02-test-crash.failed.xir"]);
    const dump = dumps.get("02-test-crash.failed.xir")!;
    expect(dump).toContain("// pipeline: canonicalize,test-crash,test-noop · seed 3");
    expect(dump).toContain("--pipeline 'test-crash,test-noop'");
    // the IR after canonicalize, i.e. before the failing pass
    expect(body(dump)).toBe(printText(m));
    expect(printText(parseModule(dump))).toBe(body(dump));
  });

  it("names the reproducer even when no dump was requested", () => {
    const { error, dumps } = runExpectingError("test-crash", {});
    expect(dumps.size).toBe(0);
    expect(error.notes.join("\n")).toContain("--dump-after failure");
  });

  it("rethrows a pass's XbarcError with its own code and a note naming the step", () => {
    const { error, dumps } = runExpectingError("canonicalize,test-refuse", { dumpAfter: "all" });
    expect(error).not.toBeInstanceOf(InternalError);
    expect(error.code).toBe("XB5003");
    expect(error.notes.join("\n")).toContain('pass 2 "test-refuse"');
    expect([...dumps.keys()]).toEqual(["00-import.xir", "01-canonicalize.xir", "02-test-refuse.failed.xir"]);
  });

  it("catches a pass that leaves invalid IR with verify-each and reports the pass", () => {
    const { error, dumps } = runExpectingError("canonicalize,test-break-ir", { dumpAfter: "failure" });
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toContain('"test-break-ir"');
    expect(error.message).toContain("invalid IR");
    expect(error.notes.join("\n")).toContain("XB3001");
    expect(body(dumps.get("02-test-break-ir.failed.xir")!)).toContain("%b = relu %x : f32[1,4]");
  });

  it("lets invalid IR through when verify-each is off", () => {
    const m = tiny();
    runPipeline(m, "test-break-ir", { verifyEach: false });
    expect(m.ops[0]!.results[0]!.type.shape).toEqual([1, 4, 7]);
  });

  it("verifies the module before the first pass and reports bad input as the verifier's user error", () => {
    const m = tiny();
    m.ops[1]!.results[0]!.type = { dtype: "f32", shape: [2, 2] };
    const { error } = runExpectingError("test-noop", {}, m);
    expect(error).not.toBeInstanceOf(InternalError);
    expect(error.code).toMatch(/^XB3/);
  });

  it("catches a pass that changes the IR but reports changed=false, showing where the text differs", () => {
    const { error } = runExpectingError("test-liar", { checkNoopChanges: true });
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toContain('"test-liar"');
    expect(error.message).toContain("changed=false");
    expect(error.message).toContain('loc(\\"Sneaky_0\\")');
    // without the check the lie goes unnoticed
    expect(() => runPipeline(tiny(), "test-liar")).not.toThrow();
  });

  it("catches IR that does not survive print → parse with round-trip-each", () => {
    const { error } = runExpectingError("test-noop,test-duplicate-name", { roundTripEach: true, verifyEach: false });
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toContain('"test-duplicate-name"');
    expect(error.message).toContain("does not parse back");
  });

  it("rejects a misordered or unknown pipeline before running any pass", () => {
    const m = tiny();
    const before = printText(m);
    const { error } = runExpectingError("canonicalize,no-such-pass", {}, m);
    expect(error.code).toBe("XB5001");
    expect(printText(m)).toBe(before);
  });
});

describe("pass context", () => {
  it("derives each pass's rng from the seed and the pass name, reproducibly", () => {
    seen.length = 0;
    runPipeline(tiny(), "test-observe", { seed: 42 });
    runPipeline(tiny(), "test-observe", { seed: 42 });
    runPipeline(tiny(), "test-observe", { seed: 43 });
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]!.rng).not.toEqual(seen[2]!.rng);
    expect(seen[0]!.seed).toBe(42);
    const expected = createRng(42, "test-observe");
    expect(seen[0]!.rng).toEqual([expected.next(), expected.next()]);
    expect(createRng(42, "other-pass").next()).not.toBe(seen[0]!.rng[0]);
  });

  it("reports stats and de-duplicated diagnostics per step", () => {
    const result = runPipeline(tiny(), "test-observe");
    expect(result.steps[0]!.stats).toEqual({ observed: 3 });
    expect(result.steps[0]!.diagnostics.map((d) => [d.severity, d.pass, d.message])).toEqual([
      ["warning", "test-observe", "something to look at"],
      ["remark", "test-observe", "a remark"],
    ]);
  });
});

describe("dump helpers", () => {
  it("numbers dump files with two digits so they sort in pipeline order", () => {
    expect(getDumpFileName(0, "import")).toBe("00-import.xir");
    expect(getDumpFileName(7, "place-truncation")).toBe("07-place-truncation.xir");
    expect(getDumpFileName(12, "tile", true)).toBe("12-tile.failed.xir");
  });

  it("shows the first line where two texts differ", () => {
    const d = describeTextDifference("a\nb\nc\n", "a\nB\nc\n", "printed", "reprinted");
    expect(d).toBe('first difference at line 2:\n  printed: "b"\n  reprinted: "B"');
    expect(describeTextDifference("a\n", "a\nextra")).toContain('after: "extra"');
  });
});

describe("createRng", () => {
  it("gives uniform doubles in [0, 1) with a plausible mean and normals with unit variance", () => {
    const rng = createRng(0, "stats");
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      const z = rng.normal();
      sq += z * z;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
  });
});

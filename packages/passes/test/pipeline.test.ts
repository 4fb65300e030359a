/** @fileoverview Pipeline strings: parse/print round trip, option validation with defaults, and pipeline-building errors with their codes. */
import { describe, expect, it } from "vitest";
import { renderError } from "@xbarc/ir";
import {
  buildPipeline,
  defaultPipeline,
  getPass,
  listPasses,
  parsePipeline,
  printPipeline,
  registerPass,
  type Pass,
} from "@xbarc/passes";
import { catchXbarcError } from "../../../test/helpers/errors.js";

interface KnobOptions {
  budget: number;
  select: string;
  fast: boolean;
  xbar: number[];
}

/** A test-only pass with one option of each kind the pipeline grammar supports. */
const knobs: Pass<KnobOptions> = {
  name: "test-knobs",
  summary: "test pass with options of every kind",
  description: "does nothing",
  options: {
    type: "object",
    properties: {
      budget: { type: "number", default: 0.05, minimum: 0, description: "allowed loss" },
      select: { type: "string", default: "weight-error", enum: ["weight-error", "output-error"] },
      fast: { type: "boolean", default: false },
      xbar: { type: "array", items: { type: "integer" }, minItems: 2, maxItems: 2, default: [128, 128] },
    },
    required: [],
    additionalProperties: false,
  },
  requires: [],
  provides: [],
  run: () => ({ changed: false }),
};

const provider: Pass<Record<string, never>> = {
  name: "test-provide-mark",
  summary: "writes #test-mark",
  description: "does nothing",
  options: { type: "object", properties: {}, required: [], additionalProperties: false },
  requires: [],
  provides: ["test-mark"],
  run: () => ({ changed: false }),
};

const consumer: Pass<Record<string, never>> = { ...provider, name: "test-need-mark", summary: "reads #test-mark", requires: ["test-mark"], provides: [] };

registerPass(knobs);
registerPass(provider);
registerPass(consumer);

describe("pipeline strings", () => {
  it("parses passes with number, string, boolean and list options", () => {
    expect(parsePipeline('canonicalize,test-knobs{budget=0.01,select="output-error",fast=true,xbar=[64,32]}')).toEqual([
      { pass: "canonicalize", options: {} },
      { pass: "test-knobs", options: { budget: 0.01, select: "output-error", fast: true, xbar: [64, 32] } },
    ]);
  });

  it("reads bare words as strings and tolerates spaces", () => {
    expect(parsePipeline(" test-knobs { select = output-error , budget = -1e-3 } , canonicalize ")).toEqual([
      { pass: "test-knobs", options: { select: "output-error", budget: -0.001 } },
      { pass: "canonicalize", options: {} },
    ]);
  });

  it("prints canonically: no spaces, strings quoted, options in schema order", () => {
    const steps = parsePipeline('test-knobs{xbar=[1,2], fast=false, select=output-error, budget=1e-7}, canonicalize');
    expect(printPipeline(steps)).toBe('test-knobs{budget=1e-7,select="output-error",fast=false,xbar=[1,2]},canonicalize');
  });

  it("round-trips print → parse → print for strings with escapes and nested lists", () => {
    const text = 'test-knobs{select="a \\"quoted\\" \\\\ word",xbar=[[1,[2]],[]]},canonicalize{}';
    const once = printPipeline(parsePipeline(text));
    expect(printPipeline(parsePipeline(once))).toBe(once);
    expect(parsePipeline(once)[0]!.options.select).toBe('a "quoted" \\ word');
    expect(once.endsWith(",canonicalize")).toBe(true); // empty braces print as nothing
  });

  it("parses the empty string as the empty pipeline", () => {
    expect(parsePipeline("")).toEqual([]);
    expect(buildPipeline("").steps).toHaveLength(0);
  });

  it("rejects a syntax error with XB5001 and the column", () => {
    const e = catchXbarcError(() => parsePipeline("canonicalize,test-knobs{budget=}"));
    expect(e.code).toBe("XB5001");
    expect(e.location).toMatchObject({ kind: "text", line: 1, column: 32 });
    expect(renderError(e)).toContain("^");
  });

  it("rejects a stray character with XB5001", () => {
    const e = catchXbarcError(() => parsePipeline("canonicalize;prune"));
    expect(e.code).toBe("XB5001");
    expect(e.message).toContain('";"');
  });

  it("rejects an option given twice with XB5002", () => {
    expect(catchXbarcError(() => parsePipeline("test-knobs{fast=true,fast=false}")).code).toBe("XB5002");
  });
});

describe("buildPipeline", () => {
  it("fills option defaults with ajv and keeps the written options for printing", () => {
    const built = buildPipeline("test-knobs{budget=0.5}");
    expect(built.steps[0]!.options).toEqual({ budget: 0.5, select: "weight-error", fast: false, xbar: [128, 128] });
    expect(built.steps[0]!.written).toEqual({ budget: 0.5 });
    expect(built.text).toBe("test-knobs{budget=0.5}");
  });

  it("rejects an unknown pass with XB5001 listing the known passes", () => {
    const e = catchXbarcError(() => buildPipeline("canonicalize,prunee{budget=0.1}"));
    expect(e.code).toBe("XB5001");
    expect(e.message).toContain('"prunee"');
    expect(e.hint).toContain("canonicalize");
    expect(e.hint).toContain("test-knobs");
    expect(e.location).toMatchObject({ column: 14 });
  });

  it("rejects an unknown option with XB5002 naming the pass, the option and the known options", () => {
    const e = catchXbarcError(() => buildPipeline("test-knobs{budgett=0.1}"));
    expect(e.code).toBe("XB5002");
    expect(e.message).toContain("test-knobs");
    expect(e.message).toContain("budgett");
    expect(e.hint).toContain("budget, select, fast, xbar");
    expect(e.location).toMatchObject({ column: 12 });
  });

  it("rejects an option to a pass without options with XB5002", () => {
    const e = catchXbarcError(() => buildPipeline("canonicalize{fold=false}"));
    expect(e.code).toBe("XB5002");
    expect(e.hint).toContain("takes no options");
  });

  it.each([
    ["a string for a number", 'test-knobs{budget="low"}', "budget"],
    ["a value outside the enum", "test-knobs{select=fastest}", "select"],
    ["a number for a boolean", "test-knobs{fast=1}", "fast"],
    ["a list of the wrong length", "test-knobs{xbar=[1,2,3]}", "xbar"],
    ["a negative budget", "test-knobs{budget=-1}", "budget"],
  ])("rejects %s with XB5002 naming the option", (_what, text, option) => {
    const e = catchXbarcError(() => buildPipeline(text));
    expect(e.code).toBe("XB5002");
    expect(e.message).toContain(`"${option}"`);
    expect(e.message).toContain("test-knobs");
  });

  it("rejects a pass whose required annotations no earlier pass provides, before anything runs", () => {
    const e = catchXbarcError(() => buildPipeline("test-need-mark,test-provide-mark"));
    expect(e.code).toBe("XB5001");
    expect(e.message).toContain("#test-mark");
    expect(e.hint).toContain("put test-provide-mark before test-need-mark");
  });

  it("accepts the same passes in the right order", () => {
    expect(buildPipeline("test-provide-mark,test-need-mark").steps.map((s) => s.pass.name)).toEqual(["test-provide-mark", "test-need-mark"]);
  });

  it("accepts a consumer alone when the input module already carries the annotation", () => {
    expect(buildPipeline("test-need-mark", ["test-mark"]).steps).toHaveLength(1);
  });
});

describe("registry", () => {
  it("lists canonicalize first and finds passes by name", () => {
    expect(listPasses()[0]!.name).toBe("canonicalize");
    expect(getPass("test-knobs")).toBe(knobs);
    expect(getPass("no-such-pass")).toBeUndefined();
  });

  it("refuses a second, different pass under a taken name", () => {
    expect(() => registerPass({ ...knobs })).toThrow(/already registered/);
    expect(() => registerPass({ ...knobs, name: "Not_Kebab" })).toThrow(/kebab-case/);
  });

  it("gives every registered pass a summary, a description with an example, and an object schema", () => {
    const canon = getPass("canonicalize")!;
    expect(canon.summary.length).toBeGreaterThan(10);
    expect(canon.description).toMatch(/before:[\s\S]*after:/);
    expect((canon.options as { type: string }).type).toBe("object");
  });

  it("has a default pipeline that builds and prints as canonicalize", () => {
    expect(buildPipeline(defaultPipeline).text).toBe("canonicalize");
  });
});

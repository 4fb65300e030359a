import { describe, expect, it } from "vitest";
import { getBuiltinProfile, getLevels, listBuiltinProfiles, resolveDeviceProfile, type XbarcError } from "@xbarc/ir";
import { catchXbarcError } from "../../../test/helpers/errors.js";

function schemaError(doc: unknown): XbarcError {
  return catchXbarcError(() => resolveDeviceProfile(doc, "mine.json"), "profile was accepted");
}

describe("built-in device profiles", () => {
  it("all pass the schema and the physics checks", () => {
    const names = listBuiltinProfiles().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["isaac", "exp-a2", "exp-a3", "pow-a2", "eexp-s0.5", "lin-dev0.1", "rram-3bit", "rram-4bit", "halawani-16l-10x"]));
    for (const p of listBuiltinProfiles()) expect(resolveDeviceProfile(structuredClone(p), p.name).name).toBe(p.name);
  });

  it("isaac has the ISAAC crossbar: 128x128, 2-bit cells, 1-bit DAC, 8-bit ADC at 1.28 GS/s, 100 ns read", () => {
    const p = getBuiltinProfile("isaac")!;
    expect([p.crossbar.rows, p.crossbar.cols, p.cell.bits, p.crossbar.dac_bits, p.crossbar.adc_bits]).toEqual([128, 128, 2, 1, 8]);
    expect(1 / p.timing.adc_ns).toBeCloseTo(1.28, 10);
    expect(p.timing.read_ns).toBe(100);
    expect(p.source).toMatch(/ISAAC, ISCA 2016/);
  });
});

describe("conductance levels", () => {
  it("exponential g_k = C·a^k: consecutive levels differ by the factor a, top level at g_max", () => {
    const g = getLevels(getBuiltinProfile("exp-a3")!.cell);
    expect(g.length).toBe(8);
    for (let k = 1; k < 8; k++) expect(g[k]! / g[k - 1]!).toBeCloseTo(3, 12);
    expect(g[7]).toBeCloseTo(1e-4, 15);
  });

  it("power g_k = C·k^a and e-exponential g_k = A·e^{s·k} follow their formulas", () => {
    const pow = getLevels(getBuiltinProfile("pow-a2")!.cell);
    for (let k = 1; k <= 8; k++) expect(pow[k - 1]! / pow[0]!).toBeCloseTo(k * k, 10);
    const eexp = getLevels(getBuiltinProfile("eexp-s0.5")!.cell);
    for (let k = 1; k < 8; k++) expect(Math.log(eexp[k]! / eexp[k - 1]!)).toBeCloseTo(0.5, 12);
  });

  it("linear levels are evenly spaced from g_min to g_max; deviated-linear alternates ±δ·C around C·k", () => {
    const lin = getLevels(getBuiltinProfile("halawani-16l-10x")!.cell);
    expect(lin[0]).toBeCloseTo(1 / 900, 15);
    expect(lin[15]).toBeCloseTo(1 / 110, 15);
    const step = lin[1]! - lin[0]!;
    for (let k = 1; k < 16; k++) expect(lin[k]! - lin[k - 1]!).toBeCloseTo(step, 15);
    const dev = getLevels(getBuiltinProfile("lin-dev0.1")!.cell);
    const c = 1e-4 / (8 + 0.1);
    for (let k = 1; k <= 8; k++) expect(dev[k - 1]).toBeCloseTo(c * (k + (k % 2 === 0 ? 0.1 : -0.1)), 15);
  });
});

describe("profile resolution", () => {
  it("extends a built-in and overrides only the fields given", () => {
    const p = resolveDeviceProfile({ extends: "isaac", name: "small", crossbar: { rows: 32, cols: 32 } });
    expect(p.crossbar).toEqual({ rows: 32, cols: 32, dac_bits: 1, adc_bits: 8, cols_per_adc: 128 });
    expect(p.cell).toEqual(getBuiltinProfile("isaac")!.cell);
  });

  it("replaces the level spec whole when an override changes the level model", () => {
    const p = resolveDeviceProfile({ extends: "lin-dev0.1", name: "x", cell: { levels: { model: "power", count: 8, a: 3 } } });
    expect(p.cell.levels).toEqual({ model: "power", count: 8, a: 3 });
  });
});

describe("bad device profiles", () => {
  const isaac = () => structuredClone(getBuiltinProfile("isaac")!) as unknown as Record<string, any>;

  it("names the JSON pointer of a missing field", () => {
    const doc = isaac();
    delete doc.crossbar.adc_bits;
    const e = schemaError(doc);
    expect(e.code).toBe("XB4001");
    expect(e.message).toMatch(/^\/crossbar must have required property 'adc_bits'/);
    expect(e.location).toMatchObject({ kind: "json", file: "mine.json", pointer: "/crossbar" });
  });

  it("rejects listed levels that do not increase, naming the level", () => {
    const doc = isaac();
    doc.cell.levels = { model: "listed", values: [1e-6, 3e-5, 2e-5, 1e-4] };
    const e = schemaError(doc);
    expect(e.message).toMatch(/^\/cell\/levels\/values\/2 levels must increase strictly/);
  });

  it("rejects a negative conductance with its pointer", () => {
    const doc = isaac();
    doc.cell.levels = { model: "listed", values: [-1e-6, 3e-5, 1e-4] };
    const e = schemaError(doc);
    expect(e.message).toMatch(/^\/cell\/levels\/values\/0 must be > 0/);
  });

  it("rejects an unknown level model and lists the known ones", () => {
    const doc = isaac();
    doc.cell.levels = { model: "cubic", count: 4 };
    const e = schemaError(doc);
    expect(e.message).toMatch(/^\/cell\/levels\/model must be equal to one of the allowed values: listed, linear, deviated-linear, power, exponential, e-exponential/);
  });

  it("rejects an unknown field and extending an unknown built-in", () => {
    expect(schemaError({ ...isaac(), colour: "red" }).message).toMatch(/must NOT have additional properties "colour"/);
    const e = schemaError({ extends: "nope", name: "x" });
    expect(e.message).toMatch(/^\/extends names no built-in profile "nope"/);
    expect(e.hint).toMatch(/isaac/);
  });

  it("rejects more levels than the cell's bits can hold", () => {
    const doc = isaac();
    doc.cell.levels = { model: "linear", count: 8 };
    expect(schemaError(doc).message).toMatch(/^\/cell\/bits 2 bits hold at most 4 levels, but the cell has 8/);
  });
});

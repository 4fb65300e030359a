import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getBuiltinProfile, getLevels, listBuiltinProfiles, type DeviceProfile } from "@xbarc/ir";
import { expectHelpTeaches, fixture, listFiles, makeTempDir, xbarc } from "./helpers.js";

const tmp = makeTempDir("devices");
afterAll(tmp.cleanup);

/** Writes a JSON file in the temp dir and returns its path. */
function jsonFile(name: string, doc: unknown): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, JSON.stringify(doc, null, 2));
  return path;
}

/** A complete profile (no extends) to break one field at a time. */
function fullProfile(): DeviceProfile {
  const p = getBuiltinProfile("rram-3bit")!;
  return { ...p, name: "mine" };
}

describe("xbarc devices", () => {
  it("lists every built-in profile with its levels, model, mapping, crossbar, converters and variation", () => {
    const r = xbarc("devices");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^name +levels +model +map +crossbar +adc\/dac +variation +description$/);
    expect(lines.length).toBe(listBuiltinProfiles().length + 1);
    for (const name of ["isaac", "lin-dev0.1", "pow-a2", "exp-a3", "eexp-s0.5", "rram-3bit", "rram-4bit", "halawani-16l-10x"]) {
      expect(lines.some((l) => l.startsWith(`${name} `))).toBe(true);
    }
    expect(lines.find((l) => l.startsWith("halawani-16l-10x "))).toMatch(/ 16 +linear +offset-column +128x128 +8\/1 +truncated-gaussian σ=0\.1 cut at ±1σ /);
  });

  it("prints the same table as JSON with --json", () => {
    const r = xbarc("devices", "--json");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; levels: number; map: string; adc_bits: number }[];
    expect(rows.map((x) => x.name)).toEqual(listBuiltinProfiles().map((p) => p.name));
    for (const row of rows) {
      const p = getBuiltinProfile(row.name)!;
      expect(row.levels).toBe(getLevels(p.cell).length);
      expect(row.map).toBe(p.mapping.signed);
      expect(row.adc_bits).toBe(p.crossbar.adc_bits);
    }
  });
});

describe("xbarc device show", () => {
  it("prints a built-in with its levels in siemens and its dynamic range", () => {
    const r = xbarc("device", "show", "isaac", "--json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { profile: DeviceProfile; levels: number[]; dynamic_range: number };
    expect(doc.profile).toEqual(getBuiltinProfile("isaac"));
    expect(doc.levels).toEqual(Array.from(getLevels(doc.profile.cell)));
    // linear from g_min = 1 µS to g_max = 100 µS
    expect(doc.levels[0]).toBeCloseTo(1e-6, 12);
    expect(doc.dynamic_range).toBeCloseTo(100, 9);
    const text = xbarc("device", "show", "exp-a3");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^levels: +0\.0457247 µS, .* 100 µS$/m);
    expect(text.stdout).toMatch(/^dynamic range: +2187x/m);
  });

  it("resolves a file that extends a built-in: overridden fields replaced, the rest inherited", () => {
    const file = jsonFile("noisy.json", { extends: "exp-a3", name: "exp-a3-noisy", variation: { model: "lognormal", sigma: 0.3 } });
    const r = xbarc("device", "show", file, "--json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { profile: DeviceProfile & { extends?: string }; levels: number[] };
    const base = getBuiltinProfile("exp-a3")!;
    expect(doc.profile.name).toBe("exp-a3-noisy");
    expect(doc.profile.extends).toBeUndefined();
    expect(doc.profile.cell).toEqual(base.cell);
    expect(doc.profile.crossbar).toEqual(base.crossbar);
    // objects merge: the variation keeps the built-in's stuck-at rates and read noise
    expect(doc.profile.variation).toEqual({ ...base.variation, model: "lognormal", sigma: 0.3 });
    expect(doc.levels).toEqual(Array.from(getLevels(base.cell)));
    expect(xbarc("device", "show", file).stdout).toMatch(/^variation: +lognormal σ=0\.3/m);
  });

  const bad: [string, () => unknown, RegExp][] = [
    ["a missing field", () => {
      const p = fullProfile() as unknown as { variation: Record<string, unknown> };
      delete p.variation["sigma"];
      return p;
    }, /\/variation must have required property 'sigma'/],
    ["levels that do not increase", () => ({ extends: "exp-a3", cell: { levels: { model: "listed", values: [1e-6, 3e-6, 2e-6, 1e-5] } } }), /\/cell\/levels\/values\/2 levels must increase strictly/],
    ["a negative conductance", () => ({ extends: "exp-a3", cell: { levels: { model: "listed", values: [-1e-6, 3e-6, 5e-6, 1e-5] } } }), /\/cell\/levels\/values\/0 must be > 0/],
    ["an unknown level model", () => ({ extends: "exp-a3", cell: { levels: { model: "quadratic", count: 8 } } }), /\/cell\/levels\/model must be equal to one of the allowed values/],
  ];
  for (const [what, doc, pointer] of bad) {
    it(`rejects a profile with ${what}: exit 1, XB4001 naming the file and the JSON pointer`, () => {
      const file = jsonFile(`bad-${what.replace(/\W+/g, "-")}.json`, doc());
      const r = xbarc("device", "show", file);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`${file}: error XB4001: `);
      expect(r.stderr).toMatch(pointer);
    });
  }

  it("reports the JSON pointer as a field of the error with --json", () => {
    const file = jsonFile("bad-json.json", { extends: "exp-a3", cell: { levels: { model: "quadratic", count: 8 } } });
    const r = xbarc("device", "show", file, "--json");
    expect(r.code).toBe(1);
    const err = (JSON.parse(r.stderr) as { error: { code: string; location: { kind: string; file: string; pointer: string } } }).error;
    expect(err.code).toBe("XB4001");
    expect(err.location).toMatchObject({ kind: "json", file, pointer: "/cell/levels/model" });
  });

  it("rejects a file that is not JSON with XB4001", () => {
    const file = join(tmp.dir, "broken.json");
    writeFileSync(file, "{ \"extends\": ");
    const r = xbarc("device", "show", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB4001: \/ is not valid JSON/);
  });

  it("exits 2 for a name that is neither a built-in nor a file, listing the built-ins", () => {
    const r = xbarc("device", "show", "exp-a4");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error XB7001: --device exp-a4: no built-in profile/);
    expect(r.stderr).toContain("exp-a3");
  });
});

describe("xbarc opt --device", () => {
  it("runs quantize and assign-levels with the device and dumps every step", () => {
    const dumps = join(tmp.dir, "dumps");
    const r = xbarc("opt", fixture("models/trained/mlp784-32-10-relu.onnx"), "--passes", "canonicalize,quantize,assign-levels", "--device", "exp-a3",
      "--dump-after", "all", "--dump-dir", dumps, "-o", join(tmp.dir, "mlp.xir"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(listFiles(dumps)).toEqual(["00-import.xir", "01-canonicalize.xir", "02-quantize.xir", "03-assign-levels.xir"]);
    const last = readFileSync(join(dumps, "03-assign-levels.xir"), "utf8");
    expect(last).toMatch(/device exp-a3/);
    expect(last).toMatch(/#cells\{map="differential", device="exp-a3", levels=8, plus="fc1\.weight\.plus", minus="fc1\.weight\.minus"/);
  });

  it("stops with XB5003 when a pass needs a device and none is given", () => {
    const r = xbarc("opt", fixture("models/trained/mlp784-32-10-relu.onnx"), "--passes", "canonicalize,quantize,assign-levels");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error XB5003: .*device/);
  });
});

describe("help of the device commands", () => {
  for (const cmd of [["devices"], ["device", "show"], ["eval-weights"]]) {
    it(`${cmd.join(" ")} --help teaches: description, an example, the --json option`, () => {
      expectHelpTeaches(cmd);
    });
  }

  it("eval-weights --help states the precedence of flags, config file and defaults", () => {
    const r = xbarc("eval-weights", "--help");
    expect(r.stdout).toMatch(/Precedence: a flag given on the command line wins over the --config file, which wins over the built-in defaults/);
    expect(r.stdout).toMatch(/--mc <n> +Monte Carlo runs[^]*?\(default: 20\)/);
  });
});

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getBuiltinProfile, XbarcError } from "@xbarc/ir";
import { loadConfig, parseVariation, withVariation, type EvalWeightsReport, type XbarcConfig } from "@xbarc/cli";
import { mergeEvalWeightsSettings } from "../src/commands/eval-weights.js";
import { fixture, makeTempDir, MNIST_IMAGES, MNIST_LABELS, xbarc } from "./helpers.js";

const tmp = makeTempDir("config");
afterAll(tmp.cleanup);

function jsonFile(name: string, doc: unknown): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
  return path;
}

function configError(doc: unknown): XbarcError {
  const file = jsonFile("bad.json", doc);
  try {
    loadConfig(file);
  } catch (e) {
    expect(e).toBeInstanceOf(XbarcError);
    return e as XbarcError;
  }
  throw new Error("loadConfig accepted a bad config");
}

describe("loadConfig", () => {
  it("reads a config and makes its file paths relative to the config's directory", () => {
    mkdirSync(join(tmp.dir, "sub"), { recursive: true });
    const file = jsonFile("sub/run.json", {
      device: "my-device.json", quantizer: "auto", metric: "output-error", bits: 4, layers: { fc1: "mes-caq" },
      calibration: { images: "../imgs.gz", labels: "labels.gz", limit: 100 }, mc: 5, seed: 9,
    });
    const c = loadConfig(file);
    expect(c.device).toBe(join(tmp.dir, "sub", "my-device.json"));
    expect(c.calibration).toEqual({ images: join(tmp.dir, "imgs.gz"), labels: join(tmp.dir, "sub", "labels.gz"), limit: 100 });
    expect([c.quantizer, c.metric, c.bits, c.layers, c.mc, c.seed]).toEqual(["auto", "output-error", 4, { fc1: "mes-caq" }, 5, 9]);
  });

  it("keeps a built-in device name as it is", () => {
    expect(loadConfig(jsonFile("builtin.json", { device: "exp-a3" })).device).toBe("exp-a3");
  });

  const bad: [string, unknown, string, RegExp][] = [
    ["an unknown field", { device: "isaac", quantiser: "uniform" }, "", /must NOT have additional properties "quantiser"/],
    ["bits of the wrong type", { bits: "three" }, "/bits", /must be integer/],
    ["a layer mapped to a number", { layers: { fc1: 3 } }, "/layers/fc1", /must be string/],
    ["calibration without labels", { calibration: { images: "a.gz" } }, "/calibration", /must have required property 'labels'/],
    ["an unknown metric", { metric: "accuracy" }, "/metric", /weight-mse, variation, output-error/],
    ["a malformed variation", { variation: "lognormal" }, "/variation", /model:sigma/],
    ["a negative sigma", { variation: "gaussian:-1" }, "/variation", /sigma must be a number ≥ 0/],
  ];
  for (const [what, doc, pointer, message] of bad) {
    it(`rejects ${what} with XB4001 naming the JSON pointer ${pointer || "/"}`, () => {
      const e = configError(doc);
      expect(e.code).toBe("XB4001");
      expect(e.location).toMatchObject({ kind: "json", file: join(tmp.dir, "bad.json"), pointer });
      expect(e.message.startsWith(`${pointer || "/"} `)).toBe(true);
      expect(e.message).toMatch(message);
    });
  }

  it("rejects a file that is not JSON", () => {
    const e = configError("{ device: isaac }");
    expect(e.code).toBe("XB4001");
    expect(e.message).toMatch(/is not valid JSON/);
  });
});

describe("--variation", () => {
  it("parses model:sigma, a truncation bound, and none", () => {
    expect(parseVariation("lognormal:0.5")).toEqual({ model: "lognormal", sigma: 0.5 });
    expect(parseVariation("truncated-gaussian:0.1:1")).toEqual({ model: "truncated-gaussian", sigma: 0.1, truncate: 1 });
    expect(parseVariation("none")).toEqual({ model: "none", sigma: 0 });
    expect(() => parseVariation("gaussian:0.1:2")).toThrow(/is not a variation/);
    expect(() => parseVariation("lognormal:x")).toThrow(/sigma must be a number/);
  });

  it("replaces the profile's model and σ, drops level_sigma and keeps the stuck-at rates", () => {
    const base = { ...getBuiltinProfile("rram-3bit")!, variation: { model: "gaussian" as const, sigma: 0.2, level_sigma: [0, 0, 0, 0, 0, 0, 0, 0.3], stuck_at_on: 0.01, stuck_at_off: 0.02, read_noise: 0 } };
    expect(withVariation(base, { model: "lognormal", sigma: 0.5 }).variation).toEqual({ model: "lognormal", sigma: 0.5, stuck_at_on: 0.01, stuck_at_off: 0.02, read_noise: 0 });
  });
});

describe("settings precedence", () => {
  const cliDefaults = { images: "i", labels: "l", offset: 0, mc: 20, seed: 0, batchSize: 100, scale: 1 / 255, mean: 0, std: 1, quantizer: "auto" };
  const config: XbarcConfig = { device: "exp-a3", quantizer: "mes-caq", mc: 7, seed: 4, variation: "lognormal:0.2", layers: { fc1: "uniform", fc2: "kmeans" } };

  it("takes a flag typed on the command line over the config file", () => {
    const typed = new Set(["device", "quantizer", "seed", "variation", "layer"]);
    const s = mergeEvalWeightsSettings(
      { ...cliDefaults, device: "isaac", quantizer: "uniform", seed: 1, variation: { model: "none", sigma: 0 }, layer: ["fc2=mes-caq"] },
      config, (k) => typed.has(k),
    );
    expect(s).toMatchObject({ device: "isaac", quantizer: "uniform", seed: 1, variation: { model: "none", sigma: 0 }, mc: 7 });
    // per-layer entries merge: the flag replaces fc2, the config's fc1 stays
    expect(s.layers).toEqual({ fc1: "uniform", fc2: "mes-caq" });
  });

  it("takes the config file over the built-in defaults when no flag was typed", () => {
    const s = mergeEvalWeightsSettings({ ...cliDefaults }, config, () => false);
    expect(s).toMatchObject({ device: "exp-a3", quantizer: "mes-caq", mc: 7, seed: 4, variation: { model: "lognormal", sigma: 0.2 } });
  });

  it("falls back to the built-in defaults without a config", () => {
    const s = mergeEvalWeightsSettings({ ...cliDefaults, device: "isaac" }, {}, (k) => k === "device");
    expect(s).toMatchObject({ device: "isaac", quantizer: "auto", mc: 20, seed: 0 });
    expect(s.variation).toBeUndefined();
  });
});

describe("xbarc eval-weights --config", () => {
  const MLP = fixture("models/trained/mlp784-32-10-relu.onnx");
  const slice = ["--images", MNIST_IMAGES, "--labels", MNIST_LABELS, "--offset", "8000", "--limit", "100", "--json"];

  it("uses the config's settings, overridden by flags on the command line", () => {
    const file = jsonFile("run.json", { device: "exp-a3", quantizer: "mes-caq", mc: 2, seed: 5 });
    const fromConfig = JSON.parse(xbarc("eval-weights", MLP, ...slice, "--config", file).stdout) as EvalWeightsReport;
    expect([fromConfig.device.name, fromConfig.seed, fromConfig.montecarlo.runs]).toEqual(["exp-a3", 5, 2]);
    expect(fromConfig.layers.every((l) => l.quantizer === "mes-caq")).toBe(true);
    const r = xbarc("eval-weights", MLP, ...slice, "--config", file, "--device", "isaac", "--quantizer", "uniform", "--seed", "3");
    expect(r.code).toBe(0);
    const overridden = JSON.parse(r.stdout) as EvalWeightsReport;
    expect([overridden.device.name, overridden.seed, overridden.montecarlo.runs]).toEqual(["isaac", 3, 2]);
    expect(overridden.layers.every((l) => l.quantizer === "uniform")).toBe(true);
  });

  it("rejects a bad config with exit 1 and XB4001 naming the file and the JSON pointer", () => {
    const file = jsonFile("bad-run.json", { device: "exp-a3", calibration: { images: MNIST_IMAGES, labels: MNIST_LABELS, limit: 0 } });
    const r = xbarc("eval-weights", MLP, ...slice.slice(0, -1), "--config", file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${file}: error XB4001: /calibration/limit must be >= 1`);
  });
});

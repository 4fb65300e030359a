/** @fileoverview Resolving a device profile: a built-in by name, or JSON that may `extends` a built-in; schema and sanity checks. */
import { Ajv } from "ajv";
import { XbarcError } from "../diagnostics/error.js";
import { BUILTIN_PROFILES } from "./builtins.js";
import { getLevels } from "./levels.js";
import type { DeviceProfile } from "./profile.js";
import { DEVICE_PROFILE_SCHEMA } from "./schema.js";

const validate = new Ajv({ allErrors: true, strict: false }).compile(DEVICE_PROFILE_SCHEMA);

export function getBuiltinProfile(name: string): DeviceProfile | undefined {
  const p = BUILTIN_PROFILES.find((d) => d.name === name);
  return p && structuredClone(p);
}

export function listBuiltinProfiles(): readonly DeviceProfile[] {
  return BUILTIN_PROFILES;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Overrides replace scalars and arrays and merge objects; a `levels` spec is replaced whole (its fields depend on its model). */
function merge(base: Json, over: Json, key = ""): Json {
  if (key === "levels" || typeof base !== "object" || base === null || Array.isArray(base)) return over;
  if (typeof over !== "object" || over === null || Array.isArray(over)) return over;
  const out: { [k: string]: Json } = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k]!, v, k) : v;
  return out;
}

function fail(file: string, pointer: string, message: string, hint?: string): never {
  throw new XbarcError("XB4001", `${pointer || "/"} ${message}`, {
    location: { kind: "json", file, pointer, schema: "device-profile.schema.json" },
    hint,
  });
}

/**
 * Resolves a profile document (already parsed JSON): applies `extends`, checks the schema (errors name the JSON
 * pointer) and the physics the schema cannot express (levels positive and increasing, inside [g_min, g_max]).
 */
export function resolveDeviceProfile(doc: unknown, file = "<profile>"): DeviceProfile {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail(file, "", "must be a JSON object");
  let merged = doc as { [k: string]: Json };
  const parent = merged["extends"];
  if (parent !== undefined) {
    if (typeof parent !== "string") fail(file, "/extends", "must be the name of a built-in profile");
    const base = getBuiltinProfile(parent);
    if (!base) fail(file, "/extends", `names no built-in profile "${parent}"`, `built-ins: ${BUILTIN_PROFILES.map((p) => p.name).join(", ")}`);
    merged = merge(base as unknown as Json, merged) as { [k: string]: Json };
  }
  if (!validate(merged)) {
    // oneOf failures report every branch; the most specific error is the deepest one
    const errors = [...validate.errors!].sort((a, b) => b.instancePath.length - a.instancePath.length);
    const e = errors.find((x) => x.keyword !== "oneOf" && x.keyword !== "const") ?? errors[0]!;
    const detail = e.keyword === "additionalProperties" ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` :
      e.keyword === "enum" ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}` : "";
    fail(file, e.instancePath, `${e.message ?? "is invalid"}${detail}`);
  }
  const profile = merged as unknown as DeviceProfile;
  delete (profile as { extends?: string }).extends;
  checkPhysics(profile, file);
  return profile;
}

function checkPhysics(p: DeviceProfile, file: string): void {
  const { cell } = p;
  if (cell.g_min >= cell.g_max) fail(file, "/cell/g_min", `must be below g_max (${cell.g_min} >= ${cell.g_max})`);
  const levels = getLevels(cell);
  for (let k = 0; k < levels.length; k++) {
    const g = levels[k]!;
    if (!(g > 0)) fail(file, `/cell/levels/values/${k}`, `must be a positive conductance, found ${g}`);
    if (k > 0 && !(g > levels[k - 1]!)) {
      fail(file, cell.levels.model === "listed" ? `/cell/levels/values/${k}` : "/cell/levels",
        `levels must increase strictly: level ${k} (${g}) is not above level ${k - 1} (${levels[k - 1]})`);
    }
    if (cell.levels.model === "listed" && (g < cell.g_min * (1 - 1e-9) || g > cell.g_max * (1 + 1e-9))) {
      fail(file, `/cell/levels/values/${k}`, `must lie within [g_min, g_max] = [${cell.g_min}, ${cell.g_max}], found ${g}`);
    }
  }
  if (levels.length > 2 ** cell.bits) {
    fail(file, "/cell/bits", `${cell.bits} bits hold at most ${2 ** cell.bits} levels, but the cell has ${levels.length}`);
  }
  const ls = p.variation.level_sigma;
  if (ls && ls.length !== levels.length) {
    fail(file, "/variation/level_sigma", `must have one sigma per level (${levels.length}), found ${ls.length}`);
  }
}

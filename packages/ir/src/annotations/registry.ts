/**
 * @fileoverview Annotation kinds: each `#kind{...}` is generic data checked by that kind's JSON schema.
 * Passes register the kinds they write; the verifier rejects unknown kinds and data that fails its schema.
 */
import { Ajv, type ValidateFunction } from "ajv";
import type { Annotation } from "../module.js";
import { XbarcError, type Location } from "../diagnostics/error.js";

const ajv = new Ajv({ allErrors: true, strict: true });
// schemas compile on first use: compiling every kind at load time would slow every CLI start
const kinds = new Map<string, { schema: object; validate?: ValidateFunction }>();

/** Registers the JSON schema of an annotation kind (idempotent for the same schema object). */
export function registerAnnotationKind(kind: string, schema: object): void {
  const existing = kinds.get(kind);
  if (existing) {
    if (existing.schema === schema) return;
    throw new Error(`annotation kind #${kind} registered twice with different schemas`);
  }
  kinds.set(kind, { schema });
}

export function getAnnotationKinds(): string[] {
  return [...kinds.keys()];
}

export function getAnnotationSchema(kind: string): object | undefined {
  return kinds.get(kind)?.schema;
}

/** Throws XB3007 for an unknown kind and XB3005, naming the JSON pointer, for data that fails the schema. */
export function checkAnnotation(a: Annotation, location?: Location): void {
  const entry = kinds.get(a.kind);
  if (!entry) {
    throw new XbarcError("XB3007", `unknown annotation kind #${a.kind}`, {
      location,
      hint: `known kinds: ${[...kinds.keys()].map((k) => `#${k}`).join(", ") || "(none)"}`,
    });
  }
  const validate = (entry.validate ??= ajv.compile(entry.schema));
  if (!validate(a.data)) {
    const e = validate.errors![0]!;
    throw new XbarcError("XB3005", `#${a.kind}${e.instancePath || "/"} ${e.message ?? "is invalid"}`, { location });
  }
}

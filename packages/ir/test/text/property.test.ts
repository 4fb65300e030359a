import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocArray,
  DTYPES,
  isXbarcError,
  Module,
  numel,
  parseModule,
  printModule,
  type AttrValue,
  type Attrs,
  type DType,
  type TensorType,
  type Value,
} from "@xbarc/ir";
import { moduleSnapshot } from "./module-snapshot.js";

type Gen = fc.GeneratorValue;

/** Name characters: the bare set plus characters that force quoting (space, quotes, backslash, newline, sigils, unicode). */
const NAME_UNITS = fc.constantFrom(..."aZ_09.$:/-", " ", '"', "\\", "\n", "\t", "%", "@", "#", "{", ",", "é", "✓", "\u0000", "\ud800");
const nameArb = fc.string({ unit: NAME_UNITS, minLength: 0, maxLength: 6 });
const identifierArb = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);
const keyArb = fc.oneof({ arbitrary: identifierArb, weight: 4 }, { arbitrary: nameArb, weight: 1 });

/** Attribute values: doubles of every kind (NaN, ±inf, -0, subnormals), any strings, booleans, nested lists and records. */
const attrValueArb: fc.Arbitrary<AttrValue> = fc.letrec<{ value: AttrValue; record: Attrs }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.double(),
    fc.integer(),
    fc.string({ unit: "binary", maxLength: 6 }),
    fc.boolean(),
    fc.array(tie("value"), { maxLength: 3 }),
    tie("record"),
  ),
  record: fc.array(fc.tuple(keyArb, tie("value")), { maxLength: 3 }).map(toRecord),
})).value;

const attrsArb = fc.array(fc.tuple(keyArb, attrValueArb), { maxLength: 4 }).map(toRecord);

/** A record from key/value pairs (later duplicates dropped), own properties even for `__proto__`. */
function toRecord(pairs: [string, AttrValue][]): Attrs {
  const out: Attrs = {};
  for (const [k, v] of pairs) {
    if (!Object.prototype.hasOwnProperty.call(out, k)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function genType(g: Gen): TensorType {
  const dtype = g(fc.constantFrom, ...DTYPES) as DType;
  return { dtype, shape: g(fc.array, fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) };
}

/** Random constant data; f16 NaNs use the one bit pattern the text can spell. */
function genData(g: Gen, type: TensorType) {
  const n = numel(type.shape);
  const data = allocArray(type.dtype, n);
  for (let i = 0; i < n; i++) {
    switch (type.dtype) {
      case "f32": data[i] = g(fc.float); break;
      case "f64": data[i] = g(fc.double); break;
      case "f16": {
        const h = g(fc.integer, { min: 0, max: 0xffff });
        data[i] = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0 ? 0x7e00 : h;
        break;
      }
      case "i64": data[i] = g(fc.bigInt, { min: -(2n ** 63n), max: 2n ** 63n - 1n }); break;
      case "u64": data[i] = g(fc.bigInt, { min: 0n, max: 2n ** 64n - 1n }); break;
      case "bool": data[i] = g(fc.boolean) ? 1 : 0; break;
      case "i8": data[i] = g(fc.integer, { min: -128, max: 127 }); break;
      case "i16": data[i] = g(fc.integer, { min: -32768, max: 32767 }); break;
      case "i32": data[i] = g(fc.integer); break;
      case "u8": data[i] = g(fc.integer, { min: 0, max: 255 }); break;
      case "u16": data[i] = g(fc.integer, { min: 0, max: 65535 }); break;
      case "u32": data[i] = g(fc.integer, { min: 0, max: 4294967295 }); break;
    }
  }
  return data;
}

/** A random small module: unique odd names, random types, constants with and without data, ops with attrs and annotations. */
function genModule(g: Gen): Module {
  const names = g(() => fc.uniqueArray(nameArb, { minLength: 1, maxLength: 10 }));
  const m = new Module(g(() => nameArb));
  m.attrs = g(() => attrsArb);
  const defined: Value[] = [];
  let next = 0;
  while (next < names.length) {
    const role = g(fc.constantFrom, "input", "const", "op");
    if (role === "input") {
      defined.push(m.addInput(names[next++]!, genType(g)));
    } else if (role === "const") {
      const type = genType(g);
      defined.push(m.addConstant(names[next++]!, type, g(fc.boolean) ? genData(g, type) : undefined));
    } else {
      const resultCount = Math.min(names.length - next, g(fc.integer, { min: 1, max: 2 }));
      const operandCount = g(fc.integer, { min: 0, max: 3 });
      const operands = Array.from({ length: operandCount }, () =>
        defined.length > 0 && g(fc.integer, { min: 0, max: 4 }) > 0 ? defined[g(fc.integer, { min: 0, max: defined.length - 1 })]! : null,
      );
      const results = Array.from({ length: resultCount }, () => ({ name: names[next++]!, type: genType(g) }));
      const op = m.addOp(g(() => keyArb), operands, results, g(() => attrsArb), g(() => fc.option(nameArb, { nil: undefined })));
      const kinds = g(() => fc.uniqueArray(keyArb, { maxLength: 2 }));
      for (const kind of kinds) op.setAnnotation(kind, g(() => attrsArb));
      defined.push(...op.results);
    }
  }
  m.outputs = g(() => fc.subarray(defined));
  return m;
}

/** One random edit of a valid text: delete, insert or replace a character, or truncate. */
const EDIT_CHARS = [..."%@#{}[](),:=\"\\-.0123456789afnx \n/"];
function editText(g: Gen, text: string): string {
  const at = g(fc.integer, { min: 0, max: Math.max(0, text.length - 1) });
  const kind = g(fc.constantFrom, "delete", "insert", "replace", "truncate");
  const ch = g(fc.constantFrom, ...EDIT_CHARS);
  switch (kind) {
    case "delete": return text.slice(0, at) + text.slice(at + 1);
    case "insert": return text.slice(0, at) + ch + text.slice(at);
    case "replace": return text.slice(0, at) + ch + text.slice(at + 1);
    default: return text.slice(0, at);
  }
}

const fixtureTexts = readdirSync("packages/ir/test/fixtures")
  .filter((f) => f.endsWith(".xir"))
  .map((f) => readFileSync(`packages/ir/test/fixtures/${f}`, "utf8"));

describe("IR text properties", () => {
  it("round-trips random small modules exactly, structure and text", () => {
    fc.assert(
      fc.property(fc.gen(), fc.boolean(), (g, withWeights) => {
        const m = genModule(g);
        const printed = printModule(m, { weights: withWeights });
        const back = parseModule(printed.text, { weights: printed.weights });
        // without a side file, large constants come back without data
        expect(moduleSnapshot(back, { withData: withWeights })).toEqual(moduleSnapshot(m, { withData: withWeights }));
        expect(printModule(back, { weights: withWeights }).text).toBe(printed.text);
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });

  it("either parses an edited text or throws an XbarcError with line and column", () => {
    const texts = fc.oneof(
      fc.constantFrom(...fixtureTexts),
      fc.gen().map((g) => printModule(genModule(g)).text),
    );
    fc.assert(
      fc.property(texts, fc.gen(), (text, g) => {
        const edited = editText(g, text);
        try {
          parseModule(edited, { file: "edited.xir" });
        } catch (e) {
          if (!isXbarcError(e)) throw e;
          expect(e.code).toMatch(/^XB200[1-5]$/);
          expect(e.location?.kind).toBe("text");
          if (e.location?.kind === "text") {
            expect(e.location.line).toBeGreaterThanOrEqual(1);
            expect(e.location.column).toBeGreaterThanOrEqual(1);
          }
        }
      }),
      { seed: 424242, numRuns: 600 },
    );
  });

  it("never throws anything but a located XbarcError on token soup", () => {
    const vocabulary = [
      "module", "@m", "{", "}", "input", "const", "output", "%x", "%y", "@w", ":", "f32[1]", "f32[", "i64[2]", "=", "[", "]",
      ",", "1", "-1", "1e999", "nan", "-inf", "none", "weights(", "offset=0", ")", "loc(", '"s"', "#k", "relu", "\n", " ", "\"", "// c\n",
    ];
    const soup = fc.array(fc.constantFrom(...vocabulary), { maxLength: 40 }).map((parts) => parts.join(" "));
    fc.assert(
      fc.property(fc.oneof(soup, soup.map((s) => `module @m {\n${s}`), fc.string({ unit: "binary", maxLength: 60 })), (text) => {
        try {
          parseModule(text);
        } catch (e) {
          if (!isXbarcError(e) || e.location?.kind !== "text") throw e;
        }
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});

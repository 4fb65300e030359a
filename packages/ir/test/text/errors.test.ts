import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isXbarcError, parseModule, renderError, type DiagnosticCode, type XbarcError } from "@xbarc/ir";

const ERRORS = "packages/ir/test/errors";

/** The code each bad input must produce (the rendering itself is in <name>.expected.txt, reviewed by hand). */
const EXPECTED_CODES: Record<string, DiagnosticCode> = {
  "bad-dimension": "XB2005",
  "constant-with-percent": "XB2002",
  "duplicate-attribute-key": "XB2005",
  "duplicate-definition": "XB2003",
  "inline-data-wrong-length": "XB2005",
  "integer-out-of-range": "XB2005",
  "missing-attribute-value": "XB2001",
  "missing-closing-brace": "XB2001",
  "missing-result-type": "XB2001",
  "result-count-mismatch": "XB2001",
  "second-output": "XB2001",
  "several-syntax-errors": "XB2001",
  "stray-closing-brace": "XB2001",
  "truncated-type": "XB2001",
  "undefined-value": "XB2002",
  "unexpected-character": "XB2001",
  "unknown-dtype": "XB2005",
  "unterminated-string": "XB2001",
  "weights-bytes-mismatch": "XB2005",
  "weights-digest-mismatch": "XB2004",
  "weights-short-file": "XB2004",
};

function parseError(name: string): XbarcError {
  const text = readFileSync(`${ERRORS}/${name}.xir`, "utf8");
  const bin = `${ERRORS}/${name}.bin`;
  const weights = existsSync(bin) ? new Uint8Array(readFileSync(bin)) : undefined;
  try {
    parseModule(text, { file: `${name}.xir`, weights });
  } catch (e) {
    if (isXbarcError(e)) return e;
    throw e;
  }
  throw new Error(`${name}.xir parsed without an error`);
}

describe("IR text errors", () => {
  const names = readdirSync(ERRORS).filter((f) => f.endsWith(".xir")).map((f) => f.slice(0, -4)).sort();

  it("has an expected code and a reviewed rendering for every bad input", () => {
    expect(names).toEqual(Object.keys(EXPECTED_CODES).sort());
    for (const name of names) expect(existsSync(`${ERRORS}/${name}.expected.txt`)).toBe(true);
  });

  for (const name of names) {
    it(`reports ${name} with its code, location and the reviewed rendering`, () => {
      const e = parseError(name);
      expect(e.code).toBe(EXPECTED_CODES[name]);
      expect(e.location?.kind).toBe("text");
      expect(renderError(e) + "\n").toBe(readFileSync(`${ERRORS}/${name}.expected.txt`, "utf8"));
    });
  }

  it("points at the whole partial type when a type is cut short", () => {
    const e = parseError("truncated-type");
    expect(e.message).toBe('expected a type like f32[1,6,28,28], found "f32[1,6,28"');
    expect(e.location).toMatchObject({ line: 4, column: 41, length: 10 });
  });

  it("reports up to two further syntax errors as notes", () => {
    const text = "module @m {\n  input %x f32[1]\n  input %y f32[1]\n  input %z f32[1]\n  input %w f32[1]\n}\n";
    try {
      parseModule(text);
      expect.unreachable();
    } catch (e) {
      const err = e as XbarcError;
      expect(err.code).toBe("XB2001");
      expect(err.location).toMatchObject({ line: 2, column: 12 });
      expect(err.notes).toEqual([
        'also at 3:12: expected ":" and the type, like : f32[1,10], found "f32"',
        'also at 4:12: expected ":" and the type, like : f32[1,10], found "f32"',
      ]);
    }
  });

  it("uses <input> as the file name when none is given", () => {
    expect(() => parseModule("module @m {")).toThrowError(expect.objectContaining({ code: "XB2001", location: expect.objectContaining({ file: "<input>", line: 1 }) }));
  });

  it("rejects an empty text and absurdly deep nesting with a located XB2001", () => {
    expect(() => parseModule("")).toThrowError(expect.objectContaining({ code: "XB2001", message: 'expected "module" (a file starts with module @name {), found end of file' }));
    const deep = `module @m attributes {a=${"[".repeat(5000)}${"]".repeat(5000)}} {\n  output\n}\n`;
    expect(() => parseModule(deep)).toThrowError(expect.objectContaining({ code: "XB2001", location: expect.objectContaining({ line: 1 }) }));
  });

  it("rejects a bad weights(...) clause before looking at any side file", () => {
    const sha = "0".repeat(64);
    const cases: [string, RegExp][] = [
      [`weights(offset=0, bytes=80)`, /has no sha256/],
      [`weights(bytes=80, sha256="${sha}")`, /has no offset/],
      [`weights(offset=-64, bytes=80, sha256="${sha}")`, /offset in weights\(\.\.\.\) of constant @w must be a whole number/],
      [`weights(offset=0, bytes=80, sha256="XYZ")`, /sha256 .* must be 64 lowercase hex digits/],
      [`weights(offset=0, bytes=80, sha256="${sha}", extra=1)`, /unknown field "extra"/],
    ];
    for (const [clause, message] of cases) {
      const text = `module @m {\n  const @w : f32[20] = ${clause}\n  output @w\n}\n`;
      expect(() => parseModule(text)).toThrowError(expect.objectContaining({ code: "XB2005", message: expect.stringMatching(message) }));
    }
  });

  it("names the right sigil when a constant is referred to with % or a value with @", () => {
    const text = "module @m {\n  input %x : f32[1]\n  %y = relu @x : f32[1]\n  output %y\n}\n";
    expect(() => parseModule(text)).toThrowError(expect.objectContaining({ code: "XB2002", message: "undefined constant @x", hint: '"x" is an input: write %x' }));
  });
});

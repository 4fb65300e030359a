/**
 * @fileoverview The chevrotain token table of the IR text. Order matters: the lexer tries tokens in this
 * order, so keywords come before `Identifier` (with `longer_alt` so `inputs` stays one identifier).
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

/** The inside of a JSON string literal: any character but `"`, `\` and controls, or a JSON escape. */
const JSON_STRING = String.raw`"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"`;
/** Bare value names: ONNX names such as `onnx::Conv_2`, `/conv1/Conv_output_0`, `input.1`, `23`. */
export const BARE_NAME = /^[A-Za-z0-9_.$:/-]+$/;
/** Attribute keys, opcodes, annotation kinds and dtypes. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED, line_breaks: true });
/** Dump headers (`// xbarc-ir 1 · ...`) and notes; ignored so the round trip stays exact. */
export const Comment = createToken({ name: "Comment", pattern: /\/\/[^\n\r]*/, group: Lexer.SKIPPED });

/** Any word usable as an attribute key or opcode: identifiers and every keyword. */
export const Word = createToken({ name: "Word", pattern: Lexer.NA, label: "a name" });
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [Word], label: "a name" });

function keyword(word: string): TokenType {
  return createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Identifier, categories: [Word], label: `"${word}"` });
}

export const Module = keyword("module");
export const Attributes = keyword("attributes");
export const Input = keyword("input");
export const Const = keyword("const");
export const Output = keyword("output");
export const None = keyword("none");
export const Weights = keyword("weights");
export const Loc = keyword("loc");
export const True = keyword("true");
export const False = keyword("false");
export const NaN_ = keyword("nan");
export const Inf = keyword("inf");

/** `%name` or `%"any name"`: inputs and op results. */
export const PercentName = createToken({
  name: "PercentName",
  pattern: new RegExp(`%(?:[A-Za-z0-9_.$:/-]+|${JSON_STRING})`),
  label: "a value name like %x",
});
/** `@name` or `@"any name"`: constants and the module name. */
export const AtName = createToken({
  name: "AtName",
  pattern: new RegExp(`@(?:[A-Za-z0-9_.$:/-]+|${JSON_STRING})`),
  label: "a constant name like @w",
});
/** `#kind`: an annotation's kind, followed by its record. */
export const HashName = createToken({
  name: "HashName",
  pattern: new RegExp(`#(?:[A-Za-z_][A-Za-z0-9_]*|${JSON_STRING})`),
  label: "an annotation like #quant{...}",
});

export const StringLiteral = createToken({ name: "StringLiteral", pattern: new RegExp(JSON_STRING), label: 'a string like "text"' });
/** Before NumberLiteral: `-inf` would otherwise start a (failing) number. */
export const NegInf = createToken({ name: "NegInf", pattern: /-inf/, label: '"-inf"' });
/** JSON number syntax: what `String(x)` prints for a finite double. */
export const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/, label: "a number" });

export const LCurly = createToken({ name: "LCurly", pattern: /\{/, label: '"{"' });
export const RCurly = createToken({ name: "RCurly", pattern: /\}/, label: '"}"' });
export const LSquare = createToken({ name: "LSquare", pattern: /\[/, label: '"["' });
export const RSquare = createToken({ name: "RSquare", pattern: /\]/, label: '"]"' });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: '"("' });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: '")"' });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: '","' });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: '":"' });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: '"="' });

/** The lexer's token order. */
export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  Word,
  Module,
  Attributes,
  Input,
  Const,
  Output,
  None,
  Weights,
  Loc,
  True,
  False,
  NaN_,
  Inf,
  Identifier,
  PercentName,
  AtName,
  HashName,
  StringLiteral,
  NegInf,
  NumberLiteral,
  LCurly,
  RCurly,
  LSquare,
  RSquare,
  LParen,
  RParen,
  Comma,
  Colon,
  Equals,
];

/** The IR text lexer (one instance; chevrotain lexers are stateless between `tokenize` calls). */
export const irLexer = new Lexer(ALL_TOKENS, { positionTracking: "full", ensureOptimizations: false });

/**
 * @fileoverview The IR text grammar as a chevrotain CstParser (rules as class properties), and the
 * error-message provider that words chevrotain's expectations for humans.
 */
import { CstParser, EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import * as T from "./tokens.js";

/** What the user should have written, per grammar rule, where a token list would read badly. */
const RULE_EXPECTATIONS: Readonly<Record<string, string>> = {
  tensorType: "a type like f32[1,6,28,28]",
  attrValue: "a value (a number, a string, true, false, a [list] or a {record})",
  dataItem: "a constant element (a number, true, false, nan, inf or -inf)",
  operand: "an operand like %x, @w or none",
  valueRef: "a value like %x or @w",
  statement: "a statement (input, const, output or an op like %y = relu %x)",
  entry: "an attribute like key=value",
  opcode: "an op name like conv",
  constInit: "inline data like [1, 2] or weights(offset=..., bytes=..., sha256=\"...\")",
};

/** Mismatches whose wording depends on where they happen. */
function mismatchExpectation(expected: TokenType, ruleName: string, previous: IToken | undefined): string {
  if (ruleName === "tensorType") return RULE_EXPECTATIONS.tensorType!;
  if (ruleName === "moduleDecl" && expected === T.RCurly) return `${RULE_EXPECTATIONS.statement} or "}"`;
  if (ruleName === "moduleDecl" && expected === T.Module) return '"module" (a file starts with module @name {)';
  if (ruleName === "opDecl" && expected === T.Colon) {
    const afterOperand = previous && [T.PercentName, T.AtName, T.None].includes(previous.tokenType);
    return `${afterOperand ? '"," before another operand, or ' : ""}":" and the result type, like : f32[1,10]`;
  }
  if ((ruleName === "inputDecl" || ruleName === "constDecl") && expected === T.Colon) return '":" and the type, like : f32[1,10]';
  if (ruleName === "opDecl" && expected === T.Equals) return '"=" after the result names';
  if (ruleName === "locClause" && expected === T.StringLiteral) return 'the ONNX node name as a string, like loc("Conv_0")';
  return labelOf(expected);
}

function labelOf(t: TokenType): string {
  if (t === EOF) return "end of file";
  return t.LABEL ?? t.name;
}

/** Labels of the first token of each alternative path, deduplicated: `"a" or "b" or "c"`. */
function alternatives(paths: TokenType[][]): string {
  const labels = [...new Set(paths.filter((p) => p.length > 0).map((p) => labelOf(p[0]!)))];
  if (labels.length <= 1) return labels[0] ?? "something else";
  return `${labels.slice(0, -1).join(", ")} or ${labels[labels.length - 1]}`;
}

/** Chevrotain calls these while parsing; each returns the "expected ..." half of the message. */
const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, ruleName, previous }) => `expected ${mismatchExpectation(expected, ruleName, previous)}`,
  buildNotAllInputParsedMessage: () => "expected end of file after the module's closing \"}\"",
  buildNoViableAltMessage: ({ expectedPathsPerAlt, ruleName }) =>
    `expected ${RULE_EXPECTATIONS[ruleName] ?? alternatives(expectedPathsPerAlt.flat())}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, ruleName }) =>
    `expected ${RULE_EXPECTATIONS[ruleName] ?? alternatives(expectedIterationPaths)}`,
};

/**
 * ```
 * module @name attributes {k=v} {
 *   input %x : f32[1,4]
 *   const @w : f32[2] = [0.5, -1]
 *   %y, %z = op %x, @w, none {k=v} : f32[1,4], bool[1,4] loc("Node_0")
 *       #kind{k=v}
 *   output %y
 * }
 * ```
 */
export class IrParser extends CstParser {
  constructor() {
    super(T.ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 2, errorMessageProvider });
    this.performSelfAnalysis();
  }

  moduleDecl = this.RULE("moduleDecl", () => {
    this.CONSUME(T.Module);
    this.CONSUME(T.AtName);
    this.OPTION(() => {
      this.CONSUME(T.Attributes);
      this.SUBRULE(this.record);
    });
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RCurly);
  });

  statement = this.RULE("statement", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.opDecl) },
      { ALT: () => this.SUBRULE(this.outputDecl) },
    ]);
  });

  inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.PercentName);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
  });

  constDecl = this.RULE("constDecl", () => {
    this.CONSUME(T.Const);
    this.CONSUME(T.AtName);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.constInit);
    });
  });

  constInit = this.RULE("constInit", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.dataList) },
      { ALT: () => this.SUBRULE(this.weightsRef) },
    ]);
  });

  /** Inline constant data, flat and row-major. */
  dataList = this.RULE("dataList", () => {
    this.CONSUME(T.LSquare);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.dataItem) });
    this.CONSUME(T.RSquare);
  });

  dataItem = this.RULE("dataItem", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.NegInf) },
      { ALT: () => this.CONSUME(T.Inf) },
      { ALT: () => this.CONSUME(T.NaN_) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
    ]);
  });

  /** `weights(offset=N, bytes=N, sha256="hex")`: where the bytes sit in the side file. */
  weightsRef = this.RULE("weightsRef", () => {
    this.CONSUME(T.Weights);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.entry) });
    this.CONSUME(T.RParen);
  });

  opDecl = this.RULE("opDecl", () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.PercentName) });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.opcode);
    this.MANY_SEP2({ SEP: T.Comma, DEF: () => this.SUBRULE(this.operand) });
    this.OPTION(() => this.SUBRULE(this.record));
    this.CONSUME(T.Colon);
    this.AT_LEAST_ONE_SEP2({ SEP: T.Comma, DEF: () => this.SUBRULE(this.tensorType) });
    this.OPTION2(() => this.SUBRULE(this.locClause));
    this.MANY(() => this.SUBRULE(this.annotation));
  });

  /** An identifier (keywords allowed), or a string for an opcode that is not one. */
  opcode = this.RULE("opcode", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Word) }, { ALT: () => this.CONSUME(T.StringLiteral) }]);
  });

  operand = this.RULE("operand", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.PercentName) },
      { ALT: () => this.CONSUME(T.AtName) },
      { ALT: () => this.CONSUME(T.None) },
    ]);
  });

  locClause = this.RULE("locClause", () => {
    this.CONSUME(T.Loc);
    this.CONSUME(T.LParen);
    this.CONSUME(T.StringLiteral);
    this.CONSUME(T.RParen);
  });

  annotation = this.RULE("annotation", () => {
    this.CONSUME(T.HashName);
    this.SUBRULE(this.record);
  });

  outputDecl = this.RULE("outputDecl", () => {
    this.CONSUME(T.Output);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.valueRef) });
  });

  valueRef = this.RULE("valueRef", () => {
    this.OR([{ ALT: () => this.CONSUME(T.PercentName) }, { ALT: () => this.CONSUME(T.AtName) }]);
  });

  /** `{key=value, ...}`: op attributes, annotation data, module attributes, nested records. */
  record = this.RULE("record", () => {
    this.CONSUME(T.LCurly);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.entry) });
    this.CONSUME(T.RCurly);
  });

  entry = this.RULE("entry", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Word) }, { ALT: () => this.CONSUME(T.StringLiteral) }]);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.attrValue);
  });

  attrValue = this.RULE("attrValue", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.NegInf) },
      { ALT: () => this.CONSUME(T.Inf) },
      { ALT: () => this.CONSUME(T.NaN_) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.record) },
    ]);
  });

  list = this.RULE("list", () => {
    this.CONSUME(T.LSquare);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.attrValue) });
    this.CONSUME(T.RSquare);
  });

  /** `f32[1,6,28,28]`, scalar `f32[]`. */
  tensorType = this.RULE("tensorType", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LSquare);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.NumberLiteral) });
    this.CONSUME(T.RSquare);
  });
}

/** The one parser instance: building it runs chevrotain's grammar analysis, which is slow. */
let sharedParser: IrParser | undefined;

/** The shared parser, with `tokens` as its input (resets its error list). */
export function getParser(tokens: IToken[]): IrParser {
  sharedParser ??= new IrParser();
  sharedParser.input = tokens;
  return sharedParser;
}

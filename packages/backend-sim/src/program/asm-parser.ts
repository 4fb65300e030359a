/**
 * @fileoverview Program assembly → program JSON: the chevrotain token table and grammar (statements of a keyword, an
 * optional positional value and key=value entries), syntax errors with file:line:col and a caret, and the walk that
 * builds the program document and remembers where each JSON pointer came from in the text.
 */
import { createToken, EmbeddedActionsParser, EOF, Lexer, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import { createSyntaxError, SourceText, type Location, type XbarcError } from "@xbarc/ir";
import { HEADER_KEYWORD, SINGLE_SECTIONS, STATEMENTS } from "./asm-syntax.js";
import type { Program } from "./types.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ---------------------------------------------------------------------------------------------------------
// Tokens. Order matters: true/false/null before the word they would otherwise be (longer_alt keeps `nullable` a word).

/** The inside of a JSON string literal: any character but `"`, `\` and controls, or a JSON escape. */
const JSON_STRING = String.raw`"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"`;

const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED, line_breaks: true });
/** `//` to the end of the line: the printer's header and section comments. */
const Comment = createToken({ name: "Comment", pattern: /\/\/[^\n\r]*/, group: Lexer.SKIPPED });
/** Statement keywords, keys and bare string values (offset-column, f32, relu). */
const Word = createToken({ name: "Word", pattern: /[A-Za-z_][A-Za-z0-9_.-]*/, label: "a word" });
const True = createToken({ name: "True", pattern: /true/, longer_alt: Word, label: '"true"' });
const False = createToken({ name: "False", pattern: /false/, longer_alt: Word, label: '"false"' });
const Null = createToken({ name: "Null", pattern: /null/, longer_alt: Word, label: '"null"' });
/** `%name` or `%"any name"`: a buffer or layer. */
const PercentName = createToken({ name: "PercentName", pattern: new RegExp(`%(?:[A-Za-z0-9_.$:/-]+|${JSON_STRING})`), label: "a name like %conv1" });
const StringLiteral = createToken({ name: "StringLiteral", pattern: new RegExp(JSON_STRING), label: 'a string like "text"' });
/** JSON number syntax: what JSON.stringify prints. */
const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/, label: "a number" });
const LCurly = createToken({ name: "LCurly", pattern: /\{/, label: '"{"' });
const RCurly = createToken({ name: "RCurly", pattern: /\}/, label: '"}"' });
const LSquare = createToken({ name: "LSquare", pattern: /\[/, label: '"["' });
const RSquare = createToken({ name: "RSquare", pattern: /\]/, label: '"]"' });
const Comma = createToken({ name: "Comma", pattern: /,/, label: '","' });
const Equals = createToken({ name: "Equals", pattern: /=/, label: '"="' });

const ALL_TOKENS: TokenType[] = [
  WhiteSpace, Comment, True, False, Null, Word, PercentName, StringLiteral, NumberLiteral, LCurly, RCurly, LSquare, RSquare, Comma, Equals,
];
const asmLexer = new Lexer(ALL_TOKENS, { positionTracking: "full", ensureOptimizations: false });

// ---------------------------------------------------------------------------------------------------------
// Grammar: the parser builds nodes that keep their tokens, so later checks can point at the text.

/** A parsed value and the token it starts at. */
type Node =
  | { kind: "scalar"; value: Json; token: IToken }
  | { kind: "list"; items: Node[]; token: IToken }
  | { kind: "record"; entries: Entry[]; token: IToken };

interface Entry {
  key: string;
  keyToken: IToken;
  value: Node;
}

interface Statement {
  keyword: IToken;
  positional?: Node;
  entries: Entry[];
}

/** What a rule stands for, when a list of tokens would read badly. */
const RULE_EXPECTATIONS: Readonly<Record<string, string>> = {
  value: "a value (a number, a \"string\", a word, %name, true, false, null, a [list] or a {record})",
  key: "a field name",
  statement: "a statement (a keyword like tile, layer, mvm)",
};

function labelOf(t: TokenType): string {
  return t === EOF ? "end of file" : t.LABEL ?? t.name;
}

const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, ruleName }) =>
    ruleName === "entry" && expected === Equals ? 'expected "=" after the field name' : `expected ${labelOf(expected)}`,
  buildNotAllInputParsedMessage: () => `expected a field (key=value) or ${RULE_EXPECTATIONS.statement}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, ruleName }) =>
    `expected ${RULE_EXPECTATIONS[ruleName] ?? [...new Set(expectedPathsPerAlt.flat().map((p) => labelOf(p[0]!)))].join(" or ")}`,
  buildEarlyExitMessage: ({ ruleName }) => `expected ${RULE_EXPECTATIONS[ruleName] ?? "more"}`,
};

/** Decodes a string token (JSON string) or a %name token. */
function tokenString(t: IToken): string {
  const image = t.tokenType === PercentName ? t.image.slice(1) : t.image;
  return image.startsWith('"') ? (JSON.parse(image) as string) : image;
}

class AsmParser extends EmbeddedActionsParser {
  constructor() {
    super(ALL_TOKENS, { recoveryEnabled: false, maxLookahead: 3, errorMessageProvider });
    this.performSelfAnalysis();
  }

  readonly file = this.RULE("file", (): Statement[] => {
    const out: Statement[] = [];
    this.MANY(() => out.push(this.SUBRULE(this.statement)));
    return out;
  });

  private readonly statement = this.RULE("statement", (): Statement => {
    const keyword = this.CONSUME(Word);
    let positional: Node | undefined;
    // a positional value is anything but a word (a word starts the next statement or an entry)
    this.OPTION({
      GATE: () => this.LA(2).tokenType !== Equals,
      DEF: () => {
        positional = this.OR([
          { ALT: () => this.SUBRULE(this.scalar) },
          { ALT: () => this.SUBRULE(this.list) },
          { ALT: () => this.SUBRULE(this.record) },
        ]);
      },
    });
    const entries: Entry[] = [];
    this.MANY({
      GATE: () => this.LA(2).tokenType === Equals,
      DEF: () => entries.push(this.SUBRULE(this.entry)),
    });
    return { keyword, positional, entries };
  });

  private readonly entry = this.RULE("entry", (): Entry => {
    const keyToken = this.SUBRULE(this.key);
    this.CONSUME(Equals);
    const value = this.SUBRULE(this.value);
    return { key: this.ACTION(() => tokenString(keyToken)), keyToken, value };
  });

  /** A bare key, or a quoted one for names a bare key cannot spell (the printer quotes true, false and null too). */
  private readonly key = this.RULE("key", (): IToken => this.OR([
    { ALT: () => this.CONSUME(Word) },
    { ALT: () => this.CONSUME(StringLiteral) },
  ]));

  private readonly value = this.RULE("value", (): Node => this.OR([
    { ALT: () => this.SUBRULE(this.scalar) },
    { ALT: () => this.SUBRULE(this.list) },
    { ALT: () => this.SUBRULE(this.record) },
    {
      ALT: () => {
        const t = this.CONSUME2(Word);
        return { kind: "scalar", value: t.image, token: t };
      },
    },
  ]));

  /** Values that can also stand positionally: everything but a bare word. */
  private readonly scalar = this.RULE("scalar", (): Node => {
    const t = this.OR([
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(PercentName) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.CONSUME(Null) },
    ]);
    return this.ACTION((): Node => {
      const type = t.tokenType;
      const value: Json = type === NumberLiteral ? Number(t.image)
        : type === True ? true : type === False ? false : type === Null ? null : tokenString(t);
      return { kind: "scalar", value, token: t };
    });
  });

  private readonly list = this.RULE("list", (): Node => {
    const token = this.CONSUME(LSquare);
    const items: Node[] = [];
    this.MANY_SEP({ SEP: Comma, DEF: () => items.push(this.SUBRULE(this.value)) });
    this.CONSUME(RSquare);
    return { kind: "list", items, token };
  });

  private readonly record = this.RULE("record", (): Node => {
    const token = this.CONSUME(LCurly);
    const entries: Entry[] = [];
    this.MANY_SEP({ SEP: Comma, DEF: () => entries.push(this.SUBRULE2(this.entry)) });
    this.CONSUME(RCurly);
    return { kind: "record", entries, token };
  });
}

/** Built once: chevrotain's grammar analysis is the slow part. */
let sharedParser: AsmParser | undefined;

// ---------------------------------------------------------------------------------------------------------
// Errors

function describeFound(t: IToken): string {
  if (t.tokenType === EOF) return "end of file";
  const image = t.image.length > 40 ? `${t.image.slice(0, 40)}…` : t.image;
  return `"${image}"`;
}

function syntaxError(location: Location, message: string, hint?: string): XbarcError {
  return createSyntaxError("XB6006", location, message, hint);
}

// ---------------------------------------------------------------------------------------------------------
// Statements → program JSON

/** The program a text describes, with where each JSON pointer's value starts in the text. */
export interface ParsedProgramAsm {
  /** the program document (not yet checked: pass it to checkProgram) */
  readonly program: Program;
  /** the text location of the value at a JSON pointer, or of its nearest enclosing value that has one */
  locate(pointer: string): Location | undefined;
}

const escapePointer = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Parses program assembly into the program document it prints from. Syntax errors are XB6006 with file:line:col,
 * the source line and a caret; so are statements the format does not know, repeated parts and repeated fields.
 */
export function parseProgramAsmWithLocations(text: string, file = "<program.xasm>"): ParsedProgramAsm {
  const src = new SourceText(text, file);
  const lexed = asmLexer.tokenize(text);
  if (lexed.errors.length > 0) {
    const e = lexed.errors[0]!;
    const ch = text[e.offset] ?? "";
    const message = ch === '"' ? "unterminated or malformed string literal" : ch === "%" ? 'expected a name after "%"' : `unexpected character ${JSON.stringify(ch)}`;
    throw syntaxError(src.at(e.line ?? 1, e.column ?? 1, e.length), message, ch === '"' ? 'strings are JSON strings: end them with " and escape \\ and " inside' : undefined);
  }
  sharedParser ??= new AsmParser();
  const parser = sharedParser;
  parser.input = lexed.tokens;
  const statements = parser.file();
  if (parser.errors.length > 0) {
    const e = parser.errors[0]!;
    const t = e.token;
    const atEnd = t.tokenType === EOF || t.startLine === undefined || Number.isNaN(t.startLine);
    throw syntaxError(atEnd ? src.end() : src.token(t), `${e.message}, found ${describeFound(t)}`,
      "a statement is a keyword, an optional value and key=value fields, e.g. `tile 0 layer=%conv1 ...`; run `xbarc program convert` on a .xbar.json to see the full form");
  }

  const locations = new Map<string, IToken>();
  const toJson = (node: Node, pointer: string): Json => {
    locations.set(pointer, node.token);
    if (node.kind === "scalar") return node.value;
    if (node.kind === "list") return node.items.map((item, i) => toJson(item, `${pointer}/${i}`));
    return recordJson(node.entries, pointer);
  };
  const recordJson = (entries: readonly Entry[], pointer: string, into: { [key: string]: Json } = {}): { [key: string]: Json } => {
    for (const e of entries) {
      if (Object.prototype.hasOwnProperty.call(into, e.key)) {
        throw syntaxError(src.token(e.keyToken), `field "${e.key}" is given twice`, "give each field once");
      }
      into[e.key] = toJson(e.value, `${pointer}/${escapePointer(e.key)}`);
      // the key token is a better place to point at for the field than its value
      locations.set(`${pointer}/${escapePointer(e.key)}`, e.keyToken);
    }
    return into;
  };

  const doc: { [key: string]: Json } = {};
  const arrays = { buffers: [] as Json[], layers: [] as Json[], tiles: [] as Json[], schedule: [] as Json[] };
  const seen = new Set<string>();
  for (const s of statements) {
    const keyword = s.keyword.image;
    const spec = STATEMENTS[keyword];
    if (!spec) {
      throw syntaxError(src.token(s.keyword), `unknown statement "${keyword}"`,
        `statements are ${Object.keys(STATEMENTS).join(", ")}`);
    }
    if (SINGLE_SECTIONS.has(spec.section)) {
      if (seen.has(spec.section)) throw syntaxError(src.token(s.keyword), `"${keyword}" is given twice; a program has one`, "remove the repeated statement");
      seen.add(spec.section);
    }
    if (spec.positional === undefined && s.positional) {
      throw syntaxError(src.token(s.positional.token), `"${keyword}" takes no value before its fields`, `write ${keyword} key=value ...`);
    }
    if (spec.positional !== undefined && !s.positional) {
      throw syntaxError(src.token(s.keyword), `"${keyword}" needs its ${spec.positional === "*" ? "list" : spec.positional} right after the keyword`,
        spec.positional === "*" ? `write ${keyword} [%a, %b]` : `write ${keyword} <${spec.positional}> key=value ...`);
    }
    switch (spec.section) {
      case "header": {
        locations.set("/format", s.keyword);
        doc["format"] = HEADER_KEYWORD;
        recordJson(s.entries, "", doc);
        break;
      }
      case "outputs":
        if (s.entries.length > 0) throw syntaxError(src.token(s.entries[0]!.keyToken), '"outputs" takes only its list', "write outputs [%a, %b]");
        doc["outputs"] = toJson(s.positional!, "/outputs");
        break;
      case "buffers": case "layers": case "tiles": case "schedule": {
        const list = arrays[spec.section];
        const pointer = `/${spec.section}/${list.length}`;
        locations.set(pointer, s.keyword);
        const obj: { [key: string]: Json } = {};
        if (spec.section === "schedule") obj["op"] = keyword;
        if (spec.positional !== undefined) obj[spec.positional] = toJson(s.positional!, `${pointer}/${spec.positional}`);
        list.push(recordJson(s.entries, pointer, obj));
        break;
      }
      default: {
        const pointer = `/${spec.section}`;
        locations.set(pointer, s.keyword);
        const obj: { [key: string]: Json } = {};
        if (spec.positional !== undefined) obj[spec.positional] = toJson(s.positional!, `${pointer}/${spec.positional}`);
        doc[spec.section] = recordJson(s.entries, pointer, obj);
      }
    }
  }
  if (!seen.has("header")) {
    throw syntaxError(statements[0] ? src.token(statements[0].keyword) : src.end(), `expected the header statement "${HEADER_KEYWORD} version=... hash=..."`,
      "a program assembly starts with its header; print one with `xbarc program convert <prog.xbar.json> -o out.xasm`");
  }
  Object.assign(doc, arrays);
  const program = doc as unknown as Program;
  return {
    program,
    locate(pointer: string) {
      // the value itself, else the nearest enclosing value the text has
      for (let p = pointer; ; p = p.slice(0, p.lastIndexOf("/"))) {
        const t = locations.get(p);
        if (t) return src.token(t);
        if (p === "") return undefined;
      }
    },
  };
}

/** Parses program assembly into the program document (unchecked). Throws XB6006 with a location on syntax errors. */
export function parseProgramAsm(text: string, file = "<program.xasm>"): Program {
  return parseProgramAsmWithLocations(text, file).program;
}

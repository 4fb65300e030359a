/**
 * @fileoverview Source text for syntax diagnostics: locations with the source line (for the caret) from chevrotain
 * tokens, and the XbarcError a syntax problem becomes. Shared by the IR text parser and the program assembly parser.
 */
import type { IToken } from "chevrotain";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import { XbarcError, type Location } from "../diagnostics/error.js";

/** The source text split into lines, for diagnostics' source excerpts. */
export class SourceText {
  readonly lines: string[];

  constructor(readonly text: string, readonly file: string) {
    this.lines = text.split(/\r\n|\r|\n/);
  }

  /** A location of `length` characters at line/column, clipped to the end of that line. */
  at(line: number, column: number, length: number): Location {
    const source = this.lines[line - 1] ?? "";
    const clipped = Math.max(1, Math.min(length, source.length - column + 1));
    return { kind: "text", file: this.file, line, column, length: clipped, source };
  }

  /** The location of a token. */
  token(t: IToken): Location {
    return this.at(t.startLine ?? 1, t.startColumn ?? 1, t.image.length);
  }

  /** From the start of `first` to the end of `last` (or to the end of the line when they are on different lines). */
  span(first: IToken, last: IToken): Location {
    const line = first.startLine ?? 1;
    const column = first.startColumn ?? 1;
    const length = last.startLine === line ? (last.endColumn ?? column) - column + 1 : Number.MAX_SAFE_INTEGER;
    return this.at(line, column, length);
  }

  /** Just after the last character of the text (where something is missing at the end). */
  end(): Location {
    const line = this.lines.length;
    return this.at(line, (this.lines[line - 1]?.length ?? 0) + 1, 1);
  }
}

/** The syntax error `code` (XB2001 for IR text, XB6006 for program assembly) at `location`, shown with a caret. */
export function createSyntaxError(code: DiagnosticCode, location: Location, message: string, hint?: string, notes?: string[]): XbarcError {
  return new XbarcError(code, message, { location, hint, notes });
}

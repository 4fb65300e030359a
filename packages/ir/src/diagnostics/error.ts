/** @fileoverview XbarcError: every user-facing failure carries a code, a location and a hint. Only the CLI prints. */
import { CODES, type DiagnosticCode } from "./codes.js";

/** Where a diagnostic points, each in its source's own terms. */
export type Location =
  | { kind: "text"; file: string; line: number; column: number; length?: number; source?: string }
  | { kind: "onnx"; file: string; node?: string; opType?: string; field?: string }
  | { kind: "json"; file: string; pointer: string; schema?: string }
  | { kind: "ir"; loc?: string; value?: string; op?: string }
  | { kind: "file"; file: string };

export interface DiagnosticInit {
  location?: Location;
  hint?: string;
  notes?: string[];
  cause?: unknown;
}

export class XbarcError extends Error {
  readonly code: DiagnosticCode;
  readonly location?: Location;
  readonly hint?: string;
  readonly notes: string[];

  constructor(code: DiagnosticCode, message: string, init: DiagnosticInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "XbarcError";
    this.code = code;
    this.location = init.location;
    this.hint = init.hint;
    this.notes = init.notes ?? [];
  }

  /** The code's catalogue title. */
  get title(): string {
    return CODES[this.code];
  }
}

/** A broken invariant inside xbarc, not bad input. */
export class InternalError extends XbarcError {
  constructor(message: string, init: DiagnosticInit = {}) {
    super("XB9001", `${message} (this is a bug in xbarc)`, init);
    this.name = "InternalError";
  }
}

export function isXbarcError(e: unknown): e is XbarcError {
  return e instanceof XbarcError;
}

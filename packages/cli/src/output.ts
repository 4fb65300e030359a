/**
 * @fileoverview Everything the CLI writes: files via temp-name-then-rename (never half-written), stdout/stderr
 * streams, JSON documents, rendered errors and the exit code each kind of failure maps to.
 */
import { mkdirSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { errorToJson, isXbarcError, renderError, XbarcError } from "@xbarc/ir";

/** Exit codes (README "Exit codes"). */
export const EXIT = {
  /** the command did what was asked */
  ok: 0,
  /** bad input: an XbarcError (model, IR text, data file, unwritable output) */
  userError: 1,
  /** bad command line: unknown command/option, missing argument (commander) or XB7001 */
  usageError: 2,
  /** a bug in xbarc: any other exception, or an InternalError (XB9001) */
  internalError: 3,
} as const;

/** Where the CLI prints. Tests and embedders can pass their own. */
export interface Io {
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** true when stderr is a terminal: only then is progress shown */
  readonly isTTY: boolean;
}

/** The process's own streams. */
export const processIo: Io = {
  writeOut: (text) => void process.stdout.write(text),
  writeErr: (text) => void process.stderr.write(text),
  isTTY: process.stderr.isTTY === true,
};

/** Prints one JSON document (pretty, newline-terminated) on stdout. */
export function printJson(io: Io, value: unknown): void {
  io.writeOut(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** JSON.stringify cannot print bigint, NaN or Infinity as JSON; write them as numbers or strings that say what they are. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return value;
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(e: unknown): number {
  if (!isXbarcError(e)) return EXIT.internalError;
  if (e.code === "XB9001") return EXIT.internalError;
  if (e.code === "XB7001") return EXIT.usageError;
  return EXIT.userError;
}

/** Prints a failure on stderr: rendered (or as `{error: {...}}` JSON with --json), with the stack for bugs. */
export function reportError(io: Io, e: unknown, json: boolean): number {
  const code = exitCodeOf(e);
  if (isXbarcError(e)) {
    if (json) io.writeErr(`${JSON.stringify({ error: errorToJson(e) }, jsonReplacer)}\n`);
    else io.writeErr(`${renderError(e)}\n`);
    if (code === EXIT.internalError && e.stack && !json) io.writeErr(`${e.stack}\n`);
    return code;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const message = `internal error XB9001: ${err.message} (this is a bug in xbarc; please report it with the command line and input files)`;
  if (json) {
    io.writeErr(`${JSON.stringify({ error: { code: "XB9001", message, stack: err.stack } })}\n`);
  } else {
    io.writeErr(`${message}\n`);
    if (err.stack) io.writeErr(`${err.stack}\n`);
  }
  return code;
}

function cannotWrite(path: string, e: unknown): XbarcError {
  const errno = (e as NodeJS.ErrnoException).code;
  const reason =
    errno === "ENOENT" ? "the directory does not exist"
    : errno === "ENOTDIR" ? "a part of the path is a file, not a directory"
    : errno === "EACCES" || errno === "EPERM" ? "permission denied"
    : errno === "EISDIR" ? "it is a directory"
    : (e as Error).message;
  return new XbarcError("XB7003", `cannot write ${path}: ${reason}`, {
    location: { kind: "file", file: path },
    hint: "choose a path in an existing, writable directory",
    cause: e,
  });
}

let tempCounter = 0;

/** A temporary name next to `path` (same directory, so the final rename is atomic). */
function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${++tempCounter}.tmp`);
}

/**
 * A set of output files that appear together or not at all: each is written to a temporary name in its
 * final directory, and commit() renames them all; abort() removes the temporaries and the directories
 * this set created. Nothing is half-written even if the process dies between the two steps.
 */
export class OutputSet {
  private readonly staged: { temp: string; final: string }[] = [];
  private readonly createdDirs: string[] = [];

  /** Creates `dir` (and missing parents) now, remembering what to remove on abort. */
  ensureDir(dir: string): void {
    const missing: string[] = [];
    for (let d = resolve(dir); ; d = dirname(d)) {
      let exists = false;
      try {
        exists = statSync(d).isDirectory();
        if (!exists) throw cannotWrite(dir, Object.assign(new Error("not a directory"), { code: "ENOTDIR" }));
      } catch (e) {
        if (isXbarcError(e)) throw e;
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw cannotWrite(dir, e);
      }
      if (exists || dirname(d) === d) break;
      missing.unshift(d);
    }
    for (const d of missing) {
      try {
        mkdirSync(d);
      } catch (e) {
        throw cannotWrite(dir, e);
      }
      this.createdDirs.push(d);
    }
  }

  /** Writes `data` under a temporary name beside `path`. Throws XB7003 naming `path`. */
  add(path: string, data: string | Uint8Array): void {
    const temp = tempNameFor(path);
    try {
      writeFileSync(temp, data);
    } catch (e) {
      throw cannotWrite(path, e);
    }
    this.staged.push({ temp, final: path });
  }

  /** Renames every staged file to its final name. */
  commit(): void {
    for (let i = 0; i < this.staged.length; i++) {
      const { temp, final } = this.staged[i]!;
      try {
        renameSync(temp, final);
      } catch (e) {
        this.staged.splice(0, i); // those are in place already; abort() removes the rest
        throw cannotWrite(final, e);
      }
    }
    this.staged.length = 0;
    this.createdDirs.length = 0;
  }

  /** Removes the temporaries and the directories created by ensureDir (when empty). Never throws. */
  abort(): void {
    for (const { temp } of this.staged) {
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
    }
    this.staged.length = 0;
    for (const d of this.createdDirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // not empty (someone else wrote there) or already gone: leave it
      }
    }
    this.createdDirs.length = 0;
  }
}

/** Writes files so that all of them appear, or none: `fill` stages them, then they are renamed into place. */
export function writeOutputs(fill: (out: OutputSet) => void): void {
  const out = new OutputSet();
  try {
    fill(out);
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

/** Writes one file atomically (temp name, then rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeOutputs((out) => out.add(path, data));
}

/**
 * Where pass snapshots go: `onDump` writes each whole on its own under `dir` (created on the first), so a failed run
 * keeps the snapshots before the failure; `paths` lists those written, in order.
 */
export function dumpWriter(dir: string): { readonly paths: string[]; onDump(fileName: string, text: string): void } {
  const paths: string[] = [];
  let dirReady = false;
  return {
    paths,
    onDump(fileName, text) {
      if (!dirReady) {
        new OutputSet().ensureDir(dir);
        dirReady = true;
      }
      const path = join(dir, fileName);
      writeFileAtomic(path, text);
      paths.push(path);
    },
  };
}

/** A file name made from a tensor or value name: path separators and other unsafe characters become `_`. */
export function toSafeFileName(name: string): string {
  let safe = name.replace(/[\/\\:*?"<>|\s\x00-\x1f]/g, "_");
  if (safe === "" || /^\.+$/.test(safe)) safe = `_${safe}`;
  if (safe.startsWith(".")) safe = `_${safe.slice(1)}`;
  return safe;
}

/** A one-line progress display on stderr, shown only on a terminal (and never with --json). */
export class Progress {
  private lastDraw = 0;
  constructor(private readonly io: Io, private readonly enabled: boolean) {}

  update(done: number, total: number, label: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.io.writeErr(`\r${label} ${done}/${total}`);
  }

  done(): void {
    if (this.enabled) this.io.writeErr("\r\x1b[K");
  }
}

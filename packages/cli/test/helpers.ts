/** @fileoverview Runs the BUILT `xbarc` binary for CLI tests (one place for spawning, paths and temp dirs). */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { buildPackageLocked } from "../../../test/helpers/build.js";

/** The repository root (tests spawn the CLI from here, so fixture paths are repo-relative). */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
/** The built executable. */
export const BIN = join(REPO, "packages/cli/dist/bin/xbarc.js");

/** A repo-relative fixture path, e.g. fixture("models/trained/lenet5.onnx"). */
export function fixture(rel: string): string {
  return join("fixtures", rel);
}

export const MNIST_IMAGES = fixture("mnist/t10k-images-idx3-ubyte.gz");
export const MNIST_LABELS = fixture("mnist/t10k-labels-idx1-ubyte.gz");

let buildError: Error | undefined;
let built = false;

/**
 * Brings packages/cli/dist up to date (`tsc -b`, a no-op when nothing changed), so `npm test` never runs a
 * stale binary. Test files run in parallel processes, so a lock directory serialises the builds. A failed
 * build is remembered and thrown by every later call, so each CLI test fails (rather than being skipped).
 */
export function ensureBuilt(): void {
  if (buildError) throw buildError;
  if (built) return;
  try {
    buildPackageLocked("packages/cli", "the CLI");
    built = true;
  } catch (e) {
    buildError = e as Error;
    throw buildError;
  }
}

/** What one run of the binary did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `xbarc <args>` from the repository root (building it first if needed) and waits for it. */
export function xbarc(...args: string[]): CliRun {
  ensureBuilt();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts that `xbarc <cmd> --help` teaches: exit 0, the usage line first, an example and the --json option. */
export function expectHelpTeaches(cmd: readonly string[]): void {
  const r = xbarc(...cmd, "--help");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^Usage: xbarc ${cmd.join(" ")} `));
  expect(r.stdout).toMatch(/Examples?:\n\s+\$ xbarc /);
  expect(r.stdout).toContain("--json");
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function makeTempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `xbarc-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Files in a directory (empty when it does not exist), temporaries included: tests check nothing is left behind. */
export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

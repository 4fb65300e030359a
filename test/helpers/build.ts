/**
 * @fileoverview Runs `tsc -b` on a workspace package for tests that need its built output (the CLI binary, the
 * backend's worker threads). Test files run in parallel processes, so one lock directory per checkout serialises
 * the builds: two `tsc -b` never write the same outputs at once.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.js";

/**
 * Runs `tsc -b <packageDir>` (repo-relative, e.g. "packages/cli"; a no-op when nothing changed) under the shared
 * build lock, waiting up to two minutes for the lock. Throws `building <what> failed:` with tsc's output on failure.
 */
export function buildPackageLocked(packageDir: string, what: string): void {
  const lock = join(tmpdir(), `xbarc-cli-build-${Buffer.from(REPO_ROOT).toString("hex").slice(-32)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`could not take the build lock ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-b", packageDir], { cwd: REPO_ROOT, stdio: "pipe" });
  } catch (e) {
    const out = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`building ${what} failed:\n${out.stdout?.toString() ?? ""}${out.stderr?.toString() ?? ""}`);
  } finally {
    rmdirSync(lock);
  }
}

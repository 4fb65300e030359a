/**
 * @fileoverview Brings packages/backend-sim/dist up to date before tests start worker threads: workers run the
 * built montecarlo/worker.js (vitest runs the TypeScript sources, which a worker cannot load). Shares the CLI
 * tests' build lock, so parallel test files never run two `tsc -b` over the same outputs at once.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
let built = false;

/** Runs `tsc -b packages/backend-sim` (a no-op when nothing changed) under the shared build lock. */
export function ensureBackendBuilt(): void {
  if (built) return;
  const lock = join(tmpdir(), `xbarc-cli-build-${Buffer.from(REPO).toString("hex").slice(-32)}.lock`);
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
    execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-b", "packages/backend-sim"], { cwd: REPO, stdio: "pipe" });
    built = true;
  } catch (e) {
    const out = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`building backend-sim failed:\n${out.stdout?.toString() ?? ""}${out.stderr?.toString() ?? ""}`);
  } finally {
    rmdirSync(lock);
  }
}

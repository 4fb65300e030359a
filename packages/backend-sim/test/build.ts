/**
 * @fileoverview Brings packages/backend-sim/dist up to date before tests start worker threads: workers run the
 * built montecarlo/worker.js (vitest runs the TypeScript sources, which a worker cannot load). Shares the CLI
 * tests' build lock, so parallel test files never run two `tsc -b` over the same outputs at once.
 */
import { buildPackageLocked } from "../../../test/helpers/build.js";

let built = false;

/** Runs `tsc -b packages/backend-sim` (a no-op when nothing changed) under the shared build lock. */
export function ensureBackendBuilt(): void {
  if (built) return;
  buildPackageLocked("packages/backend-sim", "backend-sim");
  built = true;
}

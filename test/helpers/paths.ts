/** @fileoverview Absolute paths of the repository root and the bundled fixtures, so tests never depend on the working directory. */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root (the folder holding package.json and fixtures/). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The bundled real data: fixtures/{mnist,digits,models,onnx-node}. */
export const FIXTURES_DIR = join(REPO_ROOT, "fixtures");

/** A path inside fixtures/, e.g. `fixturePath("mnist", "t10k-labels-idx1-ubyte.gz")`. */
export function fixturePath(...parts: string[]): string {
  return join(FIXTURES_DIR, ...parts);
}

/** @fileoverview What every command receives: where to print, and whether progress may be drawn. */
import type { Io } from "./output.js";

/** Shared by the commands of one CLI run. */
export interface CliContext {
  readonly io: Io;
}

/** `// xbarc-ir 1 · model <m> · <stage>` (+ pipeline line): header comments the parser skips, as in pass dumps. */
export function irHeader(model: string, stage: string, pipeline?: string, seed?: number): string {
  let h = `// xbarc-ir 1 · model ${model} · ${stage}\n`;
  if (pipeline !== undefined) h += `// pipeline: ${pipeline} · seed ${seed ?? 0}\n`;
  return h;
}

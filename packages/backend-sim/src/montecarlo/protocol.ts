/** @fileoverview Messages between the Monte Carlo runner and its worker threads (plain data, structured-cloned). */
import type { Location } from "@xbarc/ir";
import type { EvaluatorInit, LabelledBatches } from "./evaluate.js";

/** What a worker starts with (`workerData`). */
export interface WorkerInit extends EvaluatorInit {
  /** the evaluation images, fitted, with their labels */
  readonly data: LabelledBatches;
}

/** Runner → worker: evaluate these runs, in order. */
export interface RunChunkMessage {
  readonly type: "runs";
  readonly runs: readonly number[];
}

/** Worker → runner; `Result` is what one run measured (correct images for the accuracy runners). */
export type WorkerMessage<Result = number> =
  | { readonly type: "result"; readonly run: number; readonly result: Result }
  | { readonly type: "chunk-done" }
  | { readonly type: "error"; readonly error: SerializedError };

/** An error crossing the thread boundary: an XbarcError keeps its code, location and hint. */
export interface SerializedError {
  readonly code?: string;
  readonly message: string;
  readonly location?: Location;
  readonly hint?: string;
  readonly stack?: string;
}

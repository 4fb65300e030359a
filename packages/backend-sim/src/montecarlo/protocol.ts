/** @fileoverview Messages between the worker pool and its threads (plain data, structured-cloned). */
import type { Location } from "@xbarc/ir";

/** Which evaluator a job builds in each worker: weight-level ("weights") or program ("program") Monte Carlo. */
export type JobKind = "weights" | "program";

/** Pool → worker: build the job's evaluator from `init`, or evaluate these items of a job, in order. */
export type PoolMessage =
  | { readonly type: "job"; readonly job: number; readonly kind: JobKind; readonly init: unknown }
  | { readonly type: "items"; readonly job: number; readonly items: readonly number[] };

/** Worker → pool; `Result` is what one item measured (correct images for the accuracy runners). */
export type WorkerMessage<Result = number> =
  | { readonly type: "result"; readonly job: number; readonly item: number; readonly result: Result }
  | { readonly type: "chunk-done"; readonly job: number }
  | { readonly type: "error"; readonly job: number; readonly error: SerializedError };

/** An error crossing the thread boundary: an XbarcError keeps its code, location and hint. */
export interface SerializedError {
  readonly code?: string;
  readonly message: string;
  readonly location?: Location;
  readonly hint?: string;
  readonly stack?: string;
}

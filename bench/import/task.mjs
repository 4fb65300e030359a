/**
 * @fileoverview One measured task of the import benchmark, run in a fresh process so its peak RSS is its own:
 *   node bench/import/task.mjs baseline|read|ort|xbarc FILE
 * Prints one JSON line: seconds (task only, modules already loaded), RSS before the task and peak RSS (bytes).
 * `baseline` loads the same modules as `xbarc` (the built @xbarc/frontend and its dependencies) and imports nothing.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const [task, file] = process.argv.slice(2);
const FRONTEND_DIST = fileURLToPath(new URL("../../packages/frontend/dist/index.js", import.meta.url));

/** Loads what the task needs before the clock starts, and returns the timed body. */
async function prepare() {
  switch (task) {
    case "baseline": {
      // the same module graph as the xbarc task, so that baseline RSS counts module loading
      const { loadOnnxFile } = await import(FRONTEND_DIST);
      return () => ({ loaded: typeof loadOnnxFile === "function" });
    }
    case "read":
      return () => ({ bytes: readFileSync(file).length });
    case "ort": {
      const ort = (await import("onnxruntime-node")).default;
      // a session is created asynchronously; the timed body awaits it
      return async () => {
        const session = await ort.InferenceSession.create(file);
        return { inputs: session.inputNames.length };
      };
    }
    case "xbarc": {
      const { loadOnnxFile, emptyStorageStats } = await import(FRONTEND_DIST);
      return () => {
        const stats = emptyStorageStats();
        const m = loadOnnxFile(file, { batch: 1, stats });
        // count what was imported, so a lazy importer cannot look fast by skipping the weights
        let weightBytes = 0;
        let parameters = 0;
        for (const c of m.constants) {
          if (c.data) {
            weightBytes += c.data.byteLength;
            parameters += c.data.length;
          }
        }
        return { ops: m.ops.length, constants: m.constants.length, parameters, weightBytes, initializers: stats };
      };
    }
    default:
      throw new Error(`unknown task "${task}" (expected baseline, read, ort or xbarc)`);
  }
}

const body = await prepare();
const rssBefore = process.memoryUsage().rss;
const start = process.hrtime.bigint();
const info = await body();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
// maxRSS is in kilobytes (getrusage)
const peakRss = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({ task, seconds, rssBefore, peakRss, info })}\n`);

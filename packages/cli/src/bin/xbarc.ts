#!/usr/bin/env node
/** @fileoverview The `xbarc` executable: runs the CLI and sets the exit code (0 ok, 1 bad input, 2 usage, 3 bug). */
import { main } from "../program.js";

// `xbarc import m.onnx | head`: a reader that stops early is not an error
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv);

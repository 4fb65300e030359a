#!/usr/bin/env node
// The npm "bin" entry. It exists before the TypeScript build, so `npm ci` can link it (npm skips bin
// targets that are missing at link time, and dist/ is only built afterwards by the "prepare" script).
await import("../dist/bin/xbarc.js");

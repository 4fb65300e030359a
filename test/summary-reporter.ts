/** @fileoverview Ends every test run with the plain line `N passed, N failed` that CI reads. */
import { writeSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const m of testModules) {
      // a file that fails to load, or a beforeAll/afterAll hook that throws, leaves its tests skipped or
      // absent: the error itself must count as a failure or CI would read green
      failed += m.errors().length;
      for (const suite of m.children.allSuites()) failed += suite.errors().length;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === "passed") passed++;
        else if (s === "failed") failed++;
        else skipped++;
      }
    }
    const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
    // printed at exit so it is the very last line, after the default reporter's summary
    process.once("exit", () => writeSync(1, `\n${line}\n`));
  }
}

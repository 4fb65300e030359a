import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // tests exercise the TypeScript sources; CLI tests spawn the built binary (npm ci builds it)
    alias: {
      "@xbarc/ir": src("ir"),
      "@xbarc/frontend": src("frontend"),
      "@xbarc/passes": src("passes"),
      "@xbarc/backend-sim": src("backend-sim"),
      "@xbarc/cli": src("cli"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});

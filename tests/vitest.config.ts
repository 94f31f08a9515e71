import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // bench/ holds the benchmark (`npm run bench`); only its unit tests belong in a test run.
    include: ["src/**/*.test.ts", "e2e/**/*.e2e.test.ts", "bench/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["src/support/redis.global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

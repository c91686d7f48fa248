/**
 * `npm run test:clients`: the real Claude Code, Codex CLI and Gemini CLI against the chain
 * (test/clients/). Installed on demand by the global setup; one file, run sequentially with
 * generous timeouts (each CLI run has its own hard limit). Not part of `npm test`.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/clients/**/*.test.ts"],
    exclude: ["node_modules/**", ".cache/**"],
    globalSetup: ["test/clients/global-setup.ts"],
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 180_000,
    hookTimeout: 600_000,
    teardownTimeout: 60_000,
  },
});

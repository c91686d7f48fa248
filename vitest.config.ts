import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    // test/clients runs the real CLIs: `npm run test:clients` (vitest.clients.config.ts).
    exclude: ["node_modules/**", ".cache/**", "test/clients/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

/**
 * Global setup of `npm run test:clients` (vitest.clients.config.ts): installs the three CLIs on
 * demand into .cache/clients (scripts/install-clients.ts) and hands their paths to the tests.
 * `npm test` has no such setup, so test/clients/ skips itself there.
 */
import type { TestProject } from "vitest/node";
import { ensureClients, type ClientName } from "../../scripts/install-clients.ts";

declare module "vitest" {
  export interface ProvidedContext {
    ferryClients: { bins: Record<ClientName, string>; installed: boolean; installMs: number };
  }
}

export default function setup(project: TestProject) {
  const result = ensureClients((line) => console.log(`[clients] ${line}`));
  console.log(`[clients] ${result.installed ? "installed" : "already installed (checked)"} in ${(result.ms / 1000).toFixed(1)} s`);
  project.provide("ferryClients", { bins: result.bins, installed: result.installed, installMs: result.ms });
}

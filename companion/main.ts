/**
 * The companion's entry: `node companion/main.ts --config ferry.yaml`. Listens, reloads the
 * config when the file changes (and on SIGHUP), stops cleanly on SIGINT/SIGTERM.
 */
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { loadConfigFile } from "./config/load.ts";
import type { CompanionConfig } from "./config/schema.ts";
import { watchConfig } from "./config/watch.ts";
import { createLogger } from "./log.ts";
import { createCompanion, type Companion } from "./server.ts";

export interface RunningCompanion {
  url: string;
  companion: Companion;
  stop(): Promise<void>;
}

export async function startCompanion(configPath: string, overrides: { port?: number; host?: string } = {}): Promise<RunningCompanion> {
  const loaded = loadConfigFile(configPath);
  if (!loaded.ok) {
    throw new Error(`invalid config ${configPath}:\n${loaded.error.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
  }
  const config: CompanionConfig = loaded.value;
  const log = createLogger(config.log.level);
  const companion = createCompanion(config, { log });
  const reloader = watchConfig(configPath, (next) => companion.swap(next), log);
  const onHup = () => reloader.reload();
  process.on("SIGHUP", onHup);
  const server = serve({ fetch: companion.app.fetch, port: overrides.port ?? config.server.port, hostname: overrides.host ?? config.server.host });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  log("info", "companion listening", { url: `http://${host}:${port}` });
  return {
    url: `http://${host}:${port}`,
    companion,
    async stop() {
      process.off("SIGHUP", onHup);
      reloader.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await companion.close();
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { config: { type: "string", default: "ferry.yaml" }, port: { type: "string" } } });
  const running = await startCompanion(values.config, values.port ? { port: Number(values.port) } : {});
  const stop = async () => {
    await running.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

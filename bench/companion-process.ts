/**
 * The real companion as a process of its own, so a benchmark can measure its CPU and memory
 * apart from the load generator (bench/chain.ts). It builds the companion exactly as the
 * chain tests do (test/helpers/companion.ts): `createCompanion(config)` served by
 * `@hono/node-server` on 127.0.0.1, port 0.
 *
 *   node bench/companion-process.ts '<config JSON>'     (or a path to a .json file)
 *   FERRY_BENCH_COMPANION_CONFIG='<config JSON>' node bench/companion-process.ts
 *
 * The config is the companion's (companion/config/schema.ts), as JSON, validated with
 * `CompanionConfigSchema`; the environment is preferred by bench/chain.ts so secrets stay out
 * of the process list. `server.host` and `server.port` are ignored: it always listens on
 * 127.0.0.1:0. When the config has a tunnel link, it waits (up to 10 s) for the tunnel first.
 *
 * Then it prints one JSON line on stdout, e.g.
 *   {"ferryCompanion":"ready","url":"http://127.0.0.1:41234","pid":1234,"tunnel":"up","startupMs":310}
 * and stays up until SIGTERM or SIGINT (it closes the server and the companion, then exits 0).
 * The companion's own log lines (JSON, at `log.level`) go to stdout/stderr as usual. It also
 * exits if its parent goes away (reparented), so a killed benchmark leaves nothing behind.
 * On a bad config or a failed start it prints the reason on stderr and exits 2.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { serve } from "@hono/node-server";
import { CompanionConfigSchema, type CompanionConfig } from "../companion/config/schema.ts";
import { createLogger } from "../companion/log.ts";
import { createCompanion, type Companion } from "../companion/server.ts";

const ENV = "FERRY_BENCH_COMPANION_CONFIG";
const TUNNEL_WAIT_MS = 10_000;
const STOP_GRACE_MS = 5_000;

function fail(message: string): never {
  process.stderr.write(`companion-process: ${message}\n`);
  process.exit(2);
}

function readConfig(): CompanionConfig {
  const arg = process.argv[2];
  const raw = arg === undefined ? process.env[ENV] : arg.trimStart().startsWith("{") ? arg : readFileSync(arg, "utf8");
  if (!raw) fail(`pass the config as JSON (argv[2], a .json path, or ${ENV})`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    fail(`the config is not JSON: ${(error as Error).message}`);
  }
  const parsed = CompanionConfigSchema.safeParse(json);
  if (!parsed.success) fail(`invalid config:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  return parsed.data;
}

const t0 = performance.now();
const config = readConfig();
delete process.env[ENV]; // nothing below needs it; keep it out of anything spawned later

let companion: Companion;
try {
  companion = createCompanion(config, { log: createLogger(config.log.level) });
} catch (error) {
  fail(`createCompanion failed: ${(error as Error).message}`);
}
const server = serve({ fetch: companion.app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise<void>((resolve, reject) => {
  server.once("listening", () => resolve());
  server.once("error", reject);
}).catch((error: Error) => fail(`listen failed: ${error.message}`));
const { port } = server.address() as AddressInfo;

let stopping: Promise<void> | undefined;
function stop(code: number): Promise<void> {
  return (stopping ??= (async () => {
    setTimeout(() => process.exit(code), STOP_GRACE_MS).unref(); // a close that hangs must not keep us up
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await companion.close().catch(() => {});
    process.exit(code);
  })());
}
process.once("SIGTERM", () => void stop(0));
process.once("SIGINT", () => void stop(0));

// Orphaned (the benchmark was killed): go too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 1_000).unref();

let tunnel: "up" | "down" | "none" = "none";
const t = companion.runtime().link?.tunnel;
if (t && config.link?.transport !== "https") tunnel = (await t.ready(TUNNEL_WAIT_MS)) ? "up" : "down";

process.stdout.write(
  JSON.stringify({ ferryCompanion: "ready", url: `http://127.0.0.1:${port}`, pid: process.pid, tunnel, startupMs: Math.round(performance.now() - t0) }) + "\n",
);

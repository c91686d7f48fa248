/**
 * `npm start`: runs Ferry on this machine for trying it out. For now that is the edge in
 * local workerd with examples/edge-config.json, in front of a demo upstream on 127.0.0.1
 * (so it works with no provider key and no network). Prints the edge URL, checks itself
 * with one signed request, and runs until Ctrl-C.
 *
 * Options: --config FILE (edge config JSON; "{{demoUpstream}}" is replaced by the demo's
 * URL), --port N (default 8787, or a free port if that is taken). Secrets referenced from the
 * config as {"env": NAME} are read from the environment; FERRY_COMPANION_SECRET is
 * generated once and kept in .cache/ferry-dev/ if not set.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { signRequest } from "../shared/signing.ts";
import { startDemoUpstream } from "./demo-upstream.ts";
import { startLocalEdge } from "./edge-local.ts";

const root = resolve(import.meta.dirname, "..");
const devDir = join(root, ".cache", "ferry-dev");
const { values } = parseArgs({
  options: { config: { type: "string", default: join(root, "examples", "edge-config.json") }, port: { type: "string", default: "8787" } },
});

function companionSecret(): string {
  if (process.env.FERRY_COMPANION_SECRET) return process.env.FERRY_COMPANION_SECRET;
  const file = join(devDir, "companion-secret");
  if (!existsSync(file)) {
    mkdirSync(devDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString("base64url") + "\n", { mode: 0o600 });
  }
  return readFileSync(file, "utf8").trim();
}

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const probe = createServer()
      .once("error", () => r(false))
      .listen(port, "127.0.0.1", () => probe.close(() => r(true)));
  });
}

const demo = await startDemoUpstream();
const secret = companionSecret();
const secrets: Record<string, string> = { FERRY_COMPANION_SECRET: secret };
const configText = readFileSync(values.config, "utf8").replaceAll("{{demoUpstream}}", demo.url);
for (const match of configText.matchAll(/"env"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)"/g)) {
  const name = match[1]!;
  if (process.env[name] && !(name in secrets)) secrets[name] = process.env[name];
}
const wanted = Number(values.port);
const port = (await portFree(wanted)) ? wanted : 0;
const edge = await startLocalEdge({
  secrets: { ...secrets, FERRY_CONFIG: configText },
  persistDir: join(devDir, "edge-state"),
  port,
  onLog: (line) => process.stdout.write(`[edge] ${line}\n`),
});
mkdirSync(devDir, { recursive: true });
writeFileSync(join(devDir, "edge.json"), JSON.stringify({ url: edge.url, companionId: "office" }, null, 2) + "\n");

const health = await (await fetch(edge.url + "/health")).json();
console.log(`\nFerry edge (local workerd) on ${edge.url}${port === 0 ? ` (port ${wanted} was taken)` : ""}`);
console.log(`  config: ${values.config}`);
console.log(`  health: ${JSON.stringify(health)}`);
if (health.status === "ok") {
  const path = "/proxy/demo/v1/chat/completions";
  const body = new TextEncoder().encode(JSON.stringify({ model: "demo-echo", messages: [{ role: "user", content: "hello from ferry" }] }));
  const headers = await signRequest({ companionId: "office", secret, method: "POST", pathAndQuery: path, body });
  const res = await fetch(edge.url + path, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
  console.log(`  self-check: POST ${path} → ${res.status} via member ${res.headers.get("x-ferry-member")}: ${(await res.text()).slice(0, 160)}`);
}
console.log(`\nTry:  npm run edge:call -- POST /proxy/demo/v1/chat/completions '{"model":"demo-echo","stream":true,"messages":[{"role":"user","content":"hi"}]}'`);
console.log(`      npm run edge:call -- GET /admin/pools`);
console.log(`Ctrl-C stops.\n`);

const stop = async () => {
  await edge.close();
  demo.server.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

/**
 * `ferry up` (and `npm start`, through scripts/ferry-up.ts): runs Ferry on this machine for
 * trying it out: the edge in local workerd (examples/edge-config.json) in front of a demo
 * upstream on 127.0.0.1, and the companion (examples/companion.yaml) linked to it over the
 * tunnel, so it works with no provider key and no network. Checks itself end to end, prints
 * how to point clients at it, and runs until Ctrl-C.
 *
 * Options: --config FILE (edge config JSON; "{{demoUpstream}}" is replaced by the demo's
 * URL), --companion FILE (companion YAML), --port N (edge, default 8787), --companion-port N
 * (default 8080); a taken port is replaced by a free one. Secrets referenced from the edge
 * config as {"env": NAME} are read from the environment; FERRY_COMPANION_SECRET and
 * FERRY_DEMO_PROJECT_KEY are generated once and kept in .cache/ferry-dev/ if not set.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startCompanion } from "../companion/main.ts";
import { startDemoUpstream } from "../scripts/demo-upstream.ts";
import { startLocalEdge } from "../scripts/edge-local.ts";

const root = resolve(import.meta.dirname, "..");
const devDir = join(root, ".cache", "ferry-dev");

export const UP_USAGE = `ferry up [--config edge.json] [--companion ferry.yaml] [--port 8787] [--companion-port 8080]
  Runs the edge in local workerd, a demo upstream and the companion on this machine (what
  \`npm start\` does); Ctrl-C stops.`;

/** A generated secret kept across runs in .cache/ferry-dev/, unless the environment sets it. */
function devSecret(name: string, file: string, prefix = ""): string {
  if (process.env[name]) return process.env[name];
  const path = join(devDir, file);
  if (!existsSync(path)) {
    mkdirSync(devDir, { recursive: true });
    writeFileSync(path, prefix + randomBytes(32).toString("base64url") + "\n", { mode: 0o600 });
  }
  return readFileSync(path, "utf8").trim();
}

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const probe = createServer()
      .once("error", () => r(false))
      .listen(port, "127.0.0.1", () => probe.close(() => r(true)));
  });
}

/** Starts everything and keeps running until SIGINT / SIGTERM (which exit the process). */
export async function up(args: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", default: join(root, "examples", "edge-config.json") },
      companion: { type: "string", default: join(root, "examples", "companion.yaml") },
      port: { type: "string", default: "8787" },
      "companion-port": { type: "string", default: "8080" },
    },
  });

  const demo = await startDemoUpstream();
  const secret = devSecret("FERRY_COMPANION_SECRET", "companion-secret");
  const projectKey = devSecret("FERRY_DEMO_PROJECT_KEY", "project-key", "fp-");
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

  process.env.FERRY_EDGE_URL = edge.url;
  process.env.FERRY_COMPANION_SECRET = secret;
  process.env.FERRY_DEMO_PROJECT_KEY = projectKey;
  const companionWanted = Number(values["companion-port"]);
  const companion = await startCompanion(values.companion, { port: (await portFree(companionWanted)) ? companionWanted : 0 });
  console.log(`\nFerry companion on ${companion.url}`);
  console.log(`  config: ${values.companion}`);
  const check = await fetch(`${companion.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${projectKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "demo-echo", messages: [{ role: "user", content: "hello from ferry" }] }),
  });
  const answer = (await check.json()) as { choices?: { message: { content: string } }[] };
  console.log(`  self-check: client → companion → tunnel → edge → demo upstream: ${check.status} "${answer.choices?.[0]?.message.content ?? JSON.stringify(answer)}"`);

  console.log(`
Point a client at it (project key in .cache/ferry-dev/project-key):
  OpenAI SDKs:  OPENAI_BASE_URL=${companion.url}/v1  OPENAI_API_KEY=${projectKey}
  curl:         curl ${companion.url}/v1/chat/completions -H 'authorization: Bearer ${projectKey}' \\
                  -H 'content-type: application/json' -d '{"model":"demo-echo","stream":true,"messages":[{"role":"user","content":"hi"}]}'
  Edge itself:  npm run edge:call -- GET /admin/pools
  Health:       ${companion.url}/health/readiness   metrics: ${companion.url}/metrics
Ctrl-C stops.
`);

  const stop = async () => {
    await companion.stop();
    await edge.close();
    demo.server.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

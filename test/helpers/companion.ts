/**
 * The whole chain for end-to-end tests: a stand-in upstream and a stand-in Ollama on
 * 127.0.0.1, the real worker in local workerd, and the real companion (createCompanion +
 * @hono/node-server) on a real socket, linked to the edge.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { CompanionConfigSchema, type CompanionConfig, type CompanionConfigInput } from "../../companion/config/schema.ts";
import { createCompanion, type Companion } from "../../companion/server.ts";
import { createLogger } from "../../companion/log.ts";
import { fakeKey, randomSecret, startEdge, type Edge } from "./edge.ts";
import { FakeOllama } from "./ollama.ts";
import { startUpstream, type Upstream } from "./upstream.ts";

export const projectKey = () => "fp-" + randomBytes(20).toString("hex");

export interface Chain {
  up: Upstream;
  ollama: FakeOllama;
  edge: Edge;
  companion: Companion;
  url: string;
  config: CompanionConfig;
  dataDir: string;
  /** Upstream keys configured at the edge (to check none leaks). */
  upstreamKeys: string[];
  companionSecret: string;
  logs: string[];
  /** Restarts the companion process part (same data dir, same config). */
  restart(config?: CompanionConfig): Promise<void>;
  close(): Promise<void>;
}

export interface ChainOptions {
  /** Companion config fragments; link, ollama, edgePools and store/audit paths are filled in. */
  companion: (ctx: { up: Upstream; ollama: FakeOllama; edgeUrl: string; dataDir: string; secret: string }) => Omit<CompanionConfigInput, "link" | "ollama"> &
    Partial<Pick<CompanionConfigInput, "link" | "ollama">>;
  /**
   * Edge pools, by name: provider type, upstream path prefix on the stand-in, and extra
   * request headers the edge lets through (to test the companion's scrubbing on its own).
   */
  pools: Record<string, { type: string; prefix: string; requestHeaders?: string[] }>;
}

async function listen(companion: Companion): Promise<{ url: string; close(): Promise<void> }> {
  const server = serve({ fetch: companion.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export async function startChain(opts: ChainOptions): Promise<Chain> {
  const up = await startUpstream();
  const ollama = await FakeOllama.start();
  const secret = randomSecret();
  const upstreamKeys: string[] = [];
  const pools: Record<string, unknown> = {};
  for (const [name, pool] of Object.entries(opts.pools)) {
    const key = fakeKey();
    upstreamKeys.push(key);
    pools[name] = { type: pool.type, baseUrl: `${up.url}${pool.prefix}`, members: [{ key }], requestHeaders: pool.requestHeaders ?? [] };
  }
  const edge = await startEdge({ pools, companions: [{ id: "office", secret, pools: ["*"] }] });
  const dataDir = mkdtempSync(join(tmpdir(), "ferry-companion-"));
  const input = opts.companion({ up, ollama, edgeUrl: edge.url, dataDir, secret });
  const config = CompanionConfigSchema.parse({
    link: { edges: [edge.url], companionId: "office", secret, transport: "tunnel" },
    ollama: { baseUrl: ollama.url },
    store: { kind: "sqlite", path: join(dataDir, "ferry.db") },
    audit: { path: join(dataDir, "audit.db") },
    ...input,
  });
  const logs: string[] = [];
  const log = createLogger("debug", (line) => logs.push(line));
  let companion = createCompanion(config, { log });
  let server = await listen(companion);
  const chain: Chain = {
    up,
    ollama,
    edge,
    companion,
    url: server.url,
    config,
    dataDir,
    upstreamKeys,
    companionSecret: secret,
    logs,
    async restart(next = config) {
      await server.close();
      await companion.close();
      companion = createCompanion(next, { log });
      server = await listen(companion);
      chain.companion = companion;
      chain.url = server.url;
    },
    async close() {
      await server.close();
      await companion.close();
      await edge.close();
      await ollama.close();
      await up.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return chain;
}

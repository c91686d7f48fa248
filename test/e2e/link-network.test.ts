/**
 * The link on bad networks: a silently dead socket, an edge that is down, a corporate CA,
 * and a Relay that hibernates under an idle tunnel.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLink, type EdgeLink } from "../../companion/link/link.ts";
import type { LinkConfigInput } from "../../companion/link/config.ts";
import type { LinkRequest } from "../../companion/link/types.ts";
import { makeCerts } from "../helpers/certs.ts";
import { fakeKey, randomSecret, startEdge, type Edge } from "../helpers/edge.ts";
import { startRefuser, startTcpProxy } from "../helpers/tcp-proxy.ts";
import { behaviours, sleep, startUpstream, type Upstream } from "../helpers/upstream.ts";

const office = { companionId: "office", secret: randomSecret() };
let up: Upstream;
let edge: Edge;
const config = () => ({
  pools: { echo: { type: "openai-compatible", baseUrl: `${up.url}/echo`, members: [{ key: fakeKey() }] } },
  companions: [{ id: "office", secret: office.secret, pools: ["*"] }],
});

function link(overrides: Partial<LinkConfigInput>, env: NodeJS.ProcessEnv = {}): EdgeLink {
  return createLink({ edges: [edge.url], ...office, transport: "tunnel", ...overrides }, { env });
}
const req = (): LinkRequest => ({
  requestId: randomUUID().replaceAll("-", ""),
  method: "POST",
  pool: "echo",
  path: "/v1/chat/completions",
  query: "",
  headers: [["content-type", "application/json"]],
  body: new TextEncoder().encode("{}"),
});
async function ok(l: EdgeLink): Promise<string> {
  const res = await l.send(req());
  expect(res.status).toBe(200);
  return new Response(res.body).text();
}
async function until(condition: () => boolean, maxMs = 10_000): Promise<void> {
  for (let waited = 0; !condition() && waited < maxMs; waited += 20) await sleep(20);
}

beforeAll(async () => {
  up = await startUpstream();
  up.on("/echo", behaviours.json(200, { ok: true }));
  edge = await startEdge(config());
});
afterAll(async () => {
  await edge?.close();
  await up?.close();
});

describe("dead sockets and dead edges", () => {
  it("notices a socket that went silent (no pong) and reconnects", async () => {
    const proxy = await startTcpProxy(new URL(edge.url));
    const l = link({ edges: [proxy.url], heartbeatIntervalMs: 100, heartbeatTimeoutMs: 400, reconnectBaseMs: 10 });
    try {
      expect(await l.tunnel!.ready(5000)).toBe(true);
      expect(await ok(l)).toBe('{"ok":true}');
      proxy.blackhole(); // the socket stays open, but nothing passes any more
      await until(() => l.tunnel!.connects >= 2);
      expect(l.tunnel!.connects).toBe(2);
      expect(proxy.connections).toBe(2);
      expect(await ok(l)).toBe('{"ok":true}');
    } finally {
      await l.close();
      await proxy.close();
    }
  });

  it("does not storm a down edge: connection attempts stay within the per-minute cap", async () => {
    const down = await startRefuser();
    const l = link({ edges: [down.url], reconnectBaseMs: 10, reconnectMaxMs: 50, reconnectsPerMinute: 5, edgeRetryMs: 0 });
    try {
      await sleep(1_500); // long enough for dozens of attempts without the cap
      expect(down.connections).toBe(5);
      expect(l.state().tunnel.state).not.toBe("up");
    } finally {
      await l.close();
      await down.close();
    }
  });
});

describe("hibernation", () => {
  it("keeps an idle tunnel across the Relay's hibernation and serves on it when it wakes", async () => {
    const l = link({});
    try {
      expect(await ok(l)).toBe('{"ok":true}');
      const conn = l.tunnel!.connection;
      await edge.restartRelay("office", "hibernate");
      expect(await ok(l)).toBe('{"ok":true}');
      expect(l.tunnel!.connection).toBe(conn); // the same socket, not a reconnect
      expect(l.tunnel!.connects).toBe(1);
    } finally {
      await l.close();
    }
  });
});

describe("corporate TLS", () => {
  it("trusts an edge signed by a configured CA bundle, on both transports, and refuses it without", async () => {
    const certs = makeCerts();
    const tlsEdge = await startEdge(config(), { tls: { key: certs.key, cert: certs.cert } });
    try {
      expect(tlsEdge.url.startsWith("https://")).toBe(true);
      for (const transport of ["tunnel", "https"] as const) {
        const trusted = link({ edges: [tlsEdge.url], transport, caFile: certs.caFile });
        try {
          expect(await ok(trusted)).toBe('{"ok":true}');
        } finally {
          await trusted.close();
        }
        const untrusted = link({ edges: [tlsEdge.url], transport, connectTimeoutMs: 1000, maxResends: 0 });
        try {
          const error = await untrusted.send(req()).then(() => null, (e: unknown) => e as Error);
          expect(error?.message).toMatch(/tunnel to the edge is down|no edge could be reached/);
        } finally {
          await untrusted.close();
        }
      }
    } finally {
      await tlsEdge.close();
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});

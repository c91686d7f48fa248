/**
 * The Relay Durable Object: one per companion id. Every request of that companion, over
 * HTTPS or its tunnels, is served here, so pool health is one consistent state per
 * companion. Health lives in memory and is checkpointed to storage, so a restart keeps a
 * disabled key disabled. Tunnels use the hibernation API: an idle tunnel costs nothing, and
 * its heartbeat ("ping" → "pong") is answered without waking the object.
 */
import { DurableObject } from "cloudflare:workers";
import type { RequestHead } from "../../shared/frames.ts";
import { companionMayUse, getConfig, type Companion, type EdgeConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { edgeError } from "../errors.ts";
import { log } from "../log.ts";
import { type HealthSnapshot, PoolHealth } from "../pool/health.ts";
import { parseProxyPath } from "../proxy-path.ts";
import { EdgeTunnelSession } from "../tunnel/session.ts";
import { authenticate, readBody } from "./auth.ts";
import { forward } from "./forward.ts";
import { OnceStore } from "./once-store.ts";
import type { InboundRequest } from "./upstream-request.ts";

const HEALTH_KEY = "health";
/** How long a started request id is remembered, so a re-sent copy is refused. */
const REQUEST_ID_TTL_MS = 15 * 60_000;

interface TunnelAttachment {
  companionId: string;
  openedAt: number;
}

export class Relay extends DurableObject<Env> {
  private health: PoolHealth | undefined;
  private snapshot: HealthSnapshot | undefined;
  private checkpointQueued = false;
  private readonly once: OnceStore;
  private readonly sessions = new Map<WebSocket, EdgeTunnelSession>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.once = new OnceStore(ctx.storage.sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    void ctx.blockConcurrencyWhile(async () => {
      this.snapshot = await ctx.storage.get<HealthSnapshot>(HEALTH_KEY);
    });
  }

  private healthFor(config: EdgeConfig): PoolHealth {
    if (!this.health) {
      this.health = new PoolHealth(config.settings);
      if (this.snapshot?.v === 1) this.health.restore(this.snapshot);
      this.snapshot = undefined;
    }
    return this.health;
  }

  /** Coalesces bursts of changes into one write per turn of the event loop. */
  private checkpoint(): void {
    if (this.checkpointQueued) return;
    this.checkpointQueued = true;
    queueMicrotask(() => {
      this.checkpointQueued = false;
      if (this.health) void this.ctx.storage.put(HEALTH_KEY, this.health.snapshot());
    });
  }

  override async fetch(request: Request): Promise<Response> {
    const loaded = await getConfig(this.env);
    if (!loaded.ok) return edgeError("config_invalid", "edge configuration is invalid; see /health");
    const config = loaded.value;
    const url = new URL(request.url);
    const companion = config.companions.get(request.headers.get("x-ferry-companion") ?? "");
    if (!companion) return edgeError("unauthorized", "authentication failed");

    const body = await readBody(request, config.settings.maxRequestBytes);
    if (!body.ok) return edgeError("payload_too_large", `request body exceeds ${config.settings.maxRequestBytes} bytes`);
    const auth = await authenticate(request, url, companion, body.value, this.once);
    if (!auth.ok) {
      log("warn", { msg: "authentication refused", reason: auth.error, path: url.pathname });
      return edgeError("unauthorized", "authentication failed");
    }

    switch (`${request.method} ${url.pathname}`) {
      case "GET /tunnel":
        return this.acceptTunnel(request, companion);
      case "GET /admin/pools":
        return this.adminPools(config, companion.pools);
      case "GET /admin/tunnels":
        return Response.json({ tunnels: this.tunnelStats() });
      case "POST /admin/drain":
        for (const [ws, session] of this.liveSessions()) if (ws.readyState === WebSocket.READY_STATE_OPEN) session.goAway("drain requested");
        return Response.json({ drained: this.sessions.size });
    }

    const target = parseProxyPath(url.pathname);
    if (!target.ok) return edgeError("bad_request", target.error);
    return this.serveProxy(config, companion, target.value.pool, {
      req: { method: request.method, path: target.value.path, search: url.search, headers: request.headers, body: body.value },
      requestId: request.headers.get("x-ferry-request-id"),
      signal: request.signal,
    });
  }

  /** One proxied request, whichever transport brought it. */
  private async serveProxy(
    config: EdgeConfig,
    companion: Companion,
    poolName: string,
    opts: { req: InboundRequest; requestId: string | null; signal: AbortSignal },
  ): Promise<Response> {
    const pool = config.pools.get(poolName);
    if (!pool || !companionMayUse(companion, pool.name)) return edgeError("forbidden", "this companion may not use that provider");
    if (opts.requestId && !this.once.remember(`r:${opts.requestId}`, Date.now() + REQUEST_ID_TTL_MS)) {
      log("warn", { msg: "duplicate request refused", pool: pool.name });
      return edgeError("duplicate_request", "this request was already started once; it is not sent upstream again");
    }
    const started = Date.now();
    const response = await forward(opts.req, {
      config,
      pool,
      health: this.healthFor(config),
      signal: opts.signal,
      checkpoint: () => this.checkpoint(),
      log: (fields) => log("info", fields),
    });
    log("info", {
      msg: "proxied",
      // The companion's request id: the same one is in its audit record and response header.
      requestId: opts.requestId ?? undefined,
      pool: pool.name,
      status: response.status,
      member: response.headers.get("x-ferry-member") ?? undefined,
      attempts: response.headers.get("x-ferry-attempts") ?? undefined,
      headersMs: Date.now() - started,
    });
    return response;
  }

  private acceptTunnel(request: Request, companion: Companion): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return edgeError("bad_request", "expected a WebSocket upgrade");
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ companionId: companion.id, openedAt: Date.now() } satisfies TunnelAttachment);
    log("info", { msg: "tunnel opened", tunnels: this.ctx.getWebSockets().length });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Sessions are in memory; after hibernation they are rebuilt (with no streams, as none can be open). */
  private session(ws: WebSocket, config: EdgeConfig): EdgeTunnelSession {
    let session = this.sessions.get(ws);
    if (!session) {
      const { companionId } = ws.deserializeAttachment() as TunnelAttachment;
      session = new EdgeTunnelSession({
        send: (bytes) => ws.send(bytes),
        close: (code, reason) => ws.close(code, reason),
        maxRequestBytes: config.settings.maxRequestBytes,
        log: (fields) => log("warn", fields),
        serve: async ({ head, body, signal }) => {
          const current = await getConfig(this.env);
          if (!current.ok) return edgeError("config_invalid", "edge configuration is invalid; see /health");
          const companion = current.value.companions.get(companionId);
          if (!companion) return edgeError("unauthorized", "companion no longer configured");
          return this.serveProxy(current.value, companion, head.pool, { req: toInbound(head, body), requestId: head.requestId, signal });
        },
      });
      this.sessions.set(ws, session);
    }
    return session;
  }

  private liveSessions(): [WebSocket, EdgeTunnelSession][] {
    return [...this.sessions].filter(([ws]) => this.ctx.getWebSockets().includes(ws));
  }

  private tunnelStats() {
    return this.ctx.getWebSockets().map((ws) => {
      const attachment = ws.deserializeAttachment() as TunnelAttachment;
      return { openedAt: new Date(attachment.openedAt).toISOString(), ...this.sessions.get(ws)?.stats };
    });
  }

  override async webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): Promise<void> {
    const config = await getConfig(this.env);
    if (!config.ok) {
      ws.close(1011, "edge configuration is invalid");
      return;
    }
    this.session(ws, config.value).onMessage(message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.sessions.get(ws)?.closeAll("tunnel closed");
    this.sessions.delete(ws);
    // 1005/1006 are not codes one may send (workerd throws on them).
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // already closed
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.sessions.get(ws)?.closeAll("tunnel failed");
    this.sessions.delete(ws);
  }

  private adminPools(config: EdgeConfig, allowed: ReadonlySet<string> | "*"): Response {
    const health = this.healthFor(config);
    const now = Date.now();
    const pools: Record<string, unknown> = {};
    for (const pool of config.pools.values()) {
      if (allowed !== "*" && !allowed.has(pool.name)) continue;
      pools[pool.name] = { type: pool.type, members: health.view(pool.name, pool.members, now) };
    }
    return Response.json({ time: new Date(now).toISOString(), pools });
  }
}

function toInbound(head: RequestHead, body: ArrayBuffer | null): InboundRequest {
  return { method: head.method, path: head.path, search: head.query, headers: new Headers(head.headers), body };
}

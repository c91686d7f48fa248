/**
 * The Relay Durable Object: one per companion id. Every request of that companion is
 * served here, so pool health is one consistent state per companion. Health lives in
 * memory and is checkpointed to storage, so a restart keeps a disabled key disabled.
 */
import { DurableObject } from "cloudflare:workers";
import { companionMayUse, getConfig, type EdgeConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { edgeError } from "../errors.ts";
import { log } from "../log.ts";
import { type HealthSnapshot, PoolHealth } from "../pool/health.ts";
import { parseProxyPath } from "../proxy-path.ts";
import { authenticate, readBody, type NonceStore } from "./auth.ts";
import { forward } from "./forward.ts";

const HEALTH_KEY = "health";
const NONCE_PRUNE_EVERY = 256;

export class Relay extends DurableObject<Env> {
  private health: PoolHealth | undefined;
  private snapshot: HealthSnapshot | undefined;
  private noncesSincePrune = 0;
  private checkpointQueued = false;
  private readonly nonces: NonceStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
    void ctx.blockConcurrencyWhile(async () => {
      this.snapshot = await ctx.storage.get<HealthSnapshot>(HEALTH_KEY);
    });
    const sql = ctx.storage.sql;
    this.nonces = {
      remember: (nonce, expiresAt) => {
        const now = Date.now();
        if (++this.noncesSincePrune >= NONCE_PRUNE_EVERY) {
          this.noncesSincePrune = 0;
          sql.exec("DELETE FROM nonces WHERE expires_at < ?", now);
        }
        const cursor = sql.exec("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING", nonce, expiresAt);
        return cursor.rowsWritten > 0;
      },
    };
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
    const auth = await authenticate(request, url, companion, body.value, this.nonces);
    if (!auth.ok) {
      log("warn", { msg: "authentication refused", reason: auth.error, path: url.pathname });
      return edgeError("unauthorized", "authentication failed");
    }

    if (url.pathname === "/admin/pools" && request.method === "GET") return this.adminPools(config, companion.pools);

    const target = parseProxyPath(url.pathname);
    if (!target.ok) return edgeError("bad_request", target.error);
    const pool = config.pools.get(target.value.pool);
    if (!pool || !companionMayUse(companion, pool.name)) {
      return edgeError("forbidden", "this companion may not use that provider");
    }
    const started = Date.now();
    const response = await forward(
      { method: request.method, path: target.value.path, search: url.search, headers: request.headers, body: body.value },
      {
        config,
        pool,
        health: this.healthFor(config),
        signal: request.signal,
        checkpoint: () => this.checkpoint(),
        log: (fields) => log("info", fields),
      },
    );
    log("info", {
      msg: "proxied",
      pool: pool.name,
      status: response.status,
      member: response.headers.get("x-ferry-member") ?? undefined,
      attempts: response.headers.get("x-ferry-attempts") ?? undefined,
      headersMs: Date.now() - started,
    });
    return response;
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

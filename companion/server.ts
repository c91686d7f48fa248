/**
 * The companion: a hono app over a Runtime that hot reload can swap. `createCompanion`
 * builds it from a config (tests use this directly); `startCompanion` also listens and
 * watches the config file (companion/main.ts).
 */
import { Hono } from "hono";
import { SqliteAuditLog } from "./audit/sqlite-audit.ts";
import type { CompanionConfig } from "./config/schema.ts";
import { clientError } from "./dialects/errors.ts";
import { createLogger, type Logger } from "./log.ts";
import { ReasoningCache } from "./hub/reasoning-cache.ts";
import { createMetrics } from "./metrics.ts";
import { startNotifier, type Notifier } from "./notify.ts";
import { createQuotaStore } from "./quota/index.ts";
import { buildRuntime, type Runtime, type Shared } from "./runtime.ts";
import { anthropicRoutes } from "./surfaces/anthropic.ts";
import { geminiRoutes } from "./surfaces/gemini.ts";
import { ollamaRoutes } from "./surfaces/ollama.ts";
import { openaiRoutes } from "./surfaces/openai.ts";
import { opsRoutes } from "./surfaces/ops.ts";
import { proxyRoutes } from "./surfaces/proxy.ts";
import { statusRoutes } from "./surfaces/status.ts";

export interface Companion {
  app: Hono;
  runtime(): Runtime;
  /** Swaps in a new config atomically; requests in flight keep the one they started with. */
  swap(config: CompanionConfig): void;
  close(): Promise<void>;
}

export interface CompanionOptions {
  log?: Logger;
}

export function createCompanion(config: CompanionConfig, opts: CompanionOptions = {}): Companion {
  const log = opts.log ?? createLogger(config.log.level);
  const shared: Shared = {
    quota: createQuotaStore(config.store, config.timeZone),
    audit: new SqliteAuditLog(config.audit.path),
    metrics: createMetrics(),
    reasoning: new ReasoningCache(),
    log,
  };
  let current = buildRuntime(config, shared);
  const retired: Runtime[] = [];
  const app = new Hono();
  const runtime = () => current;

  app.use(async (c, next) => {
    await next();
    c.header("x-content-type-options", "nosniff");
  });
  opsRoutes(app, runtime);
  statusRoutes(app, runtime);
  anthropicRoutes(app, runtime);
  openaiRoutes(app, runtime);
  geminiRoutes(app, runtime);
  proxyRoutes(app, runtime);
  ollamaRoutes(app, runtime);
  let notifier: Notifier | null = config.notify ? startNotifier(runtime, { log }) : null;
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const dialect = path.startsWith("/v1beta") ? "gemini" : c.req.header("anthropic-version") ? "anthropic" : "openai";
    return clientError(dialect, "not_found", `no route ${c.req.method} ${path}`);
  });
  app.onError((error, c) => {
    log("error", "unhandled error", { error: error.message, path: new URL(c.req.url).pathname });
    return clientError("openai", "internal", "internal error");
  });

  return {
    app,
    runtime,
    swap(next) {
      const previous = current;
      current = buildRuntime(next, shared, previous);
      if (previous.link && previous.link !== current.link) retired.push(previous);
      if (next.notify && !notifier) notifier = startNotifier(runtime, { log });
      log("info", "config reloaded", { projects: next.projects.length, models: Object.keys(next.models).length });
    },
    async close() {
      await notifier?.stop();
      for (const rt of [current, ...retired]) await rt.link?.close();
      await shared.quota.close();
      shared.audit.close();
    },
  };
}

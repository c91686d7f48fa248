/**
 * Everything a request needs, built from one config: project lookup, the link, the Ollama
 * client, the quota store, the audit log. A hot reload builds a new Runtime, reusing the
 * parts whose config did not change; requests keep the Runtime they started with.
 */
import { createHash } from "node:crypto";
import type { AuditLog } from "./audit/types.ts";
import type { ReasoningCache } from "./hub/reasoning-cache.ts";
import type { CompanionConfig, Project } from "./config/schema.ts";
import { createLink, type EdgeLink } from "./link/link.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { QuotaStore } from "./quota/types.ts";
import { OllamaClient } from "./targets/ollama.ts";

export interface Runtime {
  config: CompanionConfig;
  /** sha256(key) → project: keys are not kept as map keys in the clear. */
  projectsByKeyHash: Map<string, Project>;
  link: EdgeLink | null;
  ollama: OllamaClient | null;
  quota: QuotaStore;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  reasoning: ReasoningCache;
  /** Keyed-hash key for session-valued fields (prompt_cache_key); derived from the config. */
  hashKey: string;
}

export const keyHash = (key: string) => createHash("sha256").update(key).digest("hex");

export interface Shared {
  quota: QuotaStore;
  /** Reasoning kept for the next turn across dialects (companion/hub/reasoning-cache.ts). */
  reasoning: ReasoningCache;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
}

/** Builds a runtime; `previous` lends its link when the link config is unchanged. */
export function buildRuntime(config: CompanionConfig, shared: Shared, previous?: Runtime): Runtime {
  const projectsByKeyHash = new Map<string, Project>();
  for (const project of config.projects) for (const key of project.keys) projectsByKeyHash.set(keyHash(key), project);
  const sameLink = previous && JSON.stringify(previous.config.link) === JSON.stringify(config.link);
  const link = sameLink ? previous.link : config.link ? createLink(config.link, { log: (f) => shared.log("info", "link", f) }) : null;
  const ollama = config.ollama ? new OllamaClient({ ...config.ollama, userAgent: config.server.gatewayUserAgent }) : null;
  const hashKey = createHash("sha256").update(`ferry-cache-key\n${config.link?.secret ?? config.projects.map((p) => p.keys.join(",")).join(";")}`).digest("base64url");
  return { config, projectsByKeyHash, link, ollama, hashKey, ...shared };
}

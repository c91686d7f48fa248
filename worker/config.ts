/**
 * Edge configuration: one JSON secret (FERRY_CONFIG), validated once per isolate with zod.
 * Keys and companion secrets may be inline or name another secret (`{"env": "OPENAI_KEY_1"}`),
 * which keeps each secret under the platform's size limit and lets keys rotate one by one.
 * Errors carry a JSON path and a reason; no value from the config is ever echoed.
 */
import { z } from "zod";
import { sha256Hex } from "../shared/signing.ts";
import { formatPath, type ConfigIssue } from "../shared/config-issue.ts";
import { err, ok, type Result } from "../shared/result.ts";

export type { ConfigIssue };
export { formatPath };
import { PROVIDER_TYPES, PROVIDERS, type ProviderType } from "./providers.ts";

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const SecretRef = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a secret name") }),
]);

const MemberSchema = z.strictObject({
  id: z.string().regex(NAME, "must be lowercase letters, digits, . _ -").optional(),
  key: SecretRef,
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  weight: z.number().int().min(1).max(1000).default(1),
  /** Azure OpenAI: api-version added when the request has none. */
  apiVersion: z.string().min(1).optional(),
  /** Azure OpenAI: deployment name per model, for members whose resources name them differently. */
  deployments: z.record(z.string(), z.string().regex(/^[A-Za-z0-9._-]+$/)).optional(),
});

const PoolSchema = z
  .strictObject({
    type: z.enum(PROVIDER_TYPES),
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    members: z.array(MemberSchema).min(1),
    /** Extra request headers allowed through, besides the provider's own list. */
    requestHeaders: z.array(z.string().regex(/^[a-z0-9-]+$/, "lowercase header name")).default([]),
    /** Extra response headers to drop (e.g. request ids tied to an account). */
    dropResponseHeaders: z.array(z.string().regex(/^[a-z0-9-]+$/, "lowercase header name")).default([]),
  })
  .superRefine((pool, ctx) => {
    const seen = new Set<string>();
    pool.members.forEach((member, i) => {
      const id = member.id ?? String(i);
      if (seen.has(id)) ctx.addIssue({ code: "custom", path: ["members", i, "id"], message: "duplicate member id" });
      seen.add(id);
      if (!member.baseUrl && !pool.baseUrl && !PROVIDERS[pool.type].defaultBaseUrl) {
        ctx.addIssue({ code: "custom", path: ["members", i, "baseUrl"], message: `${pool.type} needs a baseUrl` });
      }
    });
  });

const CompanionSchema = z.strictObject({
  id: z.string().regex(NAME, "must be lowercase letters, digits, . _ -"),
  secret: SecretRef,
  /** Pool names this companion may use; "*" for all. */
  pools: z.array(z.string().min(1)).min(1),
});

const SettingsSchema = z.strictObject({
  /** Upstream attempts per request, the first included. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** No new attempt starts after this long since the request arrived. */
  retryBudgetMs: z.number().int().min(100).default(30_000),
  /** Longest wait for upstream response headers (non-streamed answers arrive whole, so long). */
  headersTimeoutMs: z.number().int().min(100).default(300_000),
  /** 429 without a usable retry-after. */
  rateLimitCooldownMs: z.number().int().min(0).default(60_000),
  /** Upper bound on any retry-after we honour. */
  rateLimitCooldownMaxMs: z.number().int().min(0).default(3_600_000),
  /** 5xx / network / timeout: base · 2^(n-1), capped. */
  backoffBaseMs: z.number().int().min(0).default(1_000),
  backoffMaxMs: z.number().int().min(0).default(300_000),
  /** Failure score halves every this long. */
  failureHalfLifeMs: z.number().int().min(1_000).default(300_000),
  maxRequestBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
  /** Sent upstream instead of whatever the office's client said it was. */
  userAgent: z.string().min(1).max(200).default("ferry-edge/0.1"),
  /** Drop per-request id headers from responses (they can be traced to the account). */
  dropRequestIds: z.boolean().default(false),
});

const ConfigSchema = z
  .strictObject({
    pools: z.record(z.string().regex(NAME, "pool names must be lowercase letters, digits, . _ -"), PoolSchema),
    companions: z.array(CompanionSchema).min(1),
    settings: SettingsSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    config.companions.forEach((companion, i) => {
      if (ids.has(companion.id)) ctx.addIssue({ code: "custom", path: ["companions", i, "id"], message: "duplicate companion id" });
      ids.add(companion.id);
      companion.pools.forEach((pool, j) => {
        if (pool !== "*" && !(pool in config.pools)) {
          ctx.addIssue({ code: "custom", path: ["companions", i, "pools", j], message: "names no configured pool" });
        }
      });
    });
  });

export type Settings = z.output<typeof SettingsSchema>;

export interface Member {
  id: string;
  key: string;
  baseUrl: URL;
  weight: number;
  apiVersion?: string;
  deployments?: Record<string, string>;
  /** Changes when the key or host changes: a member disabled for 401/403 comes back then. */
  fingerprint: string;
}

export interface Pool {
  name: string;
  type: ProviderType;
  members: Member[];
  requestHeaders: ReadonlySet<string>;
  dropResponseHeaders: ReadonlySet<string>;
}

export interface Companion {
  id: string;
  secret: string;
  pools: ReadonlySet<string> | "*";
}

export interface EdgeConfig {
  pools: ReadonlyMap<string, Pool>;
  companions: ReadonlyMap<string, Companion>;
  settings: Settings;
}

const MIN_SECRET_LENGTH = 32;

/** Parses and resolves the config. Pure apart from hashing; callers cache the result. */
export async function loadConfig(env: Record<string, unknown>): Promise<Result<EdgeConfig, ConfigIssue[]>> {
  const raw = env.FERRY_CONFIG;
  if (typeof raw !== "string" || raw.trim() === "") {
    return err([{ path: "FERRY_CONFIG", message: "secret is not set (see docs/edge-config.md)" }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The parser's message quotes the text around the error, which may be a key: say less.
    return err([{ path: "FERRY_CONFIG", message: "is not valid JSON" }]);
  }
  const parsed = ConfigSchema.safeParse(json);
  if (!parsed.success) {
    return err(parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })));
  }
  const issues: ConfigIssue[] = [];
  const resolve = (ref: z.output<typeof SecretRef>, path: string): string => {
    if (typeof ref === "string") return ref;
    const value = env[ref.env];
    if (typeof value !== "string" || value === "") {
      issues.push({ path, message: `refers to secret ${ref.env}, which is not set` });
      return "";
    }
    return value;
  };

  const pools = new Map<string, Pool>();
  for (const [name, pool] of Object.entries(parsed.data.pools)) {
    const spec = PROVIDERS[pool.type];
    const members: Member[] = [];
    for (const [i, m] of pool.members.entries()) {
      const key = resolve(m.key, `pools.${name}.members[${i}].key`);
      const baseUrl = new URL(m.baseUrl ?? pool.baseUrl ?? spec.defaultBaseUrl!);
      members.push({
        id: m.id ?? String(i),
        key,
        baseUrl,
        weight: m.weight,
        ...(m.apiVersion ? { apiVersion: m.apiVersion } : {}),
        ...(m.deployments ? { deployments: m.deployments } : {}),
        fingerprint: (await sha256Hex(new TextEncoder().encode(`${pool.type}\n${baseUrl.href}\n${key}`))).slice(0, 24),
      });
    }
    pools.set(name, {
      name,
      type: pool.type,
      members,
      requestHeaders: new Set(["content-type", "accept", ...spec.requestHeaders, ...pool.requestHeaders]),
      dropResponseHeaders: new Set(pool.dropResponseHeaders),
    });
  }
  const companions = new Map<string, Companion>();
  for (const [i, c] of parsed.data.companions.entries()) {
    const secret = resolve(c.secret, `companions[${i}].secret`);
    if (secret && secret.length < MIN_SECRET_LENGTH) {
      issues.push({ path: `companions[${i}].secret`, message: `must be at least ${MIN_SECRET_LENGTH} characters` });
    }
    companions.set(c.id, { id: c.id, secret, pools: c.pools.includes("*") ? "*" : new Set(c.pools) });
  }
  if (issues.length) return err(issues);
  return ok({ pools, companions, settings: parsed.data.settings });
}

let cache: { raw: unknown; result: Promise<Result<EdgeConfig, ConfigIssue[]>> } | undefined;

/** Secrets are fixed for an isolate's life (a new deploy starts new isolates): parse once. */
export function getConfig(env: Record<string, unknown>): Promise<Result<EdgeConfig, ConfigIssue[]>> {
  if (!cache || cache.raw !== env.FERRY_CONFIG) cache = { raw: env.FERRY_CONFIG, result: loadConfig(env) };
  return cache.result;
}

export function companionMayUse(companion: Companion, pool: string): boolean {
  return companion.pools === "*" || companion.pools.has(pool);
}

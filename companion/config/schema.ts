/**
 * The companion's configuration: one YAML file, validated with zod (docs/companion-config.md;
 * ferry.schema.json is generated from this for editors). Secrets are `${ENV}` references.
 * Defaults live here, with units in the names.
 */
import { z } from "zod";
import { LinkConfigSchema } from "../link/config.ts";

export const DIALECTS = ["anthropic", "openai", "gemini"] as const;
export type Dialect = (typeof DIALECTS)[number];
/** What a client may speak to the companion: the edge dialects, and Ollama's native API. */
export type ClientDialect = Dialect | "ollama";

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** `edge:<pool>/<model>` or `ollama:<model>`; model `*` keeps the requested name. */
export const TargetSchema = z.string().regex(/^(edge:[a-z0-9][a-z0-9._-]*\/.+|ollama:.+)$/, "must be edge:<pool>/<model> or ollama:<model>");

export const LimitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().min(1).optional(),
  requestsPerDay: z.number().int().min(1).optional(),
  tokensPerDay: z.number().int().min(1).optional(),
  concurrent: z.number().int().min(1).optional(),
});
export type Limits = z.output<typeof LimitsSchema>;

export const ProjectSchema = z.strictObject({
  id: z.string().regex(NAME, "lowercase letters, digits, . _ -"),
  /** One or more keys (several allow rotation without downtime); at least 24 characters. */
  keys: z.array(z.string().min(24, "project keys must be at least 24 characters")).min(1),
  /** Globs over requested model names; `*` for all. */
  allowedModels: z.array(z.string().min(1)).default(["*"]),
  limits: LimitsSchema.default({}),
});
export type Project = z.output<typeof ProjectSchema>;

export const EdgePoolSchema = z.strictObject({
  /** The API dialect the pool's provider speaks. */
  dialect: z.enum(DIALECTS),
  /** Azure OpenAI: chat goes to /openai/deployments/{model}/... with this api-version. */
  azureApiVersion: z.string().optional(),
  /**
   * The pool serves OpenAI's Responses API (api.openai.com does; most OpenAI-compatible hosts
   * do not). When false, Responses clients (Codex) are translated to Chat Completions.
   */
  responsesApi: z.boolean().default(false),
  /**
   * The pool serves Chat Completions (every OpenAI-compatible host does). When false, Chat
   * clients are translated to the Responses API (responsesApi must then be true).
   */
  chatApi: z.boolean().default(true),
  /**
   * Which OpenAI API the hub speaks to this pool for clients of other dialects (Anthropic,
   * Gemini, Ollama). Default: chat when the pool serves it, else responses. Responses carries
   * reasoning items across turns, which OpenAI's reasoning models prefer.
   */
  translateVia: z.enum(["chat", "responses"]).optional(),
});
export type EdgePool = z.output<typeof EdgePoolSchema>;

export const ScrubSchema = z.strictObject({
  /** Request headers allowed to leave, per target dialect, besides content-type and accept. */
  allowHeaders: z
    .strictObject({
      anthropic: z.array(z.string()).default(["anthropic-version", "anthropic-beta"]),
      openai: z.array(z.string()).default(["openai-beta"]),
      gemini: z.array(z.string()).default([]),
      ollama: z.array(z.string()).default([]),
    })
    .prefault({}),
  /** `anthropic-beta` entries removed (they name the client product, not a feature). */
  dropAnthropicBetas: z.array(z.string()).default(["claude-code-*"]),
  /** Claude Code's metadata.user_id (stable device id): "drop" or "keep". */
  metadataUserId: z.enum(["drop", "keep"]).default("drop"),
  /** Claude Code's first system block `x-anthropic-billing-header: ...`. */
  billingHeaderBlock: z.enum(["drop", "keep"]).default("drop"),
  /** Codex's client_metadata (installation, session, thread ids). */
  clientMetadata: z.enum(["drop", "keep"]).default("drop"),
  /** Codex's prompt_cache_key (its session id): a keyed hash keeps cache affinity without revealing it. */
  promptCacheKey: z.enum(["hash", "drop", "keep"]).default("hash"),
  /** Replace user names in home paths (/home/<u>, /Users/<u>, C:\Users\<u>) in text sent out. */
  redactHomePaths: z.boolean().default(true),
  /** Replacement for the user name in home paths. */
  homePathUser: z.string().default("user"),
  /** Replace the OS / kernel release line clients put in their environment blocks. */
  redactSystemDetails: z.boolean().default(true),
});
export type ScrubPolicy = z.output<typeof ScrubSchema>;

export const CompanionConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8080),
      maxBodyBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
      /** The user agent every request leaves with, instead of the client's. */
      gatewayUserAgent: z.string().min(1).default("ferry-companion/0.1"),
      /** Take the client IP for the audit log from x-forwarded-for (behind a trusted proxy only). */
      trustForwardedFor: z.boolean().default(false),
      /** Key for the status page and admin views; metrics and health need none. */
      adminKey: z.string().min(24).optional(),
    })
    .prefault({}),
  /** Omit for an office that uses only local models. */
  link: LinkConfigSchema.optional(),
  ollama: z
    .strictObject({
      baseUrl: z.url().default("http://127.0.0.1:11434"),
      headersTimeoutMs: z.number().int().min(100).default(300_000),
    })
    .optional(),
  /** Pools the edge offers this companion, and the dialect each speaks. */
  edgePools: z.record(z.string().regex(NAME), EdgePoolSchema).default({}),
  /** Model name or glob → ordered targets; the first that answers serves. */
  models: z.record(z.string().min(1), z.array(TargetSchema).min(1)).default({}),
  /** IANA time zone for the daily quota boundary. */
  timeZone: z.string().default("UTC"),
  projects: z.array(ProjectSchema).min(1),
  store: z
    .discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("sqlite"), path: z.string().default("data/ferry.db") }),
      z.strictObject({ kind: z.literal("redis"), url: z.string().default("redis://127.0.0.1:6379"), keyPrefix: z.string().default("ferry:") }),
    ])
    .prefault({ kind: "sqlite" }),
  audit: z
    .strictObject({
      path: z.string().default("data/audit.db"),
      /** Keep prompt and completion text in the audit log (off: only sizes). */
      recordContent: z.boolean().default(false),
    })
    .prefault({}),
  scrub: ScrubSchema.prefault({}),
  /** The dialect hub (translation between dialects). */
  hub: z
    .strictObject({
      /**
       * Features (globs over the hub's drop names, e.g. "tool.web_search", "part.document",
       * "request.*") whose loss would change the meaning for this office: instead of being
       * dropped and announced in x-ferry-dropped, the request is refused with a 400 in the
       * client's dialect naming the feature.
       */
      refuseDrops: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /**
   * Webhook notifications (companion/notify.ts): a key disabled at the edge, a pool with every
   * member cooling or disabled, the link down for `linkDownAfterMs`. Omit for none.
   */
  notify: z
    .strictObject({
      /** Receives POST {event, detail, time} as JSON; never a key. */
      webhookUrl: z.url({ protocol: /^https?$/ }),
      /** The link must be down this long before it is announced. */
      linkDownAfterMs: z.number().int().min(0).default(60_000),
      /** The same event about the same subject is sent at most once in this window. */
      minIntervalMs: z.number().int().min(0).default(300_000),
      /** How often the edge's pool health (/admin/pools) is polled. */
      pollIntervalMs: z.number().int().min(100).default(30_000),
      /** Per webhook POST. */
      timeoutMs: z.number().int().min(100).default(10_000),
    })
    .optional(),
  log: z.strictObject({ level: z.enum(["debug", "info", "warn", "error"]).default("info") }).prefault({}),
});

export type CompanionConfig = z.output<typeof CompanionConfigSchema>;
export type CompanionConfigInput = z.input<typeof CompanionConfigSchema>;

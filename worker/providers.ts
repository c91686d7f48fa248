import type { ErrorShape } from "../shared/error-shapes.ts";

/**
 * What the edge knows about each upstream API: where it lives, how the key is attached,
 * which request headers from the office may pass, and which response headers are dropped
 * because they reveal the account behind the key.
 */
export const PROVIDER_TYPES = ["openai", "anthropic", "gemini", "azure-openai", "openai-compatible"] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export type KeyPlacement = "bearer" | "x-api-key" | "x-goog-api-key" | "api-key";

export interface ProviderSpec {
  /** Null when each pool must name its own host (Azure resources, compatible hosts). */
  defaultBaseUrl: string | null;
  key: KeyPlacement;
  /** Request headers that pass besides `content-type` and `accept`; lowercase. */
  requestHeaders: readonly string[];
  /** Response headers never returned to the office; lowercase. */
  dropResponseHeaders: readonly string[];
  /** Headers that are per-request ids; dropped when `settings.dropRequestIds` is set. */
  requestIdHeaders: readonly string[];
  /** Query parameters removed before forwarding (Gemini's `?key=` must never travel). */
  dropQuery: readonly string[];
  errorShape: ErrorShape;
}

export const PROVIDERS: Record<ProviderType, ProviderSpec> = {
  openai: {
    defaultBaseUrl: "https://api.openai.com",
    key: "bearer",
    requestHeaders: ["openai-beta"],
    dropResponseHeaders: ["openai-organization", "openai-project"],
    requestIdHeaders: ["x-request-id"],
    dropQuery: [],
    errorShape: "openai",
  },
  anthropic: {
    defaultBaseUrl: "https://api.anthropic.com",
    key: "x-api-key",
    requestHeaders: ["anthropic-version", "anthropic-beta"],
    dropResponseHeaders: ["anthropic-organization-id"],
    requestIdHeaders: ["request-id", "x-request-id"],
    dropQuery: [],
    errorShape: "anthropic",
  },
  gemini: {
    defaultBaseUrl: "https://generativelanguage.googleapis.com",
    key: "x-goog-api-key",
    requestHeaders: [],
    dropResponseHeaders: [],
    requestIdHeaders: ["x-goog-request-id"],
    dropQuery: ["key"],
    errorShape: "gemini",
  },
  "azure-openai": {
    defaultBaseUrl: null,
    key: "api-key",
    requestHeaders: [],
    dropResponseHeaders: ["openai-organization", "openai-project", "azureml-model-session", "x-ms-client-request-id"],
    requestIdHeaders: ["x-request-id", "apim-request-id"],
    dropQuery: [],
    errorShape: "openai",
  },
  "openai-compatible": {
    defaultBaseUrl: null,
    key: "bearer",
    requestHeaders: [],
    dropResponseHeaders: ["openai-organization", "openai-project"],
    requestIdHeaders: ["x-request-id"],
    dropQuery: [],
    errorShape: "openai",
  },
};

/** Always dropped from responses: hop-by-hop, cookies, and framing the runtime redoes. */
export const ALWAYS_DROPPED_RESPONSE_HEADERS = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "content-encoding",
  "set-cookie",
  "alt-svc",
  "cf-ray",
  "server",
  "via",
] as const;

export function attachKey(headers: Headers, placement: KeyPlacement, key: string): void {
  switch (placement) {
    case "bearer":
      headers.set("authorization", `Bearer ${key}`);
      return;
    case "x-api-key":
    case "x-goog-api-key":
    case "api-key":
      headers.set(placement, key);
      return;
  }
}

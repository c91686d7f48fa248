/**
 * The companion's HTTP client for a local Ollama, on its native API: POST /api/chat,
 * POST /api/embed, GET /api/tags (shapes in ../hub/ollama/wire.ts). Answers come back as raw
 * fetch Responses so the caller streams the NDJSON body without buffering.
 *
 * Nothing from the client's request reaches Ollama but the translated body: the only header
 * set here is `content-type: application/json` and the gateway's user agent.
 *
 * Timeouts: `headersTimeoutMs` bounds the wait for the response headers (a model load counts);
 * once they are in, the body may take as long as it needs and only the caller's signal can stop
 * it. Undici's own defaults (headersTimeout and bodyTimeout, 300 s each) still apply under
 * global fetch.
 */
import type { OllamaChatRequest } from "../hub/ollama/wire.ts";

/** /api/embed request body (the hub's Ollama codec writes it). */
export type OllamaEmbedRequest = Record<string, unknown>;

/** GET /api/tags, as far as the companion reads it. */
export interface OllamaTags {
  models: { name: string; model?: string; modified_at?: string; size?: number; digest?: string; details?: Record<string, unknown> }[];
}

export interface OllamaClientOptions {
  baseUrl: string;
  headersTimeoutMs: number;
  /** Sent instead of fetch's default, like every other request that leaves the companion. */
  userAgent?: string;
}

/** A type literal (not an interface) so it fits readiness's `Record<string, unknown>` detail. */
export type OllamaReach = {
  ok: boolean;
  models?: string[];
  error?: string;
};

/** Readiness must answer quickly even when the chat timeout is minutes long. */
const REACH_TIMEOUT_MS = 3_000;

export class OllamaClient {
  readonly baseUrl: string;
  readonly headersTimeoutMs: number;
  private readonly userAgent: string | undefined;

  constructor(opts: OllamaClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.headersTimeoutMs = opts.headersTimeoutMs;
    this.userAgent = opts.userAgent;
  }

  /** POST /api/chat; the Response is unread (NDJSON when `body.stream`, else one JSON object). */
  chat(body: OllamaChatRequest, signal?: AbortSignal): Promise<Response> {
    return this.request("POST", "/api/chat", body, signal, this.headersTimeoutMs);
  }

  /** POST /api/embed; the Response is unread. */
  embed(body: OllamaEmbedRequest, signal?: AbortSignal): Promise<Response> {
    return this.request("POST", "/api/embed", body, signal, this.headersTimeoutMs);
  }

  /** GET /api/tags, parsed; throws on a non-2xx answer. */
  async tags(signal?: AbortSignal, timeoutMs = this.headersTimeoutMs): Promise<OllamaTags> {
    const res = await this.request("GET", "/api/tags", undefined, signal, timeoutMs);
    const text = await res.text();
    if (!res.ok) throw new Error(`Ollama answered ${res.status}: ${errorText(text)}`);
    const json = JSON.parse(text) as OllamaTags;
    return { ...json, models: Array.isArray(json?.models) ? json.models : [] };
  }

  /** For readiness: can Ollama be reached, and which models does it have. Never throws. */
  async reachable(): Promise<OllamaReach> {
    try {
      const tags = await this.tags(undefined, Math.min(this.headersTimeoutMs, REACH_TIMEOUT_MS));
      return { ok: true, models: tags.models.map((m) => m.name) };
    } catch (error) {
      return { ok: false, error: describe(error) };
    }
  }

  private async request(method: "GET" | "POST", path: string, body: unknown, signal: AbortSignal | undefined, headersTimeoutMs: number): Promise<Response> {
    // AbortSignal.timeout starts the clock; it is linked only until the headers arrive, so a
    // long stream is not cut at headersTimeoutMs. The caller's signal stays linked throughout
    // (AbortSignal.any), so aborting it also cancels a body being read.
    const timeout = AbortSignal.timeout(headersTimeoutMs);
    const headersPhase = new AbortController();
    const onTimeout = () => headersPhase.abort(timeout.reason);
    timeout.addEventListener("abort", onTimeout, { once: true });
    const combined = signal ? AbortSignal.any([signal, headersPhase.signal]) : headersPhase.signal;
    const headers: Record<string, string> = this.userAgent ? { "user-agent": this.userAgent } : {};
    const init: RequestInit = { method, signal: combined, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      return await fetch(`${this.baseUrl}${path}`, init);
    } finally {
      timeout.removeEventListener("abort", onTimeout);
    }
  }
}

function errorText(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown };
    if (typeof json?.error === "string") return json.error;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

/** "TypeError: fetch failed (ECONNREFUSED)" rather than a bare "fetch failed". */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = cause && typeof cause === "object" ? ((cause as { code?: unknown }).code ?? (cause as { message?: unknown }).message) : undefined;
  return `${error.name}: ${error.message}${code ? ` (${String(code)})` : ""}`;
}

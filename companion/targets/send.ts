/**
 * Sends a same-dialect call to an edge pool, or an Ollama client's chat to the local Ollama,
 * and hands back the answer unread: the client's request with only the model changed (the
 * scrubbing is done before). Other pairs of dialects go through the hub
 * (companion/hub/translate.ts).
 */
import type { Call } from "../pipeline.ts";
import type { Target } from "../routing.ts";
import type { Runtime } from "../runtime.ts";
import type { Usage, UsageTapDialect } from "../usage.ts";

/** What watching an answer's body tells: its usage, and whether a stream failed after its head. */
export interface AnswerTap {
  push(bytes: Uint8Array): void;
  end(): Usage;
  /** The error a stream ended with, once it has ended; null when it ended well. */
  failure(): string | null;
}

export interface TargetAnswer {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  streaming: boolean;
  usageDialect: UsageTapDialect;
  /** A failure worth trying the next target for (429, 5xx). */
  retryable: boolean;
  /** When the target measured usage itself (translated streams). */
  usage?: AnswerTap;
}

export interface Outbound {
  requestId: string;
  headers: [string, string][];
  body: unknown;
}

const DROP_RESPONSE = new Set(["content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "x-ferry-pool", "x-ferry-member", "x-ferry-attempts", "set-cookie"]);

function passHeaders(from: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of from) if (!DROP_RESPONSE.has(name)) out.append(name, value);
  return out;
}

const encoder = new TextEncoder();

export function usageDialectOf(call: Call): UsageTapDialect {
  switch (call.endpoint) {
    case "anthropic.messages":
    case "anthropic.count_tokens":
      return "anthropic";
    case "openai.chat":
      return "openai-chat";
    case "openai.responses":
      return "openai-responses";
    case "openai.completions":
      return "openai-completions";
    case "openai.embeddings":
      return "openai-embeddings";
    case "gemini.generate":
    case "gemini.stream":
    case "gemini.count_tokens":
    case "gemini.embed":
    case "gemini.batch_embed":
      return "gemini";
    case "ollama.chat":
      return "ollama";
    case "proxy":
      return call.dialect === "anthropic" ? "anthropic" : call.dialect === "gemini" ? "gemini" : "openai-chat";
  }
}

/** The native path (and query) of a same-dialect call on an edge pool. */
function edgePath(call: Call, target: Extract<Target, { kind: "edge" }>): { path: string; query: URLSearchParams } {
  const query = new URLSearchParams(call.query);
  const azure = target.azureApiVersion;
  const model = encodeURIComponent(target.model);
  const openai = (suffix: string) => {
    if (!azure) return `/v1/${suffix}`;
    query.set("api-version", query.get("api-version") ?? azure);
    return `/openai/deployments/${model}/${suffix}`;
  };
  switch (call.endpoint) {
    case "anthropic.messages":
      return { path: "/v1/messages", query };
    case "anthropic.count_tokens":
      return { path: "/v1/messages/count_tokens", query };
    case "openai.chat":
      return { path: openai("chat/completions"), query };
    case "openai.responses":
      return { path: "/v1/responses", query };
    case "openai.completions":
      return { path: openai("completions"), query };
    case "openai.embeddings":
      return { path: openai("embeddings"), query };
    case "gemini.generate":
      return { path: `/v1beta/models/${model}:generateContent`, query };
    case "gemini.stream":
      return { path: `/v1beta/models/${model}:streamGenerateContent`, query };
    case "gemini.count_tokens":
      return { path: `/v1beta/models/${model}:countTokens`, query };
    case "gemini.embed":
      return { path: `/v1beta/models/${model}:embedContent`, query };
    case "gemini.batch_embed":
      return { path: `/v1beta/models/${model}:batchEmbedContents`, query };
    case "ollama.chat":
      return { path: "/api/chat", query };
    case "proxy":
      return { path: call.proxy!.path, query };
  }
}

/**
 * Gemini names the model in the path; its embeddings bodies may name it again (`model`, and
 * each of `requests[].model`, which must match the path's): those become the target's too.
 */
function geminiBodyModel(call: Call, body: object, model: string): object {
  if (call.endpoint !== "gemini.embed" && call.endpoint !== "gemini.batch_embed") return body;
  const name = `models/${model}`;
  const b = body as Record<string, unknown>;
  const out: Record<string, unknown> = { ...b };
  if (typeof b.model === "string") out.model = name;
  if (Array.isArray(b.requests)) {
    out.requests = b.requests.map((r: unknown) => (r && typeof r === "object" && !Array.isArray(r) ? { ...r, model: name } : r));
  }
  return out;
}

/** An Ollama client's `/api/chat` to the local Ollama: its own body, the routed model. */
export async function sendToOllama(rt: Runtime, call: Call, target: Extract<Target, { kind: "ollama" }>, out: Outbound): Promise<TargetAnswer> {
  const res = await rt.ollama!.chat({ ...(out.body as object), model: target.model } as never, call.signal);
  return {
    status: res.status,
    headers: passHeaders(res.headers),
    body: res.body,
    streaming: call.stream,
    usageDialect: "ollama",
    retryable: res.status === 429 || res.status >= 500,
  };
}

/** A same-dialect call to an edge pool. */
export async function sendToTarget(rt: Runtime, call: Call, target: Extract<Target, { kind: "edge" }>, out: Outbound): Promise<TargetAnswer> {
  const { path, query } = edgePath(call, target);
  let body: Uint8Array | null;
  if (out.body && typeof out.body === "object") {
    const withModel = call.proxy ? out.body : call.dialect === "gemini" ? geminiBodyModel(call, out.body, target.model) : { ...(out.body as object), model: target.model };
    body = encoder.encode(JSON.stringify(withModel));
  } else {
    body = call.proxy?.raw ?? null;
  }
  const res = await rt.link!.send({
    requestId: out.requestId,
    method: call.proxy?.method ?? "POST",
    pool: target.pool,
    path,
    query: query.size ? `?${query}` : "",
    headers: [...out.headers, ["x-ferry-model", target.model]],
    body,
    signal: call.signal,
  });
  return {
    status: res.status,
    headers: passHeaders(res.headers),
    body: res.body,
    streaming: (res.headers.get("content-type") ?? "").includes("event-stream") || call.stream,
    usageDialect: usageDialectOf(call),
    retryable: res.status === 429 || res.status >= 500,
  };
}

/**
 * Sends one call to one target and hands back the answer unread. Same-dialect edge targets
 * get the client's request with only the model changed (and the scrubbing done before);
 * Ollama gets the OpenAI chat / embeddings call translated to its native API.
 */
import { NdjsonParser } from "../../shared/ndjson.ts";
import type { Call } from "../pipeline.ts";
import type { Target } from "../routing.ts";
import type { Runtime } from "../runtime.ts";
import type { Usage, UsageTapDialect } from "../usage.ts";
import {
  chatRequestToOllama,
  embeddingsRequestToOllama,
  ollamaChatToOpenAI,
  ollamaEmbedToOpenAI,
  OllamaToOpenAIStream,
} from "./ollama-translate.ts";

export type UsageDialect = UsageTapDialect;

export interface TargetAnswer {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  streaming: boolean;
  usageDialect: UsageDialect;
  /** A failure worth trying the next target for (429, 5xx). */
  retryable: boolean;
  /** When the target measured usage itself (translated streams). */
  usage?: { push(bytes: Uint8Array): void; end(): Usage };
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

export function usageDialectOf(call: Call): UsageDialect {
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

export async function sendToTarget(rt: Runtime, call: Call, target: Target, out: Outbound): Promise<TargetAnswer> {
  return target.kind === "edge" ? sendToEdge(rt, call, target, out) : sendToOllama(rt, call, target, out);
}

async function sendToEdge(rt: Runtime, call: Call, target: Extract<Target, { kind: "edge" }>, out: Outbound): Promise<TargetAnswer> {
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

async function sendToOllama(rt: Runtime, call: Call, target: Extract<Target, { kind: "ollama" }>, _out: Outbound): Promise<TargetAnswer> {
  const ollama = rt.ollama!;
  const body = (_out.body ?? {}) as Record<string, unknown>;
  if (call.endpoint === "openai.embeddings") {
    const encodingFormat = body.encoding_format === "base64" ? "base64" : "float";
    const res = await ollama.embed(embeddingsRequestToOllama(body as never, target.model), call.signal);
    return jsonAnswer(res, (json) => ollamaEmbedToOpenAI(json as never, target.model, { encodingFormat }), "openai-embeddings");
  }
  const request = chatRequestToOllama(body as never, target.model);
  const res = await ollama.chat(request, call.signal);
  if (!call.stream || !res.ok || !res.body) return jsonAnswer(res, (json) => ollamaChatToOpenAI(json as never, target.model), "openai-chat");

  // NDJSON in, OpenAI SSE out, one Ollama line at a time; usage read from the native lines.
  const includeUsage = Boolean((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage);
  const translator = new OllamaToOpenAIStream({ model: target.model, includeUsage, id: `chatcmpl-${out(_out.requestId)}`, created: Math.floor(Date.now() / 1000) });
  const parser = new NdjsonParser();
  const decoder = new TextDecoder();
  const usage: Usage = {};
  const observe = (items: ReturnType<NdjsonParser["push"]>): string[] => {
    const lines: string[] = [];
    for (const item of items) {
      if (!item.ok) continue;
      const obj = item.value as { done?: boolean; prompt_eval_count?: number; eval_count?: number };
      if (obj.done) {
        if (typeof obj.prompt_eval_count === "number") usage.inputTokens = obj.prompt_eval_count;
        if (typeof obj.eval_count === "number") usage.outputTokens = obj.eval_count;
      }
      lines.push(...translator.push(item.value as never));
    }
    return lines;
  };
  const reader = res.body.getReader();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            const lines = [...observe(parser.end()), ...translator.end()];
            if (lines.length) controller.enqueue(encoder.encode(lines.join("")));
            controller.close();
            return;
          }
          const lines = observe(parser.push(decoder.decode(value, { stream: true })));
          if (lines.length) {
            controller.enqueue(encoder.encode(lines.join("")));
            return;
          }
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return {
    status: 200,
    headers: new Headers({ "content-type": "text/event-stream", "cache-control": "no-cache" }),
    body: stream,
    streaming: true,
    usageDialect: "openai-chat",
    retryable: false,
    usage: { push: () => {}, end: () => usage },
  };
}

function out(requestId: string): string {
  return requestId.slice(0, 24);
}

async function jsonAnswer(res: Response, convert: (json: unknown) => unknown, usageDialect: UsageDialect): Promise<TargetAnswer> {
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // an error page, not JSON
  }
  if (!res.ok) {
    const message = (json as { error?: string } | null)?.error ?? `Ollama answered ${res.status}`;
    return {
      status: res.status,
      headers: new Headers({ "content-type": "application/json" }),
      body: new Response(JSON.stringify({ error: { message, type: "ollama_error", code: res.status, param: null } })).body,
      streaming: false,
      usageDialect,
      retryable: res.status >= 500,
    };
  }
  return {
    status: 200,
    headers: new Headers({ "content-type": "application/json" }),
    body: new Response(JSON.stringify(convert(json))).body,
    streaming: false,
    usageDialect,
    retryable: false,
  };
}

/**
 * Stand-in answers that FAIL or COUNT, in each provider's own wire shape (the golden examples in
 * companion/hub/<dialect>/fixtures/ are the model: error-*.json, stream-error.sse,
 * stream-failed.sse, chat-stream.error.ndjson), and the chain the error-status matrix runs on.
 *
 * - HTTP error bodies: Anthropic `{"type":"error","error":{"type","message"},"request_id"}`;
 *   OpenAI (chat and Responses) `{"error":{"message","type","param","code"}}`; Gemini
 *   `{"error":{"code","message","status"}}`; Ollama `{"error":"..."}`.
 * - Streams cut by an error after some text: Anthropic `event: error` (overloaded_error); OpenAI
 *   chat `data: {"error":{...}}` (no finish_reason, no [DONE]); Responses an `error` event, or
 *   `response.failed` with `response.error`; Gemini a `data: {"error":{...}}` chunk (no
 *   finishReason before it); Ollama an NDJSON line holding only `error`.
 * - Usage: one set of token facts (`TokenFacts`: totals, with the cached and reasoning parts)
 *   written in each dialect's own fields and by its own arithmetic — Anthropic `input_tokens`
 *   EXCLUDES cache reads and writes, `output_tokens` INCLUDES `output_tokens_details.thinking_tokens`
 *   (SDK `Usage`, `OutputTokensDetails`); OpenAI `prompt_tokens` / Responses `input_tokens` and
 *   Gemini `promptTokenCount` INCLUDE cached tokens; OpenAI `completion_tokens` / Responses
 *   `output_tokens` INCLUDE reasoning, Gemini `candidatesTokenCount` EXCLUDES `thoughtsTokenCount`;
 *   Ollama has only `prompt_eval_count` / `eval_count`.
 */
import type { HubDialect } from "../../companion/hub/codec.ts";
import { startChain, type Chain } from "./companion.ts";
import { TARGET_MODELS } from "./hub-chain.ts";
import { defaultChatReply, textStream, type StreamStep } from "./ollama.ts";
import {
  anthropicMessage,
  anthropicStreamFrames,
  geminiResponse,
  geminiStreamChunks,
  googleJson,
  openaiChatCompletion,
  openaiChatStreamFrames,
  openaiResponse,
  openaiResponsesStreamFrames,
  splitDeltas,
  sseFrame,
} from "./provider-mocks.ts";

type Json = Record<string, any>;

// ---------------------------------------------------------------------------------------------
// Token facts and each dialect's usage fields

/** What a target counted. `input` and `output` are totals; the parts are undefined where the dialect has no field. */
export interface TokenFacts {
  /** All input tokens, cached (read and written) included. */
  input: number;
  /** Input tokens read from the prompt cache. */
  cached?: number;
  /** Input tokens written to the prompt cache (Anthropic only). */
  cacheWrite?: number;
  /** All output tokens, reasoning included. */
  output: number;
  /** Output tokens spent on reasoning. */
  reasoning?: number;
}

/**
 * Messages API `usage`: input_tokens is what is neither read from nor written to the cache;
 * output_tokens_details.thinking_tokens is the reasoning part of output_tokens. `output`
 * overrides the output count (message_start's first token, which has no breakdown yet).
 */
export const anthropicWireUsage = (f: TokenFacts, output?: number) => ({
  input_tokens: f.input - (f.cached ?? 0) - (f.cacheWrite ?? 0),
  cache_creation_input_tokens: f.cacheWrite ?? 0,
  cache_read_input_tokens: f.cached ?? 0,
  cache_creation: { ephemeral_5m_input_tokens: f.cacheWrite ?? 0, ephemeral_1h_input_tokens: 0 },
  output_tokens: output ?? f.output,
  ...(output === undefined && f.reasoning !== undefined ? { output_tokens_details: { thinking_tokens: f.reasoning } } : {}),
  service_tier: "standard",
});

/** Chat Completions `usage` (CompletionUsage): prompt_tokens holds the cached ones, completion_tokens the reasoning ones. */
export const chatWireUsage = (f: TokenFacts) => ({
  prompt_tokens: f.input,
  completion_tokens: f.output,
  total_tokens: f.input + f.output,
  prompt_tokens_details: { cached_tokens: f.cached ?? 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: f.reasoning ?? 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
});

/** Responses `usage` (ResponseUsage): input_tokens holds the cached ones, output_tokens the reasoning ones. */
export const responsesWireUsage = (f: TokenFacts) => ({
  input_tokens: f.input,
  input_tokens_details: { cached_tokens: f.cached ?? 0 },
  output_tokens: f.output,
  output_tokens_details: { reasoning_tokens: f.reasoning ?? 0 },
  total_tokens: f.input + f.output,
});

/**
 * Gemini `usageMetadata`: promptTokenCount includes cachedContentTokenCount; candidatesTokenCount
 * does NOT include thoughtsTokenCount (totalTokenCount = prompt + candidates + thoughts).
 * `candidates` overrides the answer's count (the running totals of a stream).
 */
export const geminiWireUsage = (f: TokenFacts, candidates = f.output - (f.reasoning ?? 0)) => ({
  promptTokenCount: f.input,
  candidatesTokenCount: candidates,
  totalTokenCount: f.input + candidates + (f.reasoning ?? 0),
  ...(f.cached !== undefined ? { cachedContentTokenCount: f.cached } : {}),
  promptTokensDetails: [{ modality: "TEXT", tokenCount: f.input }],
  ...(f.cached !== undefined ? { cacheTokensDetails: [{ modality: "TEXT", tokenCount: f.cached }] } : {}),
  ...(f.reasoning !== undefined ? { thoughtsTokenCount: f.reasoning } : {}),
});

// ---------------------------------------------------------------------------------------------
// Rewriting rendered SSE frames

/** Parses one rendered frame (`event: X\ndata: {...}\n\n`) into its event name and JSON data. */
function parseFrame(frame: string): { event: string | null; data: unknown } {
  let event: string | null = null;
  let data = "";
  for (const line of frame.split(/\r?\n/)) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trimStart();
  }
  try {
    return { event, data: JSON.parse(data) };
  } catch {
    return { event, data };
  }
}

/** Rewrites the data of the frames `fn` returns a value for (others are kept byte for byte). */
function mapFrames(frames: string[], fn: (event: string | null, data: Json) => Json | undefined): string[] {
  return frames.map((frame) => {
    const { event, data } = parseFrame(frame);
    if (!data || typeof data !== "object") return frame;
    const next = fn(event, data as Json);
    return next === undefined ? frame : sseFrame(event, next);
  });
}

// ---------------------------------------------------------------------------------------------
// Answers that report usage

export function anthropicUsageMessage(model: string, text: string, f: TokenFacts) {
  return { ...anthropicMessage(model, { text }), usage: anthropicWireUsage(f) };
}

/** message_start has the input side (and the first output token); message_delta the cumulative output and its breakdown. */
export function anthropicUsageFrames(model: string, text: string, f: TokenFacts): string[] {
  return mapFrames(anthropicStreamFrames(model, { text, outputTokens: f.output }), (event, data) => {
    if (event === "message_start") return { ...data, message: { ...data.message, usage: anthropicWireUsage(f, 1) } };
    if (event === "message_delta") return { ...data, usage: { output_tokens: f.output, ...(f.reasoning !== undefined ? { output_tokens_details: { thinking_tokens: f.reasoning } } : {}) } };
    return undefined;
  });
}

export function chatUsageCompletion(model: string, text: string, f: TokenFacts) {
  return { ...openaiChatCompletion(model, { text }), usage: chatWireUsage(f) };
}

/** The usage chunk (empty choices) comes only when the request asked for stream_options.include_usage. */
export function chatUsageFrames(model: string, text: string, f: TokenFacts, includeUsage: boolean): string[] {
  return mapFrames(openaiChatStreamFrames(model, { text }, includeUsage), (_event, data) =>
    data.usage && typeof data.usage === "object" ? { ...data, usage: chatWireUsage(f) } : undefined,
  );
}

export function responsesUsageResponse(req: Json, text: string, f: TokenFacts) {
  return { ...openaiResponse(req, { text }), usage: responsesWireUsage(f) };
}

/** Usage is on response.completed only (created / in_progress have `usage: null`). */
export function responsesUsageFrames(req: Json, text: string, f: TokenFacts): string[] {
  return mapFrames(openaiResponsesStreamFrames(req, { text }), (event, data) =>
    event === "response.completed" ? { ...data, response: { ...data.response, usage: responsesWireUsage(f) } } : undefined,
  );
}

export function geminiUsageResponse(model: string, text: string, f: TokenFacts) {
  return { ...geminiResponse(model, { text }), usageMetadata: geminiWireUsage(f) };
}

/** `?alt=sse` chunks, each with the running usageMetadata; the last (finishReason STOP) has the totals. */
export function geminiUsageSseFrames(model: string, text: string, f: TokenFacts): string[] {
  const chunks = geminiStreamChunks(model, { text });
  const answer = f.output - (f.reasoning ?? 0);
  return chunks.map((c, i) => {
    const last = i === chunks.length - 1;
    const usage = geminiWireUsage(f, last ? answer : Math.max(1, Math.floor((answer * (i + 1)) / chunks.length) - 1));
    return `data: ${googleJson({ ...c, usageMetadata: usage })}\r\n\r\n`;
  });
}

export function ollamaUsageReply(model: string, text: string, f: TokenFacts) {
  return { ...defaultChatReply(model), message: { role: "assistant", content: text }, prompt_eval_count: f.input, eval_count: f.output };
}

export const ollamaUsageStream = (model: string, text: string, f: TokenFacts): StreamStep[] =>
  textStream(model, splitDeltas(text), { prompt_eval_count: f.input, eval_count: f.output });

// ---------------------------------------------------------------------------------------------
// Streams that fail after some text

/** The stream up to the text block's last delta, then `event: error` (docs: streaming, "Error events"). */
export function anthropicFailingFrames(model: string, text: string, error: { type: string; message: string }): string[] {
  const frames = anthropicStreamFrames(model, { text });
  const stop = frames.findIndex((f) => f.startsWith("event: content_block_stop"));
  return [...frames.slice(0, stop), sseFrame("error", { type: "error", error })];
}

/** The role chunk and the text deltas, then `data: {"error": {...}}`; no finish_reason, no [DONE]. */
export function chatFailingFrames(model: string, text: string, error: { message: string; type: string; param: null; code: string | null }): string[] {
  const frames = openaiChatStreamFrames(model, { text });
  return [...frames.slice(0, 1 + splitDeltas(text).length), sseFrame(null, { error })];
}

export type ResponsesFailure = { kind: "error"; code: string; message: string } | { kind: "failed"; code: string; message: string };

/**
 * created, in_progress, the message item and its text deltas, then either the `error` event
 * (flat: type, code, message, param — API reference ResponseErrorEvent) or `response.failed`
 * (the response with `status: "failed"` and `error: {code, message}`).
 */
export function responsesFailingFrames(req: Json, text: string, failure: ResponsesFailure): string[] {
  const frames = openaiResponsesStreamFrames(req, { text });
  const head = frames.slice(0, 4 + splitDeltas(text).length);
  const seq = head.length;
  if (failure.kind === "error") return [...head, sseFrame("error", { type: "error", code: failure.code, message: failure.message, param: null, sequence_number: seq })];
  const created = parseFrame(frames[0]!).data as Json;
  const response = { ...created.response, status: "failed", error: { code: failure.code, message: failure.message }, usage: null };
  return [...head, sseFrame("response.failed", { type: "response.failed", sequence_number: seq, response })];
}

/** Text chunks (no finishReason), then the error chunk Gemini sends mid-stream. */
export function geminiFailingSseFrames(model: string, text: string, error: { code: number; message: string; status: string }): string[] {
  const chunks = geminiStreamChunks(model, { text }).map((c) => ({ ...c, candidates: c.candidates.map(({ finishReason: _, ...rest }) => rest) }));
  return [...chunks, { error }].map((c) => `data: ${googleJson(c)}\r\n\r\n`);
}

/** Text lines (done: false), then a line holding only `error` (fixtures/chat-stream.error.ndjson). */
export const ollamaFailingStream = (model: string, text: string, message: string): StreamStep[] => [
  ...textStream(model, splitDeltas(text)).slice(0, -1),
  { json: { error: message } },
];

// ---------------------------------------------------------------------------------------------
// HTTP error bodies

export const anthropicErrorBody = (type: string, message: string) => ({ type: "error", error: { type, message }, request_id: "req_011CSHoEeqs5C35K2UUqR7Fy" });
export const openaiErrorBody = (message: string, type: string, param: string | null, code: string | null) => ({ error: { message, type, param, code } });
export const geminiErrorBody = (code: number, status: string, message: string) => ({ error: { code, message, status } });
export const ollamaErrorBody = (message: string) => ({ error: message });

// ---------------------------------------------------------------------------------------------
// The chain for error statuses

/**
 * The edge cools a pool member down per (member, model) after a 429 (for its retry-after) and
 * after a 5xx: every later request for that model, within the cool-down, is answered by the edge
 * itself without reaching the upstream. So that every case gets the TARGET's own answer, each
 * (client, target, status) has a model of its own here, routed to a target model of its own.
 * Ollama is served from the stand-in upstream too (prefix /oll), which can send headers.
 */
export const errorModel = (client: HubDialect, target: HubDialect, status: number) => `fail-${client}-${target}-${status}`;
export const errorTargetModel = (client: HubDialect, target: HubDialect, status: number) => `${TARGET_MODELS[target]}-${client}-${status}`;

const POOL_OF: Record<Exclude<HubDialect, "ollama">, string> = { anthropic: "anthropic", "openai-chat": "openai", "openai-responses": "responses", gemini: "gemini" };
export const ERROR_PREFIX: Record<HubDialect, string> = { anthropic: "/ant", "openai-chat": "/oai", "openai-responses": "/rsp", gemini: "/gem", ollama: "/oll" };

export function startErrorChain(key: string, clients: readonly HubDialect[], targets: readonly HubDialect[], statuses: readonly number[], project: string): Promise<Chain> {
  const models: Record<string, string[]> = {};
  for (const client of clients) {
    for (const target of targets) {
      for (const status of statuses) {
        models[errorModel(client, target, status)] = [target === "ollama" ? `ollama:${errorTargetModel(client, target, status)}` : `edge:${POOL_OF[target]}/${errorTargetModel(client, target, status)}`];
      }
    }
  }
  return startChain({
    pools: {
      anthropic: { type: "anthropic", prefix: ERROR_PREFIX.anthropic },
      openai: { type: "openai", prefix: ERROR_PREFIX["openai-chat"] },
      responses: { type: "openai", prefix: ERROR_PREFIX["openai-responses"] },
      gemini: { type: "gemini", prefix: ERROR_PREFIX.gemini },
    },
    companion: ({ up }) => ({
      ollama: { baseUrl: `${up.url}${ERROR_PREFIX.ollama}` },
      edgePools: {
        anthropic: { dialect: "anthropic" },
        openai: { dialect: "openai" },
        responses: { dialect: "openai", responsesApi: true, chatApi: false },
        gemini: { dialect: "gemini" },
      },
      models,
      projects: [{ id: project, keys: [key] }],
    }),
  });
}

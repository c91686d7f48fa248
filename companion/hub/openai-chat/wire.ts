/**
 * Shared pieces of the OpenAI Chat Completions codec: type guards, stop-reason, usage and
 * error mappings, data URLs, and the drop list.
 *
 * Field names follow the official SDK types (node_modules/openai/src/resources/chat/
 * completions/completions.ts and resources/completions.ts, openai 7.57).
 */
import { errorBody } from "../../../shared/error-shapes.ts";
import type { IrDrop, IrEvent, IrStopReason, IrUsage } from "../ir.ts";

export type Json = Record<string, unknown>;

/** Thrown inside decoders for input that cannot be read; caught at the entry point and returned as a value. */
export class BadRequest {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** Thrown inside decoders for input that is valid but cannot be translated. */
export class Unsupported {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

export function fail(message: string): never {
  throw new BadRequest(message);
}

export function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `null` counts as absent: the SDK types make most parameters `T | null`. */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

import { Drops } from "../drops.ts";
export { Drops };

/**
 * Parts of a chat answer the IR has no place for (whole `message`, or a streamed `delta` whose
 * drops are announced into `stream`):
 * url_citation annotations (search models), audio output, images some hosts return.
 */
export function answerExtras(m: Json, drops: Drops, stream?: IrEvent[]): void {
  // Nearly every delta has none of these: nothing to build for it.
  if (m.annotations === undefined && m.audio === undefined && m.images === undefined) return;
  const record = (feature: string, reason: string) => (stream ? drops.announce(stream, feature, reason) : drops.add(feature, reason));
  if (Array.isArray(m.annotations) && m.annotations.length > 0) record("response.annotations", "the IR has no citations: the text is kept, its annotations are not");
  if (present(m.audio)) record("response.audio", "the IR has no audio output");
  if (Array.isArray(m.images) && m.images.length > 0) record("response.images", "the IR has no generated images");
}

/**
 * finish_reason → IR. `stop` is refined by what the answer held: some compatible hosts
 * (Gemini's OpenAI layer, older vLLM) answer `stop` after tool calls, and vLLM names the
 * matched stop string in the choice's `stop_reason` ("the stop string or token id that caused
 * the completion to stop", vllm/entrypoints/openai/protocol.py).
 * `error` is OpenRouter's finish reason for an answer cut by an error (its "Streaming Error
 * Formats", https://openrouter.ai/docs/api/reference/errors-and-debugging).
 */
export function decodeFinishReason(
  reason: unknown,
  seen: { toolCalls: boolean; refusal: boolean; stopString?: unknown },
): { stopReason: IrStopReason; stopSequence?: string } {
  switch (reason) {
    case "stop":
      if (seen.toolCalls) return { stopReason: "tool_use" };
      if (seen.refusal) return { stopReason: "refusal" };
      if (typeof seen.stopString === "string" && seen.stopString !== "") return { stopReason: "stop_sequence", stopSequence: seen.stopString };
      return { stopReason: "end_turn" };
    case "length":
      return { stopReason: "max_tokens" };
    case "tool_calls":
    case "function_call":
      return { stopReason: "tool_use" };
    case "content_filter":
      return { stopReason: "content_filter" };
    case "error":
      return { stopReason: "error" };
    default:
      return { stopReason: "other" };
  }
}

/**
 * IR → finish_reason. Chat Completions has five values (SDK `ChatCompletion.Choice`);
 * `refusal` (Anthropic's classifier stop) is closest to `content_filter`, a stop sequence is
 * `stop` (the wire cannot name it), and an answer cut by an error is OpenRouter's `error`.
 */
export function encodeFinishReason(stop: IrStopReason): string {
  switch (stop) {
    case "end_turn":
    case "stop_sequence":
    case "other":
      return "stop";
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "content_filter":
    case "refusal":
      return "content_filter";
    case "error":
      return "error";
  }
}

/**
 * `usage` → IR. `prompt_tokens` already counts cached tokens and `completion_tokens` the
 * reasoning ones (SDK `CompletionUsage`), as the IR wants. DeepSeek reports cache hits as
 * `prompt_cache_hit_tokens` instead (https://api-docs.deepseek.com/guides/kv_cache).
 */
export function decodeUsage(u: unknown): IrUsage | undefined {
  if (!isRecord(u)) return undefined;
  const out: IrUsage = {};
  if (isFiniteNumber(u.prompt_tokens)) out.inputTokens = u.prompt_tokens;
  if (isFiniteNumber(u.completion_tokens)) out.outputTokens = u.completion_tokens;
  const pd = u.prompt_tokens_details;
  if (isRecord(pd) && isFiniteNumber(pd.cached_tokens)) out.cachedInputTokens = pd.cached_tokens;
  else if (isFiniteNumber(u.prompt_cache_hit_tokens)) out.cachedInputTokens = u.prompt_cache_hit_tokens;
  if (isRecord(pd) && isFiniteNumber(pd.cache_write_tokens)) out.cacheCreationInputTokens = pd.cache_write_tokens;
  const cd = u.completion_tokens_details;
  if (isRecord(cd) && isFiniteNumber(cd.reasoning_tokens)) out.reasoningTokens = cd.reasoning_tokens;
  return out;
}

export function encodeUsage(u: IrUsage | undefined): Json {
  const prompt = u?.inputTokens ?? 0;
  const completion = u?.outputTokens ?? 0;
  const out: Json = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (u?.cachedInputTokens !== undefined || u?.cacheCreationInputTokens !== undefined) {
    const details: Json = {};
    if (u.cachedInputTokens !== undefined) details.cached_tokens = u.cachedInputTokens;
    if (u.cacheCreationInputTokens !== undefined) details.cache_write_tokens = u.cacheCreationInputTokens;
    out.prompt_tokens_details = details;
  }
  if (u?.reasoningTokens !== undefined) out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens };
  return out;
}

export function mergeUsage(into: IrUsage, u: IrUsage | undefined): IrUsage {
  return u ? { ...into, ...u } : into;
}

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  invalid_api_key: 401,
  permission_error: 403,
  permission_denied: 403,
  not_found_error: 404,
  model_not_found: 404,
  rate_limit_exceeded: 429,
  rate_limit_error: 429,
  insufficient_quota: 429,
  requests: 429,
  tokens: 429,
  server_error: 500,
  api_error: 500,
  overloaded_error: 503,
  service_unavailable: 503,
};

/**
 * An OpenAI error object (`{message, type, param, code}`, https://platform.openai.com/docs/guides/error-codes)
 * → status, code, message. OpenRouter puts the HTTP status in a numeric `code`
 * (https://openrouter.ai/docs/api/reference/errors-and-debugging); vLLM sends `{object: "error", message, type, code}` flat.
 */
export function decodeErrorObject(e: unknown, fallbackStatus = 500): { status: number; code: string; message: string } {
  if (typeof e === "string") return { status: fallbackStatus, code: "upstream_error", message: e };
  if (!isRecord(e)) return { status: fallbackStatus, code: "upstream_error", message: "the upstream reported an error" };
  const message = typeof e.message === "string" ? e.message : "the upstream reported an error";
  const type = typeof e.type === "string" ? e.type : undefined;
  const code = typeof e.code === "string" && e.code !== "" ? e.code : undefined;
  let status = fallbackStatus;
  if (isFiniteNumber(e.code) && e.code >= 400 && e.code <= 599) status = e.code;
  else if (isFiniteNumber(e.status) && e.status >= 400 && e.status <= 599) status = e.status;
  else if (code && STATUS_BY_TYPE[code] !== undefined) status = STATUS_BY_TYPE[code];
  else if (type && STATUS_BY_TYPE[type] !== undefined) status = STATUS_BY_TYPE[type];
  return { status, code: code ?? type ?? "upstream_error", message };
}

/** A whole error body (`{"error": {...}}`) as read from a target; null when the body is no error. */
export function decodeErrorBody(body: unknown, status?: number): { status: number; code: string; message: string } | null {
  if (!isRecord(body)) return null;
  if (present(body.error)) return decodeErrorObject(body.error, status);
  if (body.object === "error") return decodeErrorObject(body, status);
  return null;
}

/** The error body Ferry answers in this dialect (same shape as the edge's, shared/error-shapes.ts). */
export function encodeErrorBody(status: number, code: string, message: string): unknown {
  return errorBody("openai", status, code, message);
}

/** `data:<media type>;base64,<data>` → its parts; null for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | null {
  if (!url.startsWith("data:")) return null;
  const comma = url.indexOf(",");
  if (comma === -1) return null;
  const meta = url.slice(5, comma);
  if (!meta.endsWith(";base64")) return null;
  return { mediaType: meta.slice(0, -7) || "application/octet-stream", data: url.slice(comma + 1) };
}

export function dataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

/**
 * Models served by OpenAI itself. They never return `reasoning_content`, and their request
 * validation has rejected unknown message properties ("Additional properties are not allowed
 * ('…' was unexpected) - 'messages.N'", github.com/openai/openai-node/issues/1161); reasoning
 * models there also reject `max_tokens` in favour of `max_completion_tokens`.
 */
export function isOpenAiFirstParty(model: string): boolean {
  return /^(gpt-|o\d|chatgpt-|codex-|computer-use-)/i.test(model);
}

let idCounter = 0;

/** A tool-call id for wires that carry none: `call_<n>_<random>`, unique within the process. */
export function generateCallId(): string {
  idCounter++;
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  let rand = "";
  for (const b of bytes) rand += b.toString(16).padStart(2, "0");
  return `call_${idCounter}_${rand}`;
}

/**
 * Anthropic Messages wire helpers shared by the request, response and stream codecs: readers
 * for untrusted JSON (they never throw: a wrong type reads as `undefined`), the drop list, and
 * the tables between the wire's stop reasons, usage, cache markers and error types and the IR's.
 *
 * Field names follow the Messages API reference (https://docs.claude.com/en/api/messages) and
 * the official SDK's types (@anthropic-ai/sdk 1.x, resources/messages/messages.d.ts).
 */
import type { IrCacheControl, IrDrop, IrStopReason, IrUsage } from "../ir.ts";

/**
 * The tool the encoder forces when the IR asks for JSON output (Anthropic has no
 * `response_format`): its input is the JSON answer. Decoders turn a `tool_use` of this name
 * back into a text part holding that JSON, so a client never sees the tool.
 */
export const FERRY_JSON_TOOL = "ferry_json_response";

export type Json = Record<string, unknown>;

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A token count: a finite, non-negative number (else undefined). */
export function count(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n >= 0 ? n : undefined;
}

import { Drops } from "../drops.ts";
export { Drops };

export const CITATIONS_DROPPED = "the IR has no citations: the text is kept, its source references are not";

/** A content block the IR has no part for (server_tool_use, web_search_tool_result, newer kinds). */
export const blockDropped = (type: unknown): [string, string] => [`response.block.${String(type)}`, `the answer's ${String(type)} block has no equivalent in the hub; it was left out`];

/** A request the codec refuses: thrown out of deep helpers and caught once at the codec's edge. */
export class Refusal {
  readonly code: "bad_request" | "unsupported";
  readonly message: string;
  constructor(message: string, code: "bad_request" | "unsupported" = "bad_request") {
    this.code = code;
    this.message = message;
  }
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Cache markers

/** `cache_control` → IR. Only `ephemeral` exists (CacheControlEphemeral: type, optional ttl "5m" | "1h"). */
export function readCacheControl(v: unknown, where: string, drops: Drops): IrCacheControl | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v) || v.type !== "ephemeral") {
    drops.add(`${where}.cache_control`, "only ephemeral cache markers are known");
    return undefined;
  }
  const ttl = str(v.ttl);
  return ttl !== undefined ? { type: "ephemeral", ttl } : { type: "ephemeral" };
}

export function writeCacheControl(c: IrCacheControl | undefined): { cache_control?: Json } {
  if (!c) return {};
  return { cache_control: c.ttl !== undefined ? { type: "ephemeral", ttl: c.ttl } : { type: "ephemeral" } };
}

// ---------------------------------------------------------------------------------------------
// Stop reasons (Message.stop_reason; SDK StopReason)

export function readStopReason(v: unknown): IrStopReason {
  switch (v) {
    case "end_turn":
    case "max_tokens":
    case "stop_sequence":
    case "tool_use":
    case "refusal":
      return v;
    // "we exceeded the model's context window": the answer was cut for length, as with max_tokens.
    case "model_context_window_exceeded":
      return "max_tokens";
    // "pause_turn": a long server-tool turn was paused; the client may send it back to continue.
    default:
      return "other";
  }
}

export function writeStopReason(r: IrStopReason): string {
  switch (r) {
    case "end_turn":
    case "max_tokens":
    case "stop_sequence":
    case "tool_use":
    case "refusal":
      return r;
    case "content_filter":
      return "refusal";
    // No wire value says "cut off by an error" or "something else": the turn simply ended (a
    // mid-stream failure is reported by the `error` event itself).
    case "error":
    case "other":
      return "end_turn";
  }
}

// ---------------------------------------------------------------------------------------------
// Usage. On the wire `input_tokens` excludes cache reads and writes ("Total input tokens in a
// request is the summation of input_tokens, cache_creation_input_tokens, and
// cache_read_input_tokens" — SDK Usage docs); the IR's inputTokens includes them.
// `output_tokens_details.thinking_tokens` is the reasoning part of output_tokens.

/** The wire's raw counters, as they accumulate over message_start and message_delta. */
export interface WireUsage {
  input?: number;
  cacheRead?: number;
  cacheCreation?: number;
  output?: number;
  thinking?: number;
}

/** Values present in `u` replace those in `into` (message_delta counters are cumulative; null keeps the old value). */
export function mergeWireUsage(into: WireUsage, u: unknown): WireUsage {
  if (!isObj(u)) return into;
  const details = isObj(u.output_tokens_details) ? u.output_tokens_details : {};
  return {
    input: count(u.input_tokens) ?? into.input,
    cacheRead: count(u.cache_read_input_tokens) ?? into.cacheRead,
    cacheCreation: count(u.cache_creation_input_tokens) ?? into.cacheCreation,
    output: count(u.output_tokens) ?? into.output,
    thinking: count(details.thinking_tokens) ?? into.thinking,
  };
}

export function toIrUsage(w: WireUsage): IrUsage {
  const out: IrUsage = {};
  if (w.input !== undefined || w.cacheRead !== undefined || w.cacheCreation !== undefined) {
    out.inputTokens = (w.input ?? 0) + (w.cacheRead ?? 0) + (w.cacheCreation ?? 0);
  }
  if (w.output !== undefined) out.outputTokens = w.output;
  if (w.cacheRead !== undefined) out.cachedInputTokens = w.cacheRead;
  if (w.cacheCreation !== undefined) out.cacheCreationInputTokens = w.cacheCreation;
  if (w.thinking !== undefined) out.reasoningTokens = w.thinking;
  return out;
}

/** The input side of IR usage in wire fields (input_tokens without the cached parts; cache counters when known). */
export function wireInputUsage(u: IrUsage | undefined): Json {
  const cacheRead = u?.cachedInputTokens;
  const cacheCreation = u?.cacheCreationInputTokens;
  const out: Json = { input_tokens: Math.max(0, (u?.inputTokens ?? 0) - (cacheRead ?? 0) - (cacheCreation ?? 0)) };
  if (cacheCreation !== undefined) out.cache_creation_input_tokens = cacheCreation;
  if (cacheRead !== undefined) out.cache_read_input_tokens = cacheRead;
  return out;
}

/** A whole-message `usage` object from IR usage. */
export function writeUsage(u: IrUsage | undefined): Json {
  const out: Json = { ...wireInputUsage(u), output_tokens: u?.outputTokens ?? 0 };
  if (u?.reasoningTokens !== undefined) out.output_tokens_details = { thinking_tokens: u.reasoningTokens };
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors: `{"type":"error","error":{"type":"…","message":"…"}}`, over HTTP and as the stream's
// `event: error`. Types and statuses from https://docs.claude.com/en/api/errors (HTTP errors).

const ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export function errorStatus(type: string): number {
  return ERROR_STATUS[type] ?? 500;
}

/** The wire error type for an IR error: its code when that is an Anthropic type, else by status. */
export function errorType(status: number, code: string): string {
  if (code in ERROR_STATUS) return code;
  for (const [type, s] of Object.entries(ERROR_STATUS)) if (s === status) return type;
  if (status === 503) return "overloaded_error";
  return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
}

export function errorBody(type: string, message: string): Json {
  return { type: "error", error: { type, message } };
}

// ---------------------------------------------------------------------------------------------
// UTF-8 ⇄ base64, for plain-text documents (the IR carries document bytes as base64). Web-standard.

export function utf8ToBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function base64ToUtf8(data: string): string | undefined {
  try {
    const binary = atob(data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

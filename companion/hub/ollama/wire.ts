/**
 * Ollama's native wire shapes (/api/chat, /api/embed) and the small pure helpers the codec
 * shares. Facts are lifted from companion/targets/ollama-translate.ts (which cites them) and
 * re-checked; the sources named in comments across this folder are:
 *
 *  [O-API]    ollama/ollama docs/api.md, "Generate a chat completion" (fields, the
 *             "Streaming with tools", "With history, with tools", "Structured outputs",
 *             "with images", "Load a model" examples) and "Generate Embeddings".
 *  [O-CHAT]   docs.ollama.com/api/chat (OpenAPI reference: `think` is a boolean or a level
 *             string, `stream` "default: true", `logprobs`, `prompt_eval_cached_count`).
 *  [O-EMBED]  docs.ollama.com/api/embed (EmbedRequest: model, input, truncate, dimensions,
 *             keep_alive, options; EmbedResponse: model, embeddings, durations,
 *             prompt_eval_count).
 *  [O-ERR]    docs.ollama.com/api/errors: `{"error": "..."}` bodies; a mid-stream error is an
 *             NDJSON line holding only `error`, the HTTP status stays 200.
 *  [O-TYPES]  ollama/ollama api/types.go: Message{role, content, thinking, images,
 *             tool_calls, tool_name, tool_call_id}, ToolCall{id, function{index, name,
 *             arguments (an object)}}, Metrics with `omitempty` counters, roles lower-cased
 *             on unmarshal, unknown JSON fields ignored (Go encoding/json).
 *  [O-PROMPT] ollama/ollama server/prompt.go chatPrompt: a message's images are rendered as
 *             `[img-n]` tags *before* its content.
 *  [O-JS]     ollama/ollama-js src/interfaces.ts (Message, ToolCall, ChatRequest,
 *             ChatResponse, EmbedRequest with `think?: boolean | 'high' | 'medium' | 'low'`).
 */
import type { IrDrop, IrStopReason, IrUsage } from "../ir.ts";

// ───────────────────────────── shapes ─────────────────────────────

export interface OllamaToolCall {
  /** Recent servers send an id ([O-TYPES]); the public examples omit it. */
  id?: string;
  /** `arguments` is an object ([O-API]); a string only where the hub must pass on JSON text that is no object. */
  function: { index?: number; name: string; arguments: Record<string, unknown> | string };
}

export interface OllamaMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  thinking?: string;
  /** Bare base64, no data: prefix ([O-API] "with images"). */
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** [O-API] "add the name of the tool that was executed to inform the model of the result". */
  tool_name?: string;
  /** [O-TYPES]; older servers ignore it (unknown fields are skipped). */
  tool_call_id?: string;
}

export interface OllamaTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export interface OllamaOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  num_predict?: number;
  stop?: string[];
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

export type OllamaThink = boolean | "low" | "medium" | "high";

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  tools?: OllamaTool[];
  format?: "json" | Record<string, unknown>;
  options?: OllamaOptions;
  /** Always written: Ollama streams unless told otherwise ([O-CHAT] "stream boolean default:true"). */
  stream: boolean;
  think?: OllamaThink;
}

/** A whole /api/chat answer, or one NDJSON line of a streamed one. */
export interface OllamaChatChunk {
  model?: string;
  created_at?: string;
  message?: { role?: string; content?: string; thinking?: string; tool_calls?: OllamaToolCall[] };
  done?: boolean;
  done_reason?: string;
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_cached_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
  error?: string;
}

// ───────────────────────────── small helpers ─────────────────────────────

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function nonNegativeInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

import { addDrop } from "../drops.ts";
export { addDrop };

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/**
 * Tool-call ids for a wire that may carry none: `call_<n>_<random>`, the random part fixed per
 * generator so the ids of one request / answer / stream stay related and unique.
 */
export function toolCallIds(): () => string {
  const salt = randomToken(8);
  let n = 0;
  return () => `call_${n++}_${salt}`;
}

/**
 * The media type of bare base64 image data, from its first bytes (Ollama's wire has none).
 * PNG, JPEG, GIF and WebP are the formats multimodal targets take; anything else is called PNG.
 */
export function sniffImageType(base64: string): string {
  if (base64.startsWith("iVBORw0KGgo")) return "image/png";
  if (base64.startsWith("/9j/")) return "image/jpeg";
  if (base64.startsWith("R0lGOD")) return "image/gif";
  if (base64.startsWith("UklGR")) return "image/webp";
  return "image/png";
}

/** `data:<type>;base64,<data>` → its parts; null when `value` is not a base64 data: URL. */
export function parseDataUrl(value: string): { mediaType: string; data: string } | null {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(value);
  if (!match || !match[2]!.toLowerCase().split(";").includes("base64")) return null;
  return { mediaType: match[1]!.trim().toLowerCase(), data: match[3]!.replace(/\s+/g, "") };
}

/** JSON text → the object Ollama wants for tool-call arguments; "" reads as `{}`. */
export function argumentsObject(json: string): Record<string, unknown> | null {
  if (json.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(json);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** Ollama arguments (an object; some servers and clients send a JSON string) → JSON text. */
export function argumentsJson(args: unknown): string {
  if (typeof args === "string") return argumentsObject(args) ? args : JSON.stringify(args);
  if (args === undefined || args === null) return "{}";
  return JSON.stringify(args);
}

// ───────────────────────────── stop reasons and usage ─────────────────────────────

/**
 * Ollama `done_reason` → IR. [O-API]: "stop" (natural end or a stop sequence: Ollama does not
 * tell them apart), "length" (num_predict reached), "load" / "unload" (a call with no messages
 * only loads or unloads the model: nothing was cut short, so a natural end). Ollama reports
 * "stop" after tool calls too ("Streaming with tools" example), so tool calls turn "stop" into
 * tool_use. An absent reason on a done answer is a natural end; anything unknown is "other".
 */
export function stopReasonOf(doneReason: unknown, sawToolCalls: boolean): IrStopReason {
  switch (doneReason) {
    case undefined:
    case null:
    case "":
    case "stop":
    case "load":
    case "unload":
      return sawToolCalls ? "tool_use" : "end_turn";
    case "length":
      return "max_tokens";
    default:
      return "other";
  }
}

/**
 * IR → Ollama `done_reason`: natural ends, stop sequences and tool calls are all "stop" (as
 * Ollama itself reports them), max_tokens is "length". Ollama has no word for the others;
 * `done_reason` is a free string ([O-TYPES] `DoneReason string`), so the IR name goes out as it is
 * rather than pretending the answer ended normally.
 */
export function doneReasonOf(stop: IrStopReason): string {
  switch (stop) {
    case "end_turn":
    case "stop_sequence":
    case "tool_use":
      return "stop";
    case "max_tokens":
      return "length";
    default:
      return stop;
  }
}

/**
 * [O-API]: `prompt_eval_count` "number of tokens in the prompt", `eval_count` "number of tokens
 * in the response"; newer servers add `prompt_eval_cached_count` ([O-CHAT] "Number of prompt
 * tokens read from the cache"). The counters are `omitempty` ([O-TYPES] Metrics), so an absent
 * one stays unknown rather than 0. Ollama does not count reasoning tokens apart.
 */
export function usageOf(chunk: Record<string, unknown>): IrUsage {
  const usage: IrUsage = {};
  const input = nonNegativeInt(chunk.prompt_eval_count);
  if (input !== undefined) usage.inputTokens = input;
  const output = nonNegativeInt(chunk.eval_count);
  if (output !== undefined) usage.outputTokens = output;
  const cached = nonNegativeInt(chunk.prompt_eval_cached_count);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  return usage;
}

/** IR usage → the counters of a done line / whole answer. */
export function countersOf(usage: IrUsage): Pick<OllamaChatChunk, "prompt_eval_count" | "prompt_eval_cached_count" | "eval_count"> {
  const out: Pick<OllamaChatChunk, "prompt_eval_count" | "prompt_eval_cached_count" | "eval_count"> = {};
  if (usage.inputTokens !== undefined) out.prompt_eval_count = usage.inputTokens;
  if (usage.cachedInputTokens !== undefined) out.prompt_eval_cached_count = usage.cachedInputTokens;
  if (usage.outputTokens !== undefined) out.eval_count = usage.outputTokens;
  return out;
}

/** RFC 3339 timestamp for `created_at` ([O-API] e.g. "2023-12-12T14:13:43.416799Z"). */
export function createdAt(now: number): string {
  const d = new Date(now);
  return Number.isFinite(d.getTime()) ? d.toISOString() : new Date(0).toISOString();
}

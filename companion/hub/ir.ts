/**
 * The dialect hub's internal representation (IR): one shape for a conversation request, a
 * whole response, and a stream of response events. Each dialect has one codec to and from
 * this IR (companion/hub/<dialect>/), so N dialects need N codecs, not N² translators.
 *
 * Conventions, which every codec relies on:
 * - Content is a list of parts per message. Tool results are parts of a `user` message (as
 *   Anthropic and Gemini have them); OpenAI's `role: "tool"` messages and Ollama's become such
 *   parts, and back.
 * - Tool-call arguments are JSON *text* (what OpenAI sends), never parsed objects: codecs
 *   whose wire carries objects (Anthropic `input`, Gemini `args`, Ollama) stringify/parse.
 * - Reasoning ("thinking") is an assistant part with optional `signature` (Anthropic) /
 *   `redactedData` (Anthropic redacted_thinking) / `thoughtSignature` (Gemini, which attaches
 *   it to the following part: codecs carry it on the reasoning or tool_call part).
 * - Streams are content-block based (Anthropic's model): every part gets an `index` when it
 *   starts; deltas name that index; `block_stop` ends it. Encoders for dialects without
 *   blocks (OpenAI chat, Gemini, Ollama) keep their own state to map indices.
 * - Anything a codec cannot express is recorded in `dropped` (feature + reason), never
 *   silently lost; the pipeline reports it (audit, `x-ferry-dropped` header) or refuses.
 */

export type IrRole = "user" | "assistant";

export interface IrCacheControl {
  type: "ephemeral";
  ttl?: string;
}

export type IrImageSource = { kind: "base64"; mediaType: string; data: string } | { kind: "url"; url: string };

export type IrPart =
  | { type: "text"; text: string; cacheControl?: IrCacheControl }
  | { type: "image"; source: IrImageSource; cacheControl?: IrCacheControl }
  /** PDFs and other documents (Anthropic `document`, Gemini inlineData of non-image types). */
  | { type: "document"; source: IrImageSource; title?: string; cacheControl?: IrCacheControl }
  /** An assistant's call of a tool; `arguments` is JSON text. */
  | { type: "tool_call"; id: string; name: string; arguments: string; thoughtSignature?: string }
  /** The result of a tool call, sent back by the user side. */
  | { type: "tool_result"; toolCallId: string; name?: string; content: IrToolResultContent[]; isError?: boolean; cacheControl?: IrCacheControl }
  /** Model reasoning. `signature`/`redactedData` must come back unchanged on the next turn. */
  | { type: "reasoning"; text: string; signature?: string; redactedData?: string; thoughtSignature?: string };

export type IrToolResultContent = { type: "text"; text: string } | { type: "image"; source: IrImageSource };

export interface IrMessage {
  role: IrRole;
  content: IrPart[];
}

export interface IrTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  cacheControl?: IrCacheControl;
}

export type IrToolChoice = { type: "auto" } | { type: "none" } | { type: "required" } | { type: "tool"; name: string };

export type IrResponseFormat =
  | { type: "text" }
  /** Any JSON object (OpenAI json_object, Gemini responseMimeType application/json, Ollama format "json"). */
  | { type: "json" }
  /** JSON matching a schema (OpenAI json_schema, Gemini responseJsonSchema/responseSchema, Ollama format: schema). */
  | { type: "json_schema"; name?: string; schema: Record<string, unknown>; strict?: boolean };

export interface IrReasoningConfig {
  /** Off when false (e.g. Gemini thinkingBudget 0, OpenAI effort "none"). */
  enabled: boolean;
  /** Token budget (Anthropic thinking.budget_tokens, Gemini thinkingBudget). */
  budgetTokens?: number;
  /** OpenAI / Ollama effort levels. */
  effort?: "minimal" | "low" | "medium" | "high";
  /** Whether the client wants reasoning text returned (Gemini includeThoughts, Responses summary). */
  includeThoughts?: boolean;
}

export interface IrDrop {
  /** Dotted name of the feature, e.g. "request.logit_bias", "part.audio". */
  feature: string;
  reason: string;
}

export interface IrRequest {
  model: string;
  system: { text: string; cacheControl?: IrCacheControl }[];
  messages: IrMessage[];
  tools: IrTool[];
  toolChoice?: IrToolChoice;
  parallelToolCalls?: boolean;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseFormat?: IrResponseFormat;
  reasoning?: IrReasoningConfig;
  stream: boolean;
  /** Ask the target to report usage in the stream (OpenAI stream_options.include_usage). */
  streamUsage?: boolean;
  /** Features the decoder could not carry into the IR. */
  dropped: IrDrop[];
}

export type IrStopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "content_filter"
  | "refusal"
  /** The answer was cut off by an error. */
  | "error"
  | "other";

export interface IrUsage {
  /** All input tokens, cached ones included. */
  inputTokens?: number;
  outputTokens?: number;
  /** Input tokens read from a cache (Anthropic cache_read, OpenAI cached_tokens, Gemini cachedContentTokenCount). */
  cachedInputTokens?: number;
  /** Input tokens written to a cache (Anthropic cache_creation_input_tokens). */
  cacheCreationInputTokens?: number;
  /** Output tokens spent on reasoning (part of outputTokens). */
  reasoningTokens?: number;
}

export interface IrResponse {
  id: string;
  model: string;
  /** Assistant parts: text, reasoning, tool_call. */
  content: IrPart[];
  stopReason: IrStopReason;
  stopSequence?: string;
  usage: IrUsage;
  /**
   * What the target answered that the IR cannot hold (server-tool blocks, citations, grounding,
   * generated media…), recorded by the target's decoder so the pipeline can announce or refuse it.
   */
  dropped?: IrDrop[];
}

export type IrEvent =
  | { type: "start"; id: string; model: string; usage?: IrUsage }
  /** A content block begins. For tool calls, `part` holds id and name with empty arguments. */
  | { type: "block_start"; index: number; part: IrPart }
  | { type: "text_delta"; index: number; text: string }
  | { type: "reasoning_delta"; index: number; text?: string; signature?: string }
  | { type: "tool_arguments_delta"; index: number; json: string }
  | { type: "block_stop"; index: number }
  /** Usage known mid-stream (may repeat; the latest values win). */
  | { type: "usage"; usage: IrUsage }
  | { type: "finish"; stopReason: IrStopReason; stopSequence?: string; usage?: IrUsage }
  /** Part of the target's stream the IR cannot hold was left out (encoders write nothing for it). */
  | { type: "dropped"; drop: IrDrop }
  /** The upstream failed mid-stream: encoders emit their dialect's own error event. */
  | { type: "error"; status: number; code: string; message: string };

export interface IrEmbeddingsRequest {
  model: string;
  inputs: string[];
  dimensions?: number;
  dropped: IrDrop[];
}

export interface IrEmbeddingsResponse {
  model: string;
  vectors: number[][];
  usage: IrUsage;
}

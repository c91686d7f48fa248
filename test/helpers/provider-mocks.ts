/**
 * Stand-in provider behaviours for test/helpers/upstream.ts that answer the way the real APIs
 * do on the wire, so the official SDKs (openai, @anthropic-ai/sdk, @google/genai) parse them:
 *
 * - Anthropic Messages: non-stream message object, or SSE with `event:` lines (message_start,
 *   content_block_start, ping, content_block_delta…, content_block_stop, message_delta,
 *   message_stop); `/v1/messages/count_tokens` answers `{"input_tokens": N}`.
 * - OpenAI chat completions, legacy completions (SSE `data:` chunks, `data: [DONE]`, a usage
 *   chunk with `choices: []` when `stream_options.include_usage`), Responses (SSE with `event:`
 *   lines and `sequence_number`, usage only on `response.completed`), embeddings (float or
 *   base64, as the request asks; the SDK asks for base64 unless told otherwise).
 * - Gemini generateContent, streamGenerateContent (`?alt=sse`: `data:` frames ended by CRLF
 *   CRLF, as Google sends them; no `alt`: one pretty-printed JSON array written piece by piece)
 *   and countTokens, all picked by the action in the URL.
 *
 * Realistic details a relay must cope with are kept on purpose: Anthropic's message_start
 * already reports `output_tokens: 1` (message_delta's count is the cumulative total, not an
 * increment), Gemini's streamed usageMetadata is a running total on every chunk, and OpenAI
 * stream chunks carry `obfuscation` padding and `usage: null` until the usage chunk.
 *
 * Every behaviour echoes the request's model (Gemini: the one in the URL), splits the text
 * into 3+ deltas (one write each, `delayMs` apart) and reports the given usage.
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { sleep, type Behaviour, type Recorded } from "./upstream.ts";

export interface MockOptions {
  /** Answer text; split into 3+ deltas when streamed. */
  text?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Pause between streamed writes (default 0: still one write per event). */
  delayMs?: number;
}

export interface EmbeddingOptions {
  /** Vector length; defaults to the request's `dimensions`, then 1536. */
  dims?: number;
  /** Usage reported (prompt_tokens = total_tokens); default 11. */
  inputTokens?: number;
}

export const DEFAULT_TEXT = "Hello from the stand-in";
export const DEFAULT_INPUT_TOKENS = 11;
export const DEFAULT_OUTPUT_TOKENS = 7;

interface Resolved {
  text: string;
  inputTokens: number;
  outputTokens: number;
  delayMs: number;
}

const resolve = (o: MockOptions = {}): Resolved => ({
  text: o.text ?? DEFAULT_TEXT,
  inputTokens: o.inputTokens ?? DEFAULT_INPUT_TOKENS,
  outputTokens: o.outputTokens ?? DEFAULT_OUTPUT_TOKENS,
  delayMs: o.delayMs ?? 0,
});

/** Splits text into word-like deltas (leading whitespace kept), at least `min` when it is long enough. */
export function splitDeltas(text: string, min = 3): string[] {
  if (text === "") return [];
  const words = text.split(/(?=\s)/);
  if (words.length >= min) return words;
  const chars = Array.from(text);
  if (chars.length <= min) return chars;
  const out: string[] = [];
  for (let i = 0; i < min; i++) {
    out.push(chars.slice(Math.floor((i * chars.length) / min), Math.floor(((i + 1) * chars.length) / min)).join(""));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Plumbing

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const base62 = (n: number) => Array.from(randomBytes(n), (b) => B62[b % 62]).join("");
const nowSeconds = () => Math.floor(Date.now() / 1000);

function parseJson(rec: Recorded): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(rec.body.toString("utf8") || "null");
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const pathOf = (rec: Recorded) => new URL(rec.url, "http://stand-in").pathname;

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(body);
}

/** One SSE frame: `event: X\ndata: {...}\n\n` (or just the data line when `event` is null). */
export const sseFrame = (event: string | null, data: unknown): string =>
  (event === null ? "" : `event: ${event}\n`) + `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

/**
 * Writes pre-rendered frames, one write each, `delayMs` apart. `cutAfter` destroys the socket
 * after that many frames (a mid-stream failure with realistic framing).
 */
export function streamFrames(
  frames: string[],
  opts: { contentType?: string; headers?: Record<string, string>; delayMs?: number; cutAfter?: number } = {},
): Behaviour {
  return async (_req, res) => {
    await writeFrames(res, frames, opts.contentType ?? "text/event-stream; charset=utf-8", opts);
  };
}

async function writeFrames(
  res: ServerResponse,
  frames: string[],
  contentType: string,
  opts: { headers?: Record<string, string>; delayMs?: number; cutAfter?: number } = {},
) {
  res.writeHead(200, { "content-type": contentType, "cache-control": "no-cache", ...opts.headers });
  res.flushHeaders();
  for (const [i, frame] of frames.entries()) {
    if (opts.cutAfter !== undefined && i >= opts.cutAfter) {
      await sleep(10);
      res.socket?.destroy();
      return;
    }
    if (i > 0 && opts.delayMs) await sleep(opts.delayMs);
    if (res.destroyed) return;
    res.write(frame);
  }
  res.end();
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

const anthropicHeaders = () => ({ "request-id": `req_011C${base62(20)}` });

function anthropicError(res: ServerResponse, status: number, type: string, message: string) {
  sendJson(res, status, JSON.stringify({ type: "error", error: { type, message }, request_id: `req_011C${base62(20)}` }), anthropicHeaders());
}

function anthropicUsage(inputTokens: number, outputTokens: number) {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: "standard",
  };
}

/** The non-streamed message object. */
export function anthropicMessage(model: string, o: MockOptions = {}, id = `msg_01${base62(22)}`) {
  const r = resolve(o);
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text: r.text }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: anthropicUsage(r.inputTokens, r.outputTokens),
  };
}

/** The SSE frames of a streamed message, each `event: X\ndata: {...}\n\n`. */
export function anthropicStreamFrames(model: string, o: MockOptions = {}, id = `msg_01${base62(22)}`): string[] {
  const r = resolve(o);
  const frame = (type: string, body: Record<string, unknown>) => sseFrame(type, { type, ...body });
  return [
    frame("message_start", {
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // The real API already counts the first output token here; message_delta then carries the total.
        usage: anthropicUsage(r.inputTokens, Math.min(1, r.outputTokens)),
      },
    }),
    frame("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    frame("ping", {}),
    ...splitDeltas(r.text).map((text) => frame("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
    frame("content_block_stop", { index: 0 }),
    frame("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: r.outputTokens } }),
    frame("message_stop", {}),
  ];
}

/** `POST /v1/messages/count_tokens` → `{"input_tokens": n}`. */
function anthropicCountTokens(n: number): Behaviour {
  return (_req, res, rec) => {
    if (!parseJson(rec)) return anthropicError(res, 400, "invalid_request_error", "Request body must be a JSON object");
    sendJson(res, 200, JSON.stringify({ input_tokens: n }), anthropicHeaders());
  };
}

/** `POST /v1/messages` (stream or not, by `stream: true`); also answers `/v1/messages/count_tokens` with `inputTokens`. */
function anthropicMessages(opts: MockOptions = {}): Behaviour {
  return async (req, res, rec) => {
    if (pathOf(rec).endsWith("/count_tokens")) return anthropicCountTokens(resolve(opts).inputTokens)(req, res, rec);
    const body = parseJson(rec);
    if (!body) return anthropicError(res, 400, "invalid_request_error", "Request body must be a JSON object");
    if (typeof body.model !== "string") return anthropicError(res, 400, "invalid_request_error", "model: Field required");
    if (body.stream === true) {
      await writeFrames(res, anthropicStreamFrames(body.model, opts), "text/event-stream; charset=utf-8", {
        headers: anthropicHeaders(),
        delayMs: resolve(opts).delayMs,
      });
      return;
    }
    sendJson(res, 200, JSON.stringify(anthropicMessage(body.model, opts)), anthropicHeaders());
  };
}

// ---------------------------------------------------------------------------------------------
// OpenAI

const openaiHeaders = () => ({ "x-request-id": `req_${hex(16)}`, "openai-processing-ms": "42", "openai-version": "2020-10-01" });

function openaiError(res: ServerResponse, status: number, message: string, param: string | null = null) {
  sendJson(res, status, JSON.stringify({ error: { message, type: "invalid_request_error", param, code: null } }), openaiHeaders());
}

const includeUsage = (body: Record<string, unknown>) =>
  (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;

/** Random padding the real API adds to stream events (`stream_options.include_obfuscation`). */
const obfuscation = () => base62(4 + (randomBytes(1)[0]! % 10));

function chatUsage(r: Resolved) {
  return {
    prompt_tokens: r.inputTokens,
    completion_tokens: r.outputTokens,
    total_tokens: r.inputTokens + r.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

export function openaiChatCompletion(model: string, o: MockOptions = {}) {
  const r = resolve(o);
  return {
    id: `chatcmpl-${base62(29)}`,
    object: "chat.completion",
    created: nowSeconds(),
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: r.text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: chatUsage(r),
    service_tier: "default",
    system_fingerprint: `fp_${hex(5)}`,
  };
}

/** `data:` frames of a streamed chat completion, ending with `data: [DONE]`. */
export function openaiChatStreamFrames(model: string, o: MockOptions = {}, withUsage = false): string[] {
  const r = resolve(o);
  const base = {
    id: `chatcmpl-${base62(29)}`,
    object: "chat.completion.chunk",
    created: nowSeconds(),
    model,
    service_tier: "default",
    system_fingerprint: `fp_${hex(5)}`,
  };
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseFrame(null, { ...base, choices, ...(withUsage ? { usage: null } : {}), ...extra, obfuscation: obfuscation() });
  const choice = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason });
  return [
    chunk([choice({ role: "assistant", content: "", refusal: null })]),
    ...splitDeltas(r.text).map((content) => chunk([choice({ content })])),
    chunk([choice({}, "stop")]),
    ...(withUsage ? [chunk([], { usage: chatUsage(r) })] : []),
    sseFrame(null, "[DONE]"),
  ];
}

/** `POST …/chat/completions`. */
function openaiChat(opts: MockOptions = {}): Behaviour {
  return async (_req, res, rec) => {
    const body = parseJson(rec);
    if (!body) return openaiError(res, 400, "We could not parse the JSON body of your request.");
    if (typeof body.model !== "string") return openaiError(res, 400, "you must provide a model parameter", "model");
    if (body.stream === true) {
      await writeFrames(res, openaiChatStreamFrames(body.model, opts, includeUsage(body)), "text/event-stream; charset=utf-8", {
        headers: openaiHeaders(),
        delayMs: resolve(opts).delayMs,
      });
      return;
    }
    sendJson(res, 200, JSON.stringify(openaiChatCompletion(body.model, opts)), openaiHeaders());
  };
}

function completionUsage(r: Resolved) {
  return { prompt_tokens: r.inputTokens, completion_tokens: r.outputTokens, total_tokens: r.inputTokens + r.outputTokens };
}

export function openaiTextCompletion(model: string, o: MockOptions = {}) {
  const r = resolve(o);
  return {
    id: `cmpl-${base62(29)}`,
    object: "text_completion",
    created: nowSeconds(),
    model,
    choices: [{ text: r.text, index: 0, logprobs: null, finish_reason: "stop" }],
    usage: completionUsage(r),
  };
}

export function openaiCompletionStreamFrames(model: string, o: MockOptions = {}, withUsage = false): string[] {
  const r = resolve(o);
  const base = { id: `cmpl-${base62(29)}`, object: "text_completion", created: nowSeconds() };
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseFrame(null, { ...base, choices, model, ...(withUsage ? { usage: null } : {}), ...extra });
  return [
    ...splitDeltas(r.text).map((text) => chunk([{ text, index: 0, logprobs: null, finish_reason: null }])),
    chunk([{ text: "", index: 0, logprobs: null, finish_reason: "stop" }]),
    ...(withUsage ? [chunk([], { usage: completionUsage(r) })] : []),
    sseFrame(null, "[DONE]"),
  ];
}

/** `POST …/completions` (legacy). */
function openaiCompletions(opts: MockOptions = {}): Behaviour {
  return async (_req, res, rec) => {
    const body = parseJson(rec);
    if (!body) return openaiError(res, 400, "We could not parse the JSON body of your request.");
    if (typeof body.model !== "string") return openaiError(res, 400, "you must provide a model parameter", "model");
    if (body.stream === true) {
      await writeFrames(res, openaiCompletionStreamFrames(body.model, opts, includeUsage(body)), "text/event-stream; charset=utf-8", {
        headers: openaiHeaders(),
        delayMs: resolve(opts).delayMs,
      });
      return;
    }
    sendJson(res, 200, JSON.stringify(openaiTextCompletion(body.model, opts)), openaiHeaders());
  };
}

function responsesUsage(r: Resolved) {
  return {
    input_tokens: r.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: r.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: r.inputTokens + r.outputTokens,
  };
}

function responseObject(
  req: Record<string, unknown>,
  ids: { id: string; createdAt: number },
  status: "in_progress" | "completed",
  output: unknown[],
  usage: unknown,
) {
  return {
    id: ids.id,
    object: "response",
    created_at: ids.createdAt,
    status,
    background: false,
    completed_at: status === "completed" ? nowSeconds() : null,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    max_tool_calls: null,
    model: req.model,
    output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    prompt_cache_key: null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: "default",
    store: req.store ?? true,
    temperature: req.temperature ?? 1,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: req.tool_choice ?? "auto",
    tools: req.tools ?? [],
    top_logprobs: 0,
    top_p: req.top_p ?? 1,
    truncation: "disabled",
    usage,
    user: null,
    metadata: req.metadata ?? {},
  };
}

const outputText = (text: string) => ({ type: "output_text", annotations: [], logprobs: [], text });
const outputMessage = (id: string, status: string, content: unknown[]) => ({ id, type: "message", status, content, role: "assistant" });

/** The non-streamed response object (`req` is the request body; its model and settings are echoed). */
export function openaiResponse(req: Record<string, unknown>, o: MockOptions = {}) {
  const r = resolve(o);
  return responseObject(
    req,
    { id: `resp_${hex(24)}`, createdAt: nowSeconds() },
    "completed",
    [outputMessage(`msg_${hex(24)}`, "completed", [outputText(r.text)])],
    responsesUsage(r),
  );
}

/** SSE frames of a streamed response: `event: response.X\ndata: {"type":"response.X","sequence_number":n,…}\n\n`. */
export function openaiResponsesStreamFrames(req: Record<string, unknown>, o: MockOptions = {}): string[] {
  const r = resolve(o);
  const ids = { id: `resp_${hex(24)}`, createdAt: nowSeconds() };
  const itemId = `msg_${hex(24)}`;
  let seq = 0;
  const frame = (type: string, body: Record<string, unknown>) => sseFrame(type, { type, sequence_number: seq++, ...body });
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  const doneItem = outputMessage(itemId, "completed", [outputText(r.text)]);
  return [
    frame("response.created", { response: responseObject(req, ids, "in_progress", [], null) }),
    frame("response.in_progress", { response: responseObject(req, ids, "in_progress", [], null) }),
    frame("response.output_item.added", { output_index: 0, item: outputMessage(itemId, "in_progress", []) }),
    frame("response.content_part.added", { ...at, part: outputText("") }),
    ...splitDeltas(r.text).map((delta) => frame("response.output_text.delta", { ...at, delta, logprobs: [], obfuscation: obfuscation() })),
    frame("response.output_text.done", { ...at, text: r.text, logprobs: [] }),
    frame("response.content_part.done", { ...at, part: outputText(r.text) }),
    frame("response.output_item.done", { output_index: 0, item: doneItem }),
    frame("response.completed", { response: responseObject(req, ids, "completed", [doneItem], responsesUsage(r)) }),
  ];
}

/** `POST …/responses`. */
function openaiResponses(opts: MockOptions = {}): Behaviour {
  return async (_req, res, rec) => {
    const body = parseJson(rec);
    if (!body) return openaiError(res, 400, "We could not parse the JSON body of your request.");
    if (typeof body.model !== "string") return openaiError(res, 400, "Missing required parameter: 'model'.", "model");
    if (body.stream === true) {
      await writeFrames(res, openaiResponsesStreamFrames(body, opts), "text/event-stream; charset=utf-8", {
        headers: openaiHeaders(),
        delayMs: resolve(opts).delayMs,
      });
      return;
    }
    sendJson(res, 200, JSON.stringify(openaiResponse(body, opts)), openaiHeaders());
  };
}

/** A deterministic unit vector per (input, index). */
function embeddingVector(seedText: string, index: number, dims: number): Float32Array {
  let h = 2166136261 ^ index;
  for (const ch of seedText) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) ^ i;
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    v[i] = ((h >>> 0) / 4294967296) * 2 - 1;
    norm += v[i]! * v[i]!;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] = v[i]! / norm;
  return v;
}

/** `POST …/embeddings`: one embedding per input; base64 (little-endian float32) when `encoding_format: "base64"`. */
function openaiEmbeddings(opts: EmbeddingOptions = {}): Behaviour {
  return (_req, res, rec) => {
    const body = parseJson(rec);
    if (!body) return openaiError(res, 400, "We could not parse the JSON body of your request.");
    if (typeof body.model !== "string") return openaiError(res, 400, "you must provide a model parameter", "model");
    const input = body.input;
    const inputs: unknown[] =
      Array.isArray(input) && input.length > 0 && (typeof input[0] === "string" || Array.isArray(input[0])) ? input : [input];
    if (input === undefined || input === "" || (Array.isArray(input) && input.length === 0)) {
      return openaiError(res, 400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input");
    }
    const dims = opts.dims ?? (typeof body.dimensions === "number" ? body.dimensions : 1536);
    const base64 = body.encoding_format === "base64";
    const tokens = opts.inputTokens ?? DEFAULT_INPUT_TOKENS;
    const data = inputs.map((one, index) => {
      const v = embeddingVector(JSON.stringify(one), index, dims);
      return {
        object: "embedding",
        index,
        embedding: base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v),
      };
    });
    sendJson(res, 200, JSON.stringify({ object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }), openaiHeaders());
  };
}

/** One behaviour for a whole OpenAI base URL, routed by the path's endpoint. */
function openai(opts: MockOptions & EmbeddingOptions = {}): Behaviour {
  const chat = openaiChat(opts);
  const responses = openaiResponses(opts);
  const completions = openaiCompletions(opts);
  const embeddings = openaiEmbeddings(opts);
  return (req, res, rec) => {
    const path = pathOf(rec);
    if (path.endsWith("/chat/completions")) return chat(req, res, rec);
    if (path.endsWith("/responses")) return responses(req, res, rec);
    if (path.endsWith("/completions")) return completions(req, res, rec);
    if (path.endsWith("/embeddings")) return embeddings(req, res, rec);
    sendJson(res, 404, JSON.stringify({ error: { message: `Invalid URL (${rec.method} ${path})`, type: "invalid_request_error", param: null, code: null } }));
  };
}

// ---------------------------------------------------------------------------------------------
// Gemini

/**
 * Google's wire serialisation: `"key": value` with no space after commas, and `<`, `>`, `&`
 * escaped as \u003c, \u003e, \u0026 (as seen in recorded generativelanguage answers).
 */
export function googleJson(value: unknown): string {
  const esc = (s: string) => JSON.stringify(s).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  if (typeof value === "string") return esc(value);
  if (Array.isArray(value)) return `[${value.map((v) => googleJson(v)).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${esc(k)}: ${googleJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Pretty-printed (2 spaces), as the JSON-array form of streamGenerateContent sends each element. */
const googlePretty = (value: unknown) => JSON.stringify(value, null, 2).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);

function geminiUsage(promptTokens: number, candidatesTokens: number) {
  return {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidatesTokens,
    totalTokenCount: promptTokens + candidatesTokens,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokens }],
  };
}

const geminiResponseId = () => randomBytes(15).toString("base64url").slice(0, 20);

export function geminiResponse(model: string, o: MockOptions = {}) {
  const r = resolve(o);
  return {
    candidates: [{ content: { parts: [{ text: r.text }], role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: geminiUsage(r.inputTokens, r.outputTokens),
    modelVersion: model,
    responseId: geminiResponseId(),
  };
}

/**
 * The streamed chunks: one text delta each, every chunk with the running usageMetadata
 * (candidatesTokenCount grows to the total), the last with `finishReason: "STOP"`.
 */
export function geminiStreamChunks(model: string, o: MockOptions = {}) {
  const r = resolve(o);
  const deltas = splitDeltas(r.text);
  const responseId = geminiResponseId();
  const n = Math.max(deltas.length, 1);
  return (deltas.length ? deltas : [""]).map((text, i) => {
    const last = i === n - 1;
    return {
      candidates: [{ content: { parts: [{ text }], role: "model" }, ...(last ? { finishReason: "STOP" } : {}), index: 0 }],
      usageMetadata: geminiUsage(r.inputTokens, last ? r.outputTokens : Math.round((r.outputTokens * (i + 1)) / n)),
      modelVersion: model,
      responseId,
    };
  });
}

/** `?alt=sse` frames: `data: {...}\r\n\r\n` (Google ends SSE lines with CRLF). */
export const geminiSseFrames = (model: string, o: MockOptions = {}) =>
  geminiStreamChunks(model, o).map((c) => `data: ${googleJson(c)}\r\n\r\n`);

/** The JSON-array form (no `alt`): `[{…}\n,\r\n{…}\n]`, one write per element. */
export const geminiJsonArrayPieces = (model: string, o: MockOptions = {}) =>
  geminiStreamChunks(model, o).map((c, i, all) => (i === 0 ? "[" : "\n,\r\n") + googlePretty(c) + (i === all.length - 1 ? "\n]" : ""));

function geminiError(res: ServerResponse, code: number, status: string, message: string) {
  sendJson(res, code, googlePretty({ error: { code, message, status } }) + "\n", { "content-type": "application/json; charset=UTF-8" });
}

/**
 * `POST …/models/{model}:generateContent`, `:streamGenerateContent` (`?alt=sse` → SSE, else a
 * streamed JSON array) and `:countTokens` (`{"totalTokens": inputTokens}`), picked from `rec.url`.
 */
function geminiGenerate(opts: MockOptions = {}): Behaviour {
  return async (_req, res, rec) => {
    const url = new URL(rec.url, "http://stand-in");
    const m = /\/(?:models|tunedModels)\/([^/:]+):([A-Za-z]+)$/.exec(url.pathname);
    if (!m) return geminiError(res, 404, "NOT_FOUND", `Unknown path ${url.pathname}`);
    const model = decodeURIComponent(m[1]!);
    const action = m[2]!;
    if (!parseJson(rec)) return geminiError(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    const r = resolve(opts);
    const json = "application/json; charset=UTF-8";
    switch (action) {
      case "generateContent":
        return sendJson(res, 200, googlePretty(geminiResponse(model, opts)) + "\n", { "content-type": json });
      case "countTokens":
        return sendJson(
          res,
          200,
          googlePretty({ totalTokens: r.inputTokens, promptTokensDetails: [{ modality: "TEXT", tokenCount: r.inputTokens }] }) + "\n",
          { "content-type": json },
        );
      case "streamGenerateContent":
        if (url.searchParams.get("alt") === "sse") {
          return writeFrames(res, geminiSseFrames(model, opts), "text/event-stream", { delayMs: r.delayMs });
        }
        return writeFrames(res, geminiJsonArrayPieces(model, opts), json, { delayMs: r.delayMs });
      default:
        return geminiError(res, 404, "NOT_FOUND", `Method not found: ${action}`);
    }
  };
}

export const mocks = {
  anthropicMessages,
  anthropicCountTokens,
  openaiChat,
  openaiResponses,
  openaiCompletions,
  openaiEmbeddings,
  /** All four OpenAI endpoints behind one prefix, routed by path. */
  openai,
  geminiGenerate,
};

/**
 * Errors and usage through the dialect hub, for every (client dialect) × (target dialect) pair,
 * end to end: the official SDKs (@anthropic-ai/sdk, openai chat + responses, @google/genai,
 * ollama-js) → the companion → the tunnel → the worker in workerd → the stand-in upstreams (or
 * the stand-in Ollama), which fail or count in their own wire shape
 * (test/helpers/failure-answers.ts, modelled on companion/hub/<dialect>/fixtures/).
 *
 * 1. Error status, plain: the target answers 429 (with `retry-after: 7`) or 400 in its documented
 *    error body. The client's SDK must raise the error for that status, the body must be in the
 *    CLIENT's dialect (Anthropic `{type:"error",error:{type,message}}`, OpenAI
 *    `{error:{message,type,code}}`, Gemini `{error:{code,message,status}}`, Ollama `{error}`)
 *    with the target's message text unchanged, and `retry-after` must reach the client. With one
 *    target per model there is nothing to fall back to: the companion hands the error on (audit:
 *    that status, errorClass "upstream_error", no fallbacks). These run on a chain of their own
 *    (startErrorChain): the edge cools a member down per (member, model) after a 429, so every
 *    case there has a target model of its own.
 * 2. Mid-stream error: the target streams some text, then fails with its own error event. The
 *    client's SDK must raise an error naming the target's message after the text that came
 *    before; on the raw wire the stream must end with the client dialect's own error event,
 *    never a clean end with a stop reason. The audit record must say the request failed
 *    (errorClass "stream_failed", status 200: the head had gone out).
 * 3. Usage, plain and streamed: the target reports input, cached-input, output and reasoning
 *    tokens in its own fields; the client must see the same counts in its own fields, by its
 *    dialect's arithmetic, and the audit record the target's totals:
 *      - Anthropic `input_tokens` EXCLUDES the cache: input_tokens + cache_read_input_tokens +
 *        cache_creation_input_tokens = all input ("Total input tokens in a request is the
 *        summation of input_tokens, cache_creation_input_tokens, and cache_read_input_tokens");
 *        `output_tokens` INCLUDES `output_tokens_details.thinking_tokens` ("output_tokens
 *        remains the inclusive, authoritative total"; SDK `Usage`, `OutputTokensDetails`).
 *      - OpenAI chat `prompt_tokens` INCLUDES `prompt_tokens_details.cached_tokens`;
 *        `completion_tokens` INCLUDES `completion_tokens_details.reasoning_tokens`
 *        (CompletionUsage); total_tokens = prompt + completion.
 *      - Responses `input_tokens` INCLUDES `input_tokens_details.cached_tokens`, `output_tokens`
 *        INCLUDES `output_tokens_details.reasoning_tokens` (ResponseUsage).
 *      - Gemini `promptTokenCount` INCLUDES `cachedContentTokenCount` ("When cached_content is
 *        set, this also includes the number of tokens in the cached content"),
 *        `candidatesTokenCount` EXCLUDES `thoughtsTokenCount` ("totalTokenCount … is the sum of
 *        prompt_token_count, candidates_token_count, tool_use_prompt_token_count, and
 *        thoughts_token_count"; @google/genai `GenerateContentResponseUsageMetadata`).
 *      - Ollama: `prompt_eval_count` and `eval_count` only.
 *    A count the target's dialect does not have (cache writes outside Anthropic; Ollama's cached
 *    and reasoning) is unknown: the client may leave it out or say 0, never more.
 *
 * Same-dialect pairs (an Ollama client's chat to Ollama included) pass through untouched; they
 * are in the matrix all the same.
 */
import Anthropic from "@anthropic-ai/sdk";
import { ApiError, GoogleGenAI } from "@google/genai";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SqliteAuditLog } from "../../companion/audit/sqlite-audit.ts";
import type { AuditRecord } from "../../companion/audit/types.ts";
import { projectKey, type Chain } from "../helpers/companion.ts";
import {
  anthropicErrorBody,
  anthropicFailingFrames,
  anthropicUsageFrames,
  anthropicUsageMessage,
  chatFailingFrames,
  chatUsageCompletion,
  chatUsageFrames,
  ERROR_PREFIX,
  errorModel,
  errorTargetModel,
  geminiErrorBody,
  geminiFailingSseFrames,
  geminiUsageResponse,
  geminiUsageSseFrames,
  ollamaErrorBody,
  ollamaFailingStream,
  ollamaUsageReply,
  ollamaUsageStream,
  openaiErrorBody,
  responsesFailingFrames,
  responsesUsageFrames,
  responsesUsageResponse,
  startErrorChain,
  type ResponsesFailure,
  type TokenFacts,
} from "../helpers/failure-answers.ts";
import { startHubChain, TARGET_MODELS } from "../helpers/hub-chain.ts";
import { streamFrames } from "../helpers/provider-mocks.ts";
import type { Behaviour, Recorded } from "../helpers/upstream.ts";

type Dialect = "anthropic" | "openai-chat" | "openai-responses" | "gemini" | "ollama";
const DIALECTS: Dialect[] = ["anthropic", "openai-chat", "openai-responses", "gemini", "ollama"];
const STATUSES = [429, 400] as const;
type Status = (typeof STATUSES)[number];

const KEY = projectKey();
const MODELS: Record<Dialect, string> = {
  anthropic: "hf-anthropic",
  "openai-chat": "hf-openai",
  "openai-responses": "hf-responses",
  gemini: "hf-gemini",
  ollama: "hf-ollama",
};

/** Mid-stream and usage cases. */
let chain: Chain;
/** Error-status cases: a model per (client, target, status), so no edge cool-down answers for a target. */
let errors: Chain;

beforeAll(async () => {
  [chain, errors] = await Promise.all([startHubChain(KEY, MODELS, "failures"), startErrorChain(KEY, DIALECTS, DIALECTS, STATUSES, "failures")]);
});

afterAll(async () => {
  await Promise.all([chain?.close(), errors?.close()]);
});

beforeEach(() => {
  chain.up.reset();
  chain.ollama.reset();
  errors.up.reset();
});

type Json = Record<string, any>;
const bodyOf = (rec: Recorded) => JSON.parse(rec.body.toString("utf8")) as Json;

const QUESTION = "How many moons does Mars have?";
const ANSWER = "Mars has two moons, Phobos and Deimos.";
/** What the target says before it fails. */
const PARTIAL = "Mars has two small moons";

// ---------------------------------------------------------------------------------------------
// What each target counts (different numbers per target, so no case passes on another's)

const FACTS: Record<Dialect, TokenFacts> = {
  // Cache writes only on Anthropic's wire.
  anthropic: { input: 1250, cached: 800, cacheWrite: 150, output: 310, reasoning: 95 },
  "openai-chat": { input: 1300, cached: 700, output: 320, reasoning: 90 },
  "openai-responses": { input: 1350, cached: 600, output: 330, reasoning: 110 },
  gemini: { input: 1400, cached: 500, output: 340, reasoning: 130 },
  // Only prompt_eval_count and eval_count.
  ollama: { input: 1450, output: 350 },
};

// ---------------------------------------------------------------------------------------------
// Reading what went over the wire

/** fetch that keeps a copy of every answer (read as it arrives, so an aborted body keeps what came). */
function recordingFetch() {
  const seen: { status: number; headers: Headers; text: Promise<string> }[] = [];
  const fn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await fetch(input, init);
    seen.push({ status: res.status, headers: res.headers, text: drain(res.clone().body) });
    return res;
  }) as typeof fetch;
  return {
    fetch: fn,
    last() {
      const r = seen.at(-1);
      if (!r) throw new Error("no request was made");
      expect(seen).toHaveLength(1); // the SDK made exactly one request: no retry
      return r;
    },
  };
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // aborted by the SDK after its error: keep what came
  }
  return text;
}

/** SSE events as sent: event name (or null) and the data text. */
function sseEvents(text: string): { event: string | null; data: string }[] {
  return text
    .replace(/\r\n/g, "\n")
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join("\n") };
    });
}

const parse = (text: string): Json => {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return { unparsable: text };
  }
};

/** The audit record, once the answer has been passed on. */
async function auditRecord(on: Chain, requestId: string | null): Promise<AuditRecord> {
  expect(requestId).toMatch(/^[0-9a-f]{32}$/);
  const audit = new SqliteAuditLog(on.config.audit.path);
  try {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const record = audit.byId(requestId!);
      if (record && record.status !== 0) return record;
      if (Date.now() > deadline) throw new Error(`no audit record for ${requestId}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    audit.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Clients

/** What a client saw of a stream that failed. */
interface StreamOutcome {
  /** Text received before the failure. */
  text: string;
  /** What the SDK raised. */
  raised?: unknown;
  /** The failure's message as the SDK gave it (error message, or a failed response's error). */
  message?: string;
  /** The SDK saw a normal end with a stop reason. */
  cleanEnd: boolean;
}

/** What the raw wire of a failed stream held, read in the client's dialect. */
interface RawStream {
  text: string;
  /** The message of the dialect's own error event, if one came. */
  errorMessage: string | undefined;
  /** Nothing but the dialect's closing (e.g. `[DONE]`) follows the error event. */
  errorLast: boolean;
  /** A stop reason / completed event came: the stream ended as a success. */
  cleanEnd: boolean;
}

interface ClientDriver {
  /** A non-streamed ask that must fail: returns what the SDK threw. */
  askExpectingError(base: string, model: string, f: typeof fetch): Promise<unknown>;
  /** The SDK's error object for this status and message. */
  sdkError(thrown: unknown, status: Status, message: string, retryAfter: string | null): void;
  /** An error body in this dialect's own shape. */
  errorShape(body: Json, status: Status, message: string): void;
  streamToFailure(model: string): Promise<StreamOutcome>;
  /** The streamed request, sent with plain fetch. */
  rawRequest(model: string): { path: string; headers: Record<string, string>; body: Json };
  readRaw(text: string): RawStream;
  /** Asks (plain or streamed) and returns the answer's text and this dialect's usage object. */
  usage(model: string, stream: boolean, f: typeof fetch): Promise<{ text: string; usage: Json }>;
  /** The usage object holds the target's counts, by this dialect's arithmetic. */
  expectUsage(usage: Json, facts: TokenFacts): void;
}

const caught = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("the request did not fail");
};

const openaiShape = (body: Json, _status: Status, message: string) => {
  expect(body).toMatchObject({ error: { message } });
  expect(typeof body.error.type).toBe("string");
  expect(Object.keys(body.error)).toEqual(expect.arrayContaining(["message", "type", "code"]));
};

const openaiSdkError = (thrown: unknown, status: Status, message: string, retryAfter: string | null) => {
  expect(thrown).toBeInstanceOf(status === 429 ? OpenAI.RateLimitError : OpenAI.BadRequestError);
  const e = thrown as InstanceType<typeof OpenAI.APIError>;
  expect(e.status).toBe(status);
  expect((e.error as Json | undefined)?.message).toBe(message);
  expect(e.headers?.get("retry-after") ?? null).toBe(retryAfter);
};

const openaiChatRaw = (text: string): RawStream => {
  const frames = sseEvents(text).map((e) => e.data);
  let content = "";
  let errorAt = -1;
  let errorMessage: string | undefined;
  let cleanEnd = false;
  frames.forEach((data, i) => {
    if (data === "[DONE]") return;
    const json = parse(data);
    if (json.error && errorAt === -1) {
      errorAt = i;
      errorMessage = json.error.message;
      expect(Object.keys(json.error)).toEqual(expect.arrayContaining(["message", "type", "code"]));
      return;
    }
    for (const choice of json.choices ?? []) {
      content += choice.delta?.content ?? "";
      if (choice.finish_reason) cleanEnd = true;
    }
  });
  return { text: content, errorMessage, errorLast: errorAt !== -1 && frames.slice(errorAt + 1).every((d) => d === "[DONE]"), cleanEnd };
};

const CLIENTS: Record<Dialect, ClientDriver> = {
  anthropic: {
    askExpectingError: (base, model, f) =>
      caught(new Anthropic({ baseURL: base, apiKey: KEY, maxRetries: 0, fetch: f }).messages.create({ model, max_tokens: 1024, messages: [{ role: "user", content: QUESTION }] })),
    sdkError(thrown, status, message, retryAfter) {
      expect(thrown).toBeInstanceOf(status === 429 ? Anthropic.RateLimitError : Anthropic.BadRequestError);
      const e = thrown as InstanceType<typeof Anthropic.APIError>;
      expect(e.status).toBe(status);
      expect(e.error).toMatchObject({ type: "error", error: { message } });
      expect(e.headers?.get("retry-after") ?? null).toBe(retryAfter);
    },
    errorShape(body, status, message) {
      expect(body).toMatchObject({ type: "error", error: { type: status === 429 ? "rate_limit_error" : "invalid_request_error", message } });
    },
    async streamToFailure(model) {
      const c = new Anthropic({ baseURL: chain.url, apiKey: KEY, maxRetries: 0 });
      const out: StreamOutcome = { text: "", cleanEnd: false };
      try {
        const stream = await c.messages.create({ model, max_tokens: 1024, stream: true, messages: [{ role: "user", content: QUESTION }] });
        for await (const ev of stream) {
          if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") out.text += ev.delta.text;
          if (ev.type === "message_delta" && ev.delta.stop_reason) out.cleanEnd = true;
        }
      } catch (e) {
        out.raised = e;
        expect(e).toBeInstanceOf(Anthropic.APIError);
        out.message = (e as Error).message;
      }
      return out;
    },
    rawRequest: (model) => ({
      path: "/v1/messages",
      headers: { "x-api-key": KEY, "anthropic-version": "2023-06-01" },
      body: { model, max_tokens: 1024, stream: true, messages: [{ role: "user", content: QUESTION }] },
    }),
    readRaw(text) {
      const events = sseEvents(text);
      let content = "";
      let cleanEnd = false;
      let errorMessage: string | undefined;
      for (const e of events) {
        const data = parse(e.data);
        if (e.event === "content_block_delta" && data.delta?.type === "text_delta") content += data.delta.text;
        if ((e.event === "message_delta" && data.delta?.stop_reason) || e.event === "message_stop") cleanEnd = true;
        if (e.event === "error" && errorMessage === undefined) {
          expect(data).toMatchObject({ type: "error", error: { type: expect.any(String), message: expect.any(String) } });
          errorMessage = data.error.message;
        }
      }
      // "nothing follows an error event"
      return { text: content, errorMessage, errorLast: events.at(-1)?.event === "error", cleanEnd };
    },
    async usage(model, stream, f) {
      const c = new Anthropic({ baseURL: chain.url, apiKey: KEY, maxRetries: 0, fetch: f });
      const params = { model, max_tokens: 1024, messages: [{ role: "user" as const, content: QUESTION }] };
      const message = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
      expect(message.stop_reason).toBe("end_turn");
      return { text: message.content.map((b) => (b.type === "text" ? b.text : "")).join(""), usage: message.usage as unknown as Json };
    },
    expectUsage(u, f) {
      expect({
        input_tokens: u.input_tokens,
        cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
        cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
        output_tokens: u.output_tokens,
        thinking_tokens: u.output_tokens_details?.thinking_tokens ?? 0,
      }).toEqual({
        input_tokens: f.input - (f.cached ?? 0) - (f.cacheWrite ?? 0),
        cache_read_input_tokens: f.cached ?? 0,
        cache_creation_input_tokens: f.cacheWrite ?? 0,
        output_tokens: f.output,
        thinking_tokens: f.reasoning ?? 0,
      });
    },
  },

  "openai-chat": {
    askExpectingError: (base, model, f) =>
      caught(new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0, fetch: f }).chat.completions.create({ model, messages: [{ role: "user", content: QUESTION }] })),
    sdkError: openaiSdkError,
    errorShape: openaiShape,
    async streamToFailure(model) {
      const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
      const out: StreamOutcome = { text: "", cleanEnd: false };
      try {
        const stream = await c.chat.completions.create({ model, stream: true, messages: [{ role: "user", content: QUESTION }] });
        for await (const chunk of stream) {
          out.text += chunk.choices[0]?.delta.content ?? "";
          if (chunk.choices[0]?.finish_reason) out.cleanEnd = true;
        }
      } catch (e) {
        out.raised = e;
        expect(e).toBeInstanceOf(OpenAI.APIError);
        out.message = (e as Error).message;
      }
      return out;
    },
    rawRequest: (model) => ({
      path: "/v1/chat/completions",
      headers: { authorization: `Bearer ${KEY}` },
      body: { model, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: QUESTION }] },
    }),
    readRaw: openaiChatRaw,
    async usage(model, stream, f) {
      const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0, fetch: f });
      const messages = [{ role: "user" as const, content: QUESTION }];
      if (!stream) {
        const r = await c.chat.completions.create({ model, messages });
        expect(r.choices[0]!.finish_reason).toBe("stop");
        return { text: r.choices[0]!.message.content ?? "", usage: r.usage as unknown as Json };
      }
      let text = "";
      let usage: Json | undefined;
      let finish: string | null = null;
      for await (const chunk of await c.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } })) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage as unknown as Json;
      }
      expect(finish).toBe("stop");
      return { text, usage: usage ?? {} };
    },
    expectUsage(u, f) {
      expect({
        prompt_tokens: u.prompt_tokens,
        cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0,
        completion_tokens: u.completion_tokens,
        reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
        total_tokens: u.total_tokens,
      }).toEqual({
        prompt_tokens: f.input,
        cached_tokens: f.cached ?? 0,
        completion_tokens: f.output,
        reasoning_tokens: f.reasoning ?? 0,
        total_tokens: f.input + f.output,
      });
    },
  },

  "openai-responses": {
    askExpectingError: (base, model, f) =>
      caught(new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0, fetch: f }).responses.create({ model, input: [{ role: "user", content: QUESTION }] })),
    sdkError: openaiSdkError,
    errorShape: openaiShape,
    async streamToFailure(model) {
      const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
      const out: StreamOutcome = { text: "", cleanEnd: false };
      try {
        const stream = await c.responses.create({ model, stream: true, input: [{ role: "user", content: QUESTION }] });
        for await (const ev of stream) {
          if (ev.type === "response.output_text.delta") out.text += ev.delta;
          if (ev.type === "response.completed" || ev.type === "response.incomplete") out.cleanEnd = true;
          // The SDK raises the `error` event; a `response.failed` it hands over as an event.
          if (ev.type === "response.failed") out.message ??= ev.response.error?.message;
        }
      } catch (e) {
        out.raised = e;
        expect(e).toBeInstanceOf(OpenAI.APIError);
        out.message = (e as Error).message;
      }
      return out;
    },
    rawRequest: (model) => ({
      path: "/v1/responses",
      headers: { authorization: `Bearer ${KEY}` },
      body: { model, stream: true, input: [{ role: "user", content: QUESTION }] },
    }),
    readRaw(text) {
      const events = sseEvents(text);
      let content = "";
      let cleanEnd = false;
      let errorMessage: string | undefined;
      for (const e of events) {
        const data = parse(e.data);
        if (data.type === "response.output_text.delta") content += data.delta;
        if (data.type === "response.completed" || data.type === "response.incomplete") cleanEnd = true;
        if (data.type === "error") errorMessage ??= data.message ?? data.error?.message;
        if (data.type === "response.failed") {
          expect(data.response).toMatchObject({ status: "failed", error: { code: expect.any(String), message: expect.any(String) } });
          errorMessage ??= data.response.error.message;
        }
      }
      const last = parse(events.at(-1)?.data ?? "{}").type;
      return { text: content, errorMessage, errorLast: last === "error" || last === "response.failed", cleanEnd };
    },
    async usage(model, stream, f) {
      const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0, fetch: f });
      const input = [{ role: "user" as const, content: QUESTION }];
      const r = stream ? await c.responses.stream({ model, input }).finalResponse() : await c.responses.create({ model, input });
      expect(r.status).toBe("completed");
      return { text: r.output_text, usage: (r.usage ?? {}) as unknown as Json };
    },
    expectUsage(u, f) {
      expect({
        input_tokens: u.input_tokens,
        cached_tokens: u.input_tokens_details?.cached_tokens,
        output_tokens: u.output_tokens,
        reasoning_tokens: u.output_tokens_details?.reasoning_tokens,
        total_tokens: u.total_tokens,
      }).toEqual({
        input_tokens: f.input,
        // ResponseUsage requires both details: an unknown count can only be 0.
        cached_tokens: f.cached ?? 0,
        output_tokens: f.output,
        reasoning_tokens: f.reasoning ?? 0,
        total_tokens: f.input + f.output,
      });
    },
  },

  gemini: {
    askExpectingError: (base, model, f) =>
      caught(new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: base, fetch: f } }).models.generateContent({ model, contents: [{ role: "user", parts: [{ text: QUESTION }] }] })),
    sdkError(thrown, status, message) {
      // ApiError has no headers; retry-after is checked on the raw answer.
      expect(thrown).toBeInstanceOf(ApiError);
      const e = thrown as ApiError;
      expect(e.status).toBe(status);
      expect(parse(e.message)).toMatchObject({ error: { code: status, message } });
    },
    errorShape(body, status, message) {
      expect(body).toMatchObject({ error: { code: status, message, status: status === 429 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT" } });
    },
    async streamToFailure(model) {
      const c = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: chain.url } });
      const out: StreamOutcome = { text: "", cleanEnd: false };
      try {
        for await (const chunk of await c.models.generateContentStream({ model, contents: [{ role: "user", parts: [{ text: QUESTION }] }] })) {
          for (const p of chunk.candidates?.[0]?.content?.parts ?? []) if (typeof p.text === "string" && !p.thought) out.text += p.text;
          if (chunk.candidates?.[0]?.finishReason) out.cleanEnd = true;
        }
      } catch (e) {
        out.raised = e;
        expect(e).toBeInstanceOf(ApiError);
        out.message = (e as Error).message;
      }
      return out;
    },
    rawRequest: (model) => ({
      path: `/v1beta/models/${model}:streamGenerateContent?alt=sse`,
      headers: { "x-goog-api-key": KEY },
      body: { contents: [{ role: "user", parts: [{ text: QUESTION }] }] },
    }),
    readRaw(text) {
      const frames = sseEvents(text).map((e) => parse(e.data));
      let content = "";
      let cleanEnd = false;
      let errorMessage: string | undefined;
      for (const f of frames) {
        if (f.error) {
          expect(f.error).toMatchObject({ code: expect.any(Number), message: expect.any(String), status: expect.any(String) });
          errorMessage ??= f.error.message;
        }
        for (const p of f.candidates?.[0]?.content?.parts ?? []) if (typeof p.text === "string" && !p.thought) content += p.text;
        if (f.candidates?.[0]?.finishReason) cleanEnd = true;
      }
      return { text: content, errorMessage, errorLast: Boolean(frames.at(-1)?.error), cleanEnd };
    },
    async usage(model, stream, f) {
      const c = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: chain.url, fetch: f } });
      const contents = [{ role: "user", parts: [{ text: QUESTION }] }];
      if (!stream) {
        const r = await c.models.generateContent({ model, contents });
        expect(r.candidates?.[0]?.finishReason).toBe("STOP");
        return { text: r.text ?? "", usage: (r.usageMetadata ?? {}) as Json };
      }
      let text = "";
      let usage: Json = {};
      let finish: string | undefined;
      for await (const chunk of await c.models.generateContentStream({ model, contents })) {
        text += chunk.text ?? "";
        if (chunk.usageMetadata) usage = chunk.usageMetadata as Json;
        finish = chunk.candidates?.[0]?.finishReason ?? finish;
      }
      expect(finish).toBe("STOP");
      return { text, usage };
    },
    expectUsage(u, f) {
      expect({
        promptTokenCount: u.promptTokenCount,
        cachedContentTokenCount: u.cachedContentTokenCount ?? 0,
        candidatesTokenCount: u.candidatesTokenCount,
        thoughtsTokenCount: u.thoughtsTokenCount ?? 0,
        totalTokenCount: u.totalTokenCount,
      }).toEqual({
        promptTokenCount: f.input,
        cachedContentTokenCount: f.cached ?? 0,
        candidatesTokenCount: f.output - (f.reasoning ?? 0),
        thoughtsTokenCount: f.reasoning ?? 0,
        totalTokenCount: f.input + f.output,
      });
    },
  },

  ollama: {
    askExpectingError: (base, model, f) =>
      caught(new Ollama({ host: base, headers: { authorization: `Bearer ${KEY}` }, fetch: f }).chat({ model, stream: false, messages: [{ role: "user", content: QUESTION }] })),
    sdkError(thrown, status, message) {
      // ollama-js's ResponseError: the body's `error` and the status; no headers.
      expect(thrown).toMatchObject({ name: "ResponseError", status_code: status, error: message });
    },
    errorShape(body, _status, message) {
      expect(body).toEqual({ error: message });
    },
    async streamToFailure(model) {
      const c = new Ollama({ host: chain.url, headers: { authorization: `Bearer ${KEY}` } });
      const out: StreamOutcome = { text: "", cleanEnd: false };
      try {
        for await (const part of await c.chat({ model, stream: true, messages: [{ role: "user", content: QUESTION }] })) {
          out.text += part.message.content;
          if (part.done) out.cleanEnd = true;
        }
      } catch (e) {
        out.raised = e;
        out.message = (e as Error).message;
      }
      return out;
    },
    rawRequest: (model) => ({
      path: "/api/chat",
      headers: { authorization: `Bearer ${KEY}` },
      body: { model, stream: true, messages: [{ role: "user", content: QUESTION }] },
    }),
    readRaw(text) {
      const lines = text.split("\n").filter((l) => l.trim() !== "").map(parse);
      let content = "";
      let cleanEnd = false;
      let errorMessage: string | undefined;
      for (const line of lines) {
        if (line.error !== undefined) {
          // [O-ERR]: a line holding only `error`.
          expect(Object.keys(line)).toEqual(["error"]);
          errorMessage ??= line.error;
        }
        content += line.message?.content ?? "";
        if (line.done === true) cleanEnd = true;
      }
      return { text: content, errorMessage, errorLast: lines.at(-1)?.error !== undefined, cleanEnd };
    },
    async usage(model, stream, f) {
      const c = new Ollama({ host: chain.url, headers: { authorization: `Bearer ${KEY}` }, fetch: f });
      const messages = [{ role: "user", content: QUESTION }];
      if (!stream) {
        const r = await c.chat({ model, stream: false, messages });
        expect(r.done_reason).toBe("stop");
        return { text: r.message.content, usage: r as unknown as Json };
      }
      let text = "";
      let last: Json = {};
      for await (const part of await c.chat({ model, stream: true, messages })) {
        text += part.message.content;
        last = part as unknown as Json;
      }
      expect(last.done).toBe(true);
      return { text, usage: last };
    },
    expectUsage(u, f) {
      expect({ prompt_eval_count: u.prompt_eval_count, eval_count: u.eval_count }).toEqual({ prompt_eval_count: f.input, eval_count: f.output });
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Targets

interface TargetBehaviour {
  /** Queues, on the error chain, an HTTP error answer in this target's shape; returns its message. */
  answerError(status: Status): string;
  /** Queues, on the main chain, a stream that fails after PARTIAL; returns the failure's message. */
  failMidStream(variant?: ResponsesFailure["kind"]): string;
  /** Queues, on the main chain, the answer ANSWER counted as FACTS[target] (plain or streamed, as asked). */
  answerUsage(): void;
  /** Requests the target got on the main chain: whether each asked to stream, and its body. */
  received(): { streamed: boolean; body: Json }[];
}

const RETRY_AFTER = "7";
const errorHeaders = (status: Status, contentType = "application/json") => ({
  "content-type": contentType,
  ...(status === 429 ? { "retry-after": RETRY_AFTER } : {}),
});
const jsonAnswer =
  (status: number, body: unknown, headers: Record<string, string>): Behaviour =>
  (_req, res) => {
    res.writeHead(status, headers);
    res.end(JSON.stringify(body, null, 2));
  };

/** Answers streamed or whole as the request asks (`stream: true` in the body); `wrong` for the other mode. */
const byStreamFlag = (plain: ((b: Json) => unknown) | null, frames: ((b: Json) => string[]) | null): Behaviour => {
  return async (req, res, rec) => {
    const body = bodyOf(rec);
    const streamed = body.stream === true;
    const build = streamed ? frames : plain;
    if (!build) {
      res.writeHead(400, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: { message: `the stand-in was not expecting stream=${streamed}` } }));
    }
    if (streamed) return streamFrames((build as (b: Json) => string[])(body))(req, res, rec);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(build(body)));
  };
};

/** Gemini picks the mode by action: :generateContent, or :streamGenerateContent?alt=sse. */
const geminiByAction = (plain: (() => unknown) | null, frames: (() => string[]) | null): Behaviour => {
  return async (req, res, rec) => {
    const url = new URL(rec.url, "http://stand-in");
    if (plain && url.pathname.endsWith(":generateContent")) {
      res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
      return void res.end(JSON.stringify(plain(), null, 2));
    }
    if (frames && url.pathname.endsWith(":streamGenerateContent") && url.searchParams.get("alt") === "sse") {
      return streamFrames(frames(), { contentType: "text/event-stream" })(req, res, rec);
    }
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: 400, message: `the stand-in does not answer ${rec.url}`, status: "INVALID_ARGUMENT" } }));
  };
};

const fromUpstream = (prefix: string, streamed: (rec: Recorded, body: Json) => boolean) => () =>
  chain.up.hits(prefix).map((rec) => {
    const body = bodyOf(rec);
    return { streamed: streamed(rec, body), body };
  });

const MID_STREAM = {
  anthropic: { type: "overloaded_error", message: "Overloaded" },
  chat: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", param: null, code: null },
  responses: {
    error: { kind: "error", code: "server_error", message: "An error occurred while processing your request. You can retry your request, or contact us through our help center at help.openai.com if the error persists." },
    failed: { kind: "failed", code: "server_error", message: "The model failed to generate a response." },
  } satisfies Record<ResponsesFailure["kind"], ResponsesFailure>,
  gemini: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" },
  ollama: "an error was encountered while running the model",
} as const;

const TARGETS: Record<Dialect, TargetBehaviour> = {
  anthropic: {
    answerError(status) {
      const message =
        status === 429
          ? "This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits."
          : "max_tokens: 200000 > 64000, which is the maximum allowed number of output tokens for claude-target";
      const body = anthropicErrorBody(status === 429 ? "rate_limit_error" : "invalid_request_error", message);
      errors.up.once(ERROR_PREFIX.anthropic, jsonAnswer(status, body, { ...errorHeaders(status), "request-id": "req_011CSHoEeqs5C35K2UUqR7Fy" }));
      return message;
    },
    failMidStream() {
      chain.up.once("/ant", byStreamFlag(null, (b) => anthropicFailingFrames(b.model, PARTIAL, MID_STREAM.anthropic)));
      return MID_STREAM.anthropic.message;
    },
    answerUsage() {
      chain.up.once(
        "/ant",
        byStreamFlag(
          (b) => anthropicUsageMessage(b.model, ANSWER, FACTS.anthropic),
          (b) => anthropicUsageFrames(b.model, ANSWER, FACTS.anthropic),
        ),
      );
    },
    received: fromUpstream("/ant", (_r, b) => b.stream === true),
  },

  "openai-chat": {
    answerError(status) {
      const [message, type, param, code] =
        status === 429
          ? ["Rate limit reached for gpt-target in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 1500. Please try again in 7s.", "tokens", null, "rate_limit_exceeded"]
          : ["Invalid 'messages[0].content': string too long. Expected a string with maximum length 10485760, but got a string with length 10485761 instead.", "invalid_request_error", "messages[0].content", "string_above_max_length"];
      errors.up.once(ERROR_PREFIX["openai-chat"], jsonAnswer(status, openaiErrorBody(message, type, param, code), { ...errorHeaders(status), "x-request-id": "req_8d3a1f0c2b" }));
      return message;
    },
    failMidStream() {
      chain.up.once("/oai", byStreamFlag(null, (b) => chatFailingFrames(b.model, PARTIAL, MID_STREAM.chat)));
      return MID_STREAM.chat.message;
    },
    answerUsage() {
      chain.up.once(
        "/oai",
        byStreamFlag(
          (b) => chatUsageCompletion(b.model, ANSWER, FACTS["openai-chat"]),
          (b) => chatUsageFrames(b.model, ANSWER, FACTS["openai-chat"], b.stream_options?.include_usage === true),
        ),
      );
    },
    received: fromUpstream("/oai", (_r, b) => b.stream === true),
  },

  "openai-responses": {
    answerError(status) {
      const [message, type, param, code] =
        status === 429
          ? ["Rate limit reached for gpt-resp-target in organization org-abc on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 7s.", "requests", null, "rate_limit_exceeded"]
          : ["Invalid 'input[0].content': string too long. Expected a string with maximum length 10485760, but got a string with length 10485761 instead.", "invalid_request_error", "input[0].content", "string_above_max_length"];
      errors.up.once(ERROR_PREFIX["openai-responses"], jsonAnswer(status, openaiErrorBody(message, type, param, code), { ...errorHeaders(status), "x-request-id": "req_5e7b9c1d3f" }));
      return message;
    },
    failMidStream(variant = "error") {
      const failure = MID_STREAM.responses[variant];
      chain.up.once("/rsp", byStreamFlag(null, (b) => responsesFailingFrames(b, PARTIAL, failure)));
      return failure.message;
    },
    answerUsage() {
      chain.up.once(
        "/rsp",
        byStreamFlag(
          (b) => responsesUsageResponse(b, ANSWER, FACTS["openai-responses"]),
          (b) => responsesUsageFrames(b, ANSWER, FACTS["openai-responses"]),
        ),
      );
    },
    received: fromUpstream("/rsp", (_r, b) => b.stream === true),
  },

  gemini: {
    answerError(status) {
      const body = status === 429 ? geminiErrorBody(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).") : geminiErrorBody(400, "INVALID_ARGUMENT", "Request contains an invalid argument.");
      errors.up.once(ERROR_PREFIX.gemini, jsonAnswer(status, body, errorHeaders(status, "application/json; charset=UTF-8")));
      return body.error.message;
    },
    failMidStream() {
      chain.up.once("/gem", geminiByAction(null, () => geminiFailingSseFrames(TARGET_MODELS.gemini, PARTIAL, MID_STREAM.gemini)));
      return MID_STREAM.gemini.message;
    },
    answerUsage() {
      chain.up.once(
        "/gem",
        geminiByAction(
          () => geminiUsageResponse(TARGET_MODELS.gemini, ANSWER, FACTS.gemini),
          () => geminiUsageSseFrames(TARGET_MODELS.gemini, ANSWER, FACTS.gemini),
        ),
      );
    },
    received: fromUpstream("/gem", (r) => r.url.includes(":streamGenerateContent")),
  },

  ollama: {
    answerError(status) {
      const message =
        status === 429
          ? "you (ferry) have reached your hourly usage limit, please upgrade or wait for the limit to reset"
          : "json: cannot unmarshal string into Go struct field ChatRequest.messages of type []api.Message";
      errors.up.once(ERROR_PREFIX.ollama, jsonAnswer(status, ollamaErrorBody(message), errorHeaders(status, "application/json; charset=utf-8")));
      return message;
    },
    failMidStream() {
      chain.ollama.chatReply = { error: "the stand-in was not expecting stream=false" };
      chain.ollama.chatStream = ollamaFailingStream(TARGET_MODELS.ollama, PARTIAL, MID_STREAM.ollama);
      return MID_STREAM.ollama;
    },
    answerUsage() {
      chain.ollama.chatReply = ollamaUsageReply(TARGET_MODELS.ollama, ANSWER, FACTS.ollama);
      chain.ollama.chatStream = ollamaUsageStream(TARGET_MODELS.ollama, ANSWER, FACTS.ollama);
    },
    received: () =>
      chain.ollama.requests.filter((r) => r.path === "/api/chat").map((r) => ({ streamed: (r.body as Json).stream !== false, body: r.body as Json })),
  },
};

// ---------------------------------------------------------------------------------------------
// The cases

async function errorStatusCase(clientName: Dialect, targetName: Dialect, status: Status) {
  const client = CLIENTS[clientName];
  const message = TARGETS[targetName].answerError(status);
  const retryAfter = status === 429 ? RETRY_AFTER : null;
  const rec = recordingFetch();

  const thrown = await client.askExpectingError(errors.url, errorModel(clientName, targetName, status), rec.fetch);
  const raw = rec.last();

  // The target was asked once, as this case's model (nothing answered for it).
  const hits = errors.up.hits(ERROR_PREFIX[targetName]);
  expect(hits).toHaveLength(1);
  expect(hits[0]!.url + hits[0]!.body.toString("utf8")).toContain(errorTargetModel(clientName, targetName, status));

  // The raw answer: the status, retry-after passed on, the client's own error shape, the target's words.
  expect(raw.status).toBe(status);
  expect(raw.headers.get("retry-after")).toBe(retryAfter);
  client.errorShape(parse(await raw.text), status, message);
  // And what the SDK made of it.
  client.sdkError(thrown, status, message, retryAfter);

  // No fallback (a single target): recorded as the target's error.
  const record = await auditRecord(errors, raw.headers.get("x-ferry-request-id"));
  expect(record).toMatchObject({ status, errorClass: "upstream_error", fallbacks: [], servedModel: errorTargetModel(clientName, targetName, status) });
}

/** The audit record's `target` for each target dialect on the main chain. */
const AUDIT_TARGET: Record<Dialect, string> = {
  anthropic: "edge:anthropic",
  "openai-chat": "edge:openai",
  "openai-responses": "edge:responses",
  gemini: "edge:gemini",
  ollama: "ollama",
};

async function midStreamCase(clientName: Dialect, targetName: Dialect, variant?: ResponsesFailure["kind"]) {
  const client = CLIENTS[clientName];
  const target = TARGETS[targetName];

  // Through the SDK: it raises an error naming the target's message, after the text before it.
  const message = target.failMidStream(variant);
  const seen = await client.streamToFailure(MODELS[targetName]);
  expect(seen.cleanEnd).toBe(false);
  expect(seen.text).toBe(PARTIAL);
  expect(seen.message).toContain(message);
  // Responses is the one dialect whose SDK may hand over the failure (response.failed) without raising.
  if (clientName !== "openai-responses") expect(seen.raised).toBeDefined();

  // On the wire: the client dialect's own error event ends the stream; no stop reason anywhere.
  target.failMidStream(variant);
  const { path, headers, body } = client.rawRequest(MODELS[targetName]);
  const res = await fetch(`${chain.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  const raw = client.readRaw(await res.text());
  expect(raw).toEqual({ text: PARTIAL, errorMessage: expect.stringContaining(message), errorLast: true, cleanEnd: false });
  // The request is in the audit log, served by this target (whether it is marked failed is midStreamAuditCase's).
  const record = await auditRecord(chain, res.headers.get("x-ferry-request-id"));
  expect(record).toMatchObject({ status: 200, target: AUDIT_TARGET[targetName], servedModel: TARGET_MODELS[targetName] });

  const received = target.received();
  expect(received).toHaveLength(2);
  expect(received.every((r) => r.streamed)).toBe(true);
}

/** The audit record of a stream the target cut with an error. */
async function midStreamAuditCase(clientName: Dialect, targetName: Dialect) {
  TARGETS[targetName].failMidStream();
  const { path, headers, body } = CLIENTS[clientName].rawRequest(MODELS[targetName]);
  const res = await fetch(`${chain.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  await res.text();
  const record = await auditRecord(chain, res.headers.get("x-ferry-request-id"));
  // The head went out as 200; the record must still say the answer failed.
  expect({ status: record.status, errorClass: record.errorClass }).toEqual({ status: 200, errorClass: "stream_failed" });
}

async function usageCase(clientName: Dialect, targetName: Dialect, stream: boolean) {
  const client = CLIENTS[clientName];
  const target = TARGETS[targetName];
  const facts = FACTS[targetName];
  target.answerUsage();
  const rec = recordingFetch();
  const { text, usage } = await client.usage(MODELS[targetName], stream, rec.fetch);
  expect(text).toBe(ANSWER);

  const received = target.received();
  expect(received).toHaveLength(1);
  expect(received[0]!.streamed).toBe(stream);
  // A chat target streams its usage only when asked: the hub (or the chat client) asks.
  if (targetName === "openai-chat" && stream) expect(received[0]!.body.stream_options).toEqual({ include_usage: true });

  client.expectUsage(usage, facts);

  const record = await auditRecord(chain, rec.last().headers.get("x-ferry-request-id"));
  expect(record).toMatchObject({ status: 200, errorClass: null, inputTokens: facts.input, outputTokens: facts.output });
}

describe.each(DIALECTS)("%s client", (clientName) => {
  describe.each(DIALECTS)("← %s target", (targetName) => {
    it.each(STATUSES)("plain: the target's %i reaches the client in its own error shape, message and retry-after kept", async (status) => {
      await errorStatusCase(clientName, targetName, status);
    });

    it("streamed: an error after some text reaches the SDK as an error, and the wire ends with the client's own error event", async () => {
      await midStreamCase(clientName, targetName);
    });

    if (targetName === "openai-responses") {
      it("streamed: a response.failed after some text reaches the SDK as a failure, never a clean end", async () => {
        await midStreamCase(clientName, targetName, "failed");
      });
    }

    it("streamed: the audit record of an answer cut by an error says it failed", async () => {
      await midStreamAuditCase(clientName, targetName);
    });

    it.each([false, true])("usage (streamed: %s): input, cached, output and reasoning counts in the client's fields; audit has the totals", async (stream) => {
      await usageCase(clientName, targetName, stream);
    });
  });
});

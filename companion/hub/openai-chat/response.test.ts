import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrResponse, IrStopReason } from "../ir.ts";
import { codec, decodeErrorBody, encodeErrorBody } from "./index.ts";

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
const ctx = { model: "ferry-model", id: "chatcmpl-ferry", now: 1_745_000_000_999 };

function decode(body: unknown): IrResponse {
  const r = codec.decodeResponse(body);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe("decodeResponse: golden fixtures", () => {
  it("plain text with usage (the API reference example)", () => {
    expect(decode(fixture("response-plain.json"))).toEqual({
      id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
      model: "gpt-4o-2024-08-06",
      content: [{ type: "text", text: "Hello! How can I assist you today?" }],
      stopReason: "end_turn",
      usage: { inputTokens: 19, outputTokens: 10, cachedInputTokens: 0, reasoningTokens: 0 },
    });
  });

  it("a tool call", () => {
    expect(decode(fixture("response-tool-calls.json"))).toEqual({
      id: "chatcmpl-abc123",
      model: "gpt-4o-mini",
      content: [{ type: "tool_call", id: "call_abc123", name: "get_current_weather", arguments: '{\n"location": "Boston, MA"\n}' }],
      stopReason: "tool_use",
      usage: { inputTokens: 82, outputTokens: 17, reasoningTokens: 0 },
    });
  });

  it("DeepSeek reasoning_content and reasoning tokens", () => {
    expect(decode(fixture("response-deepseek-reasoning.json"))).toEqual({
      id: "930c60df-bf64-41c9-a88e-3ec75f81e00e",
      model: "deepseek-reasoner",
      content: [
        { type: "reasoning", text: "Compare the tenths: 8 > 1, so 9.8 > 9.11." },
        { type: "text", text: "9.11 is greater than 9.8? No: 9.8 is greater." },
      ],
      stopReason: "end_turn",
      usage: { inputTokens: 18, outputTokens: 356, cachedInputTokens: 0, reasoningTokens: 340 },
    });
  });

  it("a structured-output refusal, with cached tokens", () => {
    expect(decode(fixture("response-refusal.json"))).toMatchObject({
      content: [{ type: "text", text: "I'm sorry, I cannot assist with that request." }],
      stopReason: "refusal",
      usage: { inputTokens: 81, outputTokens: 11, cachedInputTokens: 64, reasoningTokens: 0 },
    });
  });

  it("reads DeepSeek's prompt_cache_hit_tokens and cache writes", () => {
    expect(decode({ choices: [{ message: { content: "x" }, finish_reason: "stop" }], usage: { prompt_tokens: 100, completion_tokens: 5, prompt_cache_hit_tokens: 80 } }).usage).toEqual({
      inputTokens: 100,
      outputTokens: 5,
      cachedInputTokens: 80,
    });
    expect(decode({ choices: [{ message: { content: "x" }, finish_reason: "stop" }], usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 10, cache_write_tokens: 90 } } }).usage).toEqual({
      inputTokens: 100,
      outputTokens: 5,
      cachedInputTokens: 10,
      cacheCreationInputTokens: 90,
    });
  });

  it("maps every finish_reason", () => {
    const stop = (finish_reason: unknown, extra: Record<string, unknown> = {}, message: Record<string, unknown> = { content: "x" }) =>
      decode({ choices: [{ message, finish_reason, ...extra }] });
    expect(stop("stop").stopReason).toBe("end_turn");
    expect(stop("length").stopReason).toBe("max_tokens");
    expect(stop("tool_calls").stopReason).toBe("tool_use");
    expect(stop("function_call").stopReason).toBe("tool_use");
    expect(stop("content_filter").stopReason).toBe("content_filter");
    expect(stop("error").stopReason).toBe("error");
    expect(stop(null).stopReason).toBe("other");
    expect(stop("something_new").stopReason).toBe("other");
    // vLLM names the stop string; some hosts say "stop" after tool calls.
    expect(stop("stop", { stop_reason: "###" })).toMatchObject({ stopReason: "stop_sequence", stopSequence: "###" });
    expect(stop("stop", {}, { tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] }).stopReason).toBe("tool_use");
  });

  it("refuses bodies that are not answers, without throwing", () => {
    for (const body of [null, "x", 1, [], {}, { choices: [] }, { choices: [1] }]) expect(codec.decodeResponse(body).ok).toBe(false);
    expect(codec.decodeResponse(fixture("error-invalid-api-key.json"))).toEqual({ ok: false, error: { code: "bad_request", message: expect.stringContaining("Incorrect API key") } });
  });
});

describe("encodeResponse: golden", () => {
  it("text, reasoning and tool calls with usage", () => {
    const ir: IrResponse = {
      id: "msg_01",
      model: "claude-sonnet",
      content: [
        { type: "reasoning", text: "Let me think.", signature: "EqQB" },
        { type: "text", text: "I'll check " },
        { type: "text", text: "the weather." },
        { type: "tool_call", id: "toolu_01A", name: "get_weather", arguments: '{"location":"Paris"}' },
        { type: "tool_call", id: "toolu_01B", name: "get_time", arguments: "", thoughtSignature: "ts==" },
      ],
      stopReason: "tool_use",
      usage: { inputTokens: 120, outputTokens: 40, cachedInputTokens: 100, cacheCreationInputTokens: 20, reasoningTokens: 12 },
    };
    expect(codec.encodeResponse(ir, ctx)).toEqual({
      id: "chatcmpl-ferry",
      object: "chat.completion",
      created: 1_745_000_000,
      model: "ferry-model",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "I'll check the weather.",
            refusal: null,
            reasoning_content: "Let me think.",
            tool_calls: [
              { id: "toolu_01A", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } },
              { id: "toolu_01B", type: "function", function: { name: "get_time", arguments: "{}" }, extra_content: { google: { thought_signature: "ts==" } } },
            ],
          },
          logprobs: null,
          finish_reason: "tool_calls",
        },
      ],
      usage: {
        prompt_tokens: 120,
        completion_tokens: 40,
        total_tokens: 160,
        prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 },
        completion_tokens_details: { reasoning_tokens: 12 },
      },
    });
  });

  it("maps every stop reason", () => {
    const finish = (stopReason: IrStopReason) =>
      (codec.encodeResponse({ id: "", model: "", content: [{ type: "text", text: "x" }], stopReason, usage: {} }, ctx) as { choices: { finish_reason: string }[] }).choices[0]!.finish_reason;
    expect(finish("end_turn")).toBe("stop");
    expect(finish("stop_sequence")).toBe("stop");
    expect(finish("other")).toBe("stop");
    expect(finish("max_tokens")).toBe("length");
    expect(finish("tool_use")).toBe("tool_calls");
    expect(finish("content_filter")).toBe("content_filter");
    expect(finish("refusal")).toBe("content_filter");
    expect(finish("error")).toBe("error");
  });

  it("an empty answer has empty content and zero usage", () => {
    expect(codec.encodeResponse({ id: "", model: "", content: [], stopReason: "end_turn", usage: {} }, ctx)).toMatchObject({
      choices: [{ message: { role: "assistant", content: "" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  });

  it("round-trips through decodeResponse", () => {
    const ir = decode(fixture("response-deepseek-reasoning.json"));
    expect(decode(codec.encodeResponse(ir, ctx))).toEqual({ ...ir, id: ctx.id, model: ctx.model });
  });
});

describe("HTTP error bodies", () => {
  it("reads OpenAI's documented error body and rate limits", () => {
    expect(decodeErrorBody(fixture("error-invalid-api-key.json"), 401)).toEqual({
      status: 401,
      code: "invalid_api_key",
      message: "Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys.",
    });
    expect(decodeErrorBody(fixture("error-invalid-api-key.json"))).toMatchObject({ status: 401 });
    expect(decodeErrorBody(fixture("error-rate-limit.json"))).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect(decodeErrorBody({ error: { code: 502, message: "Provider returned error" } })).toEqual({ status: 502, code: "upstream_error", message: "Provider returned error" });
    expect(decodeErrorBody({ object: "error", message: "bad", type: "BadRequestError", code: 400 })).toEqual({ status: 400, code: "BadRequestError", message: "bad" });
    expect(decodeErrorBody({ choices: [] })).toBeNull();
  });

  it("writes {error: {message, type, param, code}}", () => {
    expect(encodeErrorBody(429, "rate_limited", "slow down")).toEqual({ error: { message: "slow down", type: "rate_limited", param: null, code: "rate_limited" } });
  });
});

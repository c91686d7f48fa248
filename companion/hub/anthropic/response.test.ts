import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrResponse } from "../ir.ts";
import { codec } from "./index.ts";
import { errorBody, errorStatus, errorType } from "./wire.ts";

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));

function decode(body: unknown): IrResponse {
  const r = codec.decodeResponse(body);
  if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
  return r.value;
}

const ctx = { id: "msg_ferry_1", model: "claude-sonnet-4-5", now: 0 };

describe("decodeResponse: documented answers → IR", () => {
  it("text, end_turn, usage", () => {
    expect(decode(fixture("response-text.json"))).toEqual({
      id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
      model: "claude-sonnet-4-5-20250929",
      content: [{ type: "text", text: "Hi! My name is Claude." }],
      stopReason: "end_turn",
      usage: { inputTokens: 2095, outputTokens: 503 },
    });
  });

  it("parallel tool calls; input tokens include cache reads and writes", () => {
    expect(decode(fixture("response-tool-use.json"))).toEqual({
      id: "msg_01Aq9w938a90dw8q",
      model: "claude-opus-4-6",
      content: [
        { type: "text", text: "I'll check the weather and the time in San Francisco." },
        { type: "tool_call", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
        { type: "tool_call", id: "toolu_01B2mYGzTxvTNgkfXCgkXJ5v", name: "get_time", arguments: '{"timezone":"America/Los_Angeles"}' },
      ],
      stopReason: "tool_use",
      usage: { inputTokens: 21 + 188086 + 1024, outputTokens: 393, cachedInputTokens: 1024, cacheCreationInputTokens: 188086 },
    });
  });

  it("thinking with signature, redacted thinking, max_tokens, thinking tokens", () => {
    const ir = decode(fixture("response-thinking.json"));
    expect(ir.content).toEqual([
      { type: "reasoning", text: "Let me analyze this step by step...", signature: expect.stringMatching(/^WaUjzkyp/) as unknown },
      { type: "reasoning", text: "", redactedData: expect.stringMatching(/^EmwKAhgB/) as unknown },
      { type: "text", text: "Based on my analysis..." },
    ]);
    expect(ir.stopReason).toBe("max_tokens");
    expect(ir.usage).toEqual({ inputTokens: 778, outputTokens: 1024, cachedInputTokens: 0, cacheCreationInputTokens: 0, reasoningTokens: 912 });
  });

  it("the forced JSON-answer tool becomes text and the turn ends normally", () => {
    const ir = decode(fixture("response-json-tool.json"));
    expect(ir.content).toEqual([{ type: "text", text: '{"name":"John Smith","email":"john@example.com","plan_interest":"Enterprise","demo_requested":true}' }]);
    expect(ir.stopReason).toBe("end_turn");
  });

  it("maps every stop reason", () => {
    const base = fixture("response-text.json") as Record<string, unknown>;
    const cases: [unknown, string][] = [
      ["end_turn", "end_turn"],
      ["max_tokens", "max_tokens"],
      ["stop_sequence", "stop_sequence"],
      ["tool_use", "tool_use"],
      ["pause_turn", "other"],
      ["refusal", "refusal"],
      ["model_context_window_exceeded", "max_tokens"],
      [null, "other"],
    ];
    for (const [wire, ir] of cases) expect(decode({ ...base, stop_reason: wire }).stopReason, String(wire)).toBe(ir);
    expect(decode({ ...base, stop_reason: "stop_sequence", stop_sequence: "\n\nHuman:" }).stopSequence).toBe("\n\nHuman:");
  });

  it("an error body or a malformed answer is a bad_request, never a throw", () => {
    const r = codec.decodeResponse(fixture("error-overloaded.json"));
    expect(r).toEqual({ ok: false, error: { code: "bad_request", message: "the target answered with an error: overloaded_error: Overloaded" } });
    for (const body of [null, 1, "x", [], {}, { content: "x" }, { content: [1] }, { content: [{ type: "text" }] }, { content: [{ type: "tool_use", id: 1 }] }]) {
      expect(codec.decodeResponse(body).ok, JSON.stringify(body)).toBe(false);
    }
  });
});

describe("encodeResponse: IR → Message object", () => {
  it("text, reasoning, tool calls, stop reason and usage", () => {
    const ir: IrResponse = {
      id: "chatcmpl-1",
      model: "gpt-5",
      content: [
        { type: "reasoning", text: "Thinking about it.", signature: "sig-1" },
        { type: "reasoning", text: "unsigned, from another dialect" },
        { type: "reasoning", text: "", redactedData: "REDACTED" },
        { type: "text", text: "Let me look." },
        { type: "tool_call", id: "call_abc", name: "lookup", arguments: '{"q":"ferry"}' },
        { type: "tool_call", id: "call_def", name: "broken", arguments: '{"q":' },
      ],
      stopReason: "tool_use",
      usage: { inputTokens: 1200, cachedInputTokens: 1000, outputTokens: 80, reasoningTokens: 30 },
    };
    expect(codec.encodeResponse(ir, ctx)).toEqual({
      id: "msg_ferry_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [
        { type: "thinking", thinking: "Thinking about it.", signature: "sig-1" },
        { type: "thinking", thinking: "unsigned, from another dialect", signature: "" },
        { type: "redacted_thinking", data: "REDACTED" },
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "call_abc", name: "lookup", input: { q: "ferry" } },
        { type: "tool_use", id: "call_def", name: "broken", input: {} },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 200, cache_read_input_tokens: 1000, output_tokens: 80, output_tokens_details: { thinking_tokens: 30 } },
    });
  });

  it("maps IR stop reasons onto the wire's", () => {
    const cases: [IrResponse["stopReason"], string][] = [
      ["end_turn", "end_turn"],
      ["max_tokens", "max_tokens"],
      ["stop_sequence", "stop_sequence"],
      ["tool_use", "tool_use"],
      ["refusal", "refusal"],
      ["content_filter", "refusal"],
      ["error", "end_turn"],
      ["other", "end_turn"],
    ];
    for (const [ir, wire] of cases) {
      const body = codec.encodeResponse({ id: "", model: "", content: [], stopReason: ir, usage: {} }, ctx) as { stop_reason: string };
      expect(body.stop_reason, ir).toBe(wire);
    }
  });

  it("round-trips the documented answers", () => {
    for (const name of ["response-text.json", "response-tool-use.json", "response-thinking.json"]) {
      const ir = decode(fixture(name));
      expect(decode(codec.encodeResponse(ir, { ...ctx, id: ir.id, model: ir.model })), name).toEqual(ir);
    }
  });
});

describe("errors", () => {
  it("error types and HTTP statuses both ways", () => {
    expect(errorStatus("overloaded_error")).toBe(529);
    expect(errorStatus("rate_limit_error")).toBe(429);
    expect(errorStatus("something_new")).toBe(500);
    expect(errorType(429, "rate_limited")).toBe("rate_limit_error");
    expect(errorType(500, "overloaded_error")).toBe("overloaded_error");
    expect(errorType(503, "upstream_failed")).toBe("overloaded_error");
    expect(errorType(422, "x")).toBe("invalid_request_error");
    expect(errorType(502, "x")).toBe("api_error");
    expect(errorBody("invalid_request_error", "max_tokens: Field required")).toEqual({
      type: "error",
      error: (fixture("error-invalid-request.json") as { error: unknown }).error,
    });
  });
});

import { describe, expect, it } from "vitest";
import type { IrResponse } from "../ir.ts";
import { codec, decodeErrorBody, encodeErrorBody } from "./index.ts";
import { fixture, GENERATED_ID, unwrap } from "./test-helpers.ts";

const decode = (body: unknown) => unwrap(codec.decodeResponse(body));
const CTX = { model: "alias", id: "ferry-1", now: Date.UTC(2025, 6, 7, 20, 22, 19, 184) };

describe("decodeResponse (Ollama target → IR)", () => {
  it("plain text with usage; a done answer without done_reason is a natural end", () => {
    expect(decode(fixture("chat-response.plain.json"))).toEqual({
      id: expect.stringMatching(/^ollama-/),
      model: "llama3.2",
      content: [{ type: "text", text: "Hello! How are you today?" }],
      stopReason: "end_turn",
      usage: { inputTokens: 26, outputTokens: 298 },
    });
  });

  it("tool calls: generated ids, arguments as JSON text, done_reason stop → tool_use", () => {
    expect(decode(fixture("chat-response.tools.json"))).toMatchObject({
      content: [{ type: "tool_call", id: expect.stringMatching(GENERATED_ID), name: "get_weather", arguments: '{"city":"Tokyo"}' }],
      stopReason: "tool_use",
      usage: { inputTokens: 169, outputTokens: 18 },
    });
  });

  it("structured output is plain JSON text", () => {
    expect(decode(fixture("chat-response.structured.json")).content).toEqual([{ type: "text", text: '{"age": 22, "available": false}' }]);
  });

  it("thinking becomes a reasoning part first; cached prompt tokens are read", () => {
    expect(decode(fixture("chat-response.thinking.json"))).toMatchObject({
      content: [
        { type: "reasoning", text: "Let me count the letters: s-t-r-a-w-b-e-r-r-y. r appears at positions 3, 8 and 9." },
        { type: "text", text: "There are three r's in strawberry." },
      ],
      stopReason: "end_turn",
      usage: { inputTokens: 12, cachedInputTokens: 8, outputTokens: 57 },
    });
  });

  it("stop reasons: length, load, unknown, not done", () => {
    expect(decode(fixture("chat-response.length.json")).stopReason).toBe("max_tokens");
    expect(decode(fixture("chat-response.load.json"))).toMatchObject({ content: [], stopReason: "end_turn", usage: {} });
    expect(decode({ message: { content: "x" }, done: true, done_reason: "something_new" }).stopReason).toBe("other");
    expect(decode({ message: { content: "x" }, done: false }).stopReason).toBe("other");
  });

  it("an error body and malformed answers are errors, never throws", () => {
    expect(codec.decodeResponse(fixture("error.not-found.json"))).toEqual({ ok: false, error: { code: "bad_request", message: 'Ollama answered with an error: model "llama3.3" not found, try pulling it first' } });
    for (const body of [null, 1, "x", [], { message: 5 }, { message: { content: 5 } }, { message: { tool_calls: {} } }, { message: { tool_calls: [{ function: {} }] } }]) {
      expect(codec.decodeResponse(body).ok, JSON.stringify(body)).toBe(false);
    }
  });
});

describe("encodeResponse (IR → Ollama client)", () => {
  it("text, thinking, tool calls with ids and index, counters", () => {
    const ir: IrResponse = {
      id: "msg_1",
      model: "claude",
      content: [
        { type: "reasoning", text: "Need the weather.", signature: "sig" },
        { type: "text", text: "Let me check." },
        { type: "tool_call", id: "toolu_01", name: "get_weather", arguments: '{"city":"Tokyo"}' },
        { type: "tool_call", id: "toolu_02", name: "get_weather", arguments: '{"city":"Osaka"}' },
      ],
      stopReason: "tool_use",
      usage: { inputTokens: 169, cachedInputTokens: 100, outputTokens: 18, reasoningTokens: 5 },
    };
    expect(codec.encodeResponse(ir, CTX)).toEqual({
      model: "alias",
      created_at: "2025-07-07T20:22:19.184Z",
      message: {
        role: "assistant",
        content: "Let me check.",
        thinking: "Need the weather.",
        tool_calls: [
          { id: "toolu_01", function: { index: 0, name: "get_weather", arguments: { city: "Tokyo" } } },
          { id: "toolu_02", function: { index: 1, name: "get_weather", arguments: { city: "Osaka" } } },
        ],
      },
      done: true,
      done_reason: "stop",
      prompt_eval_count: 169,
      prompt_eval_cached_count: 100,
      eval_count: 18,
    });
  });

  it("done_reason per stop reason", () => {
    const reasonOf = (stopReason: IrResponse["stopReason"]) => (codec.encodeResponse({ id: "x", model: "m", content: [], stopReason, usage: {} }, CTX) as { done_reason: string }).done_reason;
    expect(["end_turn", "stop_sequence", "tool_use", "max_tokens", "content_filter", "refusal", "error", "other"].map((r) => reasonOf(r as IrResponse["stopReason"]))).toEqual([
      "stop",
      "stop",
      "stop",
      "length",
      "content_filter",
      "refusal",
      "error",
      "other",
    ]);
  });

  it("decode(encode(x)) keeps text, reasoning, tool calls, stop and usage", () => {
    const ir = decode(fixture("chat-response.thinking.json"));
    const back = decode(codec.encodeResponse(ir, CTX));
    expect({ ...back, id: ir.id, model: ir.model }).toEqual(ir);
  });
});

describe("HTTP error bodies", () => {
  it("Ollama's {error} body ⇄ IR error", () => {
    const ir = decodeErrorBody(404, fixture("error.not-found.json"));
    expect(ir).toEqual({ type: "error", status: 404, code: "not_found", message: 'model "llama3.3" not found, try pulling it first' });
    expect(encodeErrorBody(ir)).toEqual(fixture("error.not-found.json"));
    expect(decodeErrorBody(500, '{"error":"the model failed to generate a response"}')).toEqual({ type: "error", status: 500, code: "upstream_error", message: "the model failed to generate a response" });
    expect(decodeErrorBody(429, "slow down")).toMatchObject({ code: "rate_limited", message: "slow down" });
    expect(decodeErrorBody(400, null)).toMatchObject({ code: "bad_request", message: "Ollama answered 400" });
  });
});

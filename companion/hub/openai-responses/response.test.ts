import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrResponse } from "../ir.ts";
import { codec, decodeErrorBody, encodeErrorBody } from "./index.ts";

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));

function decoded(body: unknown): IrResponse {
  const r = codec.decodeResponse(body);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const ctx = { id: "resp_abc", model: "gpt-5", now: 1_741_476_542_000 };

describe("decodeResponse", () => {
  it("reads a text answer with its usage (API reference example)", () => {
    const ir = decoded(fixture("response-text.json"));
    expect(ir).toEqual({
      id: "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
      model: "gpt-4.1-2025-04-14",
      content: [{ type: "text", text: expect.stringMatching(/^In a peaceful grove beneath a silver moon/) }],
      stopReason: "end_turn",
      usage: { inputTokens: 36, outputTokens: 87, cachedInputTokens: 0, reasoningTokens: 0 },
    });
  });

  it("reads parallel function calls as tool calls with their call ids; cached tokens", () => {
    const ir = decoded(fixture("response-tool-calls.json"));
    expect(ir.content).toEqual([
      { type: "tool_call", id: "call_12345xyz", name: "get_weather", arguments: '{"location":"Paris, France"}' },
      { type: "tool_call", id: "call_67890abc", name: "get_weather", arguments: '{"location":"Bogotá, Colombia"}' },
      { type: "tool_call", id: "call_99999def", name: "send_email", arguments: '{"to":"bob@email.com","body":"Hi bob"}' },
    ]);
    expect(ir.stopReason).toBe("tool_use");
    expect(ir.usage).toEqual({ inputTokens: 291, outputTokens: 71, cachedInputTokens: 128, reasoningTokens: 0 });
  });

  it("reads reasoning: summary parts joined, encrypted_content as the signature, reasoning tokens", () => {
    const ir = decoded(fixture("response-reasoning.json"));
    expect(ir.content).toEqual([
      {
        type: "reasoning",
        text: "**Answering a simple question**\n\nI'm looking at a straightforward question: the capital of France is Paris.\n\n**Keeping it short**\n\nA one-line answer is enough.",
        signature: "gAAAAABoIPOD0wW-2vK0eyF7QO8Kq0lE3a1Zb8kQ",
      },
      { type: "text", text: "The capital of France is Paris." },
    ]);
    expect(ir.usage.reasoningTokens).toBe(256);
  });

  it("maps incomplete (max_output_tokens), content filter, failed and refusals to stop reasons", () => {
    expect(decoded(fixture("response-incomplete.json")).stopReason).toBe("max_tokens");
    expect(decoded({ output: [], status: "incomplete", incomplete_details: { reason: "content_filter" } }).stopReason).toBe("content_filter");
    expect(decoded({ output: [], status: "failed", error: { code: "server_error", message: "x" } }).stopReason).toBe("error");
    const refusal = decoded({ status: "completed", output: [{ type: "message", role: "assistant", content: [{ type: "refusal", refusal: "I can't help with that." }] }] });
    expect(refusal).toMatchObject({ content: [{ type: "text", text: "I can't help with that." }], stopReason: "refusal" });
  });

  it("rejects bodies that are not a response", () => {
    for (const body of [null, "x", [], { id: "r" }, { output: {} }]) expect(codec.decodeResponse(body).ok).toBe(false);
  });
});

describe("encodeResponse", () => {
  it("writes each IR part as one output item, with usage and status", () => {
    const body = codec.encodeResponse(
      {
        id: "upstream-id",
        model: "claude-sonnet-4-5",
        content: [
          { type: "reasoning", text: "The user greets me.", signature: "EqQBCkgIBxABGAIiQL" },
          { type: "text", text: "Hello! Let me check." },
          { type: "tool_call", id: "toolu_01A", name: "get_weather", arguments: '{"city":"Paris"}' },
          { type: "tool_call", id: "call_1_x7", name: "get_time", arguments: "{}", thoughtSignature: "CiQBcsjafQ" },
        ],
        stopReason: "tool_use",
        usage: { inputTokens: 120, outputTokens: 40, cachedInputTokens: 100, cacheCreationInputTokens: 20, reasoningTokens: 12 },
      },
      ctx,
    );
    expect(body).toEqual({
      id: "resp_abc",
      object: "response",
      created_at: 1741476542,
      status: "completed",
      error: null,
      incomplete_details: null,
      instructions: null,
      metadata: null,
      model: "gpt-5",
      output: [
        { id: "rs_abc_0", type: "reasoning", summary: [{ type: "summary_text", text: "The user greets me." }], encrypted_content: "EqQBCkgIBxABGAIiQL" },
        { id: "msg_abc_1", type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", annotations: [], text: "Hello! Let me check." }] },
        { id: "fc_abc_2", type: "function_call", status: "completed", arguments: '{"city":"Paris"}', call_id: "toolu_01A", name: "get_weather" },
        { id: "rs_abc_3", type: "reasoning", summary: [], encrypted_content: "ferry:call-thought:CiQBcsjafQ" },
        { id: "fc_abc_4", type: "function_call", status: "completed", arguments: "{}", call_id: "call_1_x7", name: "get_time" },
      ],
      parallel_tool_calls: true,
      temperature: null,
      tool_choice: "auto",
      tools: [],
      top_p: null,
      usage: {
        input_tokens: 120,
        input_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 },
        output_tokens: 40,
        output_tokens_details: { reasoning_tokens: 12 },
        total_tokens: 160,
      },
    });
  });

  it("writes max_tokens as incomplete, an error stop as failed, redacted thinking as tagged state", () => {
    const base: IrResponse = { id: "x", model: "m", content: [{ type: "text", text: "partial" }], stopReason: "max_tokens", usage: {} };
    expect(codec.encodeResponse(base, ctx)).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output: [{ status: "incomplete" }] });
    expect(codec.encodeResponse({ ...base, stopReason: "content_filter" }, ctx)).toMatchObject({ status: "incomplete", incomplete_details: { reason: "content_filter" } });
    expect(codec.encodeResponse({ ...base, stopReason: "error" }, ctx)).toMatchObject({ status: "failed", error: { code: "server_error" } });
    expect(codec.encodeResponse({ ...base, content: [{ type: "reasoning", text: "", redactedData: "EmwKAhgBEgy" }], stopReason: "end_turn" }, ctx)).toMatchObject({
      status: "completed",
      output: [{ type: "reasoning", summary: [], encrypted_content: "ferry:redacted:EmwKAhgBEgy" }],
    });
  });

  it("round-trips through decodeRequest as the client's next turn (Codex returns output items as input)", () => {
    const answer: IrResponse = {
      id: "x",
      model: "m",
      content: [
        { type: "reasoning", text: "", redactedData: "EmwKAhgBEgy" },
        { type: "reasoning", text: "plan", thoughtSignature: "CiQB" },
        { type: "text", text: "Calling." },
        { type: "tool_call", id: "call_1", name: "f", arguments: '{"a":1}', thoughtSignature: "CiQBsig" },
      ],
      stopReason: "tool_use",
      usage: {},
    };
    const body = codec.encodeResponse(answer, ctx) as { output: unknown[] };
    const next = codec.decodeRequest({ model: "m", input: [{ role: "user", content: "go" }, ...body.output] }, {});
    if (!next.ok) throw new Error(next.error.message);
    expect(next.value.messages[1]).toEqual({ role: "assistant", content: answer.content });
  });
});

describe("error bodies", () => {
  it("reads a target's error body (the API's invalid key answer)", () => {
    expect(decodeErrorBody(401, fixture("error-body.json"))).toEqual({
      type: "error",
      status: 401,
      code: "invalid_api_key",
      message: "Incorrect API key provided: sk-mock. You can find your API key at https://platform.openai.com/account/api-keys.",
    });
    expect(decodeErrorBody(502, "<html>bad gateway</html>")).toEqual({ type: "error", status: 502, code: "upstream_error", message: "the upstream answered 502" });
  });

  it("writes the client's error body in OpenAI's envelope", () => {
    expect(encodeErrorBody(429, "rate_limited", "daily quota used up")).toEqual({ error: { message: "daily quota used up", type: "rate_limited", code: "rate_limited", param: null } });
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrResponse } from "../ir.ts";
import { codec, errorFromWire, errorToWire } from "./index.ts";

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
const ctx = { model: "gemini-2.5-flash", id: "resp-1", now: 1_700_000_000_000 };

function decode(body: unknown): IrResponse {
  const r = codec.decodeResponse(body);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe("gemini decodeResponse (golden)", () => {
  it("plain text with usage", () => {
    expect(decode(fixture("response-text.json"))).toEqual({
      id: "mAitaLmkHPPlz7IPvtfUqQ4",
      model: "gemini-2.5-flash",
      content: [{ type: "text", text: "Two dogs have 8 paws in total, so there are 8 paws in your house." }],
      stopReason: "end_turn",
      usage: { inputTokens: 25, outputTokens: 18 },
    });
  });

  it("parallel function calls: STOP becomes tool_use, ids are generated, thoughts count as output", () => {
    const ir = decode(fixture("response-function-calls.json"));
    expect(ir.stopReason).toBe("tool_use");
    expect(ir.usage).toEqual({ inputTokens: 134, outputTokens: 78, reasoningTokens: 48 });
    expect(ir.content).toEqual([
      { type: "tool_call", id: expect.stringMatching(/^call_0_[0-9a-f]{8}$/), name: "power_disco_ball", arguments: '{"power":true}', thoughtSignature: "CiIBVKhc7oDKa9G3b4==" },
      { type: "tool_call", id: expect.stringMatching(/^call_1_[0-9a-f]{8}$/), name: "start_music", arguments: '{"energetic":true,"loud":true}' },
      { type: "tool_call", id: expect.stringMatching(/^call_2_[0-9a-f]{8}$/), name: "dim_lights", arguments: '{"brightness":0.5}' },
    ]);
    // Seeded by the responseId: the same answer always gets the same ids.
    expect(decode(fixture("response-function-calls.json")).content).toEqual(ir.content);
  });

  it("thinking: thought text, the trailing signature, cached and reasoning tokens", () => {
    expect(decode(fixture("response-thinking.json"))).toEqual({
      id: "th-1",
      model: "gemini-3-flash-preview",
      content: [
        { type: "reasoning", text: "**Counting paws**\nEach dog has four paws; two dogs make eight." },
        { type: "text", text: "There are 8 paws." },
        { type: "reasoning", text: "", thoughtSignature: "AY89a18iOcFus5wr5bW5xN6zZ4aUiCyh=" },
      ],
      stopReason: "end_turn",
      usage: { inputTokens: 1200, outputTokens: 101, cachedInputTokens: 1024, reasoningTokens: 95 },
    });
  });

  it("stop reasons", () => {
    expect(decode(fixture("response-max-tokens.json")).stopReason).toBe("max_tokens");
    expect(decode(fixture("response-safety.json"))).toMatchObject({ stopReason: "content_filter", content: [] });
    expect(decode(fixture("response-blocked.json"))).toMatchObject({ stopReason: "content_filter", content: [], usage: { inputTokens: 12 } });
    const reason = (finishReason: string): string => decode({ candidates: [{ content: { parts: [{ text: "x" }] }, finishReason }] }).stopReason;
    expect(reason("RECITATION")).toBe("content_filter");
    expect(reason("PROHIBITED_CONTENT")).toBe("content_filter");
    expect(reason("MALFORMED_FUNCTION_CALL")).toBe("other");
    expect(reason("OTHER")).toBe("other");
  });

  it("an error body is an error, never a throw", () => {
    expect(codec.decodeResponse(fixture("error-429.json"))).toEqual({ ok: false, error: { code: "bad_request", message: "Gemini error 429 RESOURCE_EXHAUSTED: Resource has been exhausted (e.g. check quota)." } });
    for (const bad of [null, 1, "x", [], { candidates: [{ content: { parts: [{ functionCall: { args: 3 } }] } }] }]) expect(codec.decodeResponse(bad).ok).toBe(false);
    expect(decode({})).toEqual({ id: "", model: "", content: [], stopReason: "end_turn", usage: {} });
  });
});

describe("gemini encodeResponse (golden)", () => {
  it("text, reasoning, tool calls, usage", () => {
    const ir: IrResponse = {
      id: "msg_1",
      model: "claude-x",
      content: [
        { type: "reasoning", text: "Thinking…", signature: "ant-sig" },
        { type: "text", text: "Calling." },
        { type: "tool_call", id: "toolu_9", name: "get_weather", arguments: '{"city":"Paris"}' },
      ],
      stopReason: "tool_use",
      usage: { inputTokens: 100, outputTokens: 40, cachedInputTokens: 80, reasoningTokens: 10 },
    };
    expect(codec.encodeResponse(ir, ctx)).toEqual({
      candidates: [
        {
          content: {
            role: "model",
            parts: [{ text: "Thinking…", thought: true }, { text: "Calling." }, { functionCall: { id: "toolu_9", name: "get_weather", args: { city: "Paris" } } }],
          },
          finishReason: "STOP",
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 30, totalTokenCount: 140, thoughtsTokenCount: 10, cachedContentTokenCount: 80 },
      modelVersion: "gemini-2.5-flash",
      responseId: "resp-1",
    });
  });

  it("finish reasons", () => {
    const reason = (stopReason: IrResponse["stopReason"]): unknown =>
      (codec.encodeResponse({ id: "", model: "", content: [], stopReason, usage: {} }, ctx) as { candidates: { finishReason: string }[] }).candidates[0]!.finishReason;
    expect([reason("end_turn"), reason("stop_sequence"), reason("tool_use"), reason("max_tokens"), reason("content_filter"), reason("refusal"), reason("error"), reason("other")]).toEqual([
      "STOP",
      "STOP",
      "STOP",
      "MAX_TOKENS",
      "SAFETY",
      "SAFETY",
      "OTHER",
      "OTHER",
    ]);
  });

  it("decoded Gemini answers encode back to the same candidates and usage", () => {
    for (const name of ["response-text.json", "response-thinking.json", "response-max-tokens.json"]) {
      const original = fixture(name) as { candidates: { content: unknown; finishReason: string }[]; usageMetadata: Record<string, number> };
      const again = codec.encodeResponse(decode(original), ctx) as typeof original;
      expect(again.candidates[0]!.content).toEqual(original.candidates[0]!.content);
      expect(again.candidates[0]!.finishReason).toBe(original.candidates[0]!.finishReason);
      const { promptTokensDetails: _p, candidatesTokensDetails: _c, ...counts } = original.usageMetadata;
      expect(again.usageMetadata).toEqual(counts);
    }
  });
});

describe("gemini error bodies", () => {
  it("HTTP error body both ways", () => {
    expect(errorToWire(429, "Resource has been exhausted (e.g. check quota).")).toEqual(fixture("error-429.json"));
    expect(errorFromWire(fixture("error-429.json"))).toEqual({ status: 429, code: "RESOURCE_EXHAUSTED", message: "Resource has been exhausted (e.g. check quota)." });
    expect(errorFromWire({ candidates: [] })).toBeNull();
  });
});

describe("gemini embeddings", () => {
  it("embedContent and batchEmbedContents requests", () => {
    expect(codec.decodeEmbeddings!(fixture("embed-content.json"), { model: "gemini-embedding-001" })).toEqual({
      ok: true,
      value: { model: "gemini-embedding-001", inputs: ["What is the meaning of life?"], dimensions: 768, dropped: [{ feature: "embeddings.taskType", reason: '"taskType" has no IR equivalent' }] },
    });
    const batch = codec.decodeEmbeddings!(fixture("batch-embed-contents.json"), {});
    expect(batch).toEqual({ ok: true, value: { model: "", inputs: ["What is the meaning of life?", "How does the brain work?"], dimensions: 3, dropped: [] } });
    expect(codec.encodeEmbeddings!(batch.ok ? batch.value : (null as never), { model: "gemini-embedding-001" })).toEqual({ ok: true, value: { body: fixture("batch-embed-contents.json"), dropped: [] } });
    expect(codec.decodeEmbeddings!({}, {}).ok).toBe(false);
    expect(codec.decodeEmbeddings!({ content: { parts: [{ text: "x" }] }, outputDimensionality: -1 }, {}).ok).toBe(false);
  });

  it("answers in both forms", () => {
    const ir = codec.decodeEmbeddingsResponse!(fixture("batch-embed-contents.response.json"));
    expect(ir).toEqual({ ok: true, value: { model: "", vectors: [[0.0123, -0.0456, 0.0789], [-0.0321, 0.0654, -0.0987]], usage: { inputTokens: 14 } } });
    if (!ir.ok) return;
    expect(codec.encodeEmbeddingsResponse!(ir.value, ctx)).toEqual(fixture("batch-embed-contents.response.json"));
    expect(codec.encodeEmbeddingsResponse!({ model: "", vectors: [[1, 2]], usage: {} }, { ...ctx, single: true } as never)).toEqual({ embedding: { values: [1, 2] } });
    expect(codec.decodeEmbeddingsResponse!({ embedding: { values: [1, 2] } })).toEqual({ ok: true, value: { model: "", vectors: [[1, 2]], usage: {} } });
    expect(codec.decodeEmbeddingsResponse!(fixture("error-429.json")).ok).toBe(false);
  });
});

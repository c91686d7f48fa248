import { describe, expect, it } from "vitest";
import type { IrRequest } from "../ir.ts";
import { codec } from "./index.ts";
import { fixture, GENERATED_ID, unwrap } from "./test-helpers.ts";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const decode = (body: unknown, opts: { model?: string; stream?: boolean } = {}) => unwrap(codec.decodeRequest(body, opts));
const encode = (ir: IrRequest, model = "llama3.2") => unwrap(codec.encodeRequest(ir, { model }));

function base(extra: Partial<IrRequest> = {}): IrRequest {
  return { model: "m", system: [], messages: [], tools: [], stream: false, dropped: [], ...extra };
}

describe("decodeRequest (Ollama client → IR)", () => {
  it("plain text, stream false as given", () => {
    expect(decode(fixture("chat-request.plain.json"))).toEqual({
      model: "llama3.2",
      system: [],
      messages: [{ role: "user", content: [{ type: "text", text: "why is the sky blue?" }] }],
      tools: [],
      stream: false,
      dropped: [],
    });
  });

  it("system prompt and multi-turn; stream defaults to true; the caller's model and stream win", () => {
    const body = fixture("chat-request.history.json");
    const ir = decode(body);
    expect(ir.stream).toBe(true);
    expect(ir.system).toEqual([{ text: "You are a concise physics tutor." }]);
    expect(ir.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "why is the sky blue?" }] },
      { role: "assistant", content: [{ type: "text", text: "due to rayleigh scattering." }] },
      { role: "user", content: [{ type: "text", text: "how is that different than mie scattering?" }] },
    ]);
    const overridden = decode(body, { model: "target-model", stream: false });
    expect([overridden.model, overridden.stream]).toEqual(["target-model", false]);
  });

  it("images: base64 with sniffed media types, before the text", () => {
    const ir = decode(fixture("chat-request.images.json"));
    expect(ir.messages[0]!.content).toEqual([
      { type: "image", source: { kind: "base64", mediaType: "image/png", data: PNG } },
      { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: expect.stringMatching(/^\/9j\//) } },
      { type: "text", text: "what is in this image?" },
    ]);
  });

  it("tools, a tool call without id and its result found by tool_name", () => {
    const ir = decode(fixture("chat-request.tools-history.json"));
    expect(ir.tools).toEqual([
      {
        name: "get_weather",
        description: "Get the weather in a given city",
        parameters: { type: "object", properties: { city: { type: "string", description: "The city to get the weather for" } }, required: ["city"] },
      },
    ]);
    const call = ir.messages[1]!.content[0] as { type: string; id: string };
    expect(ir.messages[1]).toEqual({ role: "assistant", content: [{ type: "tool_call", id: expect.stringMatching(GENERATED_ID), name: "get_weather", arguments: '{"city":"Toronto"}' }] });
    expect(ir.messages[2]).toEqual({
      role: "user",
      content: [{ type: "tool_result", toolCallId: call.id, name: "get_weather", content: [{ type: "text", text: "11 degrees celsius" }] }],
    });
    expect(ir.dropped).toEqual([]);
  });

  it("parallel calls with ids; consecutive tool messages form one user turn", () => {
    const ir = decode(fixture("chat-request.parallel-tools.json"));
    expect(ir.messages[1]!.content).toEqual([
      { type: "tool_call", id: "call_k4yd0rx3", name: "get_weather", arguments: '{"city":"Toronto"}' },
      { type: "tool_call", id: "call_7qz1m2pa", name: "get_weather", arguments: '{"city":"Paris"}' },
    ]);
    expect(ir.messages[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", toolCallId: "call_k4yd0rx3", name: "get_weather", content: [{ type: "text", text: "11 degrees celsius" }] },
        { type: "tool_result", toolCallId: "call_7qz1m2pa", name: "get_weather", content: [{ type: "text", text: "18 degrees celsius" }] },
      ],
    });
  });

  it("same-named results without ids answer the calls in order; unmatched results get a fresh id and a drop", () => {
    const ir = decode({
      model: "m",
      messages: [
        { role: "assistant", content: "", tool_calls: [{ function: { name: "f", arguments: { a: 1 } } }, { function: { name: "f", arguments: { a: 2 } } }] },
        { role: "tool", content: "one", tool_name: "f" },
        { role: "tool", content: "two", tool_name: "f" },
        { role: "tool", content: "three", tool_name: "g" },
      ],
    });
    const [a, b] = ir.messages[0]!.content as { id: string }[];
    const results = ir.messages[1]!.content as { toolCallId: string }[];
    expect(results.map((r) => r.toolCallId)).toEqual([a!.id, b!.id, expect.stringMatching(GENERATED_ID)]);
    expect(new Set(results.map((r) => r.toolCallId)).size).toBe(3);
    expect(ir.dropped.map((d) => d.feature)).toEqual(["message.tool.call_id"]);
  });

  it("structured output and options", () => {
    const ir = decode(fixture("chat-request.structured.json"));
    expect(ir.responseFormat).toEqual({
      type: "json_schema",
      schema: { type: "object", properties: { age: { type: "integer" }, available: { type: "boolean" } }, required: ["age", "available"] },
    });
    expect(ir.temperature).toBe(0);
  });

  it("JSON mode, think level, every mapped option; keep_alive and unknown options are recorded", () => {
    const ir = decode(fixture("chat-request.options.json"));
    expect(ir).toMatchObject({
      responseFormat: { type: "json" },
      reasoning: { enabled: true, effort: "low" },
      seed: 101,
      temperature: 0,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 128,
      stopSequences: ["\n\n"],
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
    });
    expect(ir.dropped.map((d) => d.feature).sort()).toEqual(["options.num_ctx", "request.keep_alive"]);
  });

  it("thinking in history and think: true", () => {
    const ir = decode(fixture("chat-request.thinking.json"));
    expect(ir.reasoning).toEqual({ enabled: true });
    expect(ir.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "reasoning", text: "Let me count the letters: s-t-r-a-w-b-e-r-r-y. r appears at positions 3, 8 and 9." },
        { type: "text", text: "There are three r's in strawberry." },
      ],
    });
    expect(decode({ model: "m", messages: [], think: false }).reasoning).toEqual({ enabled: false });
    expect(decode({ model: "m", messages: [], think: "max" }).reasoning).toEqual({ enabled: true, effort: "high" });
  });

  it("num_predict -1 is no limit; a late system message is moved and recorded; roles are case-insensitive", () => {
    const ir = decode({ model: "m", messages: [{ role: "USER", content: "hi" }, { role: "system", content: "late" }], options: { num_predict: -1 } });
    expect(ir.maxOutputTokens).toBeUndefined();
    expect(ir.system).toEqual([{ text: "late" }]);
    expect(ir.dropped.map((d) => d.feature)).toEqual(["message.system.position"]);
  });

  it("malformed requests are bad_request values, never throws", () => {
    for (const body of [null, [], "x", {}, { model: "m", messages: {} }, { model: "m", messages: [{ role: "wizard", content: "x" }] }, { model: "m", messages: [{ role: "user", content: 3 }] }, { model: "m", format: "xml" }, { model: "m", think: "huge" }, { model: "m", options: { temperature: "hot" } }, { model: "m", options: { stop: [1] } }, { model: "m", tools: [{ type: "function" }] }, { model: "m", messages: [{ role: "assistant", tool_calls: [{ function: { arguments: {} } }] }] }]) {
      const result = codec.decodeRequest(body, {});
      expect(result.ok, JSON.stringify(body)).toBe(false);
      if (!result.ok) expect(result.error.code).toBe("bad_request");
    }
  });
});

describe("encodeRequest (IR → Ollama target)", () => {
  it("round-trips the docs examples to the same wire (ids and tool_call_id added)", () => {
    for (const name of ["chat-request.plain.json", "chat-request.history.json", "chat-request.images.json", "chat-request.structured.json", "chat-request.thinking.json"]) {
      const body = fixture(name);
      const out = encode(decode(body), body.model as string);
      expect(out.dropped).toEqual([]);
      expect(out.body, name).toEqual({ ...body, stream: body.stream ?? true });
    }
    const tools = fixture("chat-request.parallel-tools.json");
    const out = encode(decode(tools), "qwen3").body as { messages: unknown[] };
    expect(out.messages[1]).toEqual({
      role: "assistant",
      content: "",
      tool_calls: [
        { id: "call_k4yd0rx3", function: { name: "get_weather", arguments: { city: "Toronto" } } },
        { id: "call_7qz1m2pa", function: { name: "get_weather", arguments: { city: "Paris" } } },
      ],
    });
    expect(out.messages.slice(2)).toEqual((tools.messages as unknown[]).slice(2));
  });

  it("system, sampling, stop, seed, JSON mode and think levels", () => {
    const ir = base({
      system: [{ text: "Be brief.", cacheControl: { type: "ephemeral" } }, { text: "Use metric units." }],
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      temperature: 0.2,
      topP: 0.9,
      topK: 20,
      maxOutputTokens: 100,
      stopSequences: ["END"],
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.3,
      responseFormat: { type: "json" },
      reasoning: { enabled: true, effort: "minimal", budgetTokens: 1024 },
      stream: true,
    });
    const out = encode(ir);
    expect(out.body).toEqual({
      model: "llama3.2",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "system", content: "Use metric units." },
        { role: "user", content: "hi" },
      ],
      stream: true,
      options: { temperature: 0.2, top_p: 0.9, top_k: 20, num_predict: 100, stop: ["END"], seed: 7, presence_penalty: 0.1, frequency_penalty: 0.3 },
      format: "json",
      think: "low",
    });
    expect(out.dropped.map((d) => d.feature)).toEqual(["system.cache_control", "reasoning.effort", "reasoning.budget_tokens"]);
    expect((encode(base({ reasoning: { enabled: false } })).body as { think: unknown }).think).toBe(false);
    expect((encode(base({ reasoning: { enabled: true } })).body as { think: unknown }).think).toBe(true);
    expect((encode(base({ reasoning: { enabled: true, effort: "high" } })).body as { think: unknown }).think).toBe("high");
  });

  it("user part order: text then image splits into two messages; URL images, documents and signatures are dropped", () => {
    const out = encode(
      base({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "compare" },
              { type: "image", source: { kind: "base64", mediaType: "image/png", data: PNG } },
              { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
              { type: "text", text: "and say which is bigger" },
              { type: "document", source: { kind: "base64", mediaType: "application/pdf", data: "JVBERi0=" } },
            ],
          },
          { role: "assistant", content: [{ type: "reasoning", text: "hmm", signature: "sig" }, { type: "text", text: "ok" }] },
        ],
      }),
    );
    expect((out.body as { messages: unknown }).messages).toEqual([
      { role: "user", content: "compare" },
      { role: "user", content: "and say which is bigger", images: [PNG] },
      { role: "assistant", content: "ok", thinking: "hmm" },
    ]);
    expect(out.dropped.map((d) => d.feature)).toEqual(["part.image.url", "part.document", "reasoning.signature"]);
  });

  it("tool results find their tool_name from the call; tool_choice none sends no tools; forced choice is recorded", () => {
    const tools = [{ name: "get_weather", parameters: { type: "object" } }];
    const ir = base({
      tools,
      toolChoice: { type: "tool", name: "get_weather" },
      messages: [
        { role: "assistant", content: [{ type: "tool_call", id: "toolu_01", name: "get_weather", arguments: '{"city":"Paris"}' }] },
        { role: "user", content: [{ type: "tool_result", toolCallId: "toolu_01", content: [{ type: "text", text: "18C" }], isError: true }, { type: "text", text: "thanks" }] },
      ],
    });
    const out = encode(ir);
    expect(out.body).toMatchObject({
      messages: [
        { role: "assistant", content: "", tool_calls: [{ id: "toolu_01", function: { name: "get_weather", arguments: { city: "Paris" } } }] },
        { role: "tool", content: "18C", tool_name: "get_weather", tool_call_id: "toolu_01" },
        { role: "user", content: "thanks" },
      ],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    });
    expect(out.dropped.map((d) => d.feature)).toEqual(["tool_result.is_error", "request.tool_choice"]);
    expect((encode({ ...ir, toolChoice: { type: "none" } }).body as { tools?: unknown }).tools).toBeUndefined();
  });

  it("never sends keep_alive; arguments that are not a JSON object are a bad_request", () => {
    expect(encode(base()).body).toEqual({ model: "llama3.2", messages: [], stream: false });
    const bad = codec.encodeRequest(base({ messages: [{ role: "assistant", content: [{ type: "tool_call", id: "c", name: "f", arguments: "[1,2" }] }] }), { model: "m" });
    expect(bad).toMatchObject({ ok: false, error: { code: "bad_request" } });
  });
});

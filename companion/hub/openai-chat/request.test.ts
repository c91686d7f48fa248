import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrRequest } from "../ir.ts";
import { codec } from "./index.ts";

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));

function decode(body: unknown, opts: { model?: string; stream?: boolean } = {}): IrRequest {
  const r = codec.decodeRequest(body, opts);
  if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
  return r.value;
}

function encode(ir: IrRequest, model = "deepseek-chat"): { body: Record<string, unknown>; dropped: { feature: string; reason: string }[] } {
  const r = codec.encodeRequest(ir, { model });
  if (!r.ok) throw new Error(`encode failed: ${r.error.message}`);
  return r.value as { body: Record<string, unknown>; dropped: { feature: string; reason: string }[] };
}

const base = (over: Partial<IrRequest>): IrRequest => ({ model: "m", system: [], messages: [], tools: [], stream: false, dropped: [], ...over });
const features = (drops: { feature: string }[]) => drops.map((d) => d.feature);

describe("decodeRequest: golden fixtures", () => {
  it("plain text with a developer message (the API reference's default example)", () => {
    expect(decode(fixture("request-plain.json"))).toEqual({
      model: "gpt-4o",
      system: [{ text: "You are a helpful assistant." }],
      messages: [{ role: "user", content: [{ type: "text", text: "Hello!" }] }],
      tools: [],
      stream: false,
      dropped: [],
    });
  });

  it("multi-turn with sampling parameters; logit_bias and user are recorded as dropped", () => {
    expect(decode(fixture("request-multiturn.json"))).toEqual({
      model: "deepseek-chat",
      system: [{ text: "You are a helpful assistant." }],
      messages: [
        { role: "user", content: [{ type: "text", text: "What's the highest mountain in the world?" }] },
        { role: "assistant", content: [{ type: "text", text: "The highest mountain in the world is Mount Everest." }] },
        { role: "user", content: [{ type: "text", text: "What is the second?" }] },
      ],
      tools: [],
      stream: false,
      maxOutputTokens: 1024,
      temperature: 0.7,
      topP: 0.9,
      seed: 42,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      stopSequences: ["\n\nUser:"],
      dropped: [
        { feature: "request.logit_bias", reason: expect.any(String) },
        { feature: "request.user", reason: expect.any(String) },
      ],
    });
  });

  it("images (URL and data URL), a PDF file part, and dropped audio", () => {
    const ir = decode(fixture("request-images.json"));
    expect(ir.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "What's in this image?" },
          { type: "image", source: { kind: "url", url: expect.stringMatching(/^https:\/\/upload\.wikimedia\.org\//) } },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: expect.stringMatching(/^iVBORw0KGgo/) } },
          { type: "document", title: "draconomicon.pdf", source: { kind: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQK" } },
        ],
      },
    ]);
    expect(ir.maxOutputTokens).toBe(300);
    expect(features(ir.dropped)).toEqual(["part.image_url.detail", "part.input_audio"]);
  });

  it("tool definitions, parallel tool calls, tool results merged into one user message with the next user text", () => {
    const ir = decode(fixture("request-tools.json"));
    expect(ir.tools).toEqual([
      {
        name: "get_weather",
        description: "Get current temperature for a given location.",
        parameters: {
          type: "object",
          properties: { location: { type: "string", description: "City and country e.g. Bogotá, Colombia" } },
          required: ["location"],
          additionalProperties: false,
        },
      },
    ]);
    expect(ir.toolChoice).toEqual({ type: "auto" });
    expect(ir.parallelToolCalls).toBe(true);
    expect(ir.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "What's the weather like in Paris today and in Bogotá?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_call", id: "call_12345xyz", name: "get_weather", arguments: '{"location":"Paris, France"}' },
          { type: "tool_call", id: "call_67890abc", name: "get_weather", arguments: '{"location":"Bogotá, Colombia"}' },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", toolCallId: "call_12345xyz", name: "get_weather", content: [{ type: "text", text: "14°C, light rain" }] },
          { type: "tool_result", toolCallId: "call_67890abc", name: "get_weather", content: [{ type: "text", text: "22°C, sunny" }] },
          { type: "text", text: "Which one is warmer?" },
        ],
      },
    ]);
    expect(features(ir.dropped)).toEqual(["tools.function.strict", "tools.custom"]);
  });

  it("structured output (json_schema) and JSON mode", () => {
    const ir = decode(fixture("request-json-schema.json"));
    expect(ir.responseFormat).toEqual({
      type: "json_schema",
      name: "math_reasoning",
      strict: true,
      schema: expect.objectContaining({ type: "object", required: ["steps", "final_answer"] }),
    });
    expect(decode({ model: "m", messages: [], response_format: { type: "json_object" } }).responseFormat).toEqual({ type: "json" });
    expect(decode({ model: "m", messages: [], response_format: { type: "text" } }).responseFormat).toEqual({ type: "text" });
  });

  it("DeepSeek reasoning_content in history, reasoning_effort, stream options", () => {
    const ir = decode(fixture("request-reasoning.json"));
    expect(ir.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "reasoning", text: "The user asks about tomorrow's weather in Hangzhou. I need the date first." },
        { type: "tool_call", id: "call_00_date", name: "get_date", arguments: "{}" },
      ],
    });
    expect(ir.messages[2]).toEqual({ role: "user", content: [{ type: "tool_result", toolCallId: "call_00_date", name: "get_date", content: [{ type: "text", text: "2025-12-01" }] }] });
    expect(ir.reasoning).toEqual({ enabled: true, effort: "high" });
    expect(ir.stream).toBe(true);
    expect(ir.streamUsage).toBe(true);
  });
});

describe("decodeRequest: details", () => {
  it("maps every tool_choice form", () => {
    const choice = (tool_choice: unknown) => decode({ model: "m", messages: [], tool_choice }).toolChoice;
    expect(choice("none")).toEqual({ type: "none" });
    expect(choice("required")).toEqual({ type: "required" });
    expect(choice({ type: "function", function: { name: "f" } })).toEqual({ type: "tool", name: "f" });
    const allowed = decode({ model: "m", messages: [], tool_choice: { type: "allowed_tools", allowed_tools: { mode: "required", tools: [] } } });
    expect(allowed.toolChoice).toEqual({ type: "required" });
    expect(features(allowed.dropped)).toEqual(["tool_choice.allowed_tools"]);
  });

  it("max_completion_tokens wins over max_tokens; effort levels map; xhigh is capped and recorded", () => {
    expect(decode({ model: "m", messages: [], max_tokens: 10, max_completion_tokens: 20 }).maxOutputTokens).toBe(20);
    expect(decode({ model: "m", messages: [], reasoning_effort: "none" }).reasoning).toEqual({ enabled: false });
    expect(decode({ model: "m", messages: [], reasoning_effort: "minimal" }).reasoning).toEqual({ enabled: true, effort: "minimal" });
    const x = decode({ model: "m", messages: [], reasoning_effort: "xhigh" });
    expect(x.reasoning).toEqual({ enabled: true, effort: "high" });
    expect(features(x.dropped)).toEqual(["request.reasoning_effort"]);
    expect(decode({ model: "m", messages: [], stop: ["a", "b"] }).stopSequences).toEqual(["a", "b"]);
  });

  it("system messages anywhere go to the top-level system, recorded when moved", () => {
    const ir = decode({
      model: "m",
      messages: [
        { role: "system", content: [{ type: "text", text: "one" }, { type: "text", text: "two", prompt_cache_breakpoint: { mode: "explicit" } }] },
        { role: "user", content: "hi" },
        { role: "developer", content: "late" },
      ],
    });
    expect(ir.system).toEqual([{ text: "one" }, { text: "two", cacheControl: { type: "ephemeral" } }, { text: "late" }]);
    expect(features(ir.dropped)).toEqual(["messages.system_position"]);
  });

  it("opts override the body's model and stream flag", () => {
    const ir = decode({ model: "a", stream: true, messages: [] }, { model: "b", stream: false });
    expect(ir.model).toBe("b");
    expect(ir.stream).toBe(false);
  });

  it("refusal parts and legacy function calls", () => {
    const ir = decode({
      model: "m",
      messages: [
        { role: "assistant", content: [{ type: "refusal", refusal: "No." }] },
        { role: "assistant", content: null, function_call: { name: "lookup", arguments: '{"q":1}' } },
        { role: "function", name: "lookup", content: "found" },
      ],
    });
    expect(ir.messages[0]).toEqual({ role: "assistant", content: [{ type: "text", text: "No." }] });
    const call = ir.messages[1]!.content[0]!;
    expect(call).toMatchObject({ type: "tool_call", name: "lookup", arguments: '{"q":1}' });
    expect(ir.messages[2]!.content[0]).toEqual({ type: "tool_result", toolCallId: (call as { id: string }).id, name: "lookup", content: [{ type: "text", text: "found" }] });
  });

  it("keeps a Gemini thought signature from extra_content", () => {
    const ir = decode({
      model: "m",
      messages: [{ role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" }, extra_content: { google: { thought_signature: "sig==" } } }] }],
    });
    expect(ir.messages[0]!.content[0]).toEqual({ type: "tool_call", id: "c1", name: "f", arguments: "{}", thoughtSignature: "sig==" });
  });

  it("refuses n > 1 as unsupported and malformed input as bad_request, without throwing", () => {
    expect(codec.decodeRequest({ model: "m", messages: [], n: 2 }, {})).toEqual({ ok: false, error: { code: "unsupported", message: expect.any(String) } });
    for (const body of [null, 42, "x", [], { messages: [] }, { model: "m" }, { model: "m", messages: [{ role: "wizard", content: "x" }] }, { model: "m", messages: [1] }, { model: "m", messages: [], temperature: "hot" }, { model: "m", messages: [], n: 0 }, { model: "m", messages: [], tool_choice: "maybe" }, { model: "m", messages: [{ role: "tool", content: "x" }] }]) {
      const r = codec.decodeRequest(body, {});
      expect(r.ok, JSON.stringify(body)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe("bad_request");
    }
  });
});

describe("encodeRequest: golden", () => {
  it("encodes the tools conversation for an OpenAI-compatible host", () => {
    const { body, dropped } = encode(decode(fixture("request-tools.json")));
    expect(body).toEqual({
      model: "deepseek-chat",
      messages: [
        { role: "user", content: "What's the weather like in Paris today and in Bogotá?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_12345xyz", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris, France"}' } },
            { id: "call_67890abc", type: "function", function: { name: "get_weather", arguments: '{"location":"Bogotá, Colombia"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_12345xyz", content: "14°C, light rain" },
        { role: "tool", tool_call_id: "call_67890abc", content: "22°C, sunny" },
        { role: "user", content: "Which one is warmer?" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Get current temperature for a given location.",
            parameters: expect.objectContaining({ required: ["location"] }),
          },
        },
      ],
      tool_choice: "auto",
      parallel_tool_calls: true,
    });
    expect(dropped).toEqual([]);
  });

  it("system blocks, images, documents and sampling parameters", () => {
    const ir = base({
      system: [{ text: "A", cacheControl: { type: "ephemeral" } }, { text: "B" }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "see" },
            { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: "AAA" } },
            { type: "image", source: { kind: "url", url: "https://example.com/a.png" } },
            { type: "document", source: { kind: "base64", mediaType: "application/pdf", data: "JVBE" } },
            { type: "document", source: { kind: "url", url: "https://example.com/a.pdf" } },
          ],
        },
      ],
      maxOutputTokens: 64,
      temperature: 0,
      topP: 1,
      topK: 40,
      stopSequences: ["END"],
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      responseFormat: { type: "json" },
      stream: true,
      streamUsage: true,
    });
    const { body, dropped } = encode(ir);
    expect(body).toEqual({
      model: "deepseek-chat",
      messages: [
        { role: "system", content: "A\n\nB" },
        {
          role: "user",
          content: [
            { type: "text", text: "see" },
            { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAA" } },
            { type: "image_url", image_url: { url: "https://example.com/a.png" } },
            { type: "file", file: { filename: "document.pdf", file_data: "data:application/pdf;base64,JVBE" } },
          ],
        },
      ],
      max_tokens: 64,
      temperature: 0,
      top_p: 1,
      stop: ["END"],
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      response_format: { type: "json_object" },
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(features(dropped)).toEqual(["cache_control", "part.document.url", "request.top_k"]);
  });

  it("json_schema gets a valid name", () => {
    const { body } = encode(base({ responseFormat: { type: "json_schema", name: "my schema!", schema: { type: "object" }, strict: true } }));
    expect(body.response_format).toEqual({ type: "json_schema", json_schema: { name: "my_schema_", schema: { type: "object" }, strict: true } });
    expect(encode(base({ responseFormat: { type: "json_schema", schema: {} } })).body.response_format).toEqual({ type: "json_schema", json_schema: { name: "response", schema: {} } });
  });

  it("reasoning goes back as reasoning_content to DeepSeek-like hosts, not to OpenAI's own models", () => {
    const ir = base({
      messages: [
        { role: "user", content: [{ type: "text", text: "q" }] },
        { role: "assistant", content: [{ type: "reasoning", text: "think", signature: "EqQB" }, { type: "text", text: "a" }, { type: "tool_call", id: "t1", name: "f", arguments: "" }] },
      ],
      maxOutputTokens: 100,
    });
    const ds = encode(ir, "deepseek-reasoner");
    expect(ds.body.messages).toEqual([
      { role: "user", content: "q" },
      { role: "assistant", content: "a", reasoning_content: "think", tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }] },
    ]);
    expect(ds.body.max_tokens).toBe(100);
    expect(features(ds.dropped)).toEqual(["part.reasoning.signature"]);

    const oa = encode(ir, "gpt-5.1");
    expect((oa.body.messages as unknown[])[1]).toEqual({ role: "assistant", content: "a", tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }] });
    expect(oa.body.max_completion_tokens).toBe(100);
    expect(features(oa.dropped)).toEqual(["part.reasoning.signature", "part.reasoning"]);
  });

  it("tool results: images follow in a user message, errors are recorded, user text after them stays after", () => {
    const ir = base({
      messages: [
        {
          role: "user",
          content: [
            { type: "tool_result", toolCallId: "a", isError: true, content: [{ type: "text", text: "boom" }] },
            { type: "tool_result", toolCallId: "b", content: [{ type: "text", text: "x" }, { type: "text", text: "y" }, { type: "image", source: { kind: "base64", mediaType: "image/png", data: "PNG" } }] },
            { type: "text", text: "next" },
          ],
        },
      ],
    });
    const { body, dropped } = encode(ir);
    expect(body.messages).toEqual([
      { role: "tool", tool_call_id: "a", content: "boom" },
      { role: "tool", tool_call_id: "b", content: "x\n\ny" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,PNG" } }, { type: "text", text: "next" }] },
    ]);
    expect(features(dropped)).toEqual(["part.tool_result.is_error"]);
  });

  it("tool choice forms; no tool_choice without tools", () => {
    const tools = [{ name: "f", parameters: { type: "object" } }];
    expect(encode(base({ tools, toolChoice: { type: "tool", name: "f" } })).body.tool_choice).toEqual({ type: "function", function: { name: "f" } });
    expect(encode(base({ tools, toolChoice: { type: "required" } })).body.tool_choice).toBe("required");
    const none = encode(base({ toolChoice: { type: "required" }, parallelToolCalls: false }));
    expect(none.body.tool_choice).toBeUndefined();
    expect(none.body.parallel_tool_calls).toBeUndefined();
    expect(features(none.dropped)).toEqual(["tool_choice"]);
  });

  it("reasoning config: effort as is, a budget approximated, disabling recorded", () => {
    expect(encode(base({ reasoning: { enabled: true, effort: "low" } })).body.reasoning_effort).toBe("low");
    const budget = encode(base({ reasoning: { enabled: true, budgetTokens: 16000 } }));
    expect(budget.body.reasoning_effort).toBe("high");
    expect(features(budget.dropped)).toEqual(["reasoning.budget_tokens"]);
    const off = encode(base({ reasoning: { enabled: false } }));
    expect(off.body.reasoning_effort).toBeUndefined();
    expect(features(off.dropped)).toEqual(["reasoning.disabled"]);
  });

  it("caps stop sequences at OpenAI's four for OpenAI models only", () => {
    const stops = ["1", "2", "3", "4", "5"];
    expect(encode(base({ stopSequences: stops }), "gpt-4o").body.stop).toEqual(["1", "2", "3", "4"]);
    expect(encode(base({ stopSequences: stops }), "qwen-max").body.stop).toEqual(stops);
  });
});

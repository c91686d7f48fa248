import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrRequest } from "../ir.ts";
import { codec, FERRY_JSON_TOOL } from "./index.ts";
import { claudeVersion, modelTraits } from "./model-traits.ts";

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as Record<string, unknown>;

function decode(body: unknown, opts: { model?: string; stream?: boolean } = {}): IrRequest {
  const r = codec.decodeRequest(body, opts);
  if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
  return r.value;
}

function encode(ir: Partial<IrRequest>, model = "claude-sonnet-4-5") {
  const full: IrRequest = { model, system: [], messages: [], tools: [], stream: false, dropped: [], ...ir };
  const r = codec.encodeRequest(full, { model });
  if (!r.ok) throw new Error(`encode failed: ${r.error.message}`);
  return { body: r.value.body as Record<string, unknown>, dropped: r.value.dropped };
}

const user = (text: string) => ({ role: "user" as const, content: [{ type: "text" as const, text }] });

describe("decodeRequest: documented requests → IR", () => {
  it("plain text", () => {
    expect(decode(fixture("request-text.json"))).toEqual({
      model: "claude-opus-4-6",
      system: [],
      messages: [user("Hello, world")],
      tools: [],
      maxOutputTokens: 1024,
      stream: false,
      dropped: [],
    });
  });

  it("system blocks with cache markers, multi-turn, stop sequences, sampling; metadata dropped", () => {
    expect(decode(fixture("request-system-multiturn.json"))).toEqual({
      model: "claude-sonnet-4-5",
      system: [
        { text: "You are an AI assistant tasked with analyzing literary works. Your goal is to provide insightful commentary on themes, characters, and writing style.\n" },
        { text: "<the entire contents of 'Pride and Prejudice'>", cacheControl: { type: "ephemeral", ttl: "1h" } },
      ],
      messages: [user("Hello there."), { role: "assistant", content: [{ type: "text", text: "Hi, I'm Claude. How can I help you?" }] }, user("Can you explain LLMs in plain English?")],
      tools: [],
      maxOutputTokens: 1024,
      stopSequences: ["\n\nHuman:"],
      temperature: 0.7,
      topK: 40,
      stream: false,
      dropped: [{ feature: "request.metadata", reason: "request metadata (user_id) has no IR equivalent" }],
    });
  });

  it("role: system messages inside messages become IR system text, in order", () => {
    const ir = decode(fixture("request-system-message.json"));
    expect(ir.system).toEqual([
      { text: "You are a helpful coding assistant." },
      { text: "Primary working directory: /home/alice/projects/payments-service\nPlatform: linux" },
      { text: "The user switched to plan mode." },
    ]);
    expect(ir.messages).toEqual([user("say hi"), { role: "assistant", content: [{ type: "text", text: "Hi!" }] }, user("Now plan the refactor.")]);
    // The one after the first turn loses its position: recorded.
    expect(ir.dropped.map((d) => d.feature)).toEqual(["message.system.position"]);
  });

  it("images (base64, url) and documents (PDF, plain text); citations and context dropped", () => {
    const ir = decode(fixture("request-media.json"));
    expect(ir.messages[0]!.content).toEqual([
      { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: expect.stringMatching(/^\/9j\/4AAQ/) as unknown } },
      { type: "image", source: { kind: "url", url: "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg" } },
      { type: "document", source: { kind: "base64", mediaType: "application/pdf", data: expect.stringMatching(/^JVBERi0/) as unknown }, title: "Annual report", cacheControl: { type: "ephemeral" } },
      { type: "document", source: { kind: "base64", mediaType: "text/plain", data: btoa("The grass is green. The sky is blue.") }, title: "My Document" },
      { type: "text", text: "What color is the grass and sky, and what is in these images?" },
    ]);
    expect(ir.dropped.map((d) => d.feature)).toEqual(["part.document.citations", "part.document.context"]);
  });

  it("tools, a server tool (dropped), tool_choice, parallel tool calls and tool results", () => {
    const ir = decode(fixture("request-tools.json"));
    expect(ir.tools.map((t) => t.name)).toEqual(["get_weather", "get_time"]);
    expect(ir.tools[0]!.parameters).toMatchObject({ type: "object", required: ["location"] });
    expect(ir.tools[1]!.cacheControl).toEqual({ type: "ephemeral" });
    expect(ir.toolChoice).toEqual({ type: "required" });
    expect(ir.parallelToolCalls).toBe(false);
    expect(ir.messages[1]!.content).toEqual([
      { type: "text", text: "I'll check the weather and the time in San Francisco." },
      { type: "tool_call", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
      { type: "tool_call", id: "toolu_01B2mYGzTxvTNgkfXCgkXJ5v", name: "get_time", arguments: '{"timezone":"America/Los_Angeles"}' },
    ]);
    expect(ir.messages[2]!.content).toEqual([
      { type: "tool_result", toolCallId: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", content: [{ type: "text", text: "15 degrees" }] },
      {
        type: "tool_result",
        toolCallId: "toolu_01B2mYGzTxvTNgkfXCgkXJ5v",
        name: "get_time",
        content: [{ type: "text", text: "ConnectionError: the time service API is not available (HTTP 500)" }],
        isError: true,
      },
    ]);
    expect(ir.dropped).toEqual([{ feature: "tool.web_search_20250305", reason: "server and Anthropic-defined tools have no IR equivalent" }]);
  });

  it("thinking with a budget; signed and redacted thinking sent back", () => {
    const ir = decode(fixture("request-thinking.json"));
    expect(ir.reasoning).toEqual({ enabled: true, budgetTokens: 10000 });
    expect(ir.maxOutputTokens).toBe(16000);
    expect(ir.messages[1]!.content).toEqual([
      { type: "reasoning", text: expect.stringMatching(/^The user wants to know/) as unknown, signature: expect.stringMatching(/^BDaL4Vrb/) as unknown },
      { type: "reasoning", text: "", redactedData: expect.stringMatching(/^EmwKAhgB/) as unknown },
      { type: "tool_call", id: "toolu_01CswdEQBMshySk6Y9DFKrfq", name: "get_weather", arguments: '{"location":"Paris"}' },
    ]);
    expect(ir.dropped).toEqual([]);
  });

  it("adaptive thinking with effort and display; top-level cache_control lands on the last block", () => {
    const ir = decode(fixture("request-adaptive.json"));
    expect(ir.reasoning).toEqual({ enabled: true, includeThoughts: true, effort: "medium" });
    expect(ir.messages[0]!.content).toEqual([{ type: "text", text: "Explain why the sum of two even numbers is always even.", cacheControl: { type: "ephemeral" } }]);
    expect(ir.dropped).toEqual([]);
  });

  it("output_config.format (structured output) → IR json_schema", () => {
    const ir = decode(fixture("request-structured-output.json"));
    expect(ir.responseFormat).toEqual({
      type: "json_schema",
      schema: expect.objectContaining({ type: "object", required: ["name", "email", "plan_interest", "demo_requested"], additionalProperties: false }) as unknown,
    });
  });

  it("the recorded Claude Code request", () => {
    const recorded = JSON.parse(readFileSync(new URL("../../../test/fixtures/clients/claude-code-2.1.330.messages.json", import.meta.url), "utf8")) as { body: unknown };
    const ir = decode(recorded.body);
    expect(ir.model).toBe("claude-sonnet-4-5");
    expect(ir.stream).toBe(true);
    expect(ir.maxOutputTokens).toBe(32000);
    expect(ir.reasoning).toEqual({ enabled: true, budgetTokens: 31999, includeThoughts: false });
    expect(ir.system).toHaveLength(3);
    expect(ir.system[1]).toEqual({ text: "You are a Claude agent, built on Anthropic's Claude Agent SDK.", cacheControl: { type: "ephemeral" } });
    expect(ir.messages).toHaveLength(1);
    expect(ir.messages[0]!.content.at(-1)).toEqual({ type: "text", text: "say hi", cacheControl: { type: "ephemeral" } });
    expect(ir.tools).toHaveLength(12);
    expect(ir.dropped.map((d) => d.feature)).toEqual(["tool.defer_loading", "request.metadata", "request.context_management"]);
  });

  it("opts override the body's model and stream flag", () => {
    const ir = decode(fixture("request-text.json"), { model: "other", stream: true });
    expect(ir.model).toBe("other");
    expect(ir.stream).toBe(true);
  });

  it("refuses malformed requests with bad_request", () => {
    for (const body of [
      null,
      [],
      "x",
      { model: "m" },
      { messages: [] },
      { model: "m", messages: [{ role: "tool", content: "x" }] },
      { model: "m", messages: [{ role: "user", content: 5 }] },
      { model: "m", messages: [{ role: "user", content: [{ type: "text" }] }] },
      { model: "m", messages: [{ role: "user", content: [{ type: "tool_result" }] }] },
      { model: "m", messages: [], tool_choice: { type: "sometimes" } },
      { model: "m", messages: [], thinking: { type: "enabled" } },
      { model: "m", messages: [], max_tokens: "lots" },
      { model: "m", messages: [], system: [{ type: "image" }] },
    ]) {
      const r = codec.decodeRequest(body, {});
      expect(r.ok, JSON.stringify(body)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe("bad_request");
    }
  });
});

describe("encodeRequest: IR → Anthropic request", () => {
  it("plain text: max_tokens defaults to 4096", () => {
    expect(encode({ messages: [user("Hello, world")] })).toEqual({
      body: { model: "claude-sonnet-4-5", max_tokens: 4096, messages: [{ role: "user", content: [{ type: "text", text: "Hello, world" }] }] },
      dropped: [],
    });
  });

  it("system prompt with cache markers, multi-turn, stop sequences, stream", () => {
    const { body, dropped } = encode({
      system: [{ text: "You are terse." }, { text: "Reference text", cacheControl: { type: "ephemeral", ttl: "1h" } }],
      messages: [user("Hi"), { role: "assistant", content: [{ type: "text", text: "Hello." }] }, user("Bye")],
      maxOutputTokens: 200,
      stopSequences: ["END"],
      temperature: 0.2,
      stream: true,
      seed: 7,
    });
    expect(body).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 200,
      system: [
        { type: "text", text: "You are terse." },
        { type: "text", text: "Reference text", cache_control: { type: "ephemeral", ttl: "1h" } },
      ],
      messages: [
        { role: "user", content: [{ type: "text", text: "Hi" }] },
        { role: "assistant", content: [{ type: "text", text: "Hello." }] },
        { role: "user", content: [{ type: "text", text: "Bye" }] },
      ],
      stop_sequences: ["END"],
      temperature: 0.2,
      stream: true,
    });
    expect(dropped).toEqual([{ feature: "request.seed", reason: "Anthropic has no seed" }]);
  });

  it("images and documents: data URLs become base64, text documents plain-text sources, others dropped", () => {
    const { body, dropped } = encode({
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { kind: "url", url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image", source: { kind: "url", url: "https://example.com/a.jpg" }, cacheControl: { type: "ephemeral" } },
            { type: "document", source: { kind: "base64", mediaType: "application/pdf", data: "JVBERi0x" }, title: "Report" },
            { type: "document", source: { kind: "base64", mediaType: "text/markdown", data: btoa("# Notes") } },
            { type: "document", source: { kind: "base64", mediaType: "application/vnd.ms-excel", data: "AAAA" } },
            { type: "text", text: "Summarise." },
          ],
        },
      ],
    });
    expect((body.messages as { content: unknown[] }[])[0]!.content).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "url", url: "https://example.com/a.jpg" }, cache_control: { type: "ephemeral" } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0x" }, title: "Report" },
      { type: "document", source: { type: "text", media_type: "text/plain", data: "# Notes" } },
      { type: "text", text: "Summarise." },
    ]);
    expect(dropped).toEqual([{ feature: "part.document", reason: "Anthropic documents are PDF or plain text, not application/vnd.ms-excel" }]);
  });

  it("tools, parallel tool calls and results: turns merged, results first, ids made valid", () => {
    const { body, dropped } = encode({
      tools: [
        { name: "get_weather", description: "Get the weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
        { name: "now", parameters: {} },
      ],
      toolChoice: { type: "required" },
      parallelToolCalls: false,
      messages: [
        user("Weather in Paris and the time?"),
        {
          role: "assistant",
          content: [
            { type: "tool_call", id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
            { type: "tool_call", id: "functions.now:1", name: "now", arguments: "" },
          ],
        },
        { role: "user", content: [{ type: "tool_result", toolCallId: "call_1", name: "get_weather", content: [{ type: "text", text: "21°C" }] }] },
        { role: "user", content: [{ type: "text", text: "(and be quick)" }, { type: "tool_result", toolCallId: "functions.now:1", content: [{ type: "text", text: "boom" }], isError: true }] },
      ],
    });
    expect(body.tools).toEqual([
      { name: "get_weather", description: "Get the weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      { name: "now", input_schema: { type: "object" } },
    ]);
    expect(body.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
    expect(body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris and the time?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "functions_now_1", name: "now", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "21°C" },
          { type: "tool_result", tool_use_id: "functions_now_1", content: "boom", is_error: true },
          { type: "text", text: "(and be quick)" },
        ],
      },
    ]);
    expect(dropped).toEqual([]);
  });

  it("reasoning: signed and redacted parts go back, unsigned ones are dropped; budget thinking", () => {
    const { body, dropped } = encode({
      reasoning: { enabled: true, budgetTokens: 8000 },
      messages: [
        user("2+2?"),
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "Simple.", signature: "EqQBCgIYAhIM" },
            { type: "reasoning", text: "", redactedData: "EmwKAhgBEgy3" },
            { type: "reasoning", text: "from another model" },
            { type: "text", text: "4" },
          ],
        },
        user("and 3+3?"),
      ],
      temperature: 0.5,
      topP: 0.97,
    });
    expect((body.messages as { content: unknown[] }[])[1]!.content).toEqual([
      { type: "thinking", thinking: "Simple.", signature: "EqQBCgIYAhIM" },
      { type: "redacted_thinking", data: "EmwKAhgBEgy3" },
      { type: "text", text: "4" },
    ]);
    // The budget must stay under max_tokens: the default rises above it.
    expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 8000 });
    expect(body.max_tokens).toBe(12096);
    expect(body.top_p).toBe(0.97);
    expect(body.temperature).toBeUndefined();
    expect(dropped.map((d) => d.feature)).toEqual(["part.reasoning", "request.temperature"]);
  });

  it("thinking per model: adaptive + effort on 4.6, effort-only on 4.7+, budget on older and unknown models", () => {
    expect(encode({ reasoning: { enabled: true, effort: "high" }, messages: [user("x")] }, "claude-opus-4-6").body).toMatchObject({
      thinking: { type: "adaptive" },
      output_config: { effort: "high" },
    });
    const latest = encode({ reasoning: { enabled: true, budgetTokens: 2000, includeThoughts: true }, temperature: 0.3, messages: [user("x")] }, "claude-opus-4-7");
    expect(latest.body).toMatchObject({ thinking: { type: "adaptive", display: "summarized" }, output_config: { effort: "low" } });
    expect(latest.body.temperature).toBeUndefined();
    expect(latest.dropped.map((d) => d.feature)).toEqual(["reasoning.budget_tokens", "request.temperature"]);
    expect(encode({ reasoning: { enabled: true, effort: "low" }, messages: [user("x")] }, "claude-sonnet-4-5").body).toMatchObject({ thinking: { type: "enabled", budget_tokens: 2048 }, max_tokens: 4096 });
    expect(encode({ reasoning: { enabled: true, budgetTokens: 512, includeThoughts: false }, maxOutputTokens: 900, messages: [user("x")] }, "glm-4.6")).toMatchObject({
      body: { max_tokens: 900 },
      dropped: [
        { feature: "reasoning.budget_tokens", reason: "raised to Anthropic's minimum of 1024" },
        { feature: "reasoning", reason: "max_tokens 900 leaves no room for Anthropic's minimum thinking budget: thinking was left off" },
      ],
    });
    expect(encode({ reasoning: { enabled: false }, messages: [user("x")] }, "claude-sonnet-4-5").body.thinking).toEqual({ type: "disabled" });
    expect(encode({ reasoning: { enabled: false }, messages: [user("x")] }, "claude-fable-5-1").body.thinking).toBeUndefined();
  });

  it("temperature and top_p: one of them on Claude 4.x, both elsewhere", () => {
    const claude = encode({ temperature: 0.4, topP: 0.9, topK: 20, messages: [user("x")] }, "claude-haiku-4-5-20251001");
    expect(claude.body).toMatchObject({ temperature: 0.4, top_k: 20 });
    expect(claude.body.top_p).toBeUndefined();
    expect(claude.dropped.map((d) => d.feature)).toEqual(["request.top_p"]);
    expect(encode({ temperature: 0.4, topP: 0.9, messages: [user("x")] }, "claude-3-7-sonnet-20250219").body).toMatchObject({ temperature: 0.4, top_p: 0.9 });
    expect(encode({ temperature: 0.4, topP: 0.9, messages: [user("x")] }, "deepseek-chat").body).toMatchObject({ temperature: 0.4, top_p: 0.9 });
  });

  it("JSON mode: a forced answer tool; thinking is left off with it", () => {
    const schema = { type: "object", properties: { complexity_score: { type: "integer" } }, required: ["complexity_score"] };
    const { body, dropped } = encode(
      {
        system: [{ text: "Rate the request." }],
        messages: [user("read package.json")],
        responseFormat: { type: "json_schema", name: "rating", schema },
        reasoning: { enabled: true, effort: "high", includeThoughts: true },
        temperature: 1,
        topP: 0.95,
        topK: 64,
      },
      "claude-haiku-4-5",
    );
    expect(body).toEqual({
      model: "claude-haiku-4-5",
      max_tokens: 4096,
      system: [{ type: "text", text: "Rate the request." }],
      messages: [{ role: "user", content: [{ type: "text", text: "read package.json" }] }],
      tools: [{ name: FERRY_JSON_TOOL, description: "Give your final answer as this tool's input: a JSON object (rating) matching the input schema.", input_schema: schema }],
      tool_choice: { type: "tool", name: FERRY_JSON_TOOL, disable_parallel_tool_use: true },
      temperature: 1,
      top_k: 64,
    });
    expect(dropped.map((d) => d.feature)).toEqual(["reasoning", "request.top_p"]);
  });

  it("JSON mode with other tools: the answer tool is offered, not forced; plain JSON asks for any object", () => {
    const { body, dropped } = encode({
      messages: [user("x")],
      tools: [{ name: "lookup", parameters: { type: "object" } }],
      responseFormat: { type: "json" },
    });
    expect(body.tools).toEqual([{ name: "lookup", input_schema: { type: "object" } }, expect.objectContaining({ name: FERRY_JSON_TOOL, input_schema: { type: "object" } })]);
    expect(body.tool_choice).toEqual({ type: "auto" });
    expect(dropped.map((d) => d.feature)).toEqual(["response_format"]);
  });
});

describe("model traits", () => {
  it("reads Claude versions from model ids", () => {
    expect(claudeVersion("claude-3-7-sonnet-20250219")).toEqual({ major: 3, minor: 7 });
    expect(claudeVersion("claude-sonnet-4-20250514")).toEqual({ major: 4, minor: 0 });
    expect(claudeVersion("claude-haiku-4-5@20251001")).toEqual({ major: 4, minor: 5 });
    expect(claudeVersion("anthropic.claude-opus-4-6-v1")).toEqual({ major: 4, minor: 6 });
    expect(claudeVersion("gpt-5")).toBeUndefined();
    expect(modelTraits("claude-mythos-preview")).toMatchObject({ adaptiveOnly: true, rejectsSampling: true });
    expect(modelTraits("claude-sonnet-5")).toMatchObject({ adaptive: true, adaptiveOnly: true });
    expect(modelTraits("claude-opus-4-6")).toMatchObject({ adaptive: true, adaptiveOnly: false, rejectsSampling: false });
  });
});

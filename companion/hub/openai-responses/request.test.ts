import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrRequest } from "../ir.ts";
import { codec } from "./index.ts";

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));

function decoded(body: unknown, opts: { model?: string; stream?: boolean } = {}): IrRequest {
  const r = codec.decodeRequest(body, opts);
  if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
  return r.value;
}

describe("decodeRequest", () => {
  it("reads instructions and a string input (API reference example)", () => {
    expect(decoded(fixture("request-text.json"))).toEqual({
      model: "gpt-4.1",
      system: [{ text: "You are a helpful assistant." }],
      messages: [{ role: "user", content: [{ type: "text", text: "Hello!" }] }],
      tools: [],
      stream: true,
      dropped: [],
    });
  });

  it("lets the path's model and the caller's stream flag win", () => {
    const ir = decoded(fixture("request-text.json"), { model: "claude-sonnet-4-5", stream: false });
    expect(ir.model).toBe("claude-sonnet-4-5");
    expect(ir.stream).toBe(false);
  });

  it("reads a multi-turn tool conversation: calls, outputs (named after their call), tools and options", () => {
    expect(decoded(fixture("request-tools-multiturn.json"))).toEqual({
      model: "gpt-4.1",
      system: [],
      messages: [
        { role: "user", content: [{ type: "text", text: "What's the weather like in Paris today?" }] },
        { role: "assistant", content: [{ type: "tool_call", id: "call_12345xyz", name: "get_weather", arguments: '{"latitude":48.8566,"longitude":2.3522}' }] },
        { role: "user", content: [{ type: "tool_result", toolCallId: "call_12345xyz", name: "get_weather", content: [{ type: "text", text: "14.2" }] }] },
        { role: "assistant", content: [{ type: "text", text: "It is 14.2°C in Paris right now. Anything else?" }] },
        { role: "user", content: [{ type: "text", text: "And in Bogotá and Tokyo?" }] },
      ],
      tools: [
        {
          name: "get_weather",
          description: "Get current temperature for provided coordinates in celsius.",
          parameters: { type: "object", properties: { latitude: { type: "number" }, longitude: { type: "number" } }, required: ["latitude", "longitude"], additionalProperties: false },
        },
      ],
      toolChoice: { type: "auto" },
      parallelToolCalls: true,
      maxOutputTokens: 1024,
      temperature: 0.2,
      topP: 0.9,
      stream: false,
      dropped: [
        { feature: "tool.strict", reason: "the IR has no strict flag; arguments are not schema-enforced by other targets" },
        { feature: "tool.web_search_preview", reason: "a hosted or client-defined tool type the IR cannot express; other targets get function tools only" },
      ],
    });
  });

  it("reads images (URL and data URL) and files (data, URL); drops file ids and image detail", () => {
    const ir = decoded(fixture("request-images-files.json"));
    expect(ir.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "what's in this image?" },
          { type: "image", source: { kind: "url", url: "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg" } },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==" } },
          { type: "document", source: { kind: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQK" }, title: "draconomicon.pdf" },
          { type: "document", source: { kind: "url", url: "https://www.berkshirehathaway.com/letters/2024ltr.pdf" } },
        ],
      },
    ]);
    expect(ir.dropped.map((d) => d.feature)).toEqual(["part.input_image.detail", "part.input_file.file_id"]);
  });

  it("reads structured output (json_schema) and a leading system message", () => {
    const ir = decoded(fixture("request-structured.json"));
    expect(ir.system).toEqual([{ text: "Extract the event information." }]);
    expect(ir.responseFormat).toEqual({
      type: "json_schema",
      name: "calendar_event",
      strict: true,
      schema: {
        type: "object",
        properties: { name: { type: "string" }, date: { type: "string" }, participants: { type: "array", items: { type: "string" } } },
        required: ["name", "date", "participants"],
        additionalProperties: false,
      },
    });
    expect(decoded({ model: "m", input: "x", text: { format: { type: "json_object" } } }).responseFormat).toEqual({ type: "json" });
    expect(decoded({ model: "m", input: "x", text: { format: { type: "text" }, verbosity: "low" } })).toMatchObject({ responseFormat: { type: "text" }, dropped: [{ feature: "text.verbosity" }] });
  });

  it("reads reasoning config and replays a reasoning item's encrypted_content as its signature", () => {
    const ir = decoded(fixture("request-reasoning.json"));
    expect(ir.reasoning).toEqual({ enabled: true, effort: "medium", includeThoughts: true });
    expect(ir.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "reasoning", text: "**Checking the weather**\n\nThe user wants today's weather in Paris, so I should call get_weather.", signature: "gAAAAABoIPOD0wW-2vK0eyF7QO8Kq0lE3a1Zb8kQ" },
        { type: "tool_call", id: "call_egXn9r5sBDuNnt6jU4CPIPKm", name: "get_weather", arguments: '{"location":"Paris, France"}' },
      ],
    });
    // store: false and include: reasoning.encrypted_content are honoured, not dropped.
    expect(ir.dropped).toEqual([]);
  });

  it("reads reasoning effort levels", () => {
    expect(decoded({ model: "m", input: "x", reasoning: { effort: "none" } }).reasoning).toEqual({ enabled: false });
    const xhigh = decoded({ model: "m", input: "x", reasoning: { effort: "xhigh" } });
    expect(xhigh.reasoning).toEqual({ enabled: true, effort: "high" });
    expect(xhigh.dropped).toEqual([{ feature: "reasoning.effort", reason: 'effort "xhigh" has no IR level; sent as "high"' }]);
  });

  it("decodes the recorded Codex CLI request, recording its hosted tools and identifying fields as drops", () => {
    const recorded = JSON.parse(readFileSync(new URL("../../../test/fixtures/clients/codex-0.169.0.responses.json", import.meta.url), "utf8")) as { body: unknown };
    const ir = decoded(recorded.body);
    expect(ir.model).toBe("gpt-4o");
    expect(ir.stream).toBe(true);
    // Codex sends its prompt as three leading developer parts.
    expect(ir.system).toHaveLength(3);
    expect(ir.system[0]!.text).toMatch(/^You are a coding agent running in the Codex CLI/);
    expect(ir.messages).toHaveLength(1);
    expect(ir.messages[0]!.role).toBe("user");
    expect(ir.messages[0]!.content.at(-1)).toEqual({ type: "text", text: "say hi" });
    expect(ir.tools.map((t) => t.name)).toEqual(["exec_command", "write_stdin", "request_user_input", "view_image", "get_goal", "create_goal", "update_goal"]);
    expect(ir.toolChoice).toEqual({ type: "auto" });
    expect(ir.parallelToolCalls).toBe(true);
    expect(ir.reasoning).toEqual({ enabled: true, includeThoughts: true });
    expect(ir.dropped.map((d) => d.feature)).toEqual(["request.prompt_cache_key", "request.client_metadata", "tool.namespace", "tool.web_search"]);
  });

  it("turns a developer message after the conversation started into user text, recorded", () => {
    const ir = decoded({
      model: "m",
      input: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "developer", content: "Switch to French." },
      ],
    });
    expect(ir.system).toEqual([{ text: "Be brief." }]);
    expect(ir.messages.at(-1)).toEqual({ role: "user", content: [{ type: "text", text: "Switch to French." }] });
    expect(ir.dropped[0]!.feature).toBe("message.developer");
  });

  it("keeps only text in the system prompt; a later developer message keeps its image as user content", () => {
    const image = { type: "input_image", image_url: "https://example.com/a.png" };
    const ir = decoded({
      model: "m",
      input: [
        { role: "system", content: [{ type: "input_text", text: "Rules." }, image] },
        { role: "user", content: "hi" },
        { role: "developer", content: [image] },
      ],
    });
    expect(ir.system).toEqual([{ text: "Rules." }]);
    expect(ir.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }, { type: "image", source: { kind: "url", url: "https://example.com/a.png" } }] }]);
    expect(ir.dropped.map((d) => d.feature)).toEqual(["system.image", "message.developer"]);
  });

  it("drops hosted-tool items and other input items with a reason", () => {
    const ir = decoded({
      model: "m",
      input: [
        { role: "user", content: "list files" },
        { type: "local_shell_call", id: "lsh_1", call_id: "call_1", action: { type: "exec", command: ["ls"] }, status: "completed" },
        { type: "web_search_call", id: "ws_1", status: "completed" },
      ],
    });
    expect(ir.messages).toHaveLength(1);
    expect(ir.dropped.map((d) => d.feature)).toEqual(["item.local_shell_call", "item.web_search_call"]);
  });

  it("maps prompt_cache_breakpoint to a cache mark", () => {
    const ir = decoded({ model: "m", input: [{ role: "user", content: [{ type: "input_text", text: "long", prompt_cache_breakpoint: { mode: "explicit" } }] }] });
    expect(ir.messages[0]!.content[0]).toEqual({ type: "text", text: "long", cacheControl: { type: "ephemeral" } });
  });

  it("puts opaque state the encoders tagged back where it came from", () => {
    const ir = decoded({
      model: "m",
      input: [
        { role: "user", content: "hi" },
        { type: "reasoning", summary: [], encrypted_content: "ferry:redacted:EuYBCkQYAiJA" },
        { type: "reasoning", summary: [{ type: "summary_text", text: "thinking" }], encrypted_content: "ferry:thought:CiQB" },
        { type: "reasoning", summary: [], encrypted_content: "ferry:call-thought:CiQBsig" },
        { type: "function_call", call_id: "call_1", name: "f", arguments: "{}" },
      ],
    });
    expect(ir.messages[1]!.content).toEqual([
      { type: "reasoning", text: "", redactedData: "EuYBCkQYAiJA" },
      { type: "reasoning", text: "thinking", thoughtSignature: "CiQB" },
      { type: "tool_call", id: "call_1", name: "f", arguments: "{}", thoughtSignature: "CiQBsig" },
    ]);
  });

  it("refuses state stored on OpenAI's servers", () => {
    for (const body of [
      { model: "m", input: "x", previous_response_id: "resp_1" },
      { model: "m", input: "x", conversation: "conv_1" },
      { model: "m", prompt: { id: "pmpt_1" } },
      { model: "m", input: [{ type: "item_reference", id: "msg_1" }] },
      { model: "m", input: "x", background: true },
    ]) {
      const r = codec.decodeRequest(body, {});
      expect(r.ok ? null : r.error.code).toBe("unsupported");
    }
  });

  it("answers malformed requests with bad_request, never a throw", () => {
    for (const body of [null, 42, "x", [], { input: "no model" }, { model: "m" }, { model: "m", input: 3 }, { model: "m", input: [1] }, { model: "m", input: [{ role: "robot", content: "x" }] }, { model: "m", input: "x", temperature: "hot" }, { model: "m", input: "x", tools: {} }, { model: "m", input: [{ type: "function_call", name: "f" }] }]) {
      const r = codec.decodeRequest(body, {});
      expect(r.ok ? null : r.error.code).toBe("bad_request");
    }
  });
});

describe("encodeRequest", () => {
  it("writes the IR as Codex-style input items with instructions, tools and options", () => {
    const ir: IrRequest = {
      model: "ignored",
      system: [{ text: "You are terse." }, { text: "Answer in English.", cacheControl: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather in Paris?" }, { type: "image", source: { kind: "base64", mediaType: "image/png", data: "AAAA" } }] },
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "Need the tool.", signature: "gAAAAABo" },
            { type: "text", text: "Checking." },
            { type: "tool_call", id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
            { type: "tool_call", id: "call_2", name: "get_weather", arguments: '{"city":"Lyon"}' },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", toolCallId: "call_1", name: "get_weather", content: [{ type: "text", text: "18°C" }] },
            { type: "tool_result", toolCallId: "call_2", content: [{ type: "text", text: "see chart" }, { type: "image", source: { kind: "url", url: "https://example.com/chart.png" } }], isError: true },
          ],
        },
      ],
      tools: [{ name: "get_weather", description: "Get the weather.", parameters: { type: "object", properties: { city: { type: "string" } } } }],
      toolChoice: { type: "tool", name: "get_weather" },
      parallelToolCalls: true,
      maxOutputTokens: 500,
      temperature: 0.5,
      topK: 40,
      stopSequences: ["END"],
      responseFormat: { type: "json_schema", schema: { type: "object" }, strict: true },
      reasoning: { enabled: true, budgetTokens: 4000, includeThoughts: true },
      stream: true,
      dropped: [],
    };
    const r = codec.encodeRequest(ir, { model: "gpt-5" });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.body).toEqual({
      model: "gpt-5",
      instructions: "You are terse.\n\nAnswer in English.",
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }, { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "auto" }] },
        { type: "reasoning", summary: [{ type: "summary_text", text: "Need the tool." }], encrypted_content: "gAAAAABo" },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
        { type: "function_call", call_id: "call_2", name: "get_weather", arguments: '{"city":"Lyon"}' },
        { type: "function_call_output", call_id: "call_1", output: "18°C" },
        { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "see chart" }, { type: "input_image", image_url: "https://example.com/chart.png", detail: "auto" }] },
      ],
      tools: [{ type: "function", name: "get_weather", description: "Get the weather.", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false }],
      tool_choice: { type: "function", name: "get_weather" },
      parallel_tool_calls: true,
      max_output_tokens: 500,
      temperature: 0.5,
      text: { format: { type: "json_schema", name: "response", schema: { type: "object" }, strict: true } },
      reasoning: { effort: "medium", summary: "auto" },
      stream: true,
      store: false,
      include: ["reasoning.encrypted_content"],
    });
    expect(r.value.dropped.map((d) => d.feature)).toEqual(["system.cache_control", "tool_result.is_error", "reasoning.budget_tokens", "request.topK", "request.stopSequences"]);
  });

  it("drops reasoning OpenAI cannot replay, and writes JSON mode and reasoning off", () => {
    const r = codec.encodeRequest(
      {
        model: "m",
        system: [],
        messages: [
          { role: "user", content: [{ type: "text", text: "q" }] },
          { role: "assistant", content: [{ type: "reasoning", text: "hmm", thoughtSignature: "sig" }, { type: "reasoning", text: "", redactedData: "xyz" }, { type: "text", text: "a" }] },
        ],
        tools: [],
        responseFormat: { type: "json" },
        reasoning: { enabled: false },
        stream: false,
        dropped: [],
      },
      { model: "gpt-5" },
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.body).toEqual({
      model: "gpt-5",
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: "q" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "a" }] },
      ],
      text: { format: { type: "json_object" } },
      reasoning: { effort: "none" },
      stream: false,
      store: false,
    });
    expect(r.value.dropped.map((d) => d.feature)).toEqual(["reasoning.thought_signature", "reasoning.text", "reasoning.redacted"]);
  });
});

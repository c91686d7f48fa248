/**
 * Reasoning that a target needs back survives a client that cannot carry it (issue 6):
 * - an Anthropic thinking block with its signature, answered to an OpenAI chat client (which
 *   has no field for the signature), comes back to Anthropic before the tool call;
 * - DeepSeek's streamed `reasoning_content` before a tool call, answered to a Gemini client
 *   (which sends no thoughts back), returns on the assistant message, as DeepSeek requires
 *   after tool calls;
 * - a Gemini `thoughtSignature` on a functionCall, answered to an Anthropic client (Claude
 *   Code on Gemini), returns on that functionCall part.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { sseFrame, streamFrames } from "../helpers/provider-mocks.ts";

const KEY = projectKey();
let chain: Chain;

beforeAll(async () => {
  chain = await startChain({
    pools: { anthropic: { type: "anthropic", prefix: "/ant" }, deepseek: { type: "openai", prefix: "/ds" }, gemini: { type: "gemini", prefix: "/gem" } },
    companion: () => ({
      edgePools: { anthropic: { dialect: "anthropic" }, deepseek: { dialect: "openai" }, gemini: { dialect: "gemini" } },
      models: { thinker: ["edge:anthropic/claude-sonnet-4-5-20250929"], "deepseek-reasoner": ["edge:deepseek/deepseek-reasoner"], "gemini-thinker": ["edge:gemini/gemini-3-pro"] },
      projects: [{ id: "r", keys: [KEY] }],
    }),
  });
});

afterAll(async () => {
  await chain?.close();
});

it("puts the thinking block and its signature back before the tool call on the next turn", async () => {
  chain.up.once("/ant", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "msg_01",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5-20250929",
        content: [
          { type: "thinking", thinking: "I should look the weather up.", signature: "sig-abc-123" },
          { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 20, output_tokens: 10 },
      }),
    );
  });
  chain.up.once("/ant", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "msg_02",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5-20250929",
        content: [{ type: "text", text: "It is sunny in Paris." }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 40, output_tokens: 8 },
      }),
    );
  });
  const client = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
  const first = await client.chat.completions.create({ model: "thinker", tools, messages: [{ role: "user", content: "Weather in Paris?" }] });
  const call = first.choices[0]!.message.tool_calls![0]!;
  expect(call.id).toBe("toolu_01");

  // The client sends back only what its dialect has: the call, not the signature.
  const second = await client.chat.completions.create({
    model: "thinker",
    tools,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: call.id, content: "sunny" },
    ],
  });
  expect(second.choices[0]!.message.content).toBe("It is sunny in Paris.");

  const sent = JSON.parse(chain.up.hits("/ant").at(-1)!.body.toString());
  const assistant = sent.messages.find((m: { role: string }) => m.role === "assistant");
  expect(assistant.content[0]).toEqual({ type: "thinking", thinking: "I should look the weather up.", signature: "sig-abc-123" });
  expect(assistant.content[1]).toMatchObject({ type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } });
});

it("gives DeepSeek its reasoning_content back on the assistant turn with the tool call, from a Gemini client that sent no thoughts", async () => {
  const REASONING = "The user wants Hangzhou's weather; I must call get_weather.";
  const base = { id: "5b5b7d6c-2f3b-4a0e-9c1d-reasoner0001", object: "chat.completion.chunk", created: 1_764_000_000, model: "deepseek-reasoner", system_fingerprint: "fp_ffc7281d48" };
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null, extra: Record<string, unknown> = {}) =>
    sseFrame(null, { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }], ...extra });
  // DeepSeek's thinking-mode tool calls (api-docs.deepseek.com, "Thinking Mode" → tool calls): reasoning first, then the call.
  chain.up.once(
    "/ds",
    streamFrames([
      chunk({ role: "assistant", content: null, reasoning_content: "" }),
      chunk({ content: null, reasoning_content: REASONING.slice(0, 20) }),
      chunk({ content: null, reasoning_content: REASONING.slice(20) }),
      chunk({ tool_calls: [{ index: 0, id: "call_00_ds9Xk2", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Hangzhou"}' } }] }),
      chunk({}, "tool_calls", { usage: { prompt_tokens: 40, completion_tokens: 30, total_tokens: 70, completion_tokens_details: { reasoning_tokens: 18 } } }),
      sseFrame(null, "[DONE]"),
    ]),
  );
  chain.up.once("/ds", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: "ds-2", object: "chat.completion", created: 1, model: "deepseek-reasoner", choices: [{ index: 0, message: { role: "assistant", content: "Cloudy, 7 °C.", reasoning_content: "Report it." }, finish_reason: "stop" }], usage: { prompt_tokens: 80, completion_tokens: 9, total_tokens: 89 } }));
  });

  const gemini = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: chain.url } });
  const config = { tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: { type: "object", properties: { location: { type: "string" } }, required: ["location"] } }] }] };
  const calls: { id?: string; name?: string; args?: Record<string, unknown> }[] = [];
  for await (const c of await gemini.models.generateContentStream({ model: "deepseek-reasoner", contents: "Weather in Hangzhou?", config })) calls.push(...(c.functionCalls ?? []));
  expect(calls).toEqual([{ id: "call_00_ds9Xk2", name: "get_weather", args: { location: "Hangzhou" } }]);

  // What Gemini CLI sends back: the call and its response, no thought parts.
  const second = await gemini.models.generateContent({
    model: "deepseek-reasoner",
    config,
    contents: [
      { role: "user", parts: [{ text: "Weather in Hangzhou?" }] },
      { role: "model", parts: [{ functionCall: calls[0]! }] },
      { role: "user", parts: [{ functionResponse: { id: calls[0]!.id!, name: "get_weather", response: { output: "Cloudy 7~13°C" } } }] },
    ],
  });
  expect(second.text).toBe("Cloudy, 7 °C.");

  const sent = JSON.parse(chain.up.hits("/ds").at(-1)!.body.toString());
  const assistant = sent.messages.find((m: { role: string }) => m.role === "assistant");
  expect(assistant.reasoning_content).toBe(REASONING);
  expect(assistant.tool_calls).toEqual([{ id: "call_00_ds9Xk2", type: "function", function: { name: "get_weather", arguments: '{"location":"Hangzhou"}' } }]);
});

it("gives Gemini the thoughtSignature of its functionCall back, from an Anthropic client", async () => {
  const SIGNATURE = "CiQB0e2Kb7Jr3y1Yq2y8m5c9XrTt6f0Q0n3l0t2h1o2u3g4h5t";
  const geminiJson = (parts: unknown[], finishReason = "STOP") => ({
    candidates: [{ content: { role: "model", parts }, finishReason, index: 0 }],
    usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 12, totalTokenCount: 60, thoughtsTokenCount: 18 },
    modelVersion: "gemini-3-pro",
    responseId: "resp-gem-1",
  });
  chain.up.once("/gem", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    // Gemini 3: the signature rides on the functionCall part (ai.google.dev, "Thought signatures").
    res.end(JSON.stringify(geminiJson([{ functionCall: { name: "read_file", args: { path: "README.md" } }, thoughtSignature: SIGNATURE }])));
  });
  chain.up.once("/gem", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(geminiJson([{ text: "The README describes Ferry." }])));
  });

  const claude = new Anthropic({ baseURL: chain.url, apiKey: KEY, maxRetries: 0 });
  const tools = [{ name: "read_file", description: "Read a file", input_schema: { type: "object" as const, properties: { path: { type: "string" } }, required: ["path"] } }];
  const first = await claude.messages.create({ model: "gemini-thinker", max_tokens: 1024, tools, messages: [{ role: "user", content: "What is in the README?" }] });
  expect(first.stop_reason).toBe("tool_use");
  const call = first.content.find((b) => b.type === "tool_use")!;
  if (call.type !== "tool_use") throw new Error("no tool_use");
  expect(call.input).toEqual({ path: "README.md" });

  // Claude Code sends back the tool_use and its result; only what the Anthropic dialect has.
  const second = await claude.messages.create({
    model: "gemini-thinker",
    max_tokens: 1024,
    tools,
    messages: [
      { role: "user", content: "What is in the README?" },
      { role: "assistant", content: [{ type: "tool_use", id: call.id, name: call.name, input: call.input }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "# Ferry" }] },
    ],
  });
  expect(second.content).toEqual([{ type: "text", text: "The README describes Ferry." }]);

  const sent = JSON.parse(chain.up.hits("/gem").at(-1)!.body.toString());
  const model = sent.contents.find((c: { role: string }) => c.role === "model");
  expect(model.parts).toEqual([{ functionCall: expect.objectContaining({ name: "read_file", args: { path: "README.md" } }), thoughtSignature: SIGNATURE }]);
});

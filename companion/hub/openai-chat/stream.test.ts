import { readFileSync } from "node:fs";
import OpenAI, { APIError } from "openai";
import { describe, expect, it } from "vitest";
import type { IrEvent } from "../ir.ts";
import { codec } from "./index.ts";

const text = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

function decodeAll(chunks: string[]): IrEvent[] {
  const d = codec.streamDecoder();
  const out: IrEvent[] = [];
  for (const c of chunks) out.push(...d.push(c));
  out.push(...d.end());
  return out;
}

function encodeAll(events: IrEvent[], opts: { includeUsage?: boolean; id?: string } = {}): string {
  const e = codec.streamEncoder({ model: "ferry-model", id: opts.id ?? "chatcmpl-ferry1", now: 1_745_000_000_123, includeUsage: opts.includeUsage ?? true });
  let out = "";
  for (const ev of events) out += e.push(ev);
  return out + e.end();
}

const sse = (...chunks: unknown[]): string => chunks.map((c) => `data: ${typeof c === "string" ? c : JSON.stringify(c)}\n\n`).join("");
const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason }] });

describe("stream decoding: full transcripts", () => {
  it("text with a usage chunk after finish_reason (stream_options.include_usage)", () => {
    expect(decodeAll([text("stream-text.sse")])).toEqual([
      { type: "start", id: "chatcmpl-123", model: "gpt-4o-mini" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "Hello" },
      { type: "text_delta", index: 0, text: "! How can I assist you today?" },
      { type: "block_stop", index: 0 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 9, outputTokens: 9, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
  });

  it("parallel tool calls with streamed argument fragments (OpenAI's function-calling stream)", () => {
    expect(decodeAll([text("stream-tool-calls.sse")])).toEqual([
      { type: "start", id: "chatcmpl-tool", model: "gpt-4.1" },
      { type: "block_start", index: 0, part: { type: "tool_call", id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 0, json: '{"' },
      { type: "tool_arguments_delta", index: 0, json: "location" },
      { type: "tool_arguments_delta", index: 0, json: '":"' },
      { type: "tool_arguments_delta", index: 0, json: "Paris" },
      { type: "tool_arguments_delta", index: 0, json: ', France"}' },
      { type: "block_start", index: 1, part: { type: "tool_call", id: "call_tQ4mWw9zZ2oV1wQW0aGXy8pr", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 1, json: '{"location":"Bogotá, Colombia"}' },
      { type: "block_stop", index: 0 },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "tool_use", usage: { inputTokens: 71, outputTokens: 40, cachedInputTokens: 64 } },
    ]);
  });

  it("DeepSeek reasoning_content then content, usage on the finish chunk", () => {
    expect(decodeAll([text("stream-deepseek-reasoning.sse")])).toEqual([
      { type: "start", id: "1f633d8bfc032625086f14113c411638", model: "deepseek-reasoner" },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
      { type: "reasoning_delta", index: 0, text: "Compare the tenths" },
      { type: "reasoning_delta", index: 0, text: ": 8 > 1." },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "9.8 is" },
      { type: "text_delta", index: 1, text: " greater." },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 18, outputTokens: 356, cachedInputTokens: 0, reasoningTokens: 340 } },
    ]);
  });

  it("a mid-stream error event", () => {
    expect(decodeAll([text("stream-error.sse")])).toEqual([
      { type: "start", id: "chatcmpl-err", model: "gpt-4o" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "The answer is" },
      { type: "error", status: 500, code: "server_error", message: "The server had an error while processing your request. Sorry about that!" },
    ]);
  });

  it("gives the same events whatever the chunking, even one character at a time", () => {
    for (const name of ["stream-tool-calls.sse", "stream-deepseek-reasoning.sse", "stream-text.sse"]) {
      const whole = text(name);
      const expected = decodeAll([whole]);
      for (let i = 0; i <= whole.length; i += 7) expect(decodeAll([whole.slice(0, i), whole.slice(i)]), `${name} split at ${i}`).toEqual(expected);
      expect(decodeAll([...whole])).toEqual(expected);
      expect(decodeAll([whole.replaceAll("\n", "\r\n")])).toEqual(expected);
    }
  });

  it("emits events as soon as their chunk arrives", () => {
    const d = codec.streamDecoder();
    expect(d.push(sse(chunk({ role: "assistant", content: "" })))).toEqual([{ type: "start", id: "c1", model: "m" }]);
    expect(d.push(sse(chunk({ content: "Hi" })))).toEqual([
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "Hi" },
    ]);
    expect(d.push('data: {"id":"c1","choices":[{"index":0,"delta":{"content":" th')).toEqual([]);
    expect(d.push('ere"}}]}\n\n')).toEqual([{ type: "text_delta", index: 0, text: " there" }]);
  });
});

describe("stream decoding: edge cases", () => {
  it("interleaved parallel calls keep their own blocks", () => {
    const events = decodeAll([
      sse(
        chunk({ role: "assistant", tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "f", arguments: "" } }] }),
        chunk({ tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "g", arguments: '{"y":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: "2}" } }] }),
        chunk({}, "tool_calls"),
        "[DONE]",
      ),
    ]);
    expect(events.slice(1)).toEqual([
      { type: "block_start", index: 0, part: { type: "tool_call", id: "a", name: "f", arguments: "" } },
      { type: "block_start", index: 1, part: { type: "tool_call", id: "b", name: "g", arguments: "" } },
      { type: "tool_arguments_delta", index: 1, json: '{"y":' },
      { type: "tool_arguments_delta", index: 0, json: '{"x":1}' },
      { type: "tool_arguments_delta", index: 1, json: "2}" },
      { type: "block_stop", index: 0 },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "tool_use" },
    ]);
  });

  it("generates a stable id when the host sends none, and waits for a late name", () => {
    const events = decodeAll([
      sse(
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { name: "f", arguments: ":1}" } }] }),
        chunk({ content: "done" }),
        chunk({}, "stop"),
      ),
    ]);
    const start = events[1] as Extract<IrEvent, { type: "block_start" }>;
    expect(start.part).toEqual({ type: "tool_call", id: expect.stringMatching(/^call_\d+_[0-9a-f]{12}$/), name: "f", arguments: "" });
    expect(events.slice(2)).toEqual([
      { type: "tool_arguments_delta", index: 0, json: '{"a":1}' },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "done" },
      { type: "block_stop", index: 0 },
      { type: "block_stop", index: 1 },
      // "stop" after tool calls (Gemini's OpenAI layer does this) still means tool use.
      { type: "finish", stopReason: "tool_use" },
    ]);
  });

  it("skips Azure's prompt-filter chunk and reads refusals as text", () => {
    const events = decodeAll([sse({ id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [] }, chunk({ refusal: "I can't." }), chunk({}, "stop"), "[DONE]")]);
    expect(events).toEqual([
      { type: "start", id: "c1", model: "m" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "I can't." },
      { type: "block_stop", index: 0 },
      { type: "finish", stopReason: "refusal" },
    ]);
  });

  it("a cut stream ends with an error; [DONE] without finish_reason ends normally", () => {
    expect(decodeAll([sse(chunk({ content: "par" }))]).at(-1)).toEqual({ type: "error", status: 502, code: "upstream_truncated", message: expect.any(String) });
    expect(decodeAll([sse(chunk({ content: "all" }), "[DONE]")]).slice(-2)).toEqual([{ type: "block_stop", index: 0 }, { type: "finish", stopReason: "end_turn" }]);
    // finish_reason without [DONE] is complete too.
    expect(decodeAll([sse(chunk({ content: "x" }, "length"))]).at(-1)).toEqual({ type: "finish", stopReason: "max_tokens" });
  });

  it("error shapes: OpenRouter (numeric code, finish_reason error), vLLM flat errors, event: error, bad JSON", () => {
    const openrouter = { id: "c1", object: "chat.completion.chunk", error: { code: 502, message: "Provider disconnected" }, choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }] };
    expect(decodeAll([sse(chunk({ content: "a" }), openrouter)]).at(-1)).toEqual({ type: "error", status: 502, code: "upstream_error", message: "Provider disconnected" });
    expect(decodeAll([sse({ object: "error", message: "context too long", type: "BadRequestError", code: 400 })])).toEqual([{ type: "error", status: 400, code: "BadRequestError", message: "context too long" }]);
    expect(decodeAll(['event: error\ndata: {"type":"overloaded_error","message":"Overloaded"}\n\n'])).toEqual([{ type: "error", status: 503, code: "overloaded_error", message: "Overloaded" }]);
    expect(decodeAll(["data: {not json\n\n"])).toEqual([{ type: "error", status: 502, code: "bad_response", message: expect.any(String) }]);
  });

  it("vLLM's stop_reason names the stop sequence; usage before finish becomes a usage event", () => {
    const events = decodeAll([sse({ ...chunk({ content: "x" }), usage: { prompt_tokens: 3, completion_tokens: 1 } }, { ...chunk({}), choices: [{ index: 0, delta: {}, finish_reason: "stop", stop_reason: "END" }] }, "[DONE]")]);
    expect(events).toContainEqual({ type: "usage", usage: { inputTokens: 3, outputTokens: 1 } });
    expect(events.at(-1)).toEqual({ type: "finish", stopReason: "stop_sequence", stopSequence: "END", usage: { inputTokens: 3, outputTokens: 1 } });
  });
});

const TOOL_EVENTS: IrEvent[] = [
  { type: "start", id: "msg_1", model: "claude", usage: { inputTokens: 120 } },
  { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
  { type: "reasoning_delta", index: 0, text: "Need weather." },
  { type: "reasoning_delta", index: 0, signature: "sig" },
  { type: "block_stop", index: 0 },
  { type: "block_start", index: 1, part: { type: "text", text: "" } },
  { type: "text_delta", index: 1, text: "Checking both." },
  { type: "block_stop", index: 1 },
  { type: "block_start", index: 2, part: { type: "tool_call", id: "toolu_01", name: "get_weather", arguments: "" } },
  { type: "block_start", index: 3, part: { type: "tool_call", id: "toolu_02", name: "get_time", arguments: "" } },
  { type: "tool_arguments_delta", index: 2, json: '{"location":' },
  { type: "tool_arguments_delta", index: 3, json: "{}" },
  { type: "tool_arguments_delta", index: 2, json: '"Paris"}' },
  { type: "block_stop", index: 2 },
  { type: "block_stop", index: 3 },
  { type: "finish", stopReason: "tool_use", usage: { outputTokens: 55, cachedInputTokens: 100 } },
];

const ERROR_EVENTS: IrEvent[] = [
  { type: "start", id: "msg_2", model: "claude" },
  { type: "block_start", index: 0, part: { type: "text", text: "" } },
  { type: "text_delta", index: 0, text: "The answer is" },
  { type: "error", status: 503, code: "overloaded_error", message: "Overloaded" },
  { type: "text_delta", index: 0, text: " ignored after the error" },
];

describe("stream encoding: exact wire", () => {
  it("reasoning, text and interleaved parallel tool calls, then finish, usage and [DONE]", () => {
    expect(encodeAll(TOOL_EVENTS)).toBe(text("encoded-tool-stream.sse"));
  });

  it("a mid-stream error, then [DONE]", () => {
    expect(encodeAll(ERROR_EVENTS, { id: "chatcmpl-ferry2" })).toBe(text("encoded-error-stream.sse"));
  });

  it("without include_usage there is no usage chunk; a call without arguments gets {}; end() closes once", () => {
    const e = codec.streamEncoder({ model: "m", id: "x", now: 0 });
    let out = e.push({ type: "block_start", index: 0, part: { type: "tool_call", id: "t", name: "ping", arguments: "" } });
    out += e.push({ type: "block_stop", index: 0 });
    out += e.push({ type: "finish", stopReason: "tool_use", usage: { inputTokens: 1 } });
    out += e.end() + e.end();
    expect(out).toBe(
      sse(
        { id: "x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] },
        { id: "x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "t", type: "function", function: { name: "ping", arguments: "" } }] }, logprobs: null, finish_reason: null }] },
        { id: "x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "{}" } }] }, logprobs: null, finish_reason: null }] },
        { id: "x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" }] },
        "[DONE]",
      ),
    );
  });
});

/** An openai SDK client whose every request is answered with this SSE text. */
function sdkAnswering(body: string): OpenAI {
  return new OpenAI({
    apiKey: "sk-test",
    baseURL: "http://ferry.test/v1",
    maxRetries: 0,
    fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
  });
}

describe("the openai SDK accepts the encoded stream", () => {
  it("ChatCompletionStream assembles text and both tool calls", async () => {
    const stream = sdkAnswering(encodeAll(TOOL_EVENTS)).chat.completions.stream({ model: "x", messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.id).toBe("chatcmpl-ferry1");
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(final.choices[0]!.message.content).toBe("Checking both.");
    expect(final.choices[0]!.message.tool_calls).toEqual([
      { id: "toolu_01", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } },
      { id: "toolu_02", type: "function", function: { name: "get_time", arguments: "{}" } },
    ]);
    expect(final.usage).toEqual({ prompt_tokens: 120, completion_tokens: 55, total_tokens: 175, prompt_tokens_details: { cached_tokens: 100 } });
  });

  it("a mid-stream error surfaces as an APIError", async () => {
    const stream = await sdkAnswering(encodeAll(ERROR_EVENTS)).chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], stream: true });
    const seen: string[] = [];
    const consume = async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? "");
    };
    const error = await consume().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain("Overloaded");
    expect(seen.join("")).toBe("The answer is");
  });

  it("a target's stream decoded and re-encoded reads back the same in the SDK", async () => {
    const events = decodeAll([text("stream-deepseek-reasoning.sse")]);
    const final = await sdkAnswering(encodeAll(events)).chat.completions.stream({ model: "x", messages: [{ role: "user", content: "hi" }] }).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("9.8 is greater.");
    expect(final.choices[0]!.finish_reason).toBe("stop");
  });
});

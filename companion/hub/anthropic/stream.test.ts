import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrEvent } from "../ir.ts";
import { codec } from "./index.ts";

const text = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

function decodeChunks(chunks: string[]): IrEvent[] {
  const d = codec.streamDecoder();
  const out: IrEvent[] = [];
  for (const c of chunks) out.push(...d.push(c));
  out.push(...d.end());
  return out;
}

function encodeEvents(events: IrEvent[], ctx = { id: "msg_ferry_1", model: "claude-sonnet-4-5", now: 0 }): string {
  const e = codec.streamEncoder(ctx);
  let out = "";
  for (const ev of events) out += e.push(ev);
  return out + e.end();
}

describe("stream decoding: documented transcripts → IR events", () => {
  it("the streaming docs' tool-use transcript, whole, split at every position and one character at a time", () => {
    const wire = text("stream-tool-use.sse");
    const expected: IrEvent[] = [
      { type: "start", id: "msg_014p7gG3wDgGV9EUtLvnow3U", model: "claude-opus-4-6", usage: { inputTokens: 472, outputTokens: 2 } },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      ...["Okay", ",", " let", "'s", " check", " the", " weather", " for", " San", " Francisco", ",", " CA", ":"].map((t): IrEvent => ({ type: "text_delta", index: 0, text: t })),
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "tool_call", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", arguments: "" } },
      ...['{"location":', ' "San', " Francisc", "o,", ' CA"', ", ", '"unit": "fah', 'renheit"}'].map((json): IrEvent => ({ type: "tool_arguments_delta", index: 1, json })),
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "tool_use", usage: { inputTokens: 472, outputTokens: 89 } },
    ];
    expect(decodeChunks([wire])).toEqual(expected);
    for (let i = 0; i <= wire.length; i += 7) expect(decodeChunks([wire.slice(0, i), wire.slice(i)]), `split at ${i}`).toEqual(expected);
    expect(decodeChunks([...wire])).toEqual(expected);
    const args = expected.flatMap((e) => (e.type === "tool_arguments_delta" ? [e.json] : [])).join("");
    expect(JSON.parse(args)).toEqual({ location: "San Francisco, CA", unit: "fahrenheit" });
  });

  it("thinking and signature deltas, then text; cache and thinking-token usage", () => {
    expect(decodeChunks([text("stream-thinking.sse")])).toEqual([
      { type: "start", id: "msg_01DfGoUwMtftE8VM22axQ2Jc", model: "claude-sonnet-4-5", usage: { inputTokens: 1290, outputTokens: 5, cachedInputTokens: 512, cacheCreationInputTokens: 0 } },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
      { type: "reasoning_delta", index: 0, text: "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147" },
      { type: "reasoning_delta", index: 0, text: "\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21" },
      { type: "reasoning_delta", index: 0, signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..." },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "The greatest common divisor of 1071 and 462 is **21**." },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 1290, outputTokens: 104, cachedInputTokens: 512, cacheCreationInputTokens: 0, reasoningTokens: 80 } },
    ]);
  });

  it("a mid-stream error event becomes an IR error, and the stream ends there", () => {
    const events = decodeChunks([text("stream-error.sse")]);
    expect(events.slice(-2)).toEqual([
      { type: "text_delta", index: 0, text: "Hello" },
      { type: "error", status: 529, code: "overloaded_error", message: "Overloaded" },
    ]);
  });

  it("the forced JSON-answer tool streams as text and ends the turn", () => {
    const events = decodeChunks([text("stream-json-tool.sse")]);
    expect(events.slice(1)).toEqual([
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: '{"complexity_reasoning": "Simple read operation.", ' },
      { type: "text_delta", index: 0, text: '"complexity_score": 10}' },
      { type: "block_stop", index: 0 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 849, outputTokens: 47, cachedInputTokens: 0, cacheCreationInputTokens: 0 } },
    ]);
  });

  it("server-tool blocks and citations are skipped and announced once; IR indices count only the blocks passed on", () => {
    const wire = [
      { type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 1, output_tokens: 0 } } },
      { type: "content_block_start", index: 0, content_block: { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"query":"x"}' } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Found it." } },
      { type: "content_block_delta", index: 1, delta: { type: "citations_delta", citation: {} } },
      { type: "content_block_stop", index: 1 },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 9 } },
      { type: "message_stop" },
    ]
      .map((d) => `event: ${d.type}\ndata: ${JSON.stringify(d)}\n\n`)
      .join("");
    expect(decodeChunks([wire]).slice(1, -1)).toEqual([
      { type: "dropped", drop: { feature: "response.block.server_tool_use", reason: expect.stringContaining("server_tool_use") } },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "Found it." },
      { type: "dropped", drop: { feature: "response.citations", reason: expect.stringContaining("citations") } },
      { type: "block_stop", index: 0 },
    ]);
  });

  it("a stream cut before message_delta ends with an error; so does an unreadable event", () => {
    const cut = text("stream-tool-use.sse").split("event: message_delta")[0]!;
    expect(decodeChunks([cut]).at(-1)).toEqual({ type: "error", status: 502, code: "api_error", message: "the Anthropic stream ended before its message_delta" });
    expect(decodeChunks(["event: message_start\ndata: {not json\n\n"])).toEqual([{ type: "error", status: 502, code: "api_error", message: 'unreadable Anthropic stream event "message_start"' }]);
  });
});

describe("stream encoding: IR events → the exact Anthropic wire", () => {
  const events: IrEvent[] = [
    { type: "start", id: "chatcmpl-9", model: "gpt-5", usage: { inputTokens: 1500, cachedInputTokens: 1024 } },
    { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
    { type: "reasoning_delta", index: 0, text: "The user wants the weather." },
    { type: "reasoning_delta", index: 0, signature: "EqQBCgIYAhIM" },
    { type: "block_stop", index: 0 },
    { type: "block_start", index: 1, part: { type: "text", text: "" } },
    { type: "text_delta", index: 1, text: "Checking " },
    { type: "text_delta", index: 1, text: "both cities." },
    { type: "block_stop", index: 1 },
    { type: "block_start", index: 2, part: { type: "tool_call", id: "call_1", name: "get_weather", arguments: "" } },
    { type: "tool_arguments_delta", index: 2, json: '{"location":' },
    { type: "tool_arguments_delta", index: 2, json: ' "Paris"}' },
    { type: "block_stop", index: 2 },
    { type: "block_start", index: 3, part: { type: "tool_call", id: "call_2", name: "get_weather", arguments: '{"location": "Oslo"}' } },
    { type: "block_stop", index: 3 },
    { type: "usage", usage: { outputTokens: 40 } },
    { type: "finish", stopReason: "tool_use", usage: { inputTokens: 1500, cachedInputTokens: 1024, outputTokens: 71, reasoningTokens: 12 } },
  ];

  it("writes message_start (usage), ping, the blocks, message_delta and message_stop", () => {
    expect(encodeEvents(events)).toBe(text("encoded-stream.sse"));
  });

  it("what it writes decodes back to the same content", () => {
    const back = decodeChunks([encodeEvents(events)]);
    expect(back.slice(1)).toEqual([
      ...events.slice(1, 13),
      // Arguments given with the block's start travel as its first input_json_delta.
      { type: "block_start", index: 3, part: { type: "tool_call", id: "call_2", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 3, json: '{"location": "Oslo"}' },
      { type: "block_stop", index: 3 },
      { type: "finish", stopReason: "tool_use", usage: { inputTokens: 1500, cachedInputTokens: 1024, outputTokens: 71, reasoningTokens: 12 } },
    ]);
  });

  it("an IR error becomes event: error with the API's error body, and nothing follows it", () => {
    const e = codec.streamEncoder({ id: "msg_x", model: "claude-sonnet-4-5", now: 0 });
    let out = e.push({ type: "start", id: "", model: "" });
    out += e.push({ type: "block_start", index: 0, part: { type: "text", text: "" } });
    out += e.push({ type: "text_delta", index: 0, text: "Hel" });
    out += e.push({ type: "error", status: 429, code: "rate_limited", message: "Too many requests" });
    expect(e.push({ type: "text_delta", index: 0, text: "lo" })).toBe("");
    expect(e.end()).toBe("");
    expect(out).toBe(
      [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_x","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}\n\n',
        'event: ping\ndata: {"type":"ping"}\n\n',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n',
        'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Too many requests"}}\n\n',
      ].join(""),
    );
  });

  it("blocks open at the same time are written one after the other, in start order", () => {
    // OpenAI-style: two tool calls whose argument fragments interleave.
    const wire = encodeEvents([
      { type: "start", id: "", model: "" },
      { type: "block_start", index: 0, part: { type: "tool_call", id: "a", name: "f", arguments: "" } },
      { type: "block_start", index: 1, part: { type: "tool_call", id: "b", name: "g", arguments: "" } },
      { type: "tool_arguments_delta", index: 1, json: '{"y":' },
      { type: "tool_arguments_delta", index: 0, json: '{"x":' },
      { type: "tool_arguments_delta", index: 1, json: "2}" },
      { type: "tool_arguments_delta", index: 0, json: "1}" },
      { type: "finish", stopReason: "tool_use" },
    ]);
    const data = wire
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)) as { type: string; index?: number; delta?: { partial_json?: string } });
    expect(data.map((d) => `${d.type}${d.index ?? ""}${d.delta?.partial_json ?? ""}`)).toEqual([
      "message_start",
      "ping",
      "content_block_start0",
      'content_block_delta0{"x":',
      "content_block_delta01}",
      "content_block_stop0",
      "content_block_start1",
      'content_block_delta1{"y":',
      "content_block_delta12}",
      "content_block_stop1",
      "message_delta",
      "message_stop",
    ]);
  });

  it("end() without a finish still closes the message", () => {
    const wire = encodeEvents([{ type: "block_start", index: 0, part: { type: "text", text: "Hi" } }]);
    expect(wire).toContain('event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n');
    expect(wire.endsWith('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":0}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
  });

  it("content type", () => {
    expect(codec.streamContentType()).toBe("text/event-stream");
  });
});

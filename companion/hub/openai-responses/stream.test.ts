import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SseParser } from "../../../shared/sse.ts";
import type { IrEvent } from "../ir.ts";
import { codec } from "./index.ts";

const text = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

function decodeAll(chunks: string[]): IrEvent[] {
  const d = codec.streamDecoder();
  return [...chunks.flatMap((c) => d.push(c)), ...d.end()];
}

function encodeAll(events: IrEvent[], ctx = { id: "resp_ferry01", model: "gpt-5-codex", now: 1_741_290_958_000 }): string {
  const e = codec.streamEncoder(ctx);
  return events.map((ev) => e.push(ev)).join("") + e.end();
}

/** The wire events of an encoded stream, parsed back as a client would. */
function wireEvents(sse: string): { event: string; data: Record<string, unknown> }[] {
  return new SseParser().push(sse).map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }));
}

describe("stream decoder", () => {
  it("decodes the API reference's streamed text answer", () => {
    const deltas = ["Hi", " there", "!", " How", " can", " I", " assist", " you", " today", "?"];
    expect(decodeAll([text("stream-text.sse")])).toEqual([
      { type: "start", id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654", model: "gpt-4.1-2025-04-14" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      ...deltas.map((t) => ({ type: "text_delta", index: 0, text: t })),
      { type: "block_stop", index: 0 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 37, outputTokens: 11, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
  });

  it("decodes streamed argument fragments of parallel function calls", () => {
    expect(decodeAll([text("stream-tool-calls.sse")])).toEqual([
      { type: "start", id: "resp_1234xyz", model: "gpt-4.1-2025-04-14" },
      { type: "block_start", index: 0, part: { type: "tool_call", id: "call_1234xyz", name: "get_weather", arguments: "" } },
      ...['{"', "location", '":"', "Paris", ",", " France", '"}'].map((json) => ({ type: "tool_arguments_delta", index: 0, json })),
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "tool_call", id: "call_5678abc", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 1, json: '{"location":' },
      { type: "tool_arguments_delta", index: 1, json: '"Bogotá, Colombia"}' },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "tool_use", usage: { inputTokens: 291, outputTokens: 46, cachedInputTokens: 256, reasoningTokens: 0 } },
    ]);
  });

  it("decodes reasoning summaries (parts joined), encrypted_content as signature, and max_output_tokens", () => {
    expect(decodeAll([text("stream-reasoning-incomplete.sse")])).toEqual([
      { type: "start", id: "resp_6806bfca0b2481918a5748308061a260", model: "o4-mini-2025-04-16" },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
      { type: "reasoning_delta", index: 0, text: "**Responding to a greeting**\n\n" },
      { type: "reasoning_delta", index: 0, text: 'The user just said, "Hello!" So, it seems I need to engage.' },
      { type: "reasoning_delta", index: 0, text: "\n\n" },
      { type: "reasoning_delta", index: 0, text: "**Choosing a tone**\n\nA friendly reply fits." },
      { type: "reasoning_delta", index: 0, signature: "gAAAAABoBr_WpB0c3VZ3W2p3d0S7x4Q" },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "Hello! How" },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "max_tokens", usage: { inputTokens: 9, outputTokens: 64, cachedInputTokens: 0, reasoningTokens: 60 } },
    ]);
  });

  it("decodes a mid-stream `error` event and a `response.failed`", () => {
    expect(decodeAll([text("stream-error.sse")]).slice(-2)).toEqual([
      { type: "text_delta", index: 0, text: "Once upon" },
      { type: "error", status: 500, code: "ERR_SOMETHING", message: "Something went wrong" },
    ]);
    expect(decodeAll([text("stream-failed.sse")])).toEqual([
      { type: "start", id: "resp_123", model: "gpt-4.1-2025-04-14" },
      { type: "error", status: 500, code: "server_error", message: "The model failed to generate a response." },
    ]);
  });

  it("gives the same events whatever the chunking, even one character at a time", () => {
    for (const name of ["stream-text.sse", "stream-tool-calls.sse", "stream-reasoning-incomplete.sse", "stream-error.sse"]) {
      const whole = text(name);
      expect(decodeAll([...whole])).toEqual(decodeAll([whole]));
      expect(decodeAll([whole.slice(0, 1001), whole.slice(1001, 1777), whole.slice(1777)])).toEqual(decodeAll([whole]));
    }
  });

  it("reads servers that send only final values: .done events, or only response.completed", () => {
    const only = (events: Record<string, unknown>[]) => events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join("");
    const item = { id: "fc_1", type: "function_call", call_id: "call_1", name: "f", arguments: '{"a":1}' };
    const doneOnly = only([
      { type: "response.created", response: { id: "r", model: "m", output: [] } },
      { type: "response.output_item.added", output_index: 0, item: { ...item, arguments: "" } },
      { type: "response.function_call_arguments.done", output_index: 0, item_id: "fc_1", arguments: '{"a":1}' },
      { type: "response.output_item.done", output_index: 0, item },
      { type: "response.completed", response: { id: "r", model: "m", status: "completed", output: [item] } },
    ]);
    const completedOnly = only([{ type: "response.completed", response: { id: "r", model: "m", status: "completed", output: [{ id: "msg_1", type: "message", role: "assistant", content: [{ type: "output_text", text: "hi" }] }, item] } }]);
    expect(decodeAll([doneOnly])).toEqual([
      { type: "start", id: "r", model: "m" },
      { type: "block_start", index: 0, part: { type: "tool_call", id: "call_1", name: "f", arguments: "" } },
      { type: "tool_arguments_delta", index: 0, json: '{"a":1}' },
      { type: "block_stop", index: 0 },
      { type: "finish", stopReason: "tool_use" },
    ]);
    expect(decodeAll([completedOnly])).toEqual([
      { type: "start", id: "r", model: "m" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "hi" },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "tool_call", id: "call_1", name: "f", arguments: "" } },
      { type: "tool_arguments_delta", index: 1, json: '{"a":1}' },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "tool_use" },
    ]);
  });

  it("reports a cut-off stream and an event that is not JSON as errors", () => {
    const cut = text("stream-text.sse").split("event: response.completed")[0]!;
    expect(decodeAll([cut]).at(-1)).toEqual({ type: "error", status: 502, code: "upstream_failed", message: "the Responses stream ended before response.completed" });
    expect(decodeAll(["event: response.created\ndata: {oops\n\n"])).toEqual([{ type: "error", status: 502, code: "upstream_failed", message: "the Responses stream sent an event that is not JSON" }]);
  });
});

describe("stream encoder", () => {
  const reasoningToolCall: IrEvent[] = [
    { type: "start", id: "msg_01XFDUDYJgAACzvnptvVoYEL", model: "claude-sonnet-4-5", usage: { inputTokens: 472, cachedInputTokens: 0 } },
    { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
    { type: "reasoning_delta", index: 0, text: "The user wants the weather" },
    { type: "reasoning_delta", index: 0, text: " in Paris." },
    { type: "reasoning_delta", index: 0, signature: "EqQBCkgIARABGAIiQL" },
    { type: "block_stop", index: 0 },
    { type: "block_start", index: 1, part: { type: "text", text: "" } },
    { type: "text_delta", index: 1, text: "Let me check." },
    { type: "block_stop", index: 1 },
    { type: "block_start", index: 2, part: { type: "tool_call", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", arguments: "" } },
    { type: "tool_arguments_delta", index: 2, json: '{"location":' },
    { type: "tool_arguments_delta", index: 2, json: ' "Paris"}' },
    { type: "block_stop", index: 2 },
    { type: "usage", usage: { outputTokens: 89 } },
    { type: "finish", stopReason: "tool_use", usage: { outputTokens: 89 } },
  ];

  it("writes reasoning, text and a tool call as the exact Responses SSE stream", () => {
    expect(encodeAll(reasoningToolCall)).toBe(text("encoded-reasoning-tool-call.sse"));
  });

  it("writes output incrementally: each IR event's events come out at once", () => {
    const e = codec.streamEncoder({ id: "resp_1", model: "m", now: 0 });
    expect(e.push({ type: "start", id: "x", model: "m" })).toContain("event: response.created");
    expect(e.push({ type: "block_start", index: 0, part: { type: "text", text: "" } })).toContain("event: response.content_part.added");
    expect(e.push({ type: "text_delta", index: 0, text: "Hel" })).toContain('"delta":"Hel"');
  });

  it("numbers every event from 0 and names it in an `event:` line", () => {
    const events = wireEvents(encodeAll(reasoningToolCall));
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    for (const e of events) expect(e.event).toBe(e.data.type);
  });

  it("writes an upstream error as an `error` event, then response.failed, and nothing after", () => {
    const e = codec.streamEncoder({ id: "resp_1", model: "m", now: 0 });
    const head = e.push({ type: "start", id: "x", model: "m" }) + e.push({ type: "block_start", index: 0, part: { type: "text", text: "" } }) + e.push({ type: "text_delta", index: 0, text: "Once" });
    const tail = e.push({ type: "error", status: 429, code: "rate_limited", message: "slow down" });
    expect(e.push({ type: "text_delta", index: 0, text: "more" }) + e.end()).toBe("");
    expect(wireEvents(head).length).toBe(5);
    const errors = wireEvents(tail);
    expect(errors.map((w) => w.data)).toEqual([
      { type: "error", code: "rate_limited", message: "slow down", param: null, sequence_number: 5 },
      {
        type: "response.failed",
        response: expect.objectContaining({ id: "resp_1", status: "failed", error: { code: "rate_limit_exceeded", message: "slow down" }, output: [] }),
        sequence_number: 6,
      },
    ]);
  });

  it("writes max_tokens as response.incomplete and closes blocks left open", () => {
    const events = wireEvents(
      encodeAll([
        { type: "start", id: "x", model: "m" },
        { type: "block_start", index: 0, part: { type: "text", text: "" } },
        { type: "text_delta", index: 0, text: "cut" },
        { type: "finish", stopReason: "max_tokens", usage: { inputTokens: 3, outputTokens: 1 } },
      ]),
    );
    expect(events.map((e) => e.event).slice(-5)).toEqual(["response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete"]);
    expect(events.at(-1)!.data.response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 } });
  });

  it("ends a stream that never finished with response.failed, and an empty one with created + failed", () => {
    expect(wireEvents(encodeAll([{ type: "start", id: "x", model: "m" }, { type: "block_start", index: 0, part: { type: "text", text: "" } }])).map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.failed",
    ]);
    expect(wireEvents(encodeAll([])).map((e) => e.event)).toEqual(["response.created", "response.in_progress", "response.failed"]);
  });

  it("carries redacted thinking and thought signatures in encrypted_content, and decodes its own reasoning back", () => {
    const events = wireEvents(
      encodeAll([
        { type: "start", id: "x", model: "m" },
        { type: "block_start", index: 0, part: { type: "reasoning", text: "", redactedData: "EmwKAhgBEgy" } },
        { type: "block_stop", index: 0 },
        { type: "block_start", index: 1, part: { type: "tool_call", id: "call_1_ab", name: "f", arguments: '{"x":1}', thoughtSignature: "CiQB" } },
        { type: "block_stop", index: 1 },
        { type: "finish", stopReason: "tool_use" },
      ]),
    );
    const done = events.filter((e) => e.event === "response.output_item.done").map((e) => e.data.item);
    expect(done).toEqual([
      { id: "rs_ferry01_0", type: "reasoning", summary: [], encrypted_content: "ferry:redacted:EmwKAhgBEgy" },
      { id: "rs_ferry01_1", type: "reasoning", summary: [], encrypted_content: "ferry:call-thought:CiQB" },
      { id: "fc_ferry01_2", type: "function_call", status: "completed", arguments: '{"x":1}', call_id: "call_1_ab", name: "f" },
    ]);
  });

  it("re-decodes its own output to the same text, reasoning and tool calls", () => {
    const decoded = decodeAll([encodeAll(reasoningToolCall)]);
    expect(decoded).toEqual([
      { type: "start", id: "resp_ferry01", model: "gpt-5-codex" },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
      { type: "reasoning_delta", index: 0, text: "The user wants the weather" },
      { type: "reasoning_delta", index: 0, text: " in Paris." },
      { type: "reasoning_delta", index: 0, signature: "EqQBCkgIARABGAIiQL" },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "Let me check." },
      { type: "block_stop", index: 1 },
      { type: "block_start", index: 2, part: { type: "tool_call", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 2, json: '{"location":' },
      { type: "tool_arguments_delta", index: 2, json: ' "Paris"}' },
      { type: "block_stop", index: 2 },
      { type: "finish", stopReason: "tool_use", usage: { inputTokens: 472, outputTokens: 89, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
  });

  it("says its content type", () => {
    expect(codec.streamContentType()).toBe("text/event-stream");
  });
});

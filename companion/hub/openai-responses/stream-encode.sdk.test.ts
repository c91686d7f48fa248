/**
 * The encoders' output, read by the official openai SDK (7.x) as if it came from api.openai.com:
 * its ResponseStream validates event order, output indexes, item ids and call ids strictly.
 * The SDK is given a `fetch` that answers with the encoded bytes, so no socket is opened.
 */
import OpenAI, { APIError } from "openai";
import { describe, expect, it } from "vitest";
import type { IrEvent, IrResponse } from "../ir.ts";
import { codec, encodeErrorBody } from "./index.ts";

const ctx = { id: "resp_ferry42", model: "gpt-5-codex", now: 1_741_290_958_000 };

function encodeStream(events: IrEvent[]): string {
  const e = codec.streamEncoder(ctx);
  return events.map((ev) => e.push(ev)).join("") + e.end();
}

/** A client whose every call is answered with `body`, streamed in small chunks. */
function clientAnswering(body: string, init: ResponseInit = { headers: { "content-type": "text/event-stream" } }): OpenAI {
  const bytes = new TextEncoder().encode(body);
  return new OpenAI({
    apiKey: "sk-test",
    baseURL: "http://ferry.invalid/v1",
    maxRetries: 0,
    fetch: async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 97) controller.enqueue(bytes.subarray(i, i + 97));
            controller.close();
          },
        }),
        init,
      ),
  });
}

const richAnswer: IrEvent[] = [
  { type: "start", id: "msg_01", model: "claude-sonnet-4-5", usage: { inputTokens: 1200, cachedInputTokens: 1000 } },
  { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
  { type: "reasoning_delta", index: 0, text: "Two cities: " },
  { type: "reasoning_delta", index: 0, text: "call the tool twice." },
  { type: "reasoning_delta", index: 0, signature: "EqQBCkgIARAB" },
  { type: "block_stop", index: 0 },
  { type: "block_start", index: 1, part: { type: "text", text: "Checking " } },
  { type: "text_delta", index: 1, text: "both cities." },
  { type: "block_stop", index: 1 },
  // Parallel calls whose argument fragments interleave (as an OpenAI-chat or Gemini target sends them).
  { type: "block_start", index: 2, part: { type: "tool_call", id: "call_1_k3", name: "get_weather", arguments: "", thoughtSignature: "CiQBcsjafQ" } },
  { type: "block_start", index: 3, part: { type: "tool_call", id: "call_2_p9", name: "get_weather", arguments: "" } },
  { type: "tool_arguments_delta", index: 2, json: '{"city":' },
  { type: "tool_arguments_delta", index: 3, json: '{"city":"Lyon"}' },
  { type: "tool_arguments_delta", index: 2, json: '"Paris"}' },
  { type: "block_stop", index: 3 },
  { type: "block_stop", index: 2 },
  { type: "finish", stopReason: "tool_use", usage: { outputTokens: 80, reasoningTokens: 20 } },
];

describe("the openai SDK reads the encoders' output", () => {
  it("accepts a streamed answer with reasoning, text and interleaved parallel tool calls", async () => {
    const client = clientAnswering(encodeStream(richAnswer));
    const stream = client.responses.stream({ model: "gpt-5-codex", input: "weather in Paris and Lyon?" });
    const snapshots: string[] = [];
    const types: string[] = [];
    stream.on("response.output_text.delta", (e) => snapshots.push(e.snapshot));
    stream.on("event", (e) => types.push(e.type));
    const final = await stream.finalResponse();

    expect(snapshots).toEqual(["Checking ", "Checking both cities."]);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(final.id).toBe("resp_ferry42");
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe("Checking both cities.");
    expect(final.output.map((o) => o.type)).toEqual(["reasoning", "message", "reasoning", "function_call", "function_call"]);
    expect(final.output[0]).toMatchObject({ summary: [{ type: "summary_text", text: "Two cities: call the tool twice." }], encrypted_content: "EqQBCkgIARAB" });
    expect(final.output[2]).toMatchObject({ encrypted_content: "ferry:call-thought:CiQBcsjafQ" });
    expect(final.output.slice(3)).toMatchObject([
      { call_id: "call_1_k3", name: "get_weather", arguments: '{"city":"Paris"}' },
      { call_id: "call_2_p9", name: "get_weather", arguments: '{"city":"Lyon"}' },
    ]);
    expect(final.usage).toEqual({ input_tokens: 1200, input_tokens_details: { cached_tokens: 1000 }, output_tokens: 80, output_tokens_details: { reasoning_tokens: 20 }, total_tokens: 1280 });
  });

  it("accepts the raw event stream of responses.create({ stream: true })", async () => {
    const client = clientAnswering(encodeStream(richAnswer));
    const stream = await client.responses.create({ model: "gpt-5-codex", input: "x", stream: true });
    const seq: number[] = [];
    for await (const event of stream) seq.push(event.sequence_number);
    expect(seq).toEqual(seq.map((_, i) => i));
  });

  it("ends with an incomplete response on max_tokens, and a failed one when the upstream stream breaks off", async () => {
    const incomplete = await clientAnswering(
      encodeStream([
        { type: "start", id: "x", model: "m" },
        { type: "block_start", index: 0, part: { type: "text", text: "" } },
        { type: "text_delta", index: 0, text: "Once upon a" },
        { type: "finish", stopReason: "max_tokens" },
      ]),
    )
      .responses.stream({ model: "m", input: "x" })
      .finalResponse();
    expect(incomplete).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output_text: "Once upon a" });

    const broken = await clientAnswering(encodeStream([{ type: "start", id: "x", model: "m" }, { type: "block_start", index: 0, part: { type: "text", text: "Once" } }]))
      .responses.stream({ model: "m", input: "x" })
      .finalResponse();
    expect(broken).toMatchObject({ status: "failed", error: { code: "server_error" } });
  });

  it("raises a mid-stream error as an APIError carrying the message", async () => {
    const body = encodeStream([
      { type: "start", id: "x", model: "m" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "Once" },
      { type: "error", status: 529, code: "overloaded", message: "the upstream is overloaded" },
    ]);
    const stream = clientAnswering(body).responses.stream({ model: "m", input: "x" });
    await expect(stream.finalResponse()).rejects.toThrow(/the upstream is overloaded/);
  });

  it("accepts a whole answer and an HTTP error body", async () => {
    const answer: IrResponse = {
      id: "x",
      model: "m",
      content: [
        { type: "text", text: "Calling." },
        { type: "tool_call", id: "call_9", name: "lookup", arguments: '{"q":"ferry"}' },
      ],
      stopReason: "tool_use",
      usage: { inputTokens: 10, outputTokens: 5 },
    };
    const whole = await clientAnswering(JSON.stringify(codec.encodeResponse(answer, ctx)), { headers: { "content-type": "application/json" } }).responses.create({ model: "m", input: "x" });
    expect(whole.output_text).toBe("Calling.");
    expect(whole.output[1]).toMatchObject({ type: "function_call", call_id: "call_9" });

    const failure = clientAnswering(JSON.stringify(encodeErrorBody(429, "rate_limited", "daily quota used up")), { status: 429, headers: { "content-type": "application/json" } }).responses.create({ model: "m", input: "x" });
    await expect(failure).rejects.toBeInstanceOf(APIError);
    await expect(failure).rejects.toMatchObject({ status: 429, code: "rate_limited", message: expect.stringContaining("daily quota used up") });
  });
});

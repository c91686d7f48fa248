import { describe, expect, it } from "vitest";
import type { IrEvent } from "../ir.ts";
import { codec } from "./index.ts";
import { fixtureText, GENERATED_ID } from "./test-helpers.ts";

function decodeAll(chunks: string[]): IrEvent[] {
  const decoder = codec.streamDecoder();
  return [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
}

/** Ids made up by the decoder vary per run: compare them by shape. */
function stable(events: IrEvent[]): unknown[] {
  return events.map((e) => {
    if (e.type === "start") return { ...e, id: e.id.startsWith("ollama-") ? "<id>" : e.id };
    if (e.type === "block_start" && e.part.type === "tool_call" && GENERATED_ID.test(e.part.id)) return { ...e, part: { ...e.part, id: "<generated>" } };
    return e;
  });
}

const CTX = { model: "alias", id: "ferry-1", now: Date.UTC(2025, 6, 7, 20, 22, 19, 184) };
const TS = "2025-07-07T20:22:19.184Z";

describe("stream decoder (Ollama NDJSON → IR events)", () => {
  it("text transcript, identical whatever the chunking", () => {
    const text = fixtureText("chat-stream.text.ndjson");
    const expected = [
      { type: "start", id: "<id>", model: "llama3.2" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "The" },
      { type: "text_delta", index: 0, text: " sky" },
      { type: "text_delta", index: 0, text: " is blue because of Rayleigh scattering." },
      { type: "block_stop", index: 0 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 26, outputTokens: 282 } },
    ];
    expect(stable(decodeAll([text]))).toEqual(expected);
    for (let cut = 1; cut < text.length; cut += 7) expect(stable(decodeAll([text.slice(0, cut), text.slice(cut)]))).toEqual(expected);
    expect(stable(decodeAll([...text]))).toEqual(expected);
  });

  it("events come out as soon as their line is complete", () => {
    const decoder = codec.streamDecoder();
    const [first] = fixtureText("chat-stream.text.ndjson").split("\n");
    expect(decoder.push(first!.slice(0, 30))).toEqual([]);
    expect(decoder.push(first!.slice(30) + "\n").map((e) => e.type)).toEqual(["start", "block_start", "text_delta"]);
  });

  it("tool calls arrive whole: block_start + one arguments delta + block_stop each; stop → tool_use", () => {
    expect(stable(decodeAll([fixtureText("chat-stream.tools.ndjson")]))).toEqual([
      { type: "start", id: "<id>", model: "llama3.2" },
      { type: "block_start", index: 0, part: { type: "tool_call", id: "<generated>", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 0, json: '{"city":"Tokyo"}' },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "tool_call", id: "call_fb5xq0dl", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 1, json: '{"city":"Osaka"}' },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "tool_use", usage: { inputTokens: 169, outputTokens: 15 } },
    ]);
  });

  it("thinking then content: two blocks; length → max_tokens", () => {
    expect(stable(decodeAll([fixtureText("chat-stream.thinking.ndjson")]))).toEqual([
      { type: "start", id: "<id>", model: "qwen3" },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
      { type: "reasoning_delta", index: 0, text: "The user" },
      { type: "reasoning_delta", index: 0, text: " asks for r's." },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "There are" },
      { type: "text_delta", index: 1, text: " three." },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "max_tokens", usage: { inputTokens: 12, outputTokens: 40 } },
    ]);
  });

  it("a mid-stream {error} line becomes an IR error and ends decoding", () => {
    const events = decodeAll([fixtureText("chat-stream.error.ndjson"), '{"model":"gemma3","message":{"content":"ignored"},"done":false}\n']);
    expect(events.map((e) => e.type)).toEqual(["start", "block_start", "text_delta", "text_delta", "text_delta", "text_delta", "error"]);
    expect(events.at(-1)).toEqual({ type: "error", status: 500, code: "upstream_error", message: "an error was encountered while running the model" });
  });

  it("a stream cut before done, or a line that is not JSON, ends with an error", () => {
    const cut = decodeAll(['{"model":"m","message":{"content":"half"},"done":false}\n']);
    expect(cut.at(-1)).toMatchObject({ type: "error", code: "upstream_failed" });
    const garbage = decodeAll(["not json\n"]);
    expect(garbage).toEqual([{ type: "error", status: 502, code: "upstream_failed", message: "Ollama sent a line that is not JSON: not json" }]);
  });

  it("a last line without its newline is read at end()", () => {
    const text = fixtureText("chat-stream.text.ndjson").trimEnd();
    expect(decodeAll([text]).at(-1)).toMatchObject({ type: "finish", stopReason: "end_turn" });
  });
});

describe("stream encoder (IR events → Ollama NDJSON)", () => {
  it("writes the exact wire stream", () => {
    const events: IrEvent[] = [
      { type: "start", id: "msg_1", model: "claude", usage: { inputTokens: 169 } },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
      { type: "reasoning_delta", index: 0, text: "Weather " },
      { type: "reasoning_delta", index: 0, signature: "sig" },
      { type: "reasoning_delta", index: 0, text: "needed." },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "Checking" },
      { type: "text_delta", index: 1, text: "…" },
      { type: "block_stop", index: 1 },
      { type: "block_start", index: 2, part: { type: "tool_call", id: "toolu_01", name: "get_weather", arguments: "" } },
      { type: "block_start", index: 3, part: { type: "tool_call", id: "toolu_02", name: "get_weather", arguments: "" } },
      { type: "tool_arguments_delta", index: 2, json: '{"ci' },
      { type: "tool_arguments_delta", index: 3, json: '{"city":"Osaka"}' },
      { type: "tool_arguments_delta", index: 2, json: 'ty":"Tokyo"}' },
      { type: "block_stop", index: 2 },
      { type: "block_stop", index: 3 },
      { type: "usage", usage: { outputTokens: 30 } },
      { type: "finish", stopReason: "tool_use", usage: { outputTokens: 33 } },
    ];
    const encoder = codec.streamEncoder(CTX);
    const text = events.map((e) => encoder.push(e)).join("") + encoder.end();
    const head = `{"model":"alias","created_at":"${TS}","message":`;
    expect(text).toBe(
      `${head}{"role":"assistant","content":"","thinking":"Weather "},"done":false}\n` +
        `${head}{"role":"assistant","content":"","thinking":"needed."},"done":false}\n` +
        `${head}{"role":"assistant","content":"Checking"},"done":false}\n` +
        `${head}{"role":"assistant","content":"…"},"done":false}\n` +
        `${head}{"role":"assistant","content":"","tool_calls":[{"id":"toolu_01","function":{"index":0,"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false}\n` +
        `${head}{"role":"assistant","content":"","tool_calls":[{"id":"toolu_02","function":{"index":1,"name":"get_weather","arguments":{"city":"Osaka"}}}]},"done":false}\n` +
        `${head}{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":169,"eval_count":33}\n`,
    );
    expect(codec.streamContentType()).toBe("application/x-ndjson");
  });

  it("each delta is written at once", () => {
    const encoder = codec.streamEncoder(CTX);
    expect(encoder.push({ type: "start", id: "x", model: "m" })).toBe("");
    expect(encoder.push({ type: "block_start", index: 0, part: { type: "text", text: "" } })).toBe("");
    expect(encoder.push({ type: "text_delta", index: 0, text: "Hi" })).toContain('"content":"Hi"');
  });

  it("an IR error becomes Ollama's {error} line and ends the stream; end() adds nothing", () => {
    const encoder = codec.streamEncoder(CTX);
    const out = [
      encoder.push({ type: "start", id: "x", model: "m" }),
      encoder.push({ type: "text_delta", index: 0, text: " Yes" }),
      encoder.push({ type: "error", status: 529, code: "overloaded", message: "Overloaded" }),
      encoder.push({ type: "text_delta", index: 0, text: "ignored" }),
      encoder.end(),
    ].join("");
    expect(out).toBe(`{"model":"alias","created_at":"${TS}","message":{"role":"assistant","content":" Yes"},"done":false}\n{"error":"Overloaded"}\n`);
  });

  it("max_tokens → length; a stream ended without finish says so; unfinished tool calls are flushed", () => {
    const a = codec.streamEncoder(CTX);
    expect(a.push({ type: "finish", stopReason: "max_tokens" })).toBe(`{"model":"alias","created_at":"${TS}","message":{"role":"assistant","content":""},"done":true,"done_reason":"length"}\n`);
    expect(a.end()).toBe("");
    const b = codec.streamEncoder(CTX);
    b.push({ type: "block_start", index: 0, part: { type: "tool_call", id: "c1", name: "f", arguments: "" } });
    b.push({ type: "tool_arguments_delta", index: 0, json: '{"a":1}' });
    const tail = b.end().split("\n");
    expect(JSON.parse(tail[0]!).message.tool_calls).toEqual([{ id: "c1", function: { index: 0, name: "f", arguments: { a: 1 } } }]);
    expect(JSON.parse(tail[1]!)).toEqual({ error: "the answer ended before it was done" });
  });

  it("decoding the encoder's output gives the same text, reasoning and tool calls back", () => {
    const decoded = decodeAll([fixtureText("chat-stream.thinking.ndjson")]);
    const encoder = codec.streamEncoder(CTX);
    const wire = decoded.map((e) => encoder.push(e)).join("") + encoder.end();
    expect(stable(decodeAll([wire])).slice(1)).toEqual(stable(decoded).slice(1));
  });
});

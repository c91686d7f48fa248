import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { IrAccumulator } from "../accumulate.ts";
import type { IrEvent } from "../ir.ts";
import { codec } from "./index.ts";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const ctx = { model: "gemini-2.5-flash", id: "resp-1", now: 1_700_000_000_000 };

function decodeAll(chunks: string[]): IrEvent[] {
  const d = codec.streamDecoder();
  const out: IrEvent[] = [];
  for (const c of chunks) out.push(...d.push(c));
  out.push(...d.end());
  return out;
}

function encodeAll(events: IrEvent[], sse = true): string {
  const e = codec.streamEncoder({ ...ctx, sse } as never);
  return events.map((ev) => e.push(ev)).join("") + e.end();
}

describe("gemini stream decoding (transcripts)", () => {
  it("a real Gemini 3 SSE answer whose last chunk is a signed empty text part", () => {
    expect(decodeAll([fixture("stream-text.sse")])).toEqual([
      { type: "start", id: "tTCwacuEBMvnitYP06qsgQY", model: "gemini-3.1-flash-lite-preview" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "Hello!" },
      { type: "text_delta", index: 0, text: " How can I help you today" },
      { type: "text_delta", index: 0, text: "?" },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "reasoning", text: "", thoughtSignature: "AY89a18iOcFus5wr5bW5xN6zZ4aUiCyhgmg6HE2YjtYDV/dwZ5oZlZHeTmiUKv34qq0=" } },
      { type: "block_stop", index: 1 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 9 } },
    ]);
  });

  it("thoughts, text and parallel signed function calls; running usage", () => {
    const events = decodeAll([fixture("stream-tools.sse")]);
    const [id0, id1] = events.flatMap((e) => (e.type === "block_start" && e.part.type === "tool_call" ? [e.part.id] : []));
    expect(id0).toMatch(/^call_0_[0-9a-f]{8}$/);
    expect(events).toEqual([
      { type: "start", id: "st-42", model: "gemini-2.5-flash" },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
      { type: "reasoning_delta", index: 0, text: "**Planning the party**\nI need the disco ball, " },
      { type: "usage", usage: { inputTokens: 134 } },
      { type: "reasoning_delta", index: 0, text: "music and dim lights." },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "text", text: "" } },
      { type: "text_delta", index: 1, text: "Let's get this party started!" },
      { type: "block_stop", index: 1 },
      { type: "block_start", index: 2, part: { type: "tool_call", id: id0, name: "power_disco_ball", arguments: "", thoughtSignature: "CiIBVKhc7oDKa9G3b4==" } },
      { type: "tool_arguments_delta", index: 2, json: '{"power":true}' },
      { type: "block_stop", index: 2 },
      { type: "block_start", index: 3, part: { type: "tool_call", id: id1, name: "start_music", arguments: "" } },
      { type: "tool_arguments_delta", index: 3, json: '{"energetic":true,"loud":true}' },
      { type: "block_stop", index: 3 },
      { type: "finish", stopReason: "tool_use", usage: { inputTokens: 134, outputTokens: 78, reasoningTokens: 48 } },
    ]);
  });

  it("the JSON-array form (no alt=sse), with brackets and quotes inside strings", () => {
    expect(decodeAll([fixture("stream-array.json")])).toEqual([
      { type: "start", id: "arr-1", model: "gemini-2.5-flash" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: 'Once upon a time, a backpack {with [brackets]} and "quotes"' },
      { type: "usage", usage: { inputTokens: 9 } },
      { type: "text_delta", index: 0, text: " could fly." },
      { type: "block_stop", index: 0 },
      { type: "finish", stopReason: "end_turn", usage: { inputTokens: 9, outputTokens: 14 } },
    ]);
  });

  it("chunks split anywhere give the same events, in both forms", () => {
    for (const name of ["stream-tools.sse", "stream-array.json", "stream-error.sse"]) {
      const text = fixture(name);
      const whole = decodeAll([text]);
      for (let i = 1; i < text.length; i++) expect(decodeAll([text.slice(0, i), text.slice(i)]), `${name} split at ${i}`).toEqual(whole);
      expect(decodeAll(Array.from(text))).toEqual(whole);
    }
  });

  it("a mid-stream error chunk", () => {
    expect(decodeAll([fixture("stream-error.sse")])).toEqual([
      { type: "start", id: "er-1", model: "gemini-2.5-flash" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "The answer is" },
      { type: "error", status: 503, code: "UNAVAILABLE", message: "The model is overloaded. Please try again later." },
    ]);
  });

  it("cut-off, empty and garbled streams end in an error event", () => {
    const last = (chunks: string[]): IrEvent | undefined => decodeAll(chunks).at(-1);
    expect(last([fixture("stream-text.sse").split("\r\n\r\n").slice(0, 2).join("\r\n\r\n") + "\r\n\r\n"])).toEqual({ type: "error", status: 502, code: "upstream_failed", message: "the Gemini stream ended without a finishReason" });
    expect(last([fixture("stream-array.json").slice(0, 300)])).toMatchObject({ type: "error", message: "the Gemini stream ended inside a JSON object" });
    expect(last([""])).toMatchObject({ type: "error", message: "the Gemini stream was empty" });
    expect(last(["data: {not json\n\n"])).toMatchObject({ type: "error", message: "the Gemini stream sent a chunk that is not JSON" });
    expect(last(["[1, 2]"])).toMatchObject({ type: "error" });
    expect(last(["data: [1]\n\n"])).toMatchObject({ type: "error", message: "a Gemini stream chunk must be a JSON object" });
  });
});

describe("gemini stream encoding (exact wire)", () => {
  const events: IrEvent[] = [
    { type: "start", id: "msg_1", model: "claude-x", usage: { inputTokens: 12 } },
    { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
    { type: "reasoning_delta", index: 0, text: "Hmm." },
    { type: "reasoning_delta", index: 0, signature: "ant-sig" },
    { type: "block_stop", index: 0 },
    { type: "block_start", index: 1, part: { type: "text", text: "" } },
    { type: "text_delta", index: 1, text: "Hi" },
    { type: "text_delta", index: 1, text: "!" },
    { type: "block_stop", index: 1 },
    // Parallel calls whose fragments interleave, as OpenAI streams them.
    { type: "block_start", index: 2, part: { type: "tool_call", id: "call_a", name: "f", arguments: "" } },
    { type: "block_start", index: 3, part: { type: "tool_call", id: "call_b", name: "g", arguments: "" } },
    { type: "tool_arguments_delta", index: 2, json: '{"x"' },
    { type: "tool_arguments_delta", index: 3, json: '{"y":2}' },
    { type: "tool_arguments_delta", index: 2, json: ":1}" },
    { type: "block_stop", index: 3 },
    { type: "block_stop", index: 2 },
    { type: "usage", usage: { outputTokens: 20 } },
    { type: "finish", stopReason: "tool_use", usage: { outputTokens: 25, reasoningTokens: 5 } },
  ];
  const chunk = (parts: string, usage: string, finish = ""): string =>
    `{"candidates":[{${parts ? `"content":{"role":"model","parts":[${parts}]},` : ""}${finish}"index":0}],"usageMetadata":${usage},"modelVersion":"gemini-2.5-flash","responseId":"resp-1"}`;
  const u0 = '{"promptTokenCount":12,"totalTokenCount":12}';
  const bodies = [
    chunk('{"text":"Hmm.","thought":true}', u0),
    chunk('{"text":"Hi"}', u0),
    chunk('{"text":"!"}', u0),
    chunk('{"functionCall":{"id":"call_b","name":"g","args":{"y":2}}}', u0),
    chunk('{"functionCall":{"id":"call_a","name":"f","args":{"x":1}}}', u0),
    chunk("", '{"promptTokenCount":12,"candidatesTokenCount":20,"totalTokenCount":37,"thoughtsTokenCount":5}', '"finishReason":"STOP",'),
  ];

  it("SSE", () => {
    expect(encodeAll(events)).toBe(bodies.map((b) => `data: ${b}\n\n`).join(""));
  });

  it("JSON array", () => {
    expect(encodeAll(events, false)).toBe(`[${bodies.join(",\r\n")}\n]`);
    expect(encodeAll([], false)).toBe("[]");
    expect(JSON.parse(encodeAll(events, false))).toHaveLength(bodies.length);
  });

  it("a mid-stream error becomes Gemini's error chunk, and the stream still closes", () => {
    const evs: IrEvent[] = [
      { type: "start", id: "x", model: "m" },
      { type: "block_start", index: 0, part: { type: "text", text: "" } },
      { type: "text_delta", index: 0, text: "Par" },
      { type: "error", status: 529, code: "overloaded_error", message: "Overloaded" },
      { type: "text_delta", index: 0, text: "ignored" },
    ];
    const first = `{"candidates":[{"content":{"role":"model","parts":[{"text":"Par"}]},"index":0}],"modelVersion":"gemini-2.5-flash","responseId":"resp-1"}`;
    const error = '{"error":{"code":529,"message":"Overloaded","status":"UNAVAILABLE"}}';
    expect(encodeAll(evs)).toBe(`data: ${first}\n\ndata: ${error}\n\n`);
    expect(encodeAll(evs, false)).toBe(`[${first},\r\n${error}\n]`);
  });

  it("signatures: signed thoughts keep theirs, a carrier joins the next text or goes alone", () => {
    const evs: IrEvent[] = [
      { type: "start", id: "x", model: "m" },
      { type: "block_start", index: 0, part: { type: "reasoning", text: "", thoughtSignature: "s1" } },
      { type: "reasoning_delta", index: 0, text: "a" },
      { type: "reasoning_delta", index: 0, text: "b" },
      { type: "block_stop", index: 0 },
      { type: "block_start", index: 1, part: { type: "reasoning", text: "", thoughtSignature: "s2" } },
      { type: "block_stop", index: 1 },
      { type: "block_start", index: 2, part: { type: "text", text: "t" } },
      { type: "block_stop", index: 2 },
      { type: "block_start", index: 3, part: { type: "reasoning", text: "", thoughtSignature: "s3" } },
      { type: "block_stop", index: 3 },
      { type: "finish", stopReason: "end_turn" },
    ];
    const parts = encodeAll(evs)
      .split("\n\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l.slice(6)) as { candidates: { content?: { parts: unknown[] } }[] })
      .map((c) => c.candidates[0]!.content?.parts);
    expect(parts).toEqual([[{ text: "a", thought: true, thoughtSignature: "s1" }], [{ text: "b", thought: true }], [{ text: "t", thoughtSignature: "s2" }], [{ text: "", thoughtSignature: "s3" }]]);
  });

  it("Gemini → IR → Gemini keeps text, thoughts, calls, signatures and usage", () => {
    for (const name of ["stream-text.sse", "stream-tools.sse"]) {
      const events = decodeAll([fixture(name)]);
      const again = decodeAll([encodeAll(events)]);
      const strip = (evs: IrEvent[]): IrEvent[] => evs.filter((e) => e.type !== "start" && e.type !== "usage");
      const a = new IrAccumulator();
      const b = new IrAccumulator();
      events.forEach((e) => a.push(e));
      again.forEach((e) => b.push(e));
      expect({ ...b.result(), id: "", model: "" }).toEqual({ ...a.result(), id: "", model: "" });
      expect(strip(again).map((e) => e.type)).toEqual(strip(events).map((e) => e.type).filter((t) => t !== "usage"));
    }
  });

  it("content type", () => {
    expect(codec.streamContentType()).toBe("text/event-stream");
    expect(codec.streamContentType({ sse: true })).toBe("text/event-stream");
    expect(codec.streamContentType({ sse: false })).toBe("application/json");
  });
});

/**
 * The provider stand-ins, proven against the real SDKs pointed straight at the stand-in
 * upstream: every endpoint non-streamed and streamed, the SDK seeing the text and the usage.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropicStreamFrames, mocks, splitDeltas, streamFrames } from "./provider-mocks.ts";
import { startUpstream, type Upstream } from "./upstream.ts";

let up: Upstream;
beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  await up?.close();
});
beforeEach(() => up.reset());

const TEXT = "The quick brown fox jumps";
const usage = { text: TEXT, inputTokens: 23, outputTokens: 5 };

const anthropic = () => new Anthropic({ baseURL: up.url + "/ant", apiKey: "x", maxRetries: 0 });
const openai = () => new OpenAI({ baseURL: up.url + "/oai/v1", apiKey: "x", maxRetries: 0 });
const google = () => new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: up.url + "/gem" } });

/** Raw POST, to see the wire framing the SDKs hide. */
async function rawPost(path: string, body: unknown) {
  const res = await fetch(up.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const reader = res.body!.getReader();
  const pieces: string[] = [];
  const dec = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pieces.push(dec.decode(value, { stream: true }));
  }
  return { res, text: pieces.join(""), reads: pieces.length };
}

const sseEvents = (wire: string) =>
  wire
    .split(/\r?\n\r?\n/)
    .filter((b) => b.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? null;
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
      return { event, data };
    });

describe("splitDeltas", () => {
  it("keeps the text and gives 3+ pieces", () => {
    for (const t of ["Hello from the stand-in", "Hi there", "abcdef", TEXT]) {
      const d = splitDeltas(t);
      expect(d.join("")).toBe(t);
      expect(d.length).toBeGreaterThanOrEqual(3);
    }
  });
});

describe("Anthropic Messages", () => {
  it("non-stream: the SDK gets the message, text, usage and echoed model", async () => {
    up.on("/ant", mocks.anthropicMessages(usage));
    const msg = await anthropic().messages.create({
      model: "claude-test-1",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(msg.type).toBe("message");
    expect(msg.id).toMatch(/^msg_01/);
    expect(msg.model).toBe("claude-test-1");
    expect(msg.content).toEqual([{ type: "text", text: TEXT }]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.input_tokens).toBe(23);
    expect(msg.usage.output_tokens).toBe(5);
    const [rec] = up.hits("/ant");
    expect(rec!.url).toBe("/ant/v1/messages");
    // SDK 1.x sends the key as a bearer token, not x-api-key.
    expect(rec!.headers.authorization).toBe("Bearer x");
    expect(rec!.headers["x-api-key"]).toBeUndefined();
    expect(rec!.headers["anthropic-version"]).toBeTruthy();
  });

  it("stream: MessageStream accumulates the text deltas and the final usage", async () => {
    up.on("/ant", mocks.anthropicMessages(usage));
    const stream = anthropic().messages.stream({ model: "claude-test-1", max_tokens: 64, messages: [{ role: "user", content: "hi" }] });
    const deltas: string[] = [];
    stream.on("text", (d) => deltas.push(d));
    const msg = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join("")).toBe(TEXT);
    expect(msg.content).toEqual([{ type: "text", text: TEXT }]);
    expect(msg.model).toBe("claude-test-1");
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.input_tokens).toBe(23);
    expect(msg.usage.output_tokens).toBe(5);
  });

  it("stream: raw create({stream:true}) yields the documented event sequence", async () => {
    up.on("/ant", mocks.anthropicMessages({ text: "a b c" }));
    const stream = await anthropic().messages.create({ model: "m", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] });
    const types: string[] = [];
    for await (const ev of stream) types.push(ev.type);
    // ping is swallowed by the SDK; the wire check below sees it.
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("stream: wire framing is `event: X\\ndata: {...}\\n\\n` with a ping", async () => {
    up.on("/ant", mocks.anthropicMessages());
    const { res, text } = await rawPost("/ant/v1/messages", { model: "m", max_tokens: 8, stream: true, messages: [] });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = sseEvents(text);
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
    expect(text).toMatch(/^event: message_start\ndata: \{.*\}\n\nevent: content_block_start\n/);
  });

  it("count_tokens: anthropicCountTokens(n), and anthropicMessages routes count_tokens itself", async () => {
    up.on("/ant", mocks.anthropicCountTokens(42));
    const params = { model: "claude-test-1", messages: [{ role: "user" as const, content: "hi" }] };
    expect(await anthropic().messages.countTokens(params)).toEqual({ input_tokens: 42 });
    expect(up.hits("/ant")[0]!.url).toBe("/ant/v1/messages/count_tokens");
    up.on("/ant", mocks.anthropicMessages(usage));
    expect(await anthropic().messages.countTokens(params)).toEqual({ input_tokens: 23 });
  });

  it("streamFrames(cutAfter) drops the connection mid-stream and the SDK reports it", async () => {
    up.on("/ant", streamFrames(anthropicStreamFrames("m"), { cutAfter: 4 }));
    const stream = anthropic().messages.stream({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
    const deltas: string[] = [];
    stream.on("text", (d) => deltas.push(d));
    await expect(stream.finalMessage()).rejects.toThrow();
    expect(deltas).toEqual(["Hello"]);
  });

  it("answers a bad body with the API's error shape", async () => {
    up.on("/ant", mocks.anthropicMessages());
    const res = await fetch(up.url + "/ant/v1/messages", { method: "POST", body: "{nope" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });
});

describe("OpenAI chat completions", () => {
  it("non-stream", async () => {
    up.on("/oai", mocks.openaiChat(usage));
    const c = await openai().chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "hi" }] });
    expect(c.object).toBe("chat.completion");
    expect(c.model).toBe("gpt-test");
    expect(c.choices[0]!.message.content).toBe(TEXT);
    expect(c.choices[0]!.finish_reason).toBe("stop");
    expect(c.usage).toMatchObject({ prompt_tokens: 23, completion_tokens: 5, total_tokens: 28 });
    const [rec] = up.hits("/oai");
    expect(rec!.url).toBe("/oai/v1/chat/completions");
    expect(rec!.headers.authorization).toBe("Bearer x");
  });

  it("stream with include_usage: the stream helper gets deltas, finish_reason and usage", async () => {
    up.on("/oai", mocks.openaiChat(usage));
    const stream = openai().chat.completions.stream({
      model: "gpt-test",
      messages: [{ role: "user", content: "hi" }],
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on("content", (d) => deltas.push(d));
    const c = await stream.finalChatCompletion();
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join("")).toBe(TEXT);
    expect(c.model).toBe("gpt-test");
    expect(c.choices[0]!.message.content).toBe(TEXT);
    expect(c.choices[0]!.finish_reason).toBe("stop");
    expect(c.usage).toMatchObject({ prompt_tokens: 23, completion_tokens: 5, total_tokens: 28 });
  });

  it("stream without include_usage: no usage chunk, ends on [DONE]", async () => {
    up.on("/oai", mocks.openaiChat(usage));
    const stream = await openai().chat.completions.create({ model: "gpt-test", stream: true, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    let sawUsage = false;
    let chunks = 0;
    for await (const ch of stream) {
      chunks++;
      text += ch.choices[0]?.delta.content ?? "";
      if (ch.usage) sawUsage = true;
    }
    expect(text).toBe(TEXT);
    expect(sawUsage).toBe(false);
    expect(chunks).toBeGreaterThanOrEqual(5);
    const wire = await rawPost("/oai/v1/chat/completions", { model: "gpt-test", stream: true, stream_options: { include_usage: true } });
    const events = sseEvents(wire.text);
    expect(events.at(-1)).toEqual({ event: null, data: "[DONE]" });
    const usageChunk = JSON.parse(events.at(-2)!.data);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(5);
  });
});

describe("OpenAI Responses", () => {
  it("non-stream: output_text and usage", async () => {
    up.on("/oai", mocks.openaiResponses(usage));
    const r = await openai().responses.create({ model: "gpt-resp", input: "hi", instructions: "be brief" });
    expect(r.object).toBe("response");
    expect(r.status).toBe("completed");
    expect(r.model).toBe("gpt-resp");
    expect(r.instructions).toBe("be brief");
    expect(r.output_text).toBe(TEXT);
    expect(r.usage).toMatchObject({ input_tokens: 23, output_tokens: 5, total_tokens: 28 });
    expect(up.hits("/oai")[0]!.url).toBe("/oai/v1/responses");
  });

  it("stream: ResponseStream validates and accumulates every event", async () => {
    up.on("/oai", mocks.openaiResponses(usage));
    const stream = openai().responses.stream({ model: "gpt-resp", input: "hi" });
    const types: string[] = [];
    const seqs: number[] = [];
    const deltas: string[] = [];
    stream.on("event", (e) => {
      types.push(e.type);
      seqs.push(e.sequence_number);
    });
    stream.on("response.output_text.delta", (e) => deltas.push(e.delta));
    const r = await stream.finalResponse();
    expect(r.output_text).toBe(TEXT);
    expect(r.model).toBe("gpt-resp");
    expect(r.usage).toMatchObject({ input_tokens: 23, output_tokens: 5, total_tokens: 28 });
    expect(deltas.join("")).toBe(TEXT);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(types[0]).toBe("response.created");
    expect(types.slice(1, 4)).toEqual(["response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
  });

  it("stream: wire events carry `event:` lines matching their type", async () => {
    up.on("/oai", mocks.openaiResponses());
    const { text } = await rawPost("/oai/v1/responses", { model: "gpt-resp", input: "hi", stream: true });
    const events = sseEvents(text);
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
    expect(text).not.toContain("[DONE]");
  });
});

describe("OpenAI legacy completions", () => {
  it("non-stream", async () => {
    up.on("/oai", mocks.openaiCompletions(usage));
    const c = await openai().completions.create({ model: "gpt-instruct", prompt: "hi" });
    expect(c.object).toBe("text_completion");
    expect(c.model).toBe("gpt-instruct");
    expect(c.choices[0]!.text).toBe(TEXT);
    expect(c.usage).toMatchObject({ prompt_tokens: 23, completion_tokens: 5, total_tokens: 28 });
    expect(up.hits("/oai")[0]!.url).toBe("/oai/v1/completions");
  });

  it("stream with include_usage", async () => {
    up.on("/oai", mocks.openaiCompletions(usage));
    const stream = await openai().completions.create({
      model: "gpt-instruct",
      prompt: "hi",
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let u: OpenAI.CompletionUsage | null | undefined;
    for await (const ch of stream) {
      expect(ch.object).toBe("text_completion");
      expect(ch.model).toBe("gpt-instruct");
      text += ch.choices[0]?.text ?? "";
      finish = ch.choices[0]?.finish_reason ?? finish;
      if (ch.usage) u = ch.usage;
    }
    expect(text).toBe(TEXT);
    expect(finish).toBe("stop");
    expect(u).toMatchObject({ prompt_tokens: 23, completion_tokens: 5, total_tokens: 28 });
  });
});

describe("OpenAI embeddings", () => {
  it("the SDK's default base64 request decodes to float vectors", async () => {
    up.on("/oai", mocks.openaiEmbeddings({ dims: 8, inputTokens: 4 }));
    const e = await openai().embeddings.create({ model: "text-embedding-test", input: ["a", "b"] });
    expect(JSON.parse(up.hits("/oai")[0]!.body.toString()).encoding_format).toBe("base64");
    expect(e.model).toBe("text-embedding-test");
    expect(e.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of e.data) {
      expect(d.embedding).toHaveLength(8);
      const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
      expect(norm).toBeCloseTo(1, 4);
    }
    expect(e.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
  });

  it("explicit float, dims from the request", async () => {
    up.on("/oai", mocks.openaiEmbeddings());
    const e = await openai().embeddings.create({ model: "text-embedding-test", input: "hello", encoding_format: "float", dimensions: 16 });
    expect(e.data).toHaveLength(1);
    expect(e.data[0]!.embedding).toHaveLength(16);
    expect(typeof e.data[0]!.embedding[0]).toBe("number");
    expect(e.usage.prompt_tokens).toBe(11);
  });

  it("the combined openai() behaviour routes every endpoint", async () => {
    up.on("/oai", mocks.openai(usage));
    const c = await openai().chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    const r = await openai().responses.create({ model: "m", input: "hi" });
    const l = await openai().completions.create({ model: "m", prompt: "hi" });
    const e = await openai().embeddings.create({ model: "m", input: "hi", dimensions: 4 });
    expect([c.choices[0]!.message.content, r.output_text, l.choices[0]!.text]).toEqual([TEXT, TEXT, TEXT]);
    expect(e.data[0]!.embedding).toHaveLength(4);
  });
});

describe("Gemini", () => {
  it("generateContent: text, usage and modelVersion from the URL", async () => {
    up.on("/gem", mocks.geminiGenerate(usage));
    const r = await google().models.generateContent({ model: "gemini-test-flash", contents: "hi" });
    expect(r.text).toBe(TEXT);
    expect(r.candidates![0]!.finishReason).toBe("STOP");
    expect(r.modelVersion).toBe("gemini-test-flash");
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 23, candidatesTokenCount: 5, totalTokenCount: 28 });
    const [rec] = up.hits("/gem");
    // @google/genai 3.x defaults to the v1 API, not v1beta.
    expect(rec!.url).toBe("/gem/v1/models/gemini-test-flash:generateContent");
    expect(rec!.headers["x-goog-api-key"]).toBe("x");
  });

  it("generateContentStream (?alt=sse): chunks, text and final usage", async () => {
    up.on("/gem", mocks.geminiGenerate(usage));
    const stream = await google().models.generateContentStream({ model: "gemini-test-flash", contents: "hi" });
    const parts: string[] = [];
    let last: Awaited<ReturnType<typeof stream.next>>["value"];
    for await (const chunk of stream) {
      parts.push(chunk.text ?? "");
      last = chunk;
    }
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts.join("")).toBe(TEXT);
    expect(last!.candidates![0]!.finishReason).toBe("STOP");
    expect(last!.usageMetadata).toMatchObject({ promptTokenCount: 23, candidatesTokenCount: 5, totalTokenCount: 28 });
    const recs = up.hits("/gem");
    expect(recs).toHaveLength(1); // a finishReason on the last chunk, so no auto-continuation hop
    expect(recs[0]!.url).toBe("/gem/v1/models/gemini-test-flash:streamGenerateContent?alt=sse");
  });

  it("SSE wire: `data: {...}` frames ended by CRLF CRLF, no event lines, no [DONE]", async () => {
    up.on("/gem", mocks.geminiGenerate());
    const { res, text } = await rawPost("/gem/v1beta/models/g:streamGenerateContent?alt=sse", { contents: [] });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames = text.split("\r\n\r\n");
    expect(frames.pop()).toBe("");
    expect(frames.length).toBeGreaterThanOrEqual(3);
    for (const f of frames) expect(JSON.parse(f.replace(/^data: /, "")).modelVersion).toBe("g");
    // Google escapes <, > and & in JSON strings; the SDK decodes them.
    up.on("/gem", mocks.geminiGenerate({ text: "if a <b> && c" }));
    const escaped = await rawPost("/gem/v1/models/g:streamGenerateContent?alt=sse", { contents: [] });
    expect(escaped.text).toContain("\\u003cb\\u003e");
    const chunks = await google().models.generateContentStream({ model: "g", contents: "hi" });
    let all = "";
    for await (const c of chunks) all += c.text ?? "";
    expect(all).toBe("if a <b> && c");
  });

  it("streamGenerateContent without alt: one JSON array, written piece by piece", async () => {
    up.on("/gem", mocks.geminiGenerate({ ...usage, delayMs: 5 }));
    const { res, text, reads } = await rawPost("/gem/v1beta/models/gemini-test-flash:streamGenerateContent", { contents: [] });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(text.startsWith("[{")).toBe(true);
    expect(text.endsWith("\n]")).toBe(true);
    const arr = JSON.parse(text) as { candidates: { content: { parts: { text: string }[] } }[]; usageMetadata: Record<string, number> }[];
    expect(arr.length).toBeGreaterThanOrEqual(3);
    expect(arr.map((c) => c.candidates[0]!.content.parts[0]!.text).join("")).toBe(TEXT);
    expect(arr.at(-1)!.usageMetadata.candidatesTokenCount).toBe(5);
  });

  it("countTokens", async () => {
    up.on("/gem", mocks.geminiGenerate(usage));
    const r = await google().models.countTokens({ model: "gemini-test-flash", contents: "hi" });
    expect(r.totalTokens).toBe(23);
    expect(up.hits("/gem")[0]!.url).toBe("/gem/v1/models/gemini-test-flash:countTokens");
    const beta = new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: up.url + "/gem", apiVersion: "v1beta" } });
    expect((await beta.models.countTokens({ model: "gemini-test-flash", contents: "hi" })).totalTokens).toBe(23);
    expect(up.hits("/gem")[1]!.url).toBe("/gem/v1beta/models/gemini-test-flash:countTokens");
  });
});

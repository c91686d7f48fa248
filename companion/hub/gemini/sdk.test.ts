/**
 * The encoder's output read by the official client: @google/genai 3.x against a loopback
 * server that answers with what this codec writes.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IrEvent } from "../ir.ts";
import { codec, errorToWire } from "./index.ts";

const ctx = { model: "gemini-2.5-flash", id: "resp-sdk", now: 0 };
let server: Server;
let ai: GoogleGenAI;
/** What the next request is answered with. */
let answer: (url: URL, body: unknown) => { status: number; type: string; chunks: string[] };
const seen: { url: URL; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const body: unknown = JSON.parse(raw || "null");
      seen.push({ url, body });
      let a: ReturnType<typeof answer>;
      try {
        a = answer(url, body);
      } catch (e) {
        a = { status: 400, type: "application/json", chunks: [JSON.stringify(errorToWire(400, String(e)))] };
      }
      res.writeHead(a.status, { "content-type": a.type });
      for (const c of a.chunks) res.write(c);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  ai = new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: `http://127.0.0.1:${port}` } });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function streamed(events: IrEvent[], sse = true): { status: number; type: string; chunks: string[] } {
  const enc = codec.streamEncoder({ ...ctx, sse } as never);
  return { status: 200, type: codec.streamContentType({ sse }), chunks: [...events.map((e) => enc.push(e)), enc.end()].filter(Boolean) };
}

const answerEvents: IrEvent[] = [
  { type: "start", id: "m", model: "x", usage: { inputTokens: 7 } },
  { type: "block_start", index: 0, part: { type: "reasoning", text: "" } },
  { type: "reasoning_delta", index: 0, text: "Thinking." },
  { type: "block_stop", index: 0 },
  { type: "block_start", index: 1, part: { type: "text", text: "" } },
  { type: "text_delta", index: 1, text: "Hello, " },
  { type: "text_delta", index: 1, text: "world." },
  { type: "block_stop", index: 1 },
  { type: "block_start", index: 2, part: { type: "tool_call", id: "call_1", name: "get_weather", arguments: "" } },
  { type: "tool_arguments_delta", index: 2, json: '{"city":' },
  { type: "tool_arguments_delta", index: 2, json: '"Paris"}' },
  { type: "block_stop", index: 2 },
  { type: "finish", stopReason: "tool_use", usage: { outputTokens: 12, reasoningTokens: 3 } },
];

describe("@google/genai reads the codec's output", () => {
  it("generateContentStream over SSE: text, thoughts, a function call, usage, the finish reason", async () => {
    answer = () => streamed(answerEvents);
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Hi", config: { tools: [{ functionDeclarations: [{ name: "get_weather" }] }] } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    // 3.x calls /v1 by default; Gemini CLI's 1.x called /v1beta. Ferry serves both.
    expect(seen.at(-1)!.url.pathname).toMatch(/^\/v1(beta)?\/models\/gemini-2\.5-flash:streamGenerateContent$/);
    expect(seen.at(-1)!.url.searchParams.get("alt")).toBe("sse");
    // The request the SDK sent decodes.
    expect(codec.decodeRequest(seen.at(-1)!.body, { model: "gemini-2.5-flash", stream: true }).ok).toBe(true);
    const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
    expect(parts.filter((p) => p.text !== undefined && !p.thought).map((p) => p.text).join("")).toBe("Hello, world.");
    const calls = chunks.flatMap((c) => c.functionCalls ?? []);
    expect(calls).toEqual([{ id: "call_1", name: "get_weather", args: { city: "Paris" } }]);
    const last = chunks.at(-1)!;
    expect(last.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last.usageMetadata).toMatchObject({ promptTokenCount: 7, candidatesTokenCount: 9, thoughtsTokenCount: 3, totalTokenCount: 19 });
    const thoughts = parts.filter((p) => p.thought);
    expect(thoughts).toEqual([{ text: "Thinking.", thought: true }]);
  });

  it("a mid-stream error chunk makes the SDK throw an ApiError with its status", async () => {
    answer = () =>
      streamed([
        { type: "start", id: "m", model: "x" },
        { type: "block_start", index: 0, part: { type: "text", text: "" } },
        { type: "text_delta", index: 0, text: "Part" },
        { type: "error", status: 503, code: "overloaded", message: "The model is overloaded." },
      ]);
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Hi" });
    const texts: string[] = [];
    const error = await (async () => {
      try {
        for await (const chunk of stream) texts.push(chunk.text ?? "");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(texts).toEqual(["Part"]);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    expect((error as ApiError).message).toContain("The model is overloaded.");
  });

  it("generateContent: a whole answer", async () => {
    answer = () => ({
      status: 200,
      type: "application/json",
      chunks: [JSON.stringify(codec.encodeResponse({ id: "m", model: "x", content: [{ type: "text", text: '{"complexity_score": 10}' }], stopReason: "end_turn", usage: { inputTokens: 5, outputTokens: 6 } }, ctx))],
    });
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash-lite", contents: "say hi", config: { responseMimeType: "application/json", responseJsonSchema: { type: "object" } } });
    expect(res.text).toBe('{"complexity_score": 10}');
    expect(res.responseId).toBe("resp-sdk");
    expect(res.usageMetadata).toEqual({ promptTokenCount: 5, candidatesTokenCount: 6, totalTokenCount: 11 });
  });

  it("an HTTP error body", async () => {
    answer = () => ({ status: 400, type: "application/json", chunks: [JSON.stringify(errorToWire(400, "Request contains an invalid argument."))] });
    const error = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain("Request contains an invalid argument.");
  });

  it("embedContent (the SDK calls batchEmbedContents)", async () => {
    answer = () => ({ status: 200, type: "application/json", chunks: [JSON.stringify(codec.encodeEmbeddingsResponse!({ model: "", vectors: [[0.1, 0.2], [0.3, 0.4]], usage: { inputTokens: 2 } }, ctx))] });
    const res = await ai.models.embedContent({ model: "gemini-embedding-001", contents: ["a", "b"], config: { outputDimensionality: 2 } });
    expect(seen.at(-1)!.url.pathname).toMatch(/^\/v1(beta)?\/models\/gemini-embedding-001:batchEmbedContents$/);
    expect(codec.decodeEmbeddings!(seen.at(-1)!.body, { model: "gemini-embedding-001" })).toMatchObject({ ok: true, value: { inputs: ["a", "b"], dimensions: 2 } });
    expect(res.embeddings?.map((e) => e.values)).toEqual([
      [0.1, 0.2],
      [0.3, 0.4],
    ]);
  });
});

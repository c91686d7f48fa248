import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deferred, FakeOllama, textStream } from "../../test/helpers/ollama.ts";
import { OllamaClient } from "./ollama.ts";

let ollama: FakeOllama;
let client: OllamaClient;

beforeAll(async () => {
  ollama = await FakeOllama.start();
  client = new OllamaClient({ baseUrl: `${ollama.url}/`, headersTimeoutMs: 5_000 });
});
afterAll(() => ollama.close());
beforeEach(() => ollama.reset());

/** Splits an NDJSON body into objects as bytes arrive. */
async function* ndjson(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buffer.trim()) yield JSON.parse(buffer);
}

const ask = (stream: boolean) => ({ model: "llama3.2", messages: [{ role: "user" as const, content: "why is the sky blue?" }], stream, options: { temperature: 0 } });

describe("OllamaClient against a stand-in Ollama", () => {
  it("chat, not streamed: POST /api/chat with only content-type, Ollama's answer handed back", async () => {
    const res = await client.chat(ask(false));
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer.message.content).toBe("Hello! How are you today?");
    expect([answer.prompt_eval_count, answer.eval_count]).toEqual([26, 298]);

    expect(ollama.requests).toHaveLength(1);
    const seen = ollama.requests[0]!;
    expect(seen.method).toBe("POST");
    expect(seen.path).toBe("/api/chat");
    expect(seen.body).toEqual({ model: "llama3.2", messages: [{ role: "user", content: "why is the sky blue?" }], stream: false, options: { temperature: 0 } });
    expect(seen.headers["content-type"]).toBe("application/json");
    for (const name of ["authorization", "x-api-key", "cookie", "x-stainless-os", "openai-organization"]) expect(seen.headers[name]).toBeUndefined();
  });

  it("chat, streamed: NDJSON lines arrive one by one and translate to SSE incrementally", async () => {
    const gate = deferred();
    ollama.chatStream = textStream("llama3.2", ["The", " sky", " is blue."], { prompt_eval_count: 26, eval_count: 3 });
    ollama.chatStream[2]!.gate = gate.promise; // " is blue." waits

    const res = await client.chat(ask(true));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    expect((ollama.requests[0]!.body as { stream: boolean }).stream).toBe(true);

    const contents: string[] = [];
    let last: { done?: boolean; prompt_eval_count?: number; eval_count?: number } = {};
    let released = false;
    for await (const obj of ndjson(res.body!)) {
      last = obj as typeof last;
      const content = (obj as { message?: { content?: string } }).message?.content;
      if (content) contents.push(content);
      // The first two lines arrive while the third is held back by the gate: were anything
      // buffering the body, this loop would never get here and the test would time out.
      if (contents.length === 2 && !released) {
        released = true;
        gate.resolve();
      }
    }
    expect(contents).toEqual(["The", " sky", " is blue."]);
    expect(last).toMatchObject({ done: true, prompt_eval_count: 26, eval_count: 3 });
    expect(await ollama.requests[0]!.closed).toBe(false);
  });

  it("chat, streamed: an {error} line mid-stream is handed back as Ollama sent it", async () => {
    ollama.chatStream = [textStream("llama3.2", [" Yes"])[0]!, { raw: '{"error":"an error was encountered while running the model"}' }];
    const res = await client.chat(ask(true));
    const lines: unknown[] = [];
    for await (const obj of ndjson(res.body!)) lines.push(obj);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({ error: "an error was encountered while running the model" });
  });

  it("chat: an HTTP error from Ollama is handed back as is", async () => {
    ollama.fail(404, "model 'nope' not found");
    const res = await client.chat(ask(false));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "model 'nope' not found" });
  });

  it("embed: POST /api/embed, Ollama's vectors handed back", async () => {
    const res = await client.embed({ model: "nomic-embed-text", input: ["a", "b"] });
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer.embeddings).toEqual([
      [0.5, -0.25, 0.125],
      [1.5, -1.25, 0.125],
    ]);
    const seen = ollama.requests[0]!;
    expect([seen.method, seen.path, seen.headers["content-type"]]).toEqual(["POST", "/api/embed", "application/json"]);
    expect(seen.body).toEqual({ model: "nomic-embed-text", input: ["a", "b"] });
  });

  it("tags: GET /api/tags parsed; an error status throws with Ollama's message", async () => {
    const tags = await client.tags();
    expect(tags.models.map((m) => m.name)).toEqual(["llama3.2:latest", "nomic-embed-text:latest"]);
    expect([ollama.requests[0]!.method, ollama.requests[0]!.path, ollama.requests[0]!.body]).toEqual(["GET", "/api/tags", undefined]);

    ollama.fail(500, "boom");
    await expect(client.tags()).rejects.toThrow("Ollama answered 500: boom");
  });

  it("reachable(): true with model names, false when Ollama answers badly or is gone", async () => {
    expect(await client.reachable()).toEqual({ ok: true, models: ["llama3.2:latest", "nomic-embed-text:latest"] });
    ollama.fail(503, "loading");
    expect(await client.reachable()).toEqual({ ok: false, error: "Error: Ollama answered 503: loading" });

    const gone = await FakeOllama.start();
    const goneClient = new OllamaClient({ baseUrl: gone.url, headersTimeoutMs: 5_000 });
    expect((await goneClient.reachable()).ok).toBe(true);
    await gone.close();
    const reach = await goneClient.reachable();
    expect(reach.ok).toBe(false);
    expect(reach.error).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it("the caller's abort cancels a stream in flight, and Ollama sees the connection close", async () => {
    const gate = deferred();
    ollama.chatStream = textStream("llama3.2", ["first", "never"]);
    ollama.chatStream[1]!.gate = gate.promise;
    const controller = new AbortController();
    const res = await client.chat(ask(true), controller.signal);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"content":"first"');

    const pending = reader.read();
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(await ollama.requests[0]!.closed).toBe(true);
    expect(ollama.requests[0]!.aborted).toBe(true);
    gate.resolve();
  });

  it("the caller's abort before the headers rejects the call, and Ollama sees the connection close", async () => {
    ollama.holdHeaders = true;
    const controller = new AbortController();
    const call = client.chat(ask(true), controller.signal);
    await ollama.waitForRequests(1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
    expect(await ollama.requests[0]!.closed).toBe(true);
  });

  it("headersTimeoutMs bounds the wait for headers only, not a long stream", async () => {
    const quick = new OllamaClient({ baseUrl: ollama.url, headersTimeoutMs: 200 });
    ollama.holdHeaders = true;
    const started = Date.now();
    await expect(quick.chat(ask(true))).rejects.toMatchObject({ name: "TimeoutError" });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await ollama.requests[0]!.closed).toBe(true);

    ollama.reset();
    ollama.chatStream = textStream("llama3.2", ["slow", " but", " fine"]);
    for (const step of ollama.chatStream) step.delayMs = 150; // ~600 ms in all, well past 200 ms
    const res = await quick.chat(ask(true));
    const objects: unknown[] = [];
    for await (const obj of ndjson(res.body!)) objects.push(obj);
    expect(objects).toHaveLength(4);
    expect(objects.at(-1)).toMatchObject({ done: true, done_reason: "stop" });
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deferred, FakeOllama, textStream } from "../../test/helpers/ollama.ts";
import { OllamaClient } from "./ollama.ts";
import { chatRequestToOllama, embeddingsRequestToOllama, ollamaChatToOpenAI, ollamaEmbedToOpenAI, ollamaTagsToOpenAIModels, OllamaToOpenAIStream } from "./ollama-translate.ts";

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

const ask = (stream: boolean) => chatRequestToOllama({ messages: [{ role: "user", content: "why is the sky blue?" }], stream, temperature: 0 }, "llama3.2");

describe("OllamaClient against a stand-in Ollama", () => {
  it("chat, not streamed: POST /api/chat with only content-type, answer translated to OpenAI", async () => {
    const res = await client.chat(ask(false));
    expect(res.status).toBe(200);
    const completion = ollamaChatToOpenAI(await res.json(), "alias", { id: "chatcmpl-1" });
    expect(completion.choices[0]!.message.content).toBe("Hello! How are you today?");
    expect(completion.usage).toEqual({ prompt_tokens: 26, completion_tokens: 298, total_tokens: 324 });

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

    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: true, id: "chatcmpl-s", created: 1 });
    const deltas: unknown[] = [];
    let released = false;
    for await (const obj of ndjson(res.body!)) {
      for (const line of t.push(obj as never)) deltas.push(JSON.parse(line.slice(6)).choices[0].delta);
      // The first two lines arrive while the third is held back by the gate: were anything
      // buffering the body, this loop would never get here and the test would time out.
      if (deltas.length === 2 && !released) {
        released = true;
        gate.resolve();
      }
    }
    const tail = t.end();
    expect(deltas).toEqual([{ role: "assistant", content: "The" }, { content: " sky" }, { content: " is blue." }]);
    expect(tail.map((l) => (l === "data: [DONE]\n\n" ? l : JSON.parse(l.slice(6))))).toEqual([
      { id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "alias", choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], usage: null },
      { id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "alias", choices: [], usage: { prompt_tokens: 26, completion_tokens: 3, total_tokens: 29 } },
      "data: [DONE]\n\n",
    ]);
    expect(await ollama.requests[0]!.closed).toBe(false);
  });

  it("chat, streamed: an {error} line mid-stream comes through as an OpenAI error chunk", async () => {
    ollama.chatStream = [textStream("llama3.2", [" Yes"])[0]!, { raw: '{"error":"an error was encountered while running the model"}' }];
    const res = await client.chat(ask(true));
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: false, id: "c", created: 1 });
    const out: string[] = [];
    for await (const obj of ndjson(res.body!)) out.push(...t.push(obj as never));
    out.push(...t.end());
    expect(out).toHaveLength(3);
    expect(JSON.parse(out[1]!.slice(6))).toEqual({ error: { message: "an error was encountered while running the model", type: "ollama_error", param: null, code: null } });
    expect(out[2]).toBe("data: [DONE]\n\n");
  });

  it("chat: an HTTP error from Ollama is handed back as is", async () => {
    ollama.fail(404, "model 'nope' not found");
    const res = await client.chat(ask(false));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "model 'nope' not found" });
  });

  it("embed: POST /api/embed, answer translated to an OpenAI embeddings list", async () => {
    const res = await client.embed(embeddingsRequestToOllama({ model: "text-embedding-3-small", input: ["a", "b"] }, "nomic-embed-text"));
    expect(res.status).toBe(200);
    expect(ollamaEmbedToOpenAI(await res.json(), "alias")).toEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.5, -0.25, 0.125] },
        { object: "embedding", index: 1, embedding: [1.5, -1.25, 0.125] },
      ],
      model: "alias",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    });
    const seen = ollama.requests[0]!;
    expect([seen.method, seen.path, seen.headers["content-type"]]).toEqual(["POST", "/api/embed", "application/json"]);
    expect(seen.body).toEqual({ model: "nomic-embed-text", input: ["a", "b"] });
  });

  it("tags: GET /api/tags parsed; an error status throws with Ollama's message", async () => {
    const tags = await client.tags();
    expect(tags.models.map((m) => m.name)).toEqual(["llama3.2:latest", "nomic-embed-text:latest"]);
    expect(ollamaTagsToOpenAIModels(tags).data.map((m) => m.id)).toEqual(["llama3.2:latest", "nomic-embed-text:latest"]);
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

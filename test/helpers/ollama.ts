/**
 * A stand-in Ollama on 127.0.0.1 (port 0) speaking the native API the companion uses:
 * POST /api/chat (NDJSON stream, or one JSON object when `"stream": false`), POST /api/embed,
 * GET /api/tags. Every request is recorded (method, path, headers, parsed body), and whether the
 * client hung up before the answer was complete.
 *
 * Behaviour is set per test by assigning fields:
 *   ollama.chatStream = [{ json: {...} }, { json: {...}, gate: promise, delayMs: 50 }, { raw: "..." }]
 *   ollama.chatReply = { ...one non-streamed answer... }
 *   ollama.embedReply = (body) => ({ ... });  ollama.tagsReply = { models: [...] }
 *   ollama.fail(500, "boom")   // every request answers 500 {"error":"boom"} until fail(null)
 *   ollama.holdHeaders = true  // requests get no answer at all (headers timeout tests)
 * and `reset()` puts the defaults back.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** Set (when the exchange closes) if the answer was written out completely. */
  completed: boolean;
  /** Set when the connection closed before the answer was complete. */
  aborted: boolean;
  /** Resolves when the exchange ends either way; true if the client hung up first. */
  closed: Promise<boolean>;
}

/** One NDJSON line of a streamed chat answer: an object (`json`) or literal text (`raw`, newline added). */
export interface StreamStep {
  json?: unknown;
  raw?: string;
  /** Awaited before this line is written. */
  gate?: Promise<unknown>;
  /** Waited before this line is written (after the gate). */
  delayMs?: number;
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const CREATED_AT = "2026-01-02T03:04:05.000000Z";

/** Ollama-shaped streamed lines: one per text piece, then the `done` line with counts. */
export function textStream(model: string, pieces: string[], final: { done_reason?: string; prompt_eval_count?: number; eval_count?: number } = {}): StreamStep[] {
  return [
    ...pieces.map((content) => ({ json: { model, created_at: CREATED_AT, message: { role: "assistant", content }, done: false } })),
    {
      json: {
        model,
        created_at: CREATED_AT,
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: final.done_reason ?? "stop",
        total_duration: 1_000_000,
        load_duration: 10_000,
        prompt_eval_count: final.prompt_eval_count ?? 7,
        prompt_eval_duration: 20_000,
        eval_count: final.eval_count ?? pieces.length,
        eval_duration: 30_000,
      },
    },
  ];
}

export function defaultChatReply(model = "llama3.2") {
  return {
    model,
    created_at: CREATED_AT,
    message: { role: "assistant", content: "Hello! How are you today?" },
    done: true,
    done_reason: "stop",
    total_duration: 5_191_566_416,
    load_duration: 2_154_458,
    prompt_eval_count: 26,
    prompt_eval_duration: 383_809_000,
    eval_count: 298,
    eval_duration: 4_799_921_000,
  };
}

export function defaultTags() {
  return {
    models: [
      {
        name: "llama3.2:latest",
        model: "llama3.2:latest",
        modified_at: "2025-01-02T03:04:05.123456789-08:00",
        size: 2019393189,
        digest: "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        details: { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: "3.2B", quantization_level: "Q4_K_M" },
      },
      {
        name: "nomic-embed-text:latest",
        model: "nomic-embed-text:latest",
        modified_at: "2025-02-03T04:05:06Z",
        size: 274302450,
        digest: "0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f",
        details: { parent_model: "", format: "gguf", family: "nomic-bert", families: ["nomic-bert"], parameter_size: "137M", quantization_level: "F16" },
      },
    ],
  };
}

/** One made-up vector per input, [index + 0.5, -(index + 0.25), 0.125]. */
export function defaultEmbedReply(body: unknown) {
  const b = (body ?? {}) as { model?: string; input?: string | string[] };
  const inputs = Array.isArray(b.input) ? b.input : [b.input ?? ""];
  return {
    model: b.model ?? "nomic-embed-text",
    embeddings: inputs.map((_, i) => [i + 0.5, -(i + 0.25), 0.125]),
    total_duration: 14_143_917,
    load_duration: 1_019_500,
    prompt_eval_count: inputs.length * 4,
  };
}

export class FakeOllama {
  readonly requests: RecordedRequest[] = [];
  chatStream: StreamStep[] = [];
  chatReply: unknown = null;
  embedReply: unknown | ((body: unknown) => unknown) = defaultEmbedReply;
  tagsReply: unknown = defaultTags();
  holdHeaders = false;
  private failure: { status: number; error: string } | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly held: ServerResponse[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  private readonly server: Server;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
    this.reset();
  }

  static async start(): Promise<FakeOllama> {
    let self: FakeOllama | undefined;
    const server = createServer((req, res) => void self!.handle(req.method ?? "GET", req.url ?? "/", req.headers, req, res));
    server.on("connection", (socket) => {
      self?.sockets.add(socket);
      socket.on("close", () => self?.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new FakeOllama(server, (server.address() as AddressInfo).port);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Defaults back: a three-piece text stream, the doc's non-streamed answer, no failure. */
  reset(): void {
    this.requests.length = 0;
    this.chatStream = textStream("llama3.2", ["Hel", "lo", "!"]);
    this.chatReply = defaultChatReply();
    this.embedReply = defaultEmbedReply;
    this.tagsReply = defaultTags();
    this.holdHeaders = false;
    this.failure = null;
  }

  /** Every request answers `status` with Ollama's error body `{"error": message}` ([O-ERR]); `fail(null)` stops it. */
  fail(status: number | null, message = "the model failed to generate a response"): void {
    this.failure = status === null ? null : { status, error: message };
  }

  /** Resolves once `count` requests in total have been received. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(method: string, url: string, headers: IncomingHttpHeaders, req: NodeJS.ReadableStream, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    let settle!: (aborted: boolean) => void;
    const record: RecordedRequest = { method, path: url, headers, body, completed: false, aborted: false, closed: new Promise<boolean>((r) => (settle = r)) };
    res.on("close", () => {
      record.completed = res.writableFinished;
      record.aborted = !res.writableFinished;
      settle(record.aborted);
    });
    this.requests.push(record);
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.count ? (w.resolve(), false) : true));

    const finish = (status: number, json: unknown) => {
      const payload = JSON.stringify(json);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload) });
      res.end(payload);
    };

    if (this.holdHeaders) {
      this.held.push(res);
      return;
    }
    if (this.failure) return finish(this.failure.status, { error: this.failure.error });

    const path = url.split("?")[0];
    if (method === "GET" && path === "/api/tags") return finish(200, this.tagsReply);
    if (method === "POST" && path === "/api/embed") {
      return finish(200, typeof this.embedReply === "function" ? (this.embedReply as (b: unknown) => unknown)(body) : this.embedReply);
    }
    if (method === "POST" && path === "/api/chat") {
      // Ollama streams unless told `"stream": false` ([O-CHAT] "stream boolean default:true").
      if ((body as { stream?: unknown } | undefined)?.stream === false) return finish(200, this.chatReply);
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.flushHeaders();
      for (const step of this.chatStream) {
        if (step.gate) await step.gate;
        if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
        if (res.destroyed || res.writableEnded) return;
        res.write(step.raw !== undefined ? `${step.raw}\n` : `${JSON.stringify(step.json)}\n`);
      }
      res.end();
      return;
    }
    finish(404, { error: `404 page not found: ${method} ${path}` });
  }
}

/**
 * A minimal, fast stand-in upstream for the benchmark (test/helpers/upstream.ts records every
 * request and buffers bodies for assertions, which would distort the figures).
 *
 * It runs in a worker thread of the bench process, so the load generator and the upstream
 * have separate event loops (one core each at best on a small machine) while staying in one
 * process that is easy to clean up.
 *
 * - Any request whose body contains `"stream":true` gets an SSE stream of SSE_EVENTS events:
 *   headers and the first event in one write, then one event every `sseGapMs` ms, the last
 *   one `data: [DONE]`.
 * - Anything else gets one fixed JSON chat completion of about 1 KiB.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

export const SSE_EVENTS = 20;

/** An OpenAI-shaped chat completion padded to about 1 KiB. */
export function jsonAnswer(): string {
  const base = {
    id: "chatcmpl-bench0000000000000000000000",
    object: "chat.completion",
    created: 1_767_225_600,
    model: "gpt-bench",
    choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 24, completion_tokens: 180, total_tokens: 204 },
  };
  const empty = JSON.stringify(base).length;
  const filler = "The quick brown fox jumps over the lazy dog. ";
  let content = "";
  while (empty + content.length + filler.length <= 1024) content += filler;
  base.choices[0]!.message.content = content.padEnd(1024 - empty, ".");
  return JSON.stringify(base);
}

export function sseEvents(): string[] {
  const events: string[] = [];
  for (let i = 0; i < SSE_EVENTS - 1; i++) {
    const chunk = {
      id: "chatcmpl-bench0000000000000000000000",
      object: "chat.completion.chunk",
      created: 1_767_225_600,
      model: "gpt-bench",
      choices: [{ index: 0, delta: { content: `token${i} ` }, finish_reason: i === SSE_EVENTS - 2 ? "stop" : null }],
    };
    events.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  events.push("data: [DONE]\n\n");
  return events;
}

function serve(sseGapMs: number): Server {
  const json = Buffer.from(jsonAnswer());
  const events = sseEvents().map((e) => Buffer.from(e));
  const STREAM_FLAG = Buffer.from('"stream":true');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (body.indexOf(STREAM_FLAG) === -1) {
        res.writeHead(200, { "content-type": "application/json", "content-length": json.length });
        res.end(json);
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        res.write(events[i++]!);
        if (i === events.length) res.end();
        else setTimeout(next, sseGapMs);
      };
      next(); // first event immediately, in the same write as the headers
    });
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  return server;
}

export interface BenchUpstream {
  url: string;
  /** CPU time of the upstream's thread alone since it started (µs), or null once it is gone. */
  cpuUsage(): Promise<NodeJS.CpuUsage | null>;
  close(): Promise<void>;
}

/** Starts the upstream in a worker thread on 127.0.0.1 (port 0). */
export async function startBenchUpstream(opts: { sseGapMs: number }): Promise<BenchUpstream> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { sseGapMs: opts.sseGapMs } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", (m: { port: number }) => resolve(m.port));
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`upstream thread exited early (${code})`)));
  });
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    // Worker#cpuUsage (Node >= 24.6) reads the thread's own rusage, so the load generator's
    // CPU (the main thread) can be told apart from the upstream's.
    cpuUsage: async () => (closed ? null : worker.cpuUsage().catch(() => null)),
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 2_000);
        worker.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        worker.postMessage("close");
      })),
  };
}

if (!isMainThread && parentPort && (workerData as { sseGapMs?: unknown } | null)?.sseGapMs !== undefined) {
  const port = parentPort;
  const server = serve(Number((workerData as { sseGapMs: number }).sseGapMs));
  server.listen(0, "127.0.0.1", () => port.postMessage({ port: (server.address() as AddressInfo).port }));
  port.on("message", (m) => {
    if (m !== "close") return;
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

/**
 * A stand-in upstream on 127.0.0.1 (port 0). Each test scripts its answers by path prefix
 * (one prefix per pool member: baseUrl `http://127.0.0.1:PORT/m1`), and every request is
 * recorded with its headers, body and whether the caller hung up before the answer ended.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Resolves when the connection closed before the response was complete. */
  aborted: Promise<void>;
  wasAborted: boolean;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, rec: Recorded) => void | Promise<void>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const behaviours = {
  json:
    (status: number, body: unknown, headers: Record<string, string> = {}): Behaviour =>
    (_req, res) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    },
  /** SSE events, one write each, `delayMs` apart; `gate` lets a test release each event. */
  sse:
    (
      events: string[],
      opts: { delayMs?: number; gate?: () => Promise<void>; gateFrom?: number; headers?: Record<string, string> } = {},
    ): Behaviour =>
    async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...opts.headers });
      res.flushHeaders();
      for (const [i, event] of events.entries()) {
        if (opts.gate && i >= (opts.gateFrom ?? 0)) await opts.gate();
        else if (opts.delayMs) await sleep(opts.delayMs);
        if (res.destroyed) return;
        res.write(`data: ${event}\n\n`);
      }
      res.end();
    },
  /** Never answers (until the caller gives up). */
  hang: (): Behaviour => () => {},
  /** Starts an SSE stream, sends `events`, then destroys the socket mid-stream. */
  resetAfter:
    (events: string[]): Behaviour =>
    async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const event of events) res.write(`data: ${event}\n\n`);
      await sleep(20);
      res.socket?.destroy();
    },
};

export interface Upstream {
  url: string;
  requests: Recorded[];
  /** Behaviour per path prefix, e.g. "/m1"; falls back to "*". */
  on(prefix: string, behaviour: Behaviour): void;
  /** Behaviours used once each, in order, before falling back to `on`. */
  once(prefix: string, ...behaviours: Behaviour[]): void;
  hits(prefix: string): Recorded[];
  reset(): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const requests: Recorded[] = [];
  const standing = new Map<string, Behaviour>();
  const queued = new Map<string, Behaviour[]>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let markAborted!: () => void;
    const rec: Recorded = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: { ...req.headers },
      body: Buffer.concat(chunks),
      aborted: new Promise<void>((r) => (markAborted = r)),
      wasAborted: false,
    };
    res.on("close", () => {
      if (!res.writableFinished) {
        rec.wasAborted = true;
        markAborted();
      }
    });
    requests.push(rec);
    const prefix = "/" + (rec.url.split("/")[1] ?? "");
    const behaviour = queued.get(prefix)?.shift() ?? standing.get(prefix) ?? standing.get("*");
    if (!behaviour) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "no behaviour for " + prefix } }));
      return;
    }
    try {
      await behaviour(req, res, rec);
    } catch {
      res.destroy();
    }
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on: (prefix, behaviour) => void standing.set(prefix, behaviour),
    once: (prefix, ...list) => void queued.set(prefix, [...(queued.get(prefix) ?? []), ...list]),
    hits: (prefix) => requests.filter((r) => r.url.startsWith(prefix + "/") || r.url === prefix),
    reset: () => {
      requests.length = 0;
      standing.clear();
      queued.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

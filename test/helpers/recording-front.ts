/**
 * A recording pass-through in front of a loopback HTTP server (the companion): every request a
 * client sends is forwarded unchanged and written down (method, URL, headers, body, the status
 * answered), so a test can compare what a real client sent with what left the office.
 * Streams are piped as they come (SSE is not buffered). Upgrades are answered 426.
 */
import { createServer, request, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface FrontRecord {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set when the answer's headers came back (0 when the target could not be reached). */
  status: number;
}

export interface RecordingFront {
  url: string;
  records: FrontRecord[];
  close(): Promise<void>;
}

/** `target()` is read per request, so the front survives a companion restart on a new port. */
export async function startRecordingFront(target: () => string): Promise<RecordingFront> {
  const records: FrontRecord[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rec: FrontRecord = { method: req.method ?? "", url: req.url ?? "", headers: { ...req.headers }, body: Buffer.concat(chunks), status: 0 };
    records.push(rec);
    const to = new URL(target());
    const out = request(
      { host: to.hostname, port: to.port, method: rec.method, path: rec.url, headers: req.headers },
      (answer) => {
        rec.status = answer.statusCode ?? 0;
        res.writeHead(rec.status, answer.headers);
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    out.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" }).end('{"error":"front: target unreachable"}');
      else res.destroy();
    });
    res.on("close", () => {
      if (!res.writableFinished) out.destroy();
    });
    out.end(rec.body);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (req, socket: Socket) => {
    records.push({ method: req.method ?? "", url: req.url ?? "", headers: { ...req.headers }, body: Buffer.alloc(0), status: 426 });
    socket.end("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * A refusing egress proxy on 127.0.0.1 that writes down every destination it was asked for:
 * CONNECT targets (`host:port`) and the absolute URLs of plain proxied requests. It carries
 * nothing: CONNECT gets 403, plain requests 403, upgrades are destroyed. Point a client's
 * HTTPS_PROXY / HTTP_PROXY / ALL_PROXY at it to see every connection it tried to open to the
 * outside (with NO_PROXY naming the loopback hosts it may reach directly).
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ProxyAttempt {
  kind: "connect" | "http" | "upgrade";
  /** `host:port` for CONNECT, the absolute URL (or path) otherwise. */
  target: string;
  at: number;
}

export interface RecordingProxy {
  url: string;
  attempts: ProxyAttempt[];
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const attempts: ProxyAttempt[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    attempts.push({ kind: "http", target: req.url ?? "", at: Date.now() });
    res.writeHead(403, { "content-type": "text/plain", connection: "close" }).end("refused by the recording proxy\n");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  server.on("connect", (req, client: Socket) => {
    attempts.push({ kind: "connect", target: req.url ?? "", at: Date.now() });
    client.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  server.on("upgrade", (req, client: Socket) => {
    attempts.push({ kind: "upgrade", target: req.url ?? "", at: Date.now() });
    client.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

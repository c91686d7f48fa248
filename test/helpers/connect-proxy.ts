/** A minimal HTTP CONNECT proxy on 127.0.0.1, as a corporate egress proxy would be. */
import { createServer } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface ConnectProxy {
  url: string;
  /** host:port of every CONNECT it carried. */
  tunnels: string[];
  /** Plain (non-CONNECT) requests it was asked to forward: it refuses them. */
  plainRequests: number;
  close(): Promise<void>;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  let plainRequests = 0;
  const server = createServer((_req, res) => {
    plainRequests++;
    res.writeHead(405).end();
  });
  server.on("connect", (req, client: Socket, head: Buffer) => {
    const [host, port] = (req.url ?? "").split(":");
    if (host !== "127.0.0.1" && host !== "localhost") {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    tunnels.push(req.url ?? "");
    const upstream = connect(Number(port), "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    get plainRequests() {
      return plainRequests;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

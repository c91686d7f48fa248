/**
 * A loopback TCP proxy that can go silent: `blackhole()` stops forwarding on every open
 * connection while keeping the sockets open, as a broken NAT or middlebox does. New
 * connections are forwarded normally. Counts connections, for reconnect tests.
 */
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

export interface TcpProxy {
  url: string;
  connections: number;
  blackhole(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: URL): Promise<TcpProxy> {
  const live = new Set<{ client: Socket; upstream: Socket; silent: boolean }>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(Number(target.port), target.hostname);
    const pair = { client, upstream, silent: false };
    live.add(pair);
    client.on("data", (d) => void (pair.silent || upstream.write(d)));
    upstream.on("data", (d) => void (pair.silent || client.write(d)));
    const end = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on("close", end);
      s.on("error", end);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    blackhole: () => {
      for (const pair of live) pair.silent = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const pair of live) {
          pair.client.destroy();
          pair.upstream.destroy();
        }
        server.close(() => r());
      }),
  };
}

/** A port that accepts connections and drops them at once: an edge that is down. */
export async function startRefuser(): Promise<{ url: string; connections: number; close(): Promise<void> }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

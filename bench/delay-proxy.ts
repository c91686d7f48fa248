/**
 * A loopback TCP proxy that makes a connection look like it crosses a border: every chunk is
 * held `delayMs` (one-way delay, default 75 ms, so RTT = 2 · delayMs) in each direction, and
 * nothing the client sends is forwarded before one RTT after the connection was accepted, to
 * model the TCP handshake (the loopback kernel completes the real one at once). A request
 * written straight after connect() thus reaches the target 3 · delayMs later, as over a real
 * path: 1 RTT of SYN/SYN-ACK, then half an RTT for the data. It models latency only: no
 * bandwidth limit, no loss, and no TLS (a real cold TLS connection adds 1 RTT with TLS 1.3,
 * 2 with TLS 1.2).
 *
 * Order is kept per direction (one queue, one timer each); half-close (FIN) is forwarded
 * after the same delay; a reset or error tears both sides down. Bounded: a direction with more
 * than 1 MiB queued, or whose destination is not draining, stops reading its source.
 *
 * As a library: `startDelayProxy({ target: "http://127.0.0.1:8787" })`. Stand-alone:
 *   node bench/delay-proxy.ts http://127.0.0.1:8787 [delayMs] [listenPort]
 */
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface DelayProxyOptions {
  /** Where to connect, e.g. the edge's `http://127.0.0.1:PORT` (only host and port are used). */
  target: string;
  /** One-way delay added to every chunk, each direction. */
  delayMs?: number;
  /** Extra hold on a new connection before anything is forwarded; one RTT by default. */
  connectDelayMs?: number;
  port?: number;
}

export interface DelayProxy {
  /** `http://127.0.0.1:PORT`: point the link's `edges` here. */
  url: string;
  delayMs: number;
  connectDelayMs: number;
  /** Connections accepted since start (a warm link should not add any). */
  readonly connections: number;
  close(): Promise<void>;
}

const HIGH_WATER_BYTES = 1024 * 1024;

type Item = { at: number; chunk: Buffer } | { at: number; end: true } | { at: number; destroy: true };

/** Forwards `from` → `to`, each item released `delayMs` after it arrived, never before `notBefore`. */
function delayedPipe(from: Socket, to: Socket, delayMs: number, notBefore: number, timers: Set<NodeJS.Timeout>): void {
  const queue: Item[] = [];
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | null = null;
  let ended = false;

  const canRead = () => queuedBytes <= HIGH_WATER_BYTES && !to.writableNeedDrain;
  const maybeResume = () => {
    if (from.isPaused() && canRead() && !from.destroyed) from.resume();
  };

  const release = () => {
    if (timer) timers.delete(timer);
    timer = null;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now) {
      const item = queue.shift()!;
      if (to.destroyed) continue;
      if ("chunk" in item) {
        queuedBytes -= item.chunk.length;
        to.write(item.chunk);
      } else if ("end" in item) {
        to.end();
      } else {
        to.destroy();
      }
    }
    maybeResume();
    arm();
  };
  const arm = () => {
    if (timer || queue.length === 0) return;
    timer = setTimeout(release, Math.max(1, Math.ceil(queue[0]!.at - performance.now())));
    timers.add(timer);
  };
  const push = (item: Item) => {
    queue.push(item);
    arm();
  };
  const releaseAt = () => Math.max(performance.now(), notBefore) + delayMs;

  from.on("data", (chunk: Buffer) => {
    queuedBytes += chunk.length;
    push({ at: releaseAt(), chunk });
    if (!canRead()) from.pause();
  });
  from.on("end", () => {
    ended = true;
    push({ at: releaseAt(), end: true });
  });
  // An abrupt close (reset, error) reaches the other side one delay later, as it would on a wire.
  from.on("close", () => {
    if (!ended) push({ at: releaseAt(), destroy: true });
  });
  to.on("drain", maybeResume);
}

export async function startDelayProxy(opts: DelayProxyOptions): Promise<DelayProxy> {
  const target = new URL(opts.target);
  const targetPort = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const targetHost = target.hostname.replace(/^\[|\]$/g, "");
  const delayMs = opts.delayMs ?? 75;
  const connectDelayMs = opts.connectDelayMs ?? 2 * delayMs;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;

  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {
      // 'close' follows; the pipe forwards it to the other side.
    });
  };

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    connections++;
    const notBefore = performance.now() + connectDelayMs;
    // Writes before the connect completes are buffered by the socket: the target connection
    // itself is instant on loopback, the handshake cost is the `notBefore` hold.
    const upstream = connect({ host: targetHost, port: targetPort, allowHalfOpen: true, noDelay: true });
    track(client);
    track(upstream);
    delayedPipe(client, upstream, delayMs, notBefore, timers);
    delayedPipe(upstream, client, delayMs, notBefore, timers);
  });
  server.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    delayMs,
    connectDelayMs,
    get connections() {
      return connections;
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      })),
  };
}

if (import.meta.main) {
  const [target, delay, port] = process.argv.slice(2);
  if (!target) {
    console.error("usage: node bench/delay-proxy.ts <target url> [delayMs=75] [listenPort=0]");
    process.exit(2);
  }
  const proxy = await startDelayProxy({ target, delayMs: delay ? Number(delay) : 75, port: port ? Number(port) : 0 });
  console.log(`${proxy.url} -> ${target}: +${proxy.delayMs} ms each way, +${proxy.connectDelayMs} ms on connect (Ctrl-C to stop)`);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void proxy.close().finally(() => process.exit(0)));
}

/**
 * Keeps one tunnel up: connects to the first edge that answers (a dead one is skipped),
 * heartbeats it, reconnects with capped exponential backoff and full jitter, never more
 * than `reconnectsPerMinute` attempts, and on GOAWAY opens a fresh tunnel for new streams
 * while the old one finishes its own.
 */
import WebSocket from "ws";
import { signRequest } from "../../shared/signing.ts";
import type { LinkConfig } from "./config.ts";
import type { EdgeSet } from "./edges.ts";
import type { Network } from "./network.ts";
import { TunnelConnection } from "./tunnel-connection.ts";
import { LinkError, type LinkRequest, type LinkResponse, type Transport } from "./types.ts";

export type TunnelState = "connecting" | "up" | "down" | "off";

export class TunnelTransport implements Transport {
  readonly name = "tunnel" as const;
  private readonly cfg: LinkConfig;
  private readonly edges: EdgeSet;
  private readonly network: Network;
  private readonly log: (fields: Record<string, unknown>) => void;
  private conn: TunnelConnection | null = null;
  private readonly old = new Set<TunnelConnection>();
  private connecting: Promise<void> | null = null;
  private stopped = false;
  private failures = 0;
  private readonly attempts: number[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<() => void>();
  connects = 0;

  constructor(cfg: LinkConfig, edges: EdgeSet, network: Network, log: (fields: Record<string, unknown>) => void) {
    this.cfg = cfg;
    this.edges = edges;
    this.network = network;
    this.log = log;
  }

  get state(): TunnelState {
    if (this.stopped) return "off";
    if (this.conn?.usable) return "up";
    return this.connecting ? "connecting" : "down";
  }

  get connection(): TunnelConnection | null {
    return this.conn?.usable ? this.conn : null;
  }

  start(): void {
    this.stopped = false;
    this.ensure();
    this.heartbeat ??= setInterval(() => this.beat(), Math.min(this.cfg.heartbeatIntervalMs, this.cfg.heartbeatTimeoutMs / 2));
    this.heartbeat.unref();
  }

  /** Waits until the tunnel is up, at most `timeoutMs`; true if it is. */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.connection) return true;
    this.ensure();
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.connection !== null);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  async send(req: LinkRequest): Promise<LinkResponse> {
    const conn = this.connection;
    if (!conn) throw new LinkError("unavailable", "tunnel is down", true);
    return conn.open(req);
  }

  private beat(): void {
    const conn = this.conn;
    if (!conn) return;
    if (Date.now() - conn.lastHeardAt > this.cfg.heartbeatTimeoutMs) {
      this.log({ msg: "tunnel heartbeat timed out", edge: conn.edge });
      conn.terminate();
      return;
    }
    conn.ping();
  }

  /** Starts a connection attempt, after the backoff this many failures call for. */
  private ensure(): void {
    if (this.stopped || this.connection || this.connecting || this.retryTimer) return;
    const now = Date.now();
    while (this.attempts.length && this.attempts[0]! < now - 60_000) this.attempts.shift();
    let delay = 0;
    if (this.failures > 0) {
      // Full jitter: uniform in [0, min(max, base · 2^(n-1))].
      delay = Math.random() * Math.min(this.cfg.reconnectMaxMs, this.cfg.reconnectBaseMs * 2 ** (this.failures - 1));
    }
    if (this.attempts.length >= this.cfg.reconnectsPerMinute) delay = Math.max(delay, this.attempts[0]! + 60_000 - now);
    if (delay <= 0) return this.attempt();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && !this.connection && !this.connecting) this.attempt();
    }, delay);
    this.retryTimer.unref();
  }

  private attempt(): void {
    this.attempts.push(Date.now());
    this.connecting = this.connect().finally(() => {
      this.connecting = null;
      for (const wake of [...this.waiters]) wake();
      if (!this.connection) this.ensure();
    });
  }

  private async connect(): Promise<void> {
    for (const edge of this.edges.order()) {
      if (this.stopped) return;
      try {
        this.adopt(await this.dial(edge), edge);
        this.failures = 0;
        this.connects++;
        this.edges.markAlive(edge);
        this.log({ msg: "tunnel up", edge });
        return;
      } catch (error) {
        this.edges.markDead(edge);
        this.log({ msg: "tunnel connect failed", edge, error: error instanceof Error ? error.message : "unknown" });
      }
    }
    this.failures++;
  }

  private async dial(edge: string): Promise<WebSocket> {
    const headers = await signRequest({
      companionId: this.cfg.companionId,
      secret: this.cfg.secret,
      method: "GET",
      pathAndQuery: "/tunnel",
      body: null,
    });
    const url = new URL(edge.replace(/^http/, "ws") + "/tunnel");
    const ws = new WebSocket(url, {
      headers,
      handshakeTimeout: this.cfg.connectTimeoutMs,
      perMessageDeflate: false,
      ...(this.network.ca ? { ca: this.network.ca } : {}),
      ...(this.network.wsAgent(new URL(edge)) ? { agent: this.network.wsAgent(new URL(edge)) } : {}),
    });
    return new Promise<WebSocket>((resolve, reject) => {
      ws.once("open", () => resolve(ws));
      ws.once("unexpected-response", (_req, res) => {
        reject(new Error(`edge answered ${res.statusCode} to the tunnel upgrade`));
        res.resume();
        ws.terminate();
      });
      ws.once("error", reject);
    });
  }

  private adopt(ws: WebSocket, edge: string): void {
    const conn = new TunnelConnection(ws, edge, {
      onGoAway: () => {
        this.log({ msg: "tunnel draining (GOAWAY); opening a new one", edge });
        this.old.add(conn);
        if (this.conn === conn) this.conn = null;
        this.ensure();
      },
      onClosed: (reason) => {
        this.old.delete(conn);
        if (this.conn === conn) {
          this.conn = null;
          this.log({ msg: "tunnel down", edge, reason });
          this.failures = Math.max(this.failures, 1);
          this.ensure();
        }
      },
    });
    this.conn = conn;
  }

  /** Stats of the current tunnel, for readiness and metrics. */
  view() {
    const conn = this.conn;
    return {
      state: this.state,
      ...(conn ? { edge: conn.edge, rttMs: conn.stats.rttMs } : {}),
      connects: this.connects,
      openStreams: (conn?.openStreams ?? 0) + [...this.old].reduce((n, c) => n + c.openStreams, 0),
    };
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.heartbeat = this.retryTimer = null;
    await this.connecting;
    for (const conn of [this.conn, ...this.old]) conn?.terminate();
    this.conn = null;
    this.old.clear();
  }
}

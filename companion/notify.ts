/**
 * Webhook notifications (seed 003), when `notify` is configured:
 *   member_disabled  a pool member's state became "disabled" at the edge (its key was refused)
 *   pool_exhausted   every member of a pool is cooling or disabled
 *   link_down        the link has been down for `linkDownAfterMs`
 *   link_restored    it came back after a link_down was sent
 * Pool health is the edge's `/admin/pools`, polled every `pollIntervalMs` over a signed HTTPS
 * request; the link's state is read locally. Each event is a POST of JSON {event, detail,
 * time} with a timeout; the same event about the same subject is sent at most once within
 * `minIntervalMs`. Members are named by their id at the edge, never by key. The config is read
 * on every check, so a hot reload's changes apply (a `notify` added later starts it too).
 */
import { fetchEdgeAdmin, type EdgePoolsView } from "./link/admin.ts";
import type { LinkState } from "./link/types.ts";
import type { Logger } from "./log.ts";
import type { Runtime } from "./runtime.ts";

export type NotifyEventName = "member_disabled" | "pool_exhausted" | "link_down" | "link_restored";

export interface NotifyEvent {
  event: NotifyEventName;
  detail: Record<string, unknown>;
  time: string;
}

/**
 * up: requests can go (the tunnel is up; in https mode an edge is not known dead).
 * degraded: auto mode with the tunnel down, new requests over HTTPS.
 * down: nothing can carry a request.
 */
export type LinkHealth = "up" | "degraded" | "down";

export function linkHealth(state: LinkState): LinkHealth {
  const someEdge = state.edges.some((e) => e.healthy);
  if (state.transport === "https") return someEdge ? "up" : "down";
  if (state.tunnel.state === "up") return "up";
  return state.transport === "auto" && someEdge ? "degraded" : "down";
}

export interface Notifier {
  /** One check now (the timer also runs them). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

export interface NotifierOptions {
  log: Logger;
  /** The edge's pool health; by default a signed GET /admin/pools (companion/link/admin.ts). */
  fetchPools?: (rt: Runtime) => Promise<EdgePoolsView>;
  now?: () => number;
}

const EXHAUSTED_STATES = new Set(["cooling", "disabled"]);

export function startNotifier(runtime: () => Runtime, opts: NotifierOptions): Notifier {
  const { log } = opts;
  const now = opts.now ?? Date.now;
  const fetchPools =
    opts.fetchPools ??
    (async (rt: Runtime) => {
      if (!rt.config.link) throw new Error("no link configured");
      return (await fetchEdgeAdmin<EdgePoolsView>(rt.config.link, "/admin/pools", { link: rt.link, timeoutMs: 10_000 })).body;
    });

  const lastSent = new Map<string, number>();
  const memberStates = new Map<string, string>();
  const exhausted = new Set<string>();
  let linkRef: unknown = null;
  let downSince: number | null = null;
  let downAnnounced = false;
  let lastPoll = -Infinity;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  async function send(rt: Runtime, event: NotifyEventName, subject: string, detail: Record<string, unknown>): Promise<void> {
    const cfg = rt.config.notify;
    if (!cfg) return;
    const t = now();
    const key = `${event}\n${subject}`;
    const last = lastSent.get(key);
    if (last !== undefined && t - last < cfg.minIntervalMs) {
      log("debug", "notification suppressed (sent recently)", { event, subject });
      return;
    }
    lastSent.set(key, t);
    const body: NotifyEvent = {
      event,
      detail: { ...(rt.config.link ? { companion: rt.config.link.companionId } : {}), ...detail },
      time: new Date(t).toISOString(),
    };
    // The URL itself may be a secret (chat webhooks carry a token in the path): log its host only.
    const host = new URL(cfg.webhookUrl).host;
    try {
      const res = await fetch(cfg.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": rt.config.server.gatewayUserAgent },
        body: JSON.stringify(body),
        redirect: "manual",
        signal: AbortSignal.timeout(cfg.timeoutMs),
      });
      await res.body?.cancel();
      if (res.ok) log("info", "notification sent", { event, subject, webhook: host });
      else log("warn", "notification refused by the webhook", { event, subject, webhook: host, status: res.status });
    } catch (error) {
      log("warn", "notification failed", { event, subject, webhook: host, error: (error as Error).name === "TimeoutError" ? "timed out" : (error as Error).message });
    }
  }

  async function checkLink(rt: Runtime, t: number): Promise<void> {
    const cfg = rt.config.notify!;
    if (rt.link !== linkRef) {
      // A new link (first check, or a reload that changed the link config): start afresh.
      linkRef = rt.link;
      downSince = null;
      downAnnounced = false;
    }
    if (!rt.link) return;
    const state = rt.link.state();
    if (linkHealth(state) === "down") {
      downSince ??= t;
      if (!downAnnounced && t - downSince >= cfg.linkDownAfterMs) {
        downAnnounced = true;
        await send(rt, "link_down", "link", {
          message: `the link to the edge has been down for ${Math.round((t - downSince) / 1000)} s`,
          transport: state.transport,
          tunnel: state.tunnel.state,
          since: new Date(downSince).toISOString(),
          edges: state.edges.map((e) => ({ url: e.url, healthy: e.healthy })),
        });
      }
      return;
    }
    if (downAnnounced && downSince !== null) {
      await send(rt, "link_restored", "link", {
        message: `the link to the edge is back after ${Math.round((t - downSince) / 1000)} s`,
        transport: state.transport,
        downForMs: t - downSince,
      });
    }
    downSince = null;
    downAnnounced = false;
  }

  async function checkPools(rt: Runtime): Promise<void> {
    let view: EdgePoolsView;
    try {
      view = await fetchPools(rt);
    } catch (error) {
      log("debug", "edge pool health not available for notifications", { error: (error as Error).message });
      return;
    }
    for (const [pool, { members }] of Object.entries(view.pools ?? {})) {
      for (const m of members) {
        const key = `${pool}/${m.id}`;
        const previous = memberStates.get(key);
        memberStates.set(key, m.state);
        if (m.state === "disabled" && previous !== "disabled") {
          await send(rt, "member_disabled", key, {
            message: `member "${m.id}" of pool "${pool}" was disabled at the edge${m.disabledStatus ? ` (its upstream answered ${m.disabledStatus})` : ""}; it stays disabled until its key is changed`,
            pool,
            member: m.id,
            ...(m.disabledStatus !== undefined ? { upstreamStatus: m.disabledStatus } : {}),
          });
        }
      }
      const isExhausted = members.length > 0 && members.every((m) => EXHAUSTED_STATES.has(m.state));
      if (isExhausted && !exhausted.has(pool)) {
        const until = members.filter((m) => m.state === "cooling" && m.coolingUntil).map((m) => Date.parse(m.coolingUntil!));
        await send(rt, "pool_exhausted", pool, {
          message: `every member of pool "${pool}" is cooling or disabled`,
          pool,
          members: members.map((m) => ({ id: m.id, state: m.state, ...(m.coolingUntil ? { coolingUntil: m.coolingUntil } : {}) })),
          ...(until.length ? { firstBackAt: new Date(Math.min(...until)).toISOString() } : {}),
        });
      }
      if (isExhausted) exhausted.add(pool);
      else exhausted.delete(pool);
    }
  }

  async function check(): Promise<void> {
    const rt = runtime();
    const cfg = rt.config.notify;
    if (!cfg) return;
    const t = now();
    await checkLink(rt, t);
    if (rt.link && t - lastPoll >= cfg.pollIntervalMs) {
      lastPoll = t;
      await checkPools(rt);
    }
  }

  /** Often enough for the link-down delay and the poll interval; re-read on every turn. */
  function tickMs(): number {
    const cfg = runtime().config.notify;
    if (!cfg) return 5000;
    return Math.max(100, Math.min(5000, cfg.pollIntervalMs, cfg.linkDownAfterMs > 0 ? cfg.linkDownAfterMs / 2 : 5000));
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = check()
        .catch((error: unknown) => log("warn", "notification check failed", { error: (error as Error).message }))
        .finally(() => {
          running = null;
          schedule();
        });
    }, tickMs());
    timer.unref();
  }
  schedule();

  return {
    check,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

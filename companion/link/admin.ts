/**
 * The edge's admin views (`GET /admin/pools`, `/admin/tunnels`), asked for with the link's own
 * signature over one direct HTTPS request (never through the tunnel, so it works while the
 * tunnel is down): the first healthy edge first, the next one only if that cannot be reached.
 * Used by the status page and the notifier; the answer names members by id, never by key.
 */
import { fetch } from "undici";
import { signRequest } from "../../shared/signing.ts";
import type { LinkConfig } from "./config.ts";
import type { EdgeLink } from "./link.ts";
import { createNetwork, type Network } from "./network.ts";

/** One pool member as the edge's `/admin/pools` shows it (worker/pool/health.ts MemberView). */
export interface EdgeMemberView {
  id: string;
  weight: number;
  state: "healthy" | "cooling" | "probing" | "disabled";
  coolingUntil?: string;
  disabledStatus?: number;
  failureScore: number;
  inFlight: number;
  cooldowns: { model: string; class: string; until: string; failures: number }[];
}

export interface EdgePoolsView {
  time: string;
  pools: Record<string, { type: string; members: EdgeMemberView[] }>;
}

export class EdgeAdminError extends Error {
  override name = "EdgeAdminError";
  /** The edge's HTTP status, when one answered. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export interface EdgeAdminOptions {
  /** The live link, whose view of edge health picks the edge (healthy ones first). */
  link?: EdgeLink | null;
  /** Proxy and CAs; by default one is made from `cfg` for this call and closed after it. */
  network?: Network;
  timeoutMs?: number;
}

/** A signed GET of `path` (e.g. "/admin/pools") on the edge; its JSON answer, or an EdgeAdminError. */
export async function fetchEdgeAdmin<T = unknown>(cfg: LinkConfig, path: string, opts: EdgeAdminOptions = {}): Promise<{ edge: string; body: T }> {
  const view = opts.link?.state().edges;
  const edges = view
    ? [...view.filter((e) => e.healthy), ...view.filter((e) => !e.healthy)].map((e) => e.url)
    : cfg.edges.map((u) => u.replace(/\/+$/, ""));
  const network = opts.network ?? createNetwork(cfg);
  let lastError = "no edge configured";
  try {
    for (const edge of edges) {
      const signed = await signRequest({ companionId: cfg.companionId, secret: cfg.secret, method: "GET", pathAndQuery: path, body: null });
      const url = new URL(edge + path);
      let res;
      try {
        res = await fetch(url, {
          headers: { ...signed, accept: "application/json" },
          dispatcher: network.dispatcher(url),
          redirect: "manual",
          signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
        });
      } catch (error) {
        // Unreachable (or too slow): the next edge may answer.
        lastError = `${edge}: ${describe(error)}`;
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new EdgeAdminError(`${edge} answered ${res.status} to GET ${path}`, res.status);
      }
      try {
        return { edge, body: (await res.json()) as T };
      } catch {
        throw new EdgeAdminError(`${edge} answered GET ${path} with something that is not JSON`, res.status);
      }
    }
    throw new EdgeAdminError(`no edge could be reached (${lastError})`);
  } finally {
    if (!opts.network) await network.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "timed out";
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? error.message;
  }
  return "unknown error";
}

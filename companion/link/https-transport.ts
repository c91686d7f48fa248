/**
 * The HTTPS transport: one signed request per call to `/proxy/{pool}{path}`, for networks
 * that break long-lived sockets and while the tunnel reconnects. An edge that cannot be
 * reached is skipped for the next; a re-sent request keeps its id, so the edge never starts
 * it twice.
 */
import { fetch } from "undici";
import { signRequest } from "../../shared/signing.ts";
import type { LinkConfig } from "./config.ts";
import type { EdgeSet } from "./edges.ts";
import type { Network } from "./network.ts";
import { LinkError, type LinkRequest, type LinkResponse, type Transport } from "./types.ts";

/** Headers the companion never forwards to the edge: hop-by-hop and our own. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length", "te", "trailer"]);

export function edgeHeaders(req: LinkRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of req.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith("x-ferry-")) continue;
    out[lower] = value;
  }
  return out;
}

export class HttpsTransport implements Transport {
  readonly name = "https" as const;
  private readonly cfg: LinkConfig;
  private readonly edges: EdgeSet;
  private readonly network: Network;

  constructor(cfg: LinkConfig, edges: EdgeSet, network: Network) {
    this.cfg = cfg;
    this.edges = edges;
    this.network = network;
  }

  async send(req: LinkRequest): Promise<LinkResponse> {
    const pathAndQuery = `/proxy/${req.pool}${req.path}${req.query}`;
    let lastError: unknown;
    for (const edge of this.edges.order()) {
      if (req.signal?.aborted) throw new LinkError("cancelled", "the caller went away");
      const signed = await signRequest({
        companionId: this.cfg.companionId,
        secret: this.cfg.secret,
        method: req.method,
        pathAndQuery,
        body: req.body,
      });
      const url = new URL(edge + pathAndQuery);
      try {
        const res = await fetch(url, {
          method: req.method,
          headers: { ...edgeHeaders(req), ...signed, "x-ferry-request-id": req.requestId },
          body: req.body,
          signal: req.signal ?? null,
          dispatcher: this.network.dispatcher(url),
          redirect: "manual",
        });
        this.edges.markAlive(edge);
        return {
          status: res.status,
          headers: new Headers(res.headers as unknown as Headers),
          body: res.body as ReadableStream<Uint8Array> | null,
          transport: "https",
          edge,
        };
      } catch (error) {
        if (error instanceof LinkError) throw error;
        if (req.signal?.aborted) throw new LinkError("cancelled", "the caller went away");
        // Could not reach this edge (or lost it before an answer): the id makes a re-send safe.
        this.edges.markDead(edge);
        lastError = error;
      }
    }
    throw new LinkError("unavailable", `no edge could be reached over HTTPS (${describe(lastError)})`, true);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? error.message;
  }
  return "unknown error";
}

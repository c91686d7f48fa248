/**
 * The companion's link to the edge: one `send`, whichever transport carries it.
 *   tunnel: the WebSocket tunnel only (waits up to connectTimeoutMs for it).
 *   https:  one signed request per call.
 *   auto:   the tunnel when it is up, HTTPS for new requests while it is down.
 * A request lost before the edge answered is re-sent (same id: the edge refuses a second
 * start, and the caller then gets a clear `interrupted` error instead of a double send).
 */
import { EdgeSet } from "./edges.ts";
import { type LinkConfigInput, LinkConfigSchema } from "./config.ts";
import { HttpsTransport } from "./https-transport.ts";
import { createNetwork } from "./network.ts";
import { TunnelTransport } from "./tunnel-transport.ts";
import { LinkError, type LinkRequest, type LinkResponse, type LinkState } from "./types.ts";

export interface EdgeLink {
  send(req: LinkRequest): Promise<LinkResponse>;
  state(): LinkState;
  /** The tunnel itself, for diagnostics (`ferry doctor`) and tests; null in https mode. */
  readonly tunnel: TunnelTransport | null;
  close(): Promise<void>;
}

export interface LinkOptions {
  /** Environment for HTTPS_PROXY / NO_PROXY; process.env by default. */
  env?: NodeJS.ProcessEnv;
  log?: (fields: Record<string, unknown>) => void;
}

export function createLink(input: LinkConfigInput, opts: LinkOptions = {}): EdgeLink {
  const cfg = LinkConfigSchema.parse(input);
  const log = opts.log ?? (() => {});
  const edges = new EdgeSet(cfg.edges, cfg.edgeRetryMs);
  const network = createNetwork(cfg, opts.env ?? process.env);
  const https = cfg.transport === "tunnel" ? null : new HttpsTransport(cfg, edges, network);
  const tunnel = cfg.transport === "https" ? null : new TunnelTransport(cfg, edges, network, log);
  tunnel?.start();

  async function once(req: LinkRequest): Promise<LinkResponse> {
    if (tunnel && (tunnel.connection || cfg.transport === "tunnel")) {
      if (!tunnel.connection && !(await tunnel.ready(cfg.connectTimeoutMs))) {
        throw new LinkError("unavailable", "the tunnel to the edge is down", true);
      }
      return tunnel.send(req);
    }
    return https!.send(req);
  }

  return {
    tunnel,
    async send(req) {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await once(req);
          if (res.status === 409 && res.headers.get("x-ferry-error") === "duplicate_request") {
            await res.body?.cancel();
            throw new LinkError("interrupted", "the edge had already started this request when the link dropped; it was not sent twice");
          }
          return res;
        } catch (error) {
          if (!(error instanceof LinkError) || !error.resendable || attempt >= cfg.maxResends || req.signal?.aborted) throw error;
          log({ msg: "re-sending a request the link lost before the edge answered", attempt: attempt + 1, reason: error.message });
        }
      }
    },
    state: () => ({
      transport: cfg.transport,
      tunnel: tunnel ? tunnel.view() : { state: "off", connects: 0, openStreams: 0 },
      edges: edges.view(),
    }),
    async close() {
      await tunnel?.close();
      await network.close();
    },
  };
}

/**
 * Corporate networks: an HTTP(S) egress proxy (CONNECT) and extra CAs for both transports,
 * a no-proxy list; HTTPS_PROXY / NO_PROXY from the environment when the config says nothing.
 * (Node itself reads NODE_EXTRA_CA_CERTS at start for every TLS connection.)
 */
import { readFileSync } from "node:fs";
import type { Agent as HttpAgent } from "node:http";
import { rootCertificates } from "node:tls";
import { HttpsProxyAgent } from "https-proxy-agent";
import { Agent, type Dispatcher, ProxyAgent } from "undici";
import type { LinkConfig } from "./config.ts";

export interface Network {
  proxyFor(url: URL): string | null;
  /** Trusted CAs when a CA file is configured (the system roots plus it); else undefined. */
  ca: string[] | undefined;
  /** For `ws`: an agent that tunnels through the proxy, or undefined for a direct socket. */
  wsAgent(url: URL): HttpAgent | undefined;
  /** For undici's fetch. */
  dispatcher(url: URL): Dispatcher;
  close(): Promise<void>;
}

export function matchesNoProxy(host: string, list: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return list.some((raw) => {
    const entry = raw.trim().toLowerCase().replace(/:\d+$/, "");
    if (!entry) return false;
    if (entry === "*") return true;
    const bare = entry.replace(/^\*?\./, "");
    return h === bare || h.endsWith(`.${bare}`);
  });
}

export function createNetwork(cfg: Pick<LinkConfig, "proxy" | "noProxy" | "caFile">, env: NodeJS.ProcessEnv = process.env): Network {
  const proxy = cfg.proxy ?? env.HTTPS_PROXY ?? env.https_proxy ?? null;
  const noProxy = [...cfg.noProxy, ...(env.NO_PROXY ?? env.no_proxy ?? "").split(",")];
  const ca = cfg.caFile ? [...rootCertificates, readFileSync(cfg.caFile, "utf8")] : undefined;
  const tls = ca ? { ca } : {};
  // Keep idle connections to the edge warm far longer than undici's 4 s default: a cold
  // connection costs one or more round trips across the border.
  const direct = new Agent({ connect: tls, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
  const proxied = proxy ? new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls, proxyTunnel: true }) : null;
  const proxyFor = (url: URL) => (proxy && !matchesNoProxy(url.hostname, noProxy) ? proxy : null);
  return {
    proxyFor,
    ca,
    wsAgent: (url) => {
      const via = proxyFor(url);
      return via ? new HttpsProxyAgent(via, { ...tls, keepAlive: false }) : undefined;
    },
    dispatcher: (url) => (proxied && proxyFor(url) ? proxied : direct),
    close: async () => {
      await Promise.all([direct.close(), proxied?.close()]);
    },
  };
}

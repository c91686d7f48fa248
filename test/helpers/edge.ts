/**
 * Runs the real worker (wrangler.toml, worker/index.ts) in local workerd through wrangler's
 * test harness, reachable over a real socket, with a FERRY_CONFIG the test writes.
 */
import { randomBytes } from "node:crypto";
import { createTestHarness, type TestHarness } from "wrangler";
import { signRequest } from "../../shared/signing.ts";

export interface Edge {
  url: string;
  harness: TestHarness;
  /** Evicts the companion's Relay (storage kept): the next request starts a fresh object. */
  restartRelay(companionId: string): Promise<void>;
  /** Everything the worker logged since start. */
  logs(): string;
  close(): Promise<void>;
}

export const randomSecret = () => randomBytes(32).toString("base64url");
/** Looks like a real key so a leak would be obvious, but is made up per run. */
export const fakeKey = (prefix = "sk-test-") => prefix + randomBytes(24).toString("hex");

export async function startEdge(config: unknown, extraSecrets: Record<string, string> = {}): Promise<Edge> {
  const harness = createTestHarness({
    root: process.cwd(),
    workers: [
      {
        configPath: "./wrangler.toml",
        secrets: { FERRY_CONFIG: typeof config === "string" ? config : JSON.stringify(config), ...extraSecrets },
      },
    ],
  });
  const { url } = await harness.listen();
  return {
    url: url.href.replace(/\/$/, ""),
    harness,
    restartRelay: (companionId) =>
      harness.getWorker().evictDurableObject("RELAY", { name: companionId, webSockets: "close" }),
    logs: () => harness.getLogs().map((l) => JSON.stringify(l)).join("\n"),
    close: () => harness.close(),
  };
}

export interface Signer {
  companionId: string;
  secret: string;
}

export interface SignedInit {
  method?: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides for tests of bad signatures. */
  tamper?: (headers: Record<string, string>) => void;
}

/** fetch() to the edge with the companion's signature, as the companion's link does. */
export async function signedFetch(edgeUrl: string, signer: Signer, pathAndQuery: string, init: SignedInit = {}): Promise<Response> {
  const method = init.method ?? (init.body === undefined ? "GET" : "POST");
  const body = typeof init.body === "string" ? new TextEncoder().encode(init.body) : (init.body ?? null);
  const signed = await signRequest({ companionId: signer.companionId, secret: signer.secret, method, pathAndQuery, body });
  const headers: Record<string, string> = { ...(body ? { "content-type": "application/json" } : {}), ...init.headers, ...signed };
  init.tamper?.(headers);
  return fetch(edgeUrl + pathAndQuery, { method, headers, body: body as BodyInit | null, signal: init.signal ?? null });
}

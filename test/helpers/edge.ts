/**
 * Runs the real worker (wrangler.toml, worker/index.ts) in local workerd, reachable over a
 * real socket, with a FERRY_CONFIG the test writes and storage in a temporary folder.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalEdge } from "../../scripts/edge-local.ts";
import { signRequest } from "../../shared/signing.ts";

export interface Edge {
  url: string;
  /** Evicts the companion's Relay (storage kept): the next request starts a fresh object. */
  restartRelay(companionId: string, webSockets?: "close" | "hibernate"): Promise<void>;
  /** Everything the worker logged since start. */
  logs(): string;
  close(): Promise<void>;
}

export const randomSecret = () => randomBytes(32).toString("base64url");
/** Looks like a real key so a leak would be obvious, but is made up per run. */
export const fakeKey = (prefix = "sk-test-") => prefix + randomBytes(24).toString("hex");

export interface StartEdgeOptions {
  /** Other secrets besides FERRY_CONFIG (referenced as {"env": NAME}). */
  secrets?: Record<string, string>;
  /** Reuse a storage folder (a restarted edge); the caller then removes it. */
  persistDir?: string;
  tls?: { key: string; cert: string };
}

export async function startEdge(config: unknown, opts: StartEdgeOptions = {}): Promise<Edge> {
  const ownDir = !opts.persistDir;
  const persistDir = opts.persistDir ?? mkdtempSync(join(tmpdir(), "ferry-edge-"));
  const lines: string[] = [];
  const edge = await startLocalEdge({
    secrets: { FERRY_CONFIG: typeof config === "string" ? config : JSON.stringify(config), ...opts.secrets },
    persistDir,
    ...(opts.tls ? { tls: opts.tls } : {}),
    onLog: (line) => lines.push(line),
  });
  return {
    url: edge.url,
    restartRelay: (companionId, webSockets) => edge.evictRelay(companionId, webSockets),
    logs: () => lines.join("\n"),
    close: async () => {
      await edge.close();
      if (ownDir) rmSync(persistDir, { recursive: true, force: true });
    },
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

/**
 * A signed request whose path goes on the wire byte for byte (fetch would normalise
 * `..` and friends away before sending, hiding exactly what path tests need to send).
 */
export async function rawSignedRequest(
  edgeUrl: string,
  signer: Signer,
  rawPath: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { request } = await import("node:http");
  const signed = await signRequest({ companionId: signer.companionId, secret: signer.secret, method: "GET", pathAndQuery: rawPath, body: null });
  const url = new URL(edgeUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: "GET", path: rawPath, headers: signed }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

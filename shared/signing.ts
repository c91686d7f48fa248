/**
 * Request signing between companion and edge (docs/link.md, "Authentication").
 *
 * signature = base64url(HMAC-SHA256(secret, canonical)), where canonical is
 *   FERRY-HMAC-SHA256 \n companion \n METHOD \n path?query \n timestamp \n nonce \n body-hash
 * and body-hash is the lowercase hex SHA-256 of the body, or UNSIGNED-PAYLOAD for a body
 * that is streamed. WebCrypto only, so both runtimes share this file.
 */
import { fromBase64Url, toBase64Url, toHex } from "./base64url.ts";
import { err, ok, type Result } from "./result.ts";

export const SIGNING_HEADERS = {
  companion: "x-ferry-companion",
  timestamp: "x-ferry-timestamp",
  nonce: "x-ferry-nonce",
  contentSha256: "x-ferry-content-sha256",
  signature: "x-ferry-signature",
} as const;

export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** Signatures older or newer than this are refused; nonces are remembered this long. */
export const MAX_CLOCK_SKEW_MS = 300_000;

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    if (keyCache.size > 256) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

export async function sha256Hex(body: ArrayBuffer | Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource)));
}

export interface SignatureInput {
  companionId: string;
  method: string;
  /** Path and query exactly as sent, e.g. `/proxy/openai/v1/chat/completions?x=1`. */
  pathAndQuery: string;
  timestamp: string;
  nonce: string;
  bodyHash: string;
}

export function canonicalString(input: SignatureInput): string {
  return [
    "FERRY-HMAC-SHA256",
    input.companionId,
    input.method.toUpperCase(),
    input.pathAndQuery,
    input.timestamp,
    input.nonce,
    input.bodyHash,
  ].join("\n");
}

export interface SignOptions {
  companionId: string;
  secret: string;
  method: string;
  pathAndQuery: string;
  /** The exact body bytes, or null for none; `unsigned` streams it instead. */
  body: Uint8Array | ArrayBuffer | null;
  unsignedPayload?: boolean;
  nowMs?: number;
  nonce?: string;
}

/** Returns the headers to add to the request. */
export async function signRequest(opts: SignOptions): Promise<Record<string, string>> {
  const bodyHash = opts.unsignedPayload ? UNSIGNED_PAYLOAD : await sha256Hex(opts.body ?? new Uint8Array());
  const timestamp = String(opts.nowMs ?? Date.now());
  const nonce = opts.nonce ?? toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  const canonical = canonicalString({ ...opts, timestamp, nonce, bodyHash });
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(opts.secret), encoder.encode(canonical));
  return {
    [SIGNING_HEADERS.companion]: opts.companionId,
    [SIGNING_HEADERS.timestamp]: timestamp,
    [SIGNING_HEADERS.nonce]: nonce,
    [SIGNING_HEADERS.contentSha256]: bodyHash,
    [SIGNING_HEADERS.signature]: toBase64Url(new Uint8Array(mac)),
  };
}

export type VerifyFailure = "missing" | "malformed" | "stale" | "body_mismatch" | "bad_signature";

export interface VerifiedSignature {
  companionId: string;
  nonce: string;
  timestampMs: number;
}

export interface VerifyOptions {
  headers: Headers;
  method: string;
  pathAndQuery: string;
  secret: string;
  /** The buffered body; null when the request carried none. */
  body: ArrayBuffer | null;
  nowMs?: number;
}

/**
 * Checks everything but nonce reuse, which needs state (the Relay keeps it).
 * The MAC comparison is WebCrypto's `verify`, which is constant-time.
 */
export async function verifySignature(opts: VerifyOptions): Promise<Result<VerifiedSignature, VerifyFailure>> {
  const h = (name: string) => opts.headers.get(name);
  const companionId = h(SIGNING_HEADERS.companion);
  const timestamp = h(SIGNING_HEADERS.timestamp);
  const nonce = h(SIGNING_HEADERS.nonce);
  const bodyHash = h(SIGNING_HEADERS.contentSha256);
  const signature = h(SIGNING_HEADERS.signature);
  if (!companionId || !timestamp || !nonce || !bodyHash || !signature) return err("missing");
  if (!/^\d{1,16}$/.test(timestamp) || !/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) return err("malformed");
  const mac = fromBase64Url(signature);
  if (!mac || mac.length !== 32) return err("malformed");
  const timestampMs = Number(timestamp);
  if (Math.abs((opts.nowMs ?? Date.now()) - timestampMs) > MAX_CLOCK_SKEW_MS) return err("stale");
  if (bodyHash !== UNSIGNED_PAYLOAD) {
    if (!/^[0-9a-f]{64}$/.test(bodyHash)) return err("malformed");
    if ((await sha256Hex(opts.body ?? new Uint8Array())) !== bodyHash) return err("body_mismatch");
  }
  const canonical = canonicalString({
    companionId,
    method: opts.method,
    pathAndQuery: opts.pathAndQuery,
    timestamp,
    nonce,
    bodyHash,
  });
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(opts.secret), mac as BufferSource, encoder.encode(canonical));
  return valid ? ok({ companionId, nonce, timestampMs }) : err("bad_signature");
}

/**
 * Authenticates a companion's request inside its Relay: body within the size limit, a valid
 * HMAC signature within the skew window, and a nonce not seen before. Every failure is the
 * same 401 to the caller; the reason goes to the log only.
 */
import { MAX_CLOCK_SKEW_MS, verifySignature, type VerifyFailure } from "../../shared/signing.ts";
import { readLimited } from "../../shared/read-body.ts";
import { err, ok, type Result } from "../../shared/result.ts";
import type { Companion } from "../config.ts";

export type AuthFailure = VerifyFailure | "replayed" | "too_large";

export interface NonceStore {
  /** True if the key was new (and is now remembered until `expiresAt`). */
  remember(key: string, expiresAt: number): boolean;
}

export async function readBody(request: Request, maxBytes: number): Promise<Result<ArrayBuffer | null, "too_large">> {
  const body = await readLimited(request, maxBytes);
  if (!body.ok || body.value === null) return body as Result<null, "too_large">;
  const bytes = body.value;
  return ok(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer));
}

export async function authenticate(
  request: Request,
  url: URL,
  companion: Companion,
  body: ArrayBuffer | null,
  nonces: NonceStore,
): Promise<Result<void, AuthFailure>> {
  const verified = await verifySignature({
    headers: request.headers,
    method: request.method,
    pathAndQuery: url.pathname + url.search,
    secret: companion.secret,
    body,
  });
  if (!verified.ok) return verified;
  if (verified.value.companionId !== companion.id) return err("bad_signature");
  // A nonce is kept until its timestamp leaves the window: after that the timestamp check
  // alone refuses a replay.
  if (!nonces.remember(`n:${verified.value.nonce}`, verified.value.timestampMs + MAX_CLOCK_SKEW_MS)) return err("replayed");
  return ok(undefined);
}

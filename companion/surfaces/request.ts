/**
 * Reading a client's request: the JSON body within the size limit (refused early, without
 * reading a 100 MB body to the end), the right content type, the client's IP.
 */
import type { Context } from "hono";
import type { ClientDialect as Dialect } from "../config/schema.ts";
import { readLimited } from "../../shared/read-body.ts";
import { clientError } from "../dialects/errors.ts";

export type Json = Record<string, unknown>;

export async function readBody(c: Context, dialect: Dialect, maxBytes: number): Promise<{ raw: Uint8Array } | Response> {
  const body = await readLimited(c.req.raw, maxBytes);
  if (!body.ok) return clientError(dialect, "payload_too_large", `request body is over the limit of ${maxBytes} bytes`, { connection: "close" });
  return { raw: body.value ?? new Uint8Array(0) };
}

export async function readJson(c: Context, dialect: Dialect, maxBytes: number): Promise<{ json: Json; raw: Uint8Array } | Response> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    return clientError(dialect, "unsupported_media_type", `expected content-type application/json, got ${type ? type.split(";")[0] : "none"}`);
  }
  const body = await readBody(c, dialect, maxBytes);
  if (body instanceof Response) return body;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body.raw));
  } catch {
    return clientError(dialect, "bad_request", "request body is not valid JSON");
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) return clientError(dialect, "bad_request", "request body must be a JSON object");
  return { json: json as Json, raw: body.raw };
}

export function clientIp(c: Context, trustForwardedFor: boolean): string | null {
  if (trustForwardedFor) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/** The query without the project key (`?key=`), which must never travel on, and that key. */
export function splitQuery(url: string): { query: URLSearchParams; queryKey: string | null } {
  const query = new URL(url).searchParams;
  const queryKey = query.get("key");
  query.delete("key");
  return { query, queryKey };
}

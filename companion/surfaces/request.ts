/**
 * Reading a client's request: the JSON body within the size limit (refused early, without
 * reading a 100 MB body to the end), the right content type, the client's IP.
 */
import type { Context } from "hono";
import type { ClientDialect as Dialect } from "../config/schema.ts";
import { readLimited } from "../../shared/read-body.ts";
import { clientError } from "../dialects/errors.ts";
import { handleCall, projectKey, type Endpoint } from "../pipeline.ts";
import { keyHash, type Runtime } from "../runtime.ts";
import type { Project } from "../config/schema.ts";

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

/**
 * The handler of a JSON model call: read the body in the client's dialect, then hand the
 * call to the pipeline. `model` and `stream` default to the body's fields.
 */
export function jsonCall(
  runtime: () => Runtime,
  dialect: Dialect,
  endpoint: Endpoint,
  opts: { model?: (c: Context, json: Json) => string | null; stream?: (json: Json) => boolean } = {},
): (c: Context) => Promise<Response> {
  return async (c) => {
    const rt = runtime();
    const body = await readJson(c, dialect, rt.config.server.maxBodyBytes);
    if (body instanceof Response) return body;
    return handleCall(rt, {
      dialect,
      endpoint,
      model: opts.model ? opts.model(c, body.json) : typeof body.json.model === "string" ? body.json.model : null,
      stream: opts.stream ? opts.stream(body.json) : body.json.stream === true,
      body: body.json,
      ...splitQuery(c.req.url),
      headers: c.req.raw.headers,
      clientIp: clientIp(c, rt.config.server.trustForwardedFor),
      signal: c.req.raw.signal,
    });
  };
}

/** The project a non-model request (model lists) belongs to, or the 401 in the client's dialect. */
export function projectOf(c: Context, rt: Runtime, dialect: Dialect): Project | Response {
  const key = projectKey(c.req.raw.headers, splitQuery(c.req.url).queryKey);
  const project = key ? rt.projectsByKeyHash.get(keyHash(key)) : undefined;
  return project ?? clientError(dialect, "unauthorized", key ? "invalid API key" : "missing API key");
}

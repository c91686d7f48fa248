/**
 * Errors the edge itself produces. Inside a pool they take the provider's own error shape,
 * so a caller of `/proxy/anthropic/...` parses them like any Anthropic error; before a pool
 * is known they take an OpenAI-like shape. `x-ferry-error` carries the code for machines.
 */
import { errorBody, type ErrorShape } from "../shared/error-shapes.ts";

export const EDGE_ERRORS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  /** The request id was started before (a re-send after a lost tunnel): never run twice. */
  duplicate_request: 409,
  payload_too_large: 413,
  pool_exhausted: 503,
  rate_limited: 429,
  config_invalid: 503,
  upstream_unreachable: 502,
  upstream_timeout: 504,
  internal: 500,
} as const;
export type EdgeErrorCode = keyof typeof EDGE_ERRORS;

export function edgeError(
  code: EdgeErrorCode,
  message: string,
  opts: { shape?: ErrorShape; headers?: Record<string, string>; status?: number } = {},
): Response {
  const status = opts.status ?? EDGE_ERRORS[code];
  return new Response(JSON.stringify(errorBody(opts.shape ?? "openai", status, code, message)), {
    status,
    headers: { "content-type": "application/json", "x-ferry-error": code, ...opts.headers },
  });
}

/** The error event appended to a stream that broke after its first byte. */
export function streamErrorEvent(shape: ErrorShape, contentType: string, message: string): Uint8Array | null {
  const body = JSON.stringify(errorBody(shape, 502, "upstream_unreachable", message));
  if (contentType.includes("text/event-stream")) {
    const prefix = shape === "anthropic" ? "event: error\n" : "";
    // A leading blank line closes any event the upstream left half-written.
    return new TextEncoder().encode(`\n\n${prefix}data: ${body}\n\n`);
  }
  if (contentType.includes("ndjson") || contentType.includes("jsonl")) return new TextEncoder().encode(`\n${body}\n`);
  return null;
}

/**
 * Errors the companion itself produces, in the client's own dialect: one exhaustive table
 * of codes to statuses, one shape function per dialect (shared/error-shapes.ts).
 */
import { errorBody } from "../../shared/error-shapes.ts";
import type { ClientDialect } from "../config/schema.ts";

export const CLIENT_ERRORS = {
  bad_request: 400,
  /** A feature or dialect pair this version cannot serve. */
  unsupported: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
  internal: 500,
  target_unavailable: 502,
  upstream_failed: 502,
} as const;
export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

export function clientError(dialect: ClientDialect, code: ClientErrorCode, message: string, headers: Record<string, string> = {}): Response {
  const status = CLIENT_ERRORS[code];
  return new Response(JSON.stringify(errorBody(dialect, status, code, message)), {
    status,
    headers: { "content-type": "application/json", "x-ferry-error": code, ...headers },
  });
}

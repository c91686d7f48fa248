/**
 * Ollama's HTTP error bodies ⇄ the IR's error event. [O-ERR]: "Errors are returned in the
 * application/json format with … the error message in the `error` property" — `{"error":
 * "..."}` and nothing else; the status line says what kind of error it is (400 bad request,
 * 404 model not found, 429 rate limited, 500 internal, 502 cloud model unreachable).
 *
 * The codec contract has no method for error bodies (translate.ts re-shapes them itself), so
 * these are exported for the lead to wire in.
 */
import type { IrEvent } from "../ir.ts";
import { isObject } from "./wire.ts";

export type IrErrorEvent = Extract<IrEvent, { type: "error" }>;

function codeOf(status: number): string {
  if (status === 400 || status === 422) return "bad_request";
  if (status === 401) return "authentication_error";
  if (status === 402 || status === 403) return "permission_error";
  if (status === 404) return "not_found";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "upstream_error";
  return "upstream_error";
}

/** An HTTP error answer from Ollama (status + body, parsed JSON or text) → an IR error. */
export function decodeErrorBody(status: number, body: unknown): IrErrorEvent {
  let message: string | undefined;
  if (isObject(body) && typeof body.error === "string") message = body.error;
  else if (typeof body === "string" && body.trim() !== "") {
    try {
      const parsed: unknown = JSON.parse(body);
      if (isObject(parsed) && typeof parsed.error === "string") message = parsed.error;
    } catch {
      message = body.slice(0, 500);
    }
  }
  return { type: "error", status, code: codeOf(status), message: message ?? `Ollama answered ${status}` };
}

/** An IR error → Ollama's error body (the status goes on the HTTP status line). */
export function encodeErrorBody(error: Pick<IrErrorEvent, "message">): { error: string } {
  return { error: error.message };
}

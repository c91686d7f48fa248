/**
 * HTTP error bodies of the Responses API, both ways. The shape is OpenAI's one error
 * envelope, `{"error": {"message", "type", "param", "code"}}` (API reference, "Error codes";
 * openai-node `APIError` reads `error.message`, `.type`, `.param`, `.code`). Writing goes
 * through shared/error-shapes.ts, the one shape function per dialect.
 */
import { errorBody } from "../../../shared/error-shapes.ts";
import type { IrEvent } from "../ir.ts";
import { statusOfCode } from "./usage-status.ts";
import { isObj, str } from "./wire.ts";

/** A client-facing error body for an HTTP status and a Ferry error code. */
export function encodeErrorBody(status: number, code: string, message: string): unknown {
  return errorBody("openai", status, code, message);
}

/** A target's error answer → the IR error it stands for (status kept from the HTTP answer). */
export function decodeErrorBody(status: number, body: unknown): Extract<IrEvent, { type: "error" }> {
  const error = isObj(body) && isObj(body.error) ? body.error : undefined;
  const code = str(error?.code) ?? str(error?.type) ?? (status === 429 ? "rate_limit_exceeded" : "upstream_error");
  const message = str(error?.message) ?? (isObj(body) ? str(body.message) : undefined) ?? `the upstream answered ${status}`;
  return { type: "error", status: status || statusOfCode(code), code, message };
}

/**
 * The OpenAI Responses API dialect (POST /v1/responses; what Codex CLI speaks). Requests:
 * request-decode.ts / request-encode.ts; whole answers: response.ts; streams:
 * stream-decode.ts / stream-encode.ts; opaque reasoning state: reasoning-state.ts.
 */
import type { DialectCodec } from "../codec.ts";
import { decodeRequest } from "./request-decode.ts";
import { encodeRequest } from "./request-encode.ts";
import { decodeResponse, encodeResponse } from "./response.ts";
import { ResponsesStreamDecoder } from "./stream-decode.ts";
import { ResponsesStreamEncoder } from "./stream-encode.ts";

export const codec: DialectCodec = {
  dialect: "openai-responses",
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
  streamDecoder: () => new ResponsesStreamDecoder(),
  streamEncoder: (ctx) => new ResponsesStreamEncoder(ctx),
  // The Responses API streams only as SSE.
  streamContentType: () => "text/event-stream",
};

export { decodeErrorBody, encodeErrorBody } from "./errors.ts";

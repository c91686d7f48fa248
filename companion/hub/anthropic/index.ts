/**
 * The Anthropic Messages codec (POST /v1/messages): requests, whole answers and SSE streams to
 * and from the IR. Pure and web-standard; every entry point answers a value, never throws.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { DialectCodec, EncodeContext, HubError } from "../codec.ts";
import { decodeRequestBody } from "./request-decode.ts";
import { encodeRequestBody } from "./request-encode.ts";
import { decodeResponseBody, encodeResponseBody } from "./response.ts";
import { AnthropicStreamDecoder } from "./stream-decode.ts";
import { AnthropicStreamEncoder } from "./stream-encode.ts";
import { Refusal } from "./wire.ts";

export { FERRY_JSON_TOOL } from "./wire.ts";

/** Runs a codec step, turning a Refusal (or, defensively, anything thrown) into a HubError. */
function guard<T>(f: () => T): Result<T, HubError> {
  try {
    return ok(f());
  } catch (e) {
    if (e instanceof Refusal) return err({ code: e.code, message: e.message });
    return err({ code: "bad_request", message: e instanceof Error ? e.message : String(e) });
  }
}

export const codec: DialectCodec = {
  dialect: "anthropic",
  decodeRequest: (body, opts) => guard(() => decodeRequestBody(body, opts)),
  encodeRequest: (ir, ctx) => guard(() => encodeRequestBody(ir, ctx.model)),
  decodeResponse: (body) => guard(() => decodeResponseBody(body)),
  encodeResponse: (ir, ctx: EncodeContext) => encodeResponseBody(ir, ctx),
  streamDecoder: () => new AnthropicStreamDecoder(),
  streamEncoder: (ctx) => new AnthropicStreamEncoder(ctx),
  streamContentType: () => "text/event-stream",
};

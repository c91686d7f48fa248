/**
 * The Gemini generateContent dialect (https://ai.google.dev/api/generate-content): requests,
 * answers, both stream forms (SSE with `?alt=sse`, the JSON array without) and embeddings.
 * See request.ts, response.ts, parts.ts, stream-decode.ts, stream-encode.ts, embeddings.ts.
 */
import type { DialectCodec } from "../codec.ts";
import { decodeEmbeddings, decodeEmbeddingsResponse, type EmbeddingsEncodeContext, encodeEmbeddings, encodeEmbeddingsResponse } from "./embeddings.ts";
import { decodeRequest, encodeRequest } from "./request.ts";
import { decodeResponse, encodeResponse } from "./response.ts";
import { GeminiStreamDecoder } from "./stream-decode.ts";
import { type GeminiStreamContext, GeminiStreamEncoder } from "./stream-encode.ts";

export { errorFromWire, errorToWire } from "./wire.ts";
export type { GeminiStreamContext, EmbeddingsEncodeContext };

export const codec: DialectCodec = {
  dialect: "gemini",
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
  streamDecoder: () => new GeminiStreamDecoder(),
  /** `ctx.sse` (default true): SSE for `?alt=sse`, else the JSON-array stream. */
  streamEncoder: (ctx: GeminiStreamContext) => new GeminiStreamEncoder(ctx),
  streamContentType: (opts?: { sse?: boolean }) => (opts?.sse === false ? "application/json" : "text/event-stream"),
  decodeEmbeddings,
  encodeEmbeddings,
  decodeEmbeddingsResponse,
  /** `ctx.single` answers `:embedContent` ({embedding}); by default `:batchEmbedContents` ({embeddings}). */
  encodeEmbeddingsResponse: (ir, ctx: EmbeddingsEncodeContext) => encodeEmbeddingsResponse(ir, ctx),
};

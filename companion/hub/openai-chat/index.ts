/**
 * The OpenAI Chat Completions codec (`POST /v1/chat/completions`): the client side for
 * `openai.chat` and the target side for every OpenAI-compatible pool; also `POST /v1/embeddings`
 * (embeddings.ts), both sides.
 *
 * Mapping notes that apply throughout (details in each file):
 * - system/developer messages → IR system; `tool` messages → tool_result parts of one user
 *   message; `reasoning_content` (DeepSeek) ↔ reasoning parts.
 * - Tool-call ids are the upstream's; only hosts that send none get `call_<n>_<random>`.
 * - What a side cannot carry is listed in `dropped`, once per feature.
 */
import type { DialectCodec } from "../codec.ts";
import { decodeEmbeddings, decodeEmbeddingsResponse, encodeEmbeddings, encodeEmbeddingsResponse, type OpenAIEmbeddingsEncodeContext } from "./embeddings.ts";
import { decodeRequest } from "./request-decode.ts";
import { encodeRequest } from "./request-encode.ts";
import { decodeResponse, encodeResponse } from "./response.ts";
import { ChatStreamDecoder } from "./stream-decode.ts";
import { ChatStreamEncoder } from "./stream-encode.ts";

export { decodeErrorBody, encodeErrorBody } from "./wire.ts";
export { encodingFormatOf } from "./embeddings.ts";
export type { OpenAIEmbeddingsEncodeContext };

export const codec: DialectCodec = {
  dialect: "openai-chat",
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
  streamDecoder: () => new ChatStreamDecoder(),
  streamEncoder: (ctx) => new ChatStreamEncoder(ctx),
  streamContentType: () => "text/event-stream",
  /** `/v1/embeddings`; `ctx.encodingFormat: "base64"` answers base64 float32 vectors, as the client asked. */
  decodeEmbeddings,
  encodeEmbeddings,
  decodeEmbeddingsResponse,
  encodeEmbeddingsResponse: (ir, ctx: OpenAIEmbeddingsEncodeContext) => encodeEmbeddingsResponse(ir, ctx),
};

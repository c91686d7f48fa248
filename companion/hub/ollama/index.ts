/**
 * The Ollama dialect codec: native /api/chat (whole and NDJSON-streamed) and /api/embed.
 * See ./wire.ts for the sources every shape here was checked against.
 */
import type { DialectCodec } from "../codec.ts";
import { decodeEmbeddings, decodeEmbeddingsResponse, encodeEmbeddings, encodeEmbeddingsResponse } from "./embeddings.ts";
import { decodeRequest } from "./request-decode.ts";
import { encodeRequest } from "./request-encode.ts";
import { decodeResponse, encodeResponse } from "./response.ts";
import { OllamaStreamDecoder } from "./stream-decode.ts";
import { OllamaStreamEncoder } from "./stream-encode.ts";

export { decodeErrorBody, encodeErrorBody } from "./errors.ts";

export const codec: DialectCodec = {
  dialect: "ollama",
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
  streamDecoder: () => new OllamaStreamDecoder(),
  streamEncoder: (ctx) => new OllamaStreamEncoder(ctx),
  // Ollama streams `application/x-ndjson` ([O-ERR]); it has no SSE form.
  streamContentType: () => "application/x-ndjson",
  decodeEmbeddings,
  encodeEmbeddings,
  decodeEmbeddingsResponse,
  encodeEmbeddingsResponse,
};

/**
 * The contract every dialect codec implements (one folder per dialect under companion/hub/).
 * Codecs are pure and web-standard: no I/O, no `node:` imports, no clocks except through
 * `ctx.now`, and they never throw on schema-valid input (a request they cannot express comes
 * back as a HubError value).
 */
import type { IrDrop, IrEmbeddingsRequest, IrEmbeddingsResponse, IrEvent, IrRequest, IrResponse } from "./ir.ts";
import type { Result } from "../../shared/result.ts";

export type HubDialect = "anthropic" | "openai-chat" | "openai-responses" | "gemini" | "ollama";

export interface HubError {
  /** Companion client-error code: bad_request (the client's input is wrong) or unsupported. */
  code: "bad_request" | "unsupported";
  message: string;
}

export interface EncodeContext {
  /** The model name to put on the wire (target side) or to report (client side). */
  model: string;
  /** Stable id for the answer (client side), e.g. "msg_…" / "chatcmpl-…" / "resp_…". */
  id: string;
  /** Unix ms; fixed in tests. */
  now: number;
}

export interface Encoded {
  body: unknown;
  dropped: IrDrop[];
}

/** Target stream → IR events. Text in (decoded UTF-8 chunks of SSE / NDJSON / JSON array), events out. */
export interface StreamDecoder {
  push(chunk: string): IrEvent[];
  end(): IrEvent[];
}

/** IR events → client stream text (SSE / NDJSON / JSON array), incrementally. */
export interface StreamEncoder {
  push(event: IrEvent): string;
  /** Closes the stream properly (e.g. `[DONE]`, `message_stop`, `]`), even after an error. */
  end(): string;
}

export interface DialectCodec {
  readonly dialect: HubDialect;
  /** Client request → IR. `model` overrides the body's (Gemini puts it in the path). */
  decodeRequest(body: unknown, opts: { model?: string; stream?: boolean }): Result<IrRequest, HubError>;
  /** IR → target request body. */
  encodeRequest(ir: IrRequest, ctx: { model: string }): Result<Encoded, HubError>;
  /** Target's whole answer → IR. */
  decodeResponse(body: unknown): Result<IrResponse, HubError>;
  /** IR → whole answer for the client. */
  encodeResponse(ir: IrResponse, ctx: EncodeContext): unknown;
  streamDecoder(): StreamDecoder;
  streamEncoder(ctx: EncodeContext & { includeUsage?: boolean }): StreamEncoder;
  /** Content type of this dialect's stream (text/event-stream, application/x-ndjson, application/json). */
  streamContentType(opts?: { sse?: boolean }): string;
  decodeEmbeddings?(body: unknown, opts: { model?: string }): Result<IrEmbeddingsRequest, HubError>;
  encodeEmbeddings?(ir: IrEmbeddingsRequest, ctx: { model: string }): Result<Encoded, HubError>;
  decodeEmbeddingsResponse?(body: unknown): Result<IrEmbeddingsResponse, HubError>;
  encodeEmbeddingsResponse?(ir: IrEmbeddingsResponse, ctx: EncodeContext): unknown;
}

/**
 * Tunnel frames (docs/link.md, "Tunnel framing"), layer one of three: pure encode/decode.
 *
 *   byte 0     type
 *   bytes 1-4  stream id, u32 big-endian (0 = the connection itself)
 *   bytes 5-8  payload length, u32 big-endian
 *   bytes 9-   payload
 *
 * Several frames may share one WebSocket message; `FrameDecoder` (layer two) yields only
 * complete frames and enforces the maximum payload size. Control payloads are validated
 * with zod on receipt: an invalid frame is an error value naming its stream when the header
 * could be read, so the session (layer three) resets that stream instead of the tunnel.
 */
import { z } from "zod";
import { err, ok, type Result } from "./result.ts";

export const FRAME_TYPES = {
  OPEN: 0x01,
  HEAD: 0x02,
  DATA: 0x03,
  END: 0x04,
  RESET: 0x05,
  CREDIT: 0x06,
  PING: 0x07,
  PONG: 0x08,
  GOAWAY: 0x09,
} as const;
export type FrameTypeName = keyof typeof FRAME_TYPES;
const TYPE_NAMES = new Map<number, FrameTypeName>(Object.entries(FRAME_TYPES).map(([k, v]) => [v, k as FrameTypeName]));

export const FRAME_HEADER_BYTES = 9;
/** DATA payloads are cut to this size; a frame stays far below the platform's 1 MiB message limit. */
export const MAX_DATA_BYTES = 64 * 1024;
/** Largest payload any frame may carry (a request head with many headers included). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Per-stream flow-control window each side starts with, in bytes. */
export const INITIAL_WINDOW_BYTES = 256 * 1024;

const HeaderList = z.array(z.tuple([z.string().max(256), z.string().max(16 * 1024)])).max(256);

export const RequestHeadSchema = z.strictObject({
  /** Unique per request across retries and transports: the edge refuses a second start. */
  requestId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  method: z.string().regex(/^[A-Z]{1,16}$/),
  pool: z.string().min(1).max(64),
  /** Native path, starting with "/". */
  path: z.string().startsWith("/").max(8 * 1024),
  /** "" or "?..." */
  query: z.string().max(16 * 1024),
  headers: HeaderList,
});
export type RequestHead = z.output<typeof RequestHeadSchema>;

export const ResponseHeadSchema = z.strictObject({
  status: z.number().int().min(100).max(599),
  headers: HeaderList,
});
export type ResponseHead = z.output<typeof ResponseHeadSchema>;

export const RESET_CODES = [
  "cancelled",
  "upstream_failed",
  "protocol_error",
  "flow_control",
  "too_large",
  "refused",
  "internal",
  "going_away",
] as const;
export const ResetSchema = z.strictObject({
  code: z.enum(RESET_CODES),
  message: z.string().max(1024),
});
export type ResetPayload = z.output<typeof ResetSchema>;

export const GoawaySchema = z.strictObject({
  reason: z.string().max(1024),
});

export type Frame =
  | { type: "OPEN"; streamId: number; head: RequestHead }
  | { type: "HEAD"; streamId: number; head: ResponseHead }
  | { type: "DATA"; streamId: number; data: Uint8Array }
  | { type: "END"; streamId: number }
  | { type: "RESET"; streamId: number; reset: ResetPayload }
  | { type: "CREDIT"; streamId: number; increment: number }
  | { type: "PING"; streamId: 0; timestamp: bigint }
  | { type: "PONG"; streamId: 0; timestamp: bigint }
  | { type: "GOAWAY"; streamId: 0; reason: string };

export type FrameErrorReason = "truncated" | "too_large" | "unknown_type" | "bad_payload" | "bad_stream";
export interface FrameError {
  reason: FrameErrorReason;
  /** Present when the header was readable: the session resets this stream (if not 0). */
  streamId?: number;
  message: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function payloadOf(frame: Frame): Uint8Array {
  switch (frame.type) {
    case "OPEN":
    case "HEAD":
      return encoder.encode(JSON.stringify(frame.head));
    case "RESET":
      return encoder.encode(JSON.stringify(frame.reset));
    case "GOAWAY":
      return encoder.encode(JSON.stringify({ reason: frame.reason }));
    case "DATA":
      return frame.data;
    case "END":
      return new Uint8Array(0);
    case "CREDIT": {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, frame.increment);
      return out;
    }
    case "PING":
    case "PONG": {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, frame.timestamp);
      return out;
    }
  }
}

export function encodeFrame(frame: Frame): Uint8Array {
  const payload = payloadOf(frame);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  out[0] = FRAME_TYPES[frame.type];
  view.setUint32(1, frame.streamId);
  view.setUint32(5, payload.byteLength);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

function parseJson<T>(payload: Uint8Array, schema: z.ZodType<T>): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(decoder.decode(payload)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Decodes the payload of a frame whose header has been read. */
export function decodePayload(typeByte: number, streamId: number, payload: Uint8Array): Result<Frame, FrameError> {
  const type = TYPE_NAMES.get(typeByte);
  const bad = (message: string, reason: FrameErrorReason = "bad_payload") => err({ reason, streamId, message });
  if (!type) return bad(`unknown frame type 0x${typeByte.toString(16).padStart(2, "0")}`, "unknown_type");
  const connectionLevel = type === "PING" || type === "PONG" || type === "GOAWAY";
  if (connectionLevel !== (streamId === 0)) return bad(`${type} on stream ${streamId}`, "bad_stream");
  switch (type) {
    case "OPEN": {
      const head = parseJson(payload, RequestHeadSchema);
      return head ? ok({ type, streamId, head }) : bad("invalid OPEN head");
    }
    case "HEAD": {
      const head = parseJson(payload, ResponseHeadSchema);
      return head ? ok({ type, streamId, head }) : bad("invalid HEAD");
    }
    case "RESET": {
      const reset = parseJson(payload, ResetSchema);
      return reset ? ok({ type, streamId, reset }) : bad("invalid RESET payload");
    }
    case "GOAWAY": {
      const goaway = parseJson(payload, GoawaySchema);
      return goaway ? ok({ type, streamId: 0, reason: goaway.reason }) : bad("invalid GOAWAY payload");
    }
    case "DATA":
      if (payload.byteLength > MAX_DATA_BYTES) return bad(`DATA of ${payload.byteLength} bytes`, "too_large");
      return ok({ type, streamId, data: payload });
    case "END":
      return payload.byteLength === 0 ? ok({ type, streamId }) : bad("END with a payload");
    case "CREDIT": {
      if (payload.byteLength !== 4) return bad("CREDIT needs 4 bytes");
      const increment = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
      return increment > 0 ? ok({ type, streamId, increment }) : bad("CREDIT of 0");
    }
    case "PING":
    case "PONG": {
      if (payload.byteLength !== 8) return bad(`${type} needs 8 bytes`);
      const timestamp = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0);
      return ok({ type, streamId: 0, timestamp });
    }
  }
}

/** Decodes exactly one frame; trailing bytes are an error. */
export function decodeFrame(bytes: Uint8Array, maxPayloadBytes = MAX_PAYLOAD_BYTES): Result<Frame, FrameError> {
  const decoder = new FrameDecoder({ maxPayloadBytes });
  const out = decoder.push(bytes);
  const error = out.fatal ?? out.errors[0];
  if (error) return err(error);
  if (out.frames.length !== 1 || decoder.bufferedBytes !== 0) {
    return err({ reason: "truncated", message: out.frames.length === 0 ? "incomplete frame" : "bytes after the frame" });
  }
  return ok(out.frames[0]!);
}

export interface FrameDecoderOptions {
  /** Frames announcing a larger payload are refused before it is buffered. */
  maxPayloadBytes?: number;
}

export interface Decoded {
  /** Complete, valid frames, in order. */
  frames: Frame[];
  /** Invalid frames that were skipped; each names its stream when it has one. */
  errors: FrameError[];
  /** The byte stream cannot be resynchronised (oversized frame): drop the connection. */
  fatal: FrameError | null;
}

/** Layer two: accumulates bytes and yields complete frames only. */
export class FrameDecoder {
  private buffer = new Uint8Array(0);
  private readonly maxPayloadBytes: number;
  private broken = false;

  constructor(opts: FrameDecoderOptions = {}) {
    this.maxPayloadBytes = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  }

  get bufferedBytes(): number {
    return this.buffer.byteLength;
  }

  push(chunk: Uint8Array): Decoded {
    const out: Decoded = { frames: [], errors: [], fatal: null };
    if (this.broken) {
      out.fatal = { reason: "too_large", message: "decoder stopped after an oversized frame" };
      return out;
    }
    let data = chunk;
    if (this.buffer.byteLength) {
      data = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
      data.set(this.buffer);
      data.set(chunk, this.buffer.byteLength);
    }
    let offset = 0;
    while (data.byteLength - offset >= FRAME_HEADER_BYTES) {
      const view = new DataView(data.buffer, data.byteOffset + offset, FRAME_HEADER_BYTES);
      const type = view.getUint8(0);
      const streamId = view.getUint32(1);
      const length = view.getUint32(5);
      if (length > this.maxPayloadBytes) {
        this.broken = true;
        this.buffer = new Uint8Array(0);
        out.fatal = { reason: "too_large", streamId, message: `frame payload of ${length} bytes exceeds ${this.maxPayloadBytes}` };
        return out;
      }
      if (data.byteLength - offset - FRAME_HEADER_BYTES < length) break;
      const start = offset + FRAME_HEADER_BYTES;
      const decoded = decodePayload(type, streamId, data.subarray(start, start + length));
      offset = start + length;
      if (decoded.ok) out.frames.push(decoded.value);
      else out.errors.push(decoded.error);
    }
    this.buffer = offset === data.byteLength ? new Uint8Array(0) : data.slice(offset);
    return out;
  }
}

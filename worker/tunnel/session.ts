/**
 * The edge's end of one tunnel (layer three): streams opened by the companion, each served
 * through the same selection and retry logic as `/proxy/...`. Request bodies are buffered
 * (retries need them) with credit granted as they arrive; response bodies are sent within
 * the companion's credit, read from the upstream only when credit allows.
 *
 * Runtime-free: the Relay gives it a `send` for frames and a `serve` for requests.
 */
import { pumpBody, SendWindow, StreamClosedError } from "../../shared/flow.ts";
import { encodeFrame, FrameDecoder, INITIAL_WINDOW_BYTES, type Frame, type RequestHead, type ResetPayload } from "../../shared/frames.ts";

export interface ServeRequest {
  head: RequestHead;
  body: ArrayBuffer | null;
  signal: AbortSignal;
}

export interface EdgeSessionOptions {
  send: (bytes: Uint8Array) => void;
  /** Closes the WebSocket (protocol errors that make the byte stream unusable). */
  close: (code: number, reason: string) => void;
  serve: (req: ServeRequest) => Promise<Response>;
  maxRequestBytes: number;
  /** A stream waiting this long for credit is reset, so a stuck reader cannot pin it forever. */
  creditStallMs?: number;
  log: (fields: Record<string, unknown>) => void;
}

interface EdgeStream {
  id: number;
  head: RequestHead;
  chunks: Uint8Array[];
  bytes: number;
  /** Credit the companion still has for its request body. */
  recvCredit: number;
  state: "receiving" | "serving";
  window: SendWindow;
  abort: AbortController;
  buffered: number;
  maxBuffered: number;
}

export interface SessionStats {
  openStreams: number;
  streamsOpened: number;
  framesIn: number;
  framesOut: number;
  /** Most response bytes ever held at the edge for one stream, waiting for credit. */
  maxStreamBufferedBytes: number;
}

export class EdgeTunnelSession {
  private readonly streams = new Map<number, EdgeStream>();
  private readonly decoder = new FrameDecoder();
  private readonly opts: EdgeSessionOptions;
  private lastStreamId = 0;
  private draining = false;
  readonly stats: SessionStats = { openStreams: 0, streamsOpened: 0, framesIn: 0, framesOut: 0, maxStreamBufferedBytes: 0 };

  constructor(opts: EdgeSessionOptions) {
    this.opts = opts;
  }

  private send(frame: Frame): void {
    this.stats.framesOut++;
    this.opts.send(encodeFrame(frame));
  }

  private reset(streamId: number, reset: ResetPayload): void {
    const stream = this.streams.get(streamId);
    if (stream) this.finish(stream, reset);
    this.send({ type: "RESET", streamId, reset });
  }

  private finish(stream: EdgeStream, reason?: ResetPayload): void {
    if (!this.streams.delete(stream.id)) return;
    this.stats.openStreams = this.streams.size;
    stream.window.close(new StreamClosedError(reason?.message ?? "stream finished"));
    if (reason) stream.abort.abort(new Error(reason.message));
  }

  /** Tells the companion to open new streams on a new tunnel; current ones finish here. */
  goAway(reason: string): void {
    this.draining = true;
    this.send({ type: "GOAWAY", streamId: 0, reason });
  }

  onMessage(data: ArrayBuffer | string): void {
    if (typeof data === "string") return; // text is only the auto-answered heartbeat
    const out = this.decoder.push(new Uint8Array(data));
    this.stats.framesIn += out.frames.length + out.errors.length;
    for (const frame of out.frames) this.onFrame(frame);
    for (const error of out.errors) {
      this.opts.log({ msg: "invalid tunnel frame", reason: error.reason, stream: error.streamId });
      if (error.streamId) this.reset(error.streamId, { code: "protocol_error", message: error.message });
    }
    if (out.fatal) {
      this.opts.log({ msg: "tunnel closed: unusable frame", reason: out.fatal.reason });
      this.closeAll("protocol error");
      this.opts.close(1002, `protocol error: ${out.fatal.message}`.slice(0, 120));
    }
  }

  /** The socket is gone: abort everything still running. */
  closeAll(message: string): void {
    for (const stream of [...this.streams.values()]) this.finish(stream, { code: "cancelled", message });
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case "OPEN":
        return this.onOpen(frame.streamId, frame.head);
      case "DATA": {
        const stream = this.streams.get(frame.streamId);
        if (!stream || stream.state !== "receiving") return;
        stream.recvCredit -= frame.data.byteLength;
        if (stream.recvCredit < 0) return this.reset(stream.id, { code: "flow_control", message: "DATA beyond the granted window" });
        stream.bytes += frame.data.byteLength;
        if (stream.bytes > this.opts.maxRequestBytes) {
          return this.reset(stream.id, { code: "too_large", message: `request body exceeds ${this.opts.maxRequestBytes} bytes` });
        }
        // The body is buffered whole anyway (retries need it): credit goes back at once.
        stream.chunks.push(frame.data.slice());
        stream.recvCredit += frame.data.byteLength;
        this.send({ type: "CREDIT", streamId: stream.id, increment: frame.data.byteLength });
        return;
      }
      case "END": {
        const stream = this.streams.get(frame.streamId);
        if (!stream || stream.state !== "receiving") return;
        stream.state = "serving";
        void this.serve(stream);
        return;
      }
      case "RESET": {
        const stream = this.streams.get(frame.streamId);
        if (stream) this.finish(stream, frame.reset);
        return;
      }
      case "CREDIT":
        this.streams.get(frame.streamId)?.window.add(frame.increment);
        return;
      case "PING":
        return this.send({ type: "PONG", streamId: 0, timestamp: frame.timestamp });
      case "HEAD":
      case "PONG":
      case "GOAWAY":
        if (frame.streamId) this.reset(frame.streamId, { code: "protocol_error", message: `${frame.type} is not sent by a companion` });
        return;
    }
  }

  private onOpen(streamId: number, head: RequestHead): void {
    if (this.draining) return this.send({ type: "RESET", streamId, reset: { code: "going_away", message: "tunnel is draining; open a new one" } });
    if (streamId <= this.lastStreamId || this.streams.has(streamId)) {
      return this.send({ type: "RESET", streamId, reset: { code: "protocol_error", message: "stream ids must increase" } });
    }
    this.lastStreamId = streamId;
    this.streams.set(streamId, {
      id: streamId,
      head,
      chunks: [],
      bytes: 0,
      recvCredit: INITIAL_WINDOW_BYTES,
      state: "receiving",
      window: new SendWindow(INITIAL_WINDOW_BYTES),
      abort: new AbortController(),
      buffered: 0,
      maxBuffered: 0,
    });
    this.stats.streamsOpened++;
    this.stats.openStreams = this.streams.size;
  }

  private async serve(stream: EdgeStream): Promise<void> {
    let body: ArrayBuffer | null = null;
    if (stream.bytes > 0) {
      const joined = new Uint8Array(stream.bytes);
      let offset = 0;
      for (const chunk of stream.chunks) {
        joined.set(chunk, offset);
        offset += chunk.byteLength;
      }
      body = joined.buffer;
    }
    stream.chunks = [];
    let response: Response;
    try {
      response = await this.opts.serve({ head: stream.head, body, signal: stream.abort.signal });
    } catch (error) {
      if (this.streams.has(stream.id)) this.reset(stream.id, { code: "internal", message: "edge failed to serve the request" });
      this.opts.log({ msg: "tunnel stream failed", error: error instanceof Error ? error.name : "unknown" });
      return;
    }
    if (!this.streams.has(stream.id)) {
      await response.body?.cancel().catch(() => {});
      return;
    }
    this.send({ type: "HEAD", streamId: stream.id, head: { status: response.status, headers: [...response.headers] } });
    if (!response.body) {
      this.send({ type: "END", streamId: stream.id });
      this.finish(stream);
      return;
    }
    const reader = response.body.getReader();
    stream.abort.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
    const stall = this.opts.creditStallMs ?? 300_000;
    let stallTimer: ReturnType<typeof setTimeout> | null = null;
    try {
      await pumpBody(reader, {
        streamId: stream.id,
        window: stream.window,
        send: (frame) => this.send(frame),
        onBuffered: (bytes) => {
          stream.buffered = bytes;
          if (bytes > stream.maxBuffered) {
            stream.maxBuffered = bytes;
            this.stats.maxStreamBufferedBytes = Math.max(this.stats.maxStreamBufferedBytes, bytes);
          }
          // Waiting for credit: a timer bounds the wait (and keeps the object awake).
          if (stallTimer !== null) clearTimeout(stallTimer);
          if (bytes > 0 && stream.window.available === 0) {
            stallTimer = setTimeout(() => this.reset(stream.id, { code: "flow_control", message: "no credit granted in time" }), stall);
          }
        },
      });
      this.finish(stream);
    } catch (error) {
      if (error instanceof StreamClosedError || !this.streams.has(stream.id)) return;
      // The upstream body broke after HEAD: the companion must see it, never a clean END.
      this.reset(stream.id, { code: "upstream_failed", message: "upstream body broke after the response had started" });
    } finally {
      if (stallTimer !== null) clearTimeout(stallTimer);
    }
  }
}

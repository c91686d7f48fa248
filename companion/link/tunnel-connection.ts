/**
 * One tunnel WebSocket, companion side (layer three): opens a stream per request, sends the
 * body within the edge's credit, hands back the response head and a body that grants credit
 * as the caller reads. Streams are numbered 1, 2, 3... on each connection.
 */
import type WebSocket from "ws";
import { InboundBody, pumpBody, SendWindow, StreamClosedError } from "../../shared/flow.ts";
import { encodeFrame, FrameDecoder, type Frame, type ResetPayload, type ResponseHead } from "../../shared/frames.ts";
import { edgeHeaders } from "./https-transport.ts";
import { LinkError, type LinkRequest, type LinkResponse } from "./types.ts";

interface ClientStream {
  id: number;
  window: SendWindow;
  inbound: InboundBody;
  head: ResponseHead | null;
  resolveHead: (head: ResponseHead) => void;
  rejectHead: (error: LinkError) => void;
}

export interface ConnectionEvents {
  /** The edge asked for new streams to go to a new tunnel. */
  onGoAway: () => void;
  onClosed: (reason: string) => void;
}

export interface ConnectionStats {
  openStreams: number;
  streamsOpened: number;
  /** Most response bytes ever held for one stream, waiting for its caller to read. */
  maxStreamBufferedBytes: number;
  rttMs: number | undefined;
}

export class TunnelConnection {
  readonly edge: string;
  private readonly ws: WebSocket;
  private readonly events: ConnectionEvents;
  private readonly streams = new Map<number, ClientStream>();
  private readonly decoder = new FrameDecoder();
  private nextId = 1;
  private closed = false;
  draining = false;
  lastHeardAt = Date.now();
  private pingSentAt = 0;
  readonly stats: ConnectionStats = { openStreams: 0, streamsOpened: 0, maxStreamBufferedBytes: 0, rttMs: undefined };

  constructor(ws: WebSocket, edge: string, events: ConnectionEvents) {
    this.ws = ws;
    this.edge = edge;
    this.events = events;
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on("close", (code: number, reason: Buffer) => this.onClose(`closed (${code}${reason.length ? ` ${reason.toString()}` : ""})`));
    ws.on("error", () => {
      // 'close' follows and does the clean-up.
    });
  }

  get usable(): boolean {
    return !this.closed && !this.draining;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private sendFrame(frame: Frame): void {
    if (this.closed) return;
    this.ws.send(encodeFrame(frame));
  }

  /** Heartbeat: a text "ping" the edge answers without waking its object. */
  ping(): void {
    if (this.closed) return;
    this.pingSentAt = Date.now();
    this.ws.send("ping");
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Sends raw bytes as one message (diagnostics and protocol tests). */
  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  async open(req: LinkRequest): Promise<LinkResponse> {
    if (!this.usable) throw new LinkError("unavailable", "tunnel is not usable", true);
    const id = this.nextId++;
    let resolveHead!: (head: ResponseHead) => void;
    let rejectHead!: (error: LinkError) => void;
    const headPromise = new Promise<ResponseHead>((resolve, reject) => {
      resolveHead = resolve;
      rejectHead = reject;
    });
    const stream: ClientStream = {
      id,
      window: new SendWindow(),
      inbound: new InboundBody({
        streamId: id,
        sendCredit: (increment) => this.sendFrame({ type: "CREDIT", streamId: id, increment }),
        onCancel: () => this.cancel(id, "the caller stopped reading"),
      }),
      head: null,
      resolveHead,
      rejectHead,
    };
    this.streams.set(id, stream);
    this.stats.streamsOpened++;
    this.stats.openStreams = this.streams.size;
    const onAbort = () => this.cancel(id, "the caller went away");
    req.signal?.addEventListener("abort", onAbort, { once: true });

    this.sendFrame({
      type: "OPEN",
      streamId: id,
      head: {
        requestId: req.requestId,
        method: req.method,
        pool: req.pool,
        path: req.path,
        query: req.query,
        headers: Object.entries(edgeHeaders(req)),
      },
    });
    const body = req.body ?? new Uint8Array(0);
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        if (body.byteLength) controller.enqueue(body);
        controller.close();
      },
    }).getReader();
    pumpBody(source, { streamId: id, window: stream.window, send: (frame) => this.sendFrame(frame) }).catch(() => {
      // The stream ended early (reset or closed): its head promise carries the reason.
    });

    try {
      const head = await headPromise;
      return {
        status: head.status,
        headers: new Headers(head.headers),
        body: stream.inbound.stream,
        transport: "tunnel",
        edge: this.edge,
      };
    } finally {
      req.signal?.removeEventListener("abort", onAbort);
    }
  }

  private cancel(id: number, message: string): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.sendFrame({ type: "RESET", streamId: id, reset: { code: "cancelled", message } });
    this.end(stream, new LinkError("cancelled", message));
  }

  private end(stream: ClientStream, error?: LinkError): void {
    if (!this.streams.delete(stream.id)) return;
    this.stats.openStreams = this.streams.size;
    this.stats.maxStreamBufferedBytes = Math.max(this.stats.maxStreamBufferedBytes, stream.inbound.maxBufferedBytes);
    stream.window.close(new StreamClosedError(error?.message ?? "stream ended"));
    if (error) {
      if (stream.head) stream.inbound.fail(error);
      else stream.rejectHead(error);
    }
    if (this.draining && this.streams.size === 0) this.ws.close(1000, "drained");
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.lastHeardAt = Date.now();
    if (!isBinary) {
      if (data.toString() === "pong" && this.pingSentAt) this.stats.rttMs = Date.now() - this.pingSentAt;
      return;
    }
    const out = this.decoder.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    for (const frame of out.frames) this.onFrame(frame);
    for (const error of out.errors) {
      const stream = error.streamId ? this.streams.get(error.streamId) : undefined;
      if (stream) {
        this.sendFrame({ type: "RESET", streamId: stream.id, reset: { code: "protocol_error", message: error.message } });
        this.end(stream, new LinkError("upstream_failed", `edge sent an invalid frame: ${error.message}`));
      }
    }
    if (out.fatal) this.ws.close(1002, "protocol error");
  }

  private onFrame(frame: Frame): void {
    if (frame.type === "GOAWAY") {
      this.draining = true;
      this.events.onGoAway();
      if (this.streams.size === 0) this.ws.close(1000, "drained");
      return;
    }
    if (frame.type === "PONG" || frame.type === "PING") return;
    const stream = this.streams.get(frame.streamId);
    if (!stream) return;
    switch (frame.type) {
      case "HEAD":
        if (stream.head) return this.protocolError(stream, "second HEAD");
        stream.head = frame.head;
        stream.resolveHead(frame.head);
        return;
      case "DATA":
        if (!stream.head) return this.protocolError(stream, "DATA before HEAD");
        if (!stream.inbound.push(frame.data)) return this.protocolError(stream, "DATA beyond the granted window");
        this.stats.maxStreamBufferedBytes = Math.max(this.stats.maxStreamBufferedBytes, stream.inbound.maxBufferedBytes);
        return;
      case "END":
        if (!stream.head) return this.protocolError(stream, "END before HEAD");
        stream.inbound.end();
        this.end(stream);
        return;
      case "CREDIT":
        stream.window.add(frame.increment);
        return;
      case "RESET":
        return this.end(stream, resetError(frame.reset, stream.head !== null));
      case "OPEN":
        return this.protocolError(stream, "OPEN from the edge");
    }
  }

  private protocolError(stream: ClientStream, message: string): void {
    this.sendFrame({ type: "RESET", streamId: stream.id, reset: { code: "protocol_error", message } });
    this.end(stream, new LinkError("upstream_failed", `tunnel protocol error: ${message}`));
  }

  private onClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) {
      // Before its head the request may or may not have started at the edge: the link re-sends
      // it with the same id, and the edge refuses it if it had. After its head it is lost.
      this.end(
        stream,
        stream.head
          ? new LinkError("interrupted", `tunnel ${reason} while the answer was streaming`)
          : new LinkError("unavailable", `tunnel ${reason} before the edge answered`, true),
      );
    }
    this.events.onClosed(reason);
  }
}

function resetError(reset: ResetPayload, started: boolean): LinkError {
  switch (reset.code) {
    case "going_away":
      return new LinkError("unavailable", reset.message, !started);
    case "cancelled":
      return new LinkError("cancelled", reset.message);
    case "too_large":
    case "protocol_error":
    case "flow_control":
    case "refused":
      return new LinkError("refused", `edge reset the stream: ${reset.message}`);
    case "upstream_failed":
    case "internal":
      return new LinkError("upstream_failed", `edge reset the stream: ${reset.message}`);
  }
}

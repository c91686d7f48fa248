/**
 * Per-stream credit flow control, shared by both ends of the tunnel (layer three's tools).
 * A sender never has more unacknowledged DATA in flight than the window its peer granted;
 * a receiver grants credit back only as its consumer takes the bytes, so a slow reader
 * stops the sender instead of filling memory.
 */
import { INITIAL_WINDOW_BYTES, MAX_DATA_BYTES, type Frame } from "./frames.ts";

export class StreamClosedError extends Error {
  override name = "StreamClosedError";
}

/** The sender's view: how many bytes the peer will accept now. */
export class SendWindow {
  private credit: number;
  private waiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private closed: unknown = null;

  constructor(initial = INITIAL_WINDOW_BYTES) {
    this.credit = initial;
  }

  get available(): number {
    return this.credit;
  }

  add(increment: number): void {
    this.credit += increment;
    const w = this.waiter;
    this.waiter = null;
    w?.resolve();
  }

  /** Waits for credit, then takes up to `max` bytes of it. */
  async take(max: number): Promise<number> {
    while (this.credit <= 0) {
      if (this.closed) throw this.closed;
      await new Promise<void>((resolve, reject) => (this.waiter = { resolve, reject }));
    }
    if (this.closed) throw this.closed;
    const n = Math.min(max, this.credit);
    this.credit -= n;
    return n;
  }

  close(reason: unknown = new StreamClosedError("stream closed")): void {
    this.closed = reason;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(reason);
  }
}

export interface PumpOptions {
  streamId: number;
  window: SendWindow;
  send: (frame: Frame) => void;
  /** Bytes read from the source but not yet sent (waiting for credit), for stats. */
  onBuffered?: (bytes: number) => void;
}

/** Reads `source` and sends it as DATA frames within the window, then END. */
export async function pumpBody(source: ReadableStreamDefaultReader<Uint8Array>, opts: PumpOptions): Promise<void> {
  for (;;) {
    const { done, value } = await source.read();
    if (done) break;
    let offset = 0;
    while (offset < value.byteLength) {
      opts.onBuffered?.(value.byteLength - offset);
      const n = await opts.window.take(Math.min(MAX_DATA_BYTES, value.byteLength - offset));
      opts.send({ type: "DATA", streamId: opts.streamId, data: value.subarray(offset, offset + n) });
      offset += n;
    }
    opts.onBuffered?.(0);
  }
  opts.send({ type: "END", streamId: opts.streamId });
}

export interface InboundBodyOptions {
  streamId: number;
  /** Window this side granted at the start. */
  window?: number;
  sendCredit: (increment: number) => void;
  /** Called when the consumer cancels the body. */
  onCancel?: (reason: unknown) => void;
}

/**
 * The receiver's side: DATA frames in, a pull-based ReadableStream out. Credit goes back
 * as the consumer reads, batched to a quarter of the window to spare frames.
 */
export class InboundBody {
  readonly stream: ReadableStream<Uint8Array>;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private outstanding: number;
  private toGrant = 0;
  private ended = false;
  private failure: unknown = null;
  private wake: (() => void) | null = null;
  private readonly opts: InboundBodyOptions;
  private readonly window: number;
  /** Most bytes ever held here, waiting for the consumer. */
  maxBufferedBytes = 0;

  constructor(opts: InboundBodyOptions) {
    this.opts = opts;
    this.window = opts.window ?? INITIAL_WINDOW_BYTES;
    this.outstanding = this.window;
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.queue.length === 0 && !this.ended && !this.failure) {
            await new Promise<void>((r) => (this.wake = r));
          }
          const chunk = this.queue.shift();
          if (chunk) {
            this.queued -= chunk.byteLength;
            controller.enqueue(chunk);
            this.grant(chunk.byteLength);
            return;
          }
          if (this.failure) controller.error(this.failure);
          else controller.close();
        },
        cancel: (reason) => {
          this.ended = true;
          this.queue.length = 0;
          this.opts.onCancel?.(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  get bufferedBytes(): number {
    return this.queued;
  }

  private grant(n: number): void {
    if (this.ended) return;
    this.toGrant += n;
    if (this.toGrant >= this.window / 4 || this.outstanding < this.window / 2) {
      this.outstanding += this.toGrant;
      this.opts.sendCredit(this.toGrant);
      this.toGrant = 0;
    }
  }

  /** False when the peer sent more than it was granted (a protocol error). */
  push(data: Uint8Array): boolean {
    if (this.ended || this.failure) return true;
    this.outstanding -= data.byteLength;
    if (this.outstanding < 0) return false;
    this.queue.push(data);
    this.queued += data.byteLength;
    this.maxBufferedBytes = Math.max(this.maxBufferedBytes, this.queued);
    this.notify();
    return true;
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(reason: unknown): void {
    if (this.ended && this.queue.length === 0) return;
    this.failure = reason;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

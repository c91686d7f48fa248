/**
 * Pass-through of an upstream body: pull-based (nothing is read ahead of the caller), so
 * SSE and NDJSON events leave as they arrive and a slow caller slows the upstream read.
 * A caller that goes away aborts the upstream fetch. A body that breaks after the first
 * byte ends with the provider's own error event (for SSE / NDJSON) and then a stream error,
 * so the caller can never mistake it for a clean end.
 */
import type { ErrorShape } from "../providers.ts";
import { streamErrorEvent } from "../errors.ts";

export interface RelayBodyOptions {
  shape: ErrorShape;
  contentType: string;
  abort: () => void;
  done: (how: "ended" | "cancelled" | "broken") => void;
}

export function relayBody(upstream: ReadableStream<Uint8Array>, opts: RelayBodyOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let finished = false;
  let failAfterEvent: Error | null = null;
  const finish = (how: "ended" | "cancelled" | "broken") => {
    if (finished) return;
    finished = true;
    opts.done(how);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (failAfterEvent) {
          // The error event was enqueued by the previous pull and has been read: now fail.
          controller.error(failAfterEvent);
          return;
        }
        try {
          const { done, value } = await reader.read();
          if (done) {
            finish("ended");
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch {
          finish("broken");
          const error = new Error("upstream stream broke after the response had started");
          const event = streamErrorEvent(opts.shape, opts.contentType, "upstream connection lost mid-stream");
          if (event) {
            failAfterEvent = error;
            controller.enqueue(event);
          } else {
            controller.error(error);
          }
        }
      },
      async cancel(reason) {
        finish("cancelled");
        opts.abort();
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

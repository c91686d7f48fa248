/**
 * Pass-through of an upstream body: pull-based (nothing is read ahead of the caller), so
 * SSE and NDJSON events leave as they arrive and a slow caller slows the upstream read.
 * A caller that goes away aborts the upstream fetch (workerd notices the departure at the
 * next write, i.e. the next upstream chunk).
 *
 * A body that breaks after the first byte is never made to look complete: an SSE or NDJSON
 * body gets the provider's own error event appended (what its SDKs raise on) and then ends;
 * any other body is aborted, so the caller's read fails. (Erroring an event stream right
 * after the event would lose the event: workerd drops chunks still in flight when a stream
 * errors, so the event is the signal there.)
 */
import type { ErrorShape } from "../../shared/error-shapes.ts";
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
  let endAfterEvent = false;
  const finish = (how: "ended" | "cancelled" | "broken") => {
    if (finished) return;
    finished = true;
    opts.done(how);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (endAfterEvent) {
          controller.close();
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
          const event = streamErrorEvent(opts.shape, opts.contentType, "upstream connection lost mid-stream");
          if (event) {
            endAfterEvent = true;
            controller.enqueue(event);
          } else {
            controller.error(new Error("upstream body broke after the response had started"));
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

/** Reading helpers for streamed bodies in tests. */

export interface TextReader {
  /** Reads until `needle` has appeared in the text read so far; returns all text so far. */
  until(needle: string): Promise<string>;
  /** Reads to the end; rejects if the stream errors. */
  rest(): Promise<string>;
  text(): string;
  cancel(): Promise<void>;
}

export function textReader(body: ReadableStream<Uint8Array>): TextReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  return {
    async until(needle) {
      while (!seen.includes(needle)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`stream ended before ${JSON.stringify(needle)}; got ${JSON.stringify(seen)}`);
        seen += decoder.decode(value, { stream: true });
      }
      return seen;
    },
    async rest() {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return seen;
        seen += decoder.decode(value, { stream: true });
      }
    },
    text: () => seen,
    cancel: () => reader.cancel(),
  };
}

/** Permits handed out one at a time: lets a test release upstream events one by one. */
export function gate(): { wait(): Promise<void>; release(): void } {
  let permits = 0;
  const waiters: (() => void)[] = [];
  return {
    wait() {
      if (permits > 0) {
        permits--;
        return Promise.resolve();
      }
      return new Promise<void>((r) => waiters.push(r));
    },
    release() {
      const next = waiters.shift();
      if (next) next();
      else permits++;
    },
  };
}

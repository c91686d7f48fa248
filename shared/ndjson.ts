/**
 * Newline-delimited JSON (one JSON value a line, as Ollama streams): an incremental parser
 * and a byte-level decoder stream.
 *
 * Lines end with LF; a CR before the LF is tolerated (CRLF). Blank lines (whitespace only)
 * are skipped. A line that is not JSON becomes an error item carrying the line, so one bad
 * line does not end the stream. A last line without its LF is parsed by `end()`. One U+FEFF at
 * the very start is dropped.
 *
 * Linear time whatever the chunking: only the current, unterminated line is kept between
 * chunks. Web-standard only (Workers and Node).
 */

export type NdjsonItem = { ok: true; value: unknown } | { ok: false; line: string; error: string };

export class NdjsonParser {
  #line = "";
  #started = false;

  /** Feeds decoded text; returns an item for each complete, non-blank line in it. */
  push(chunk: string): NdjsonItem[] {
    const out: NdjsonItem[] = [];
    const n = chunk.length;
    if (n === 0) return out;
    let i = 0;
    if (!this.#started) {
      this.#started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    while (i < n) {
      const lf = chunk.indexOf("\n", i);
      if (lf === -1) {
        this.#line += i === 0 ? chunk : chunk.slice(i);
        break;
      }
      let line = chunk.slice(i, lf);
      if (this.#line !== "") {
        line = this.#line + line;
        this.#line = "";
      }
      parseLine(line, out);
      i = lf + 1;
    }
    return out;
  }

  /** The input has ended: parses a last line that had no LF. The parser is then ready for new input. */
  end(): NdjsonItem[] {
    const out: NdjsonItem[] = [];
    const line = this.#line;
    this.#line = "";
    this.#started = false;
    parseLine(line, out);
    return out;
  }
}

function parseLine(raw: string, out: NdjsonItem[]): void {
  const line = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
  if (line.trim() === "") return;
  try {
    out.push({ ok: true, value: JSON.parse(line) as unknown });
  } catch (error) {
    out.push({ ok: false, line, error: error instanceof Error ? error.message : String(error) });
  }
}

/** Bytes in, items out: UTF-8 decoded as a stream (characters split across chunks are joined). */
export function ndjsonDecoderStream(): TransformStream<Uint8Array, NdjsonItem> {
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  const parser = new NdjsonParser();
  return new TransformStream<Uint8Array, NdjsonItem>({
    transform(chunk, controller) {
      for (const item of parser.push(decoder.decode(chunk, { stream: true }))) controller.enqueue(item);
    },
    flush(controller) {
      for (const item of parser.push(decoder.decode())) controller.enqueue(item);
      for (const item of parser.end()) controller.enqueue(item);
    },
  });
}

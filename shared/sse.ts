/**
 * Server-Sent Events: an incremental parser that follows the WHATWG HTML "event stream
 * interpretation" algorithm (https://html.spec.whatwg.org/multipage/server-sent-events.html),
 * a byte-level decoder stream, and an encoder.
 *
 * Parsing rules, as the spec gives them:
 * - Lines end with CRLF, LF or CR. A CR at the end of one chunk followed by a LF at the start of
 *   the next is one line ending, not two.
 * - One U+FEFF at the very start of the stream is dropped.
 * - A blank line dispatches the event. A line starting with ":" is a comment. Otherwise the
 *   field name runs to the first ":" (or is the whole line when there is none, with an empty
 *   value), and one U+0020 right after that colon is removed from the value.
 * - `data` appends the value and a LF to the data buffer; `event` sets the type; `id` sets the
 *   last event ID unless the value contains U+0000; `retry` sets the reconnection time when the
 *   value is ASCII digits only; any other field is ignored.
 * - On dispatch the last event ID is taken from the id buffer; an event whose data buffer is
 *   empty (no `data` field since the last dispatch) is not dispatched; one trailing LF is cut
 *   from the data; an empty type means "message".
 * - At the end of the stream, pending data is discarded: an event without its blank line, or a
 *   last line without its line ending, is never dispatched.
 *
 * Linear time whatever the chunking: only the current line (and the current event's data) is
 * kept between chunks, and each character is looked at a bounded number of times. No regex
 * runs over the stream.
 *
 * Web-standard only (Workers and Node).
 */

export interface SseEvent {
  /** The event type: the block's last `event` field, or "message" when it had none (or an empty one). */
  event: string;
  /** The `data` field values of the block, joined with "\n". */
  data: string;
  /**
   * The stream's last event ID when this event was dispatched (the spec's `lastEventId`). As
   * in the spec it carries over from earlier events until an `id` field changes it; absent
   * while it is the empty string (never set, or reset by an empty `id`).
   */
  id?: string;
  /** The reconnection time in milliseconds, when this event's block had a valid `retry` field. */
  retry?: number;
}

export interface SseParserOptions {
  /**
   * Largest event, in UTF-16 code units, the parser holds: a line, or an event's data, longer
   * than this is discarded and its event is dropped (counted in `dropped`), not dispatched.
   * Unlimited by default, which is what the spec describes; set it when the stream is untrusted.
   */
  maxEventLength?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = 0xfeff;

export class SseParser {
  readonly #max: number;
  /** The current, unterminated line: the only text kept between chunks besides the event's data. */
  #line = "";
  /** The current line has outgrown the limit; its text is being skipped. */
  #lineTooLong = false;
  /** The previous chunk ended with CR: a LF starting this chunk belongs to that line ending. */
  #afterCr = false;
  /** Whether the first character of the stream has been seen (for the BOM). */
  #started = false;

  #data: string[] = [];
  #dataLength = 0;
  #eventType = "";
  #idBuffer = "";
  #lastEventId = "";
  #blockRetry: number | undefined = undefined;
  #reconnectionTime: number | undefined = undefined;
  /** The event being read had a line or data over the limit: it will be dropped. */
  #oversized = false;
  #dropped = 0;

  constructor(options: SseParserOptions = {}) {
    const max = options.maxEventLength ?? Number.POSITIVE_INFINITY;
    if (!(max > 0)) throw new RangeError("maxEventLength must be positive");
    this.#max = max;
  }

  /** The last event ID string (spec): "" until an event is dispatched after an `id` field. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** The reconnection time (ms) from the latest valid `retry` field, whether or not its event was dispatched. */
  get reconnectionTime(): number | undefined {
    return this.#reconnectionTime;
  }

  /** Events dropped for exceeding `maxEventLength`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Feeds decoded text; returns the events completed by it, in order. */
  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    const n = chunk.length;
    if (n === 0) return out;
    let i = 0;
    if (!this.#started) {
      this.#started = true;
      if (chunk.charCodeAt(0) === BOM) i = 1;
    }
    if (this.#afterCr && i < n) {
      this.#afterCr = false;
      if (chunk.charCodeAt(i) === LF) i++;
    }
    // Positions of the next CR and LF at or after i; -1 once there is none left in the chunk.
    // Each is searched for again only after i has passed it, so the chunk is scanned once.
    let nextCr = -2;
    let nextLf = -2;
    while (i < n) {
      if (nextCr !== -1 && nextCr < i) nextCr = chunk.indexOf("\r", i);
      if (nextLf !== -1 && nextLf < i) nextLf = chunk.indexOf("\n", i);
      if (nextCr === -1 && nextLf === -1) {
        this.#keepPartial(chunk, i);
        break;
      }
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
      this.#lineEnded(chunk, i, end, out);
      i = end + 1;
      if (chunk.charCodeAt(end) === CR) {
        if (i === n) this.#afterCr = true;
        else if (chunk.charCodeAt(i) === LF) i++;
      }
    }
    return out;
  }

  /**
   * The stream has ended. Per the spec, pending data is discarded: a last line without its line
   * ending and an event without its blank line are not dispatched, so this returns no events.
   * The parser is then ready for a new stream (the last event ID and reconnection time stay).
   */
  end(): SseEvent[] {
    this.#line = "";
    this.#lineTooLong = false;
    this.#afterCr = false;
    this.#started = false;
    this.#resetEvent();
    this.#blockRetry = undefined;
    return [];
  }

  #keepPartial(chunk: string, from: number): void {
    if (this.#lineTooLong) return;
    if (this.#line.length + (chunk.length - from) > this.#max) {
      this.#lineTooLong = true;
      this.#line = "";
      return;
    }
    this.#line += from === 0 ? chunk : chunk.slice(from);
  }

  #lineEnded(chunk: string, from: number, end: number, out: SseEvent[]): void {
    if (this.#lineTooLong || this.#line.length + (end - from) > this.#max) {
      this.#lineTooLong = false;
      this.#line = "";
      this.#oversized = true;
      return;
    }
    let line = chunk.slice(from, end);
    if (this.#line !== "") {
      line = this.#line + line;
      this.#line = "";
    }
    this.#processLine(line, out);
  }

  #processLine(line: string, out: SseEvent[]): void {
    if (line === "") {
      this.#dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === COLON) return;
    const colon = line.indexOf(":");
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = "";
    } else {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    switch (field) {
      case "event":
        this.#eventType = value;
        break;
      case "data":
        if (this.#oversized) break;
        if (this.#dataLength + value.length + 1 > this.#max) {
          this.#oversized = true;
          this.#data = [];
          this.#dataLength = 0;
          break;
        }
        this.#data.push(value);
        this.#dataLength += value.length + 1;
        break;
      case "id":
        if (!value.includes("\u0000")) this.#idBuffer = value;
        break;
      case "retry":
        if (isAsciiDigits(value)) {
          const ms = Number(value);
          // Digits too many for an exact integer are ignored rather than rounded.
          if (Number.isSafeInteger(ms)) {
            this.#reconnectionTime = ms;
            this.#blockRetry = ms;
          }
        }
        break;
      default:
        break;
    }
  }

  #dispatch(out: SseEvent[]): void {
    this.#lastEventId = this.#idBuffer;
    const retry = this.#blockRetry;
    this.#blockRetry = undefined;
    if (this.#oversized) {
      this.#dropped++;
      this.#resetEvent();
      return;
    }
    if (this.#data.length === 0) {
      this.#resetEvent();
      return;
    }
    const event: SseEvent = { event: this.#eventType === "" ? "message" : this.#eventType, data: this.#data.join("\n") };
    if (this.#lastEventId !== "") event.id = this.#lastEventId;
    if (retry !== undefined) event.retry = retry;
    this.#resetEvent();
    out.push(event);
  }

  #resetEvent(): void {
    this.#data = [];
    this.#dataLength = 0;
    this.#eventType = "";
    this.#oversized = false;
  }
}

function isAsciiDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Bytes in, events out. Decodes UTF-8 as a stream (a character split across chunks is joined;
 * invalid bytes become U+FFFD, as the spec's UTF-8 decode does) and parses with `SseParser`.
 */
export function sseDecoderStream(options: SseParserOptions = {}): TransformStream<Uint8Array, SseEvent> {
  // ignoreBOM keeps a leading BOM in the text so the parser removes exactly one, as the spec says.
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  const parser = new SseParser(options);
  return new TransformStream<Uint8Array, SseEvent>({
    transform(chunk, controller) {
      for (const event of parser.push(decoder.decode(chunk, { stream: true }))) controller.enqueue(event);
    },
    flush(controller) {
      for (const event of parser.push(decoder.decode())) controller.enqueue(event);
      for (const event of parser.end()) controller.enqueue(event);
    },
  });
}

export interface SseEventInit {
  /** Omitted (or "") for the default type, "message". Must not contain CR or LF. */
  event?: string;
  /** Any text: each of its lines (split at CRLF, LF or CR) becomes one `data` line. */
  data: string;
  /** Must not contain CR, LF or U+0000. An empty string resets the last event ID. */
  id?: string;
  /** Reconnection time in ms: a non-negative safe integer. */
  retry?: number;
}

/**
 * One event in wire form, ending with its blank line. `SseParser` gives back the same type and
 * data (with CRLF and CR in the data read as LF, since the format cannot carry them).
 */
export function encodeSse(e: SseEventInit): string {
  let out = "";
  if (e.event !== undefined && e.event !== "") {
    if (hasLineBreak(e.event)) throw new TypeError("an SSE event type cannot contain CR or LF");
    out += `event: ${e.event}\n`;
  }
  if (e.id !== undefined) {
    if (hasLineBreak(e.id) || e.id.includes("\u0000")) throw new TypeError("an SSE id cannot contain CR, LF or NUL");
    out += e.id === "" ? "id:\n" : `id: ${e.id}\n`;
  }
  if (e.retry !== undefined) {
    if (!Number.isSafeInteger(e.retry) || e.retry < 0) throw new TypeError("an SSE retry must be a non-negative integer");
    out += `retry: ${e.retry}\n`;
  }
  let start = 0;
  const data = e.data;
  for (let i = 0; i <= data.length; i++) {
    const c = i < data.length ? data.charCodeAt(i) : -1;
    if (c !== -1 && c !== LF && c !== CR) continue;
    out += i === start ? "data:\n" : `data: ${data.slice(start, i)}\n`;
    if (c === CR && data.charCodeAt(i + 1) === LF) i++;
    start = i + 1;
  }
  return `${out}\n`;
}

function hasLineBreak(s: string): boolean {
  return s.includes("\n") || s.includes("\r");
}

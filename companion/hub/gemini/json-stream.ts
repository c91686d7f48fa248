/**
 * Gemini's non-SSE stream (streamGenerateContent without `alt=sse`): one JSON array whose
 * elements, GenerateContentResponse objects, arrive as they are produced
 * (`[{…}\n,\r\n{…}\n]`). This scanner cuts the text into those element objects as soon as
 * each one closes, whatever the chunking: it tracks strings, escapes and nesting depth, looks
 * at each character once, and keeps only the current element's text between chunks. A stream
 * of bare top-level objects (no array) is read the same way.
 */
export class JsonElementScanner {
  /** Nesting depth of objects/arrays, the outer array included. */
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Whether the first value was an array (elements are then at depth 1). */
  #top: "unknown" | "array" | "values" = "unknown";
  /** Text of the element being read, held across chunks. */
  #pending: string[] = [];
  #capturing = false;
  #closed = false;

  /** Feeds text; returns the complete element texts it finished, and junk found outside them. */
  push(chunk: string): { values: string[]; junk: boolean } {
    const values: string[] = [];
    let junk = false;
    let start = this.#capturing ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === 0x5c) this.#escape = true;
        else if (c === 0x22) this.#inString = false;
        continue;
      }
      if (c === 0x22) {
        this.#inString = true;
        if (!this.#capturing) junk = true;
        continue;
      }
      if (c === 0x7b || c === 0x5b) {
        // { or [
        if (this.#top === "unknown") {
          this.#top = c === 0x5b ? "array" : "values";
          if (c === 0x5b) {
            this.#depth = 1;
            continue;
          }
        }
        if (!this.#capturing && this.#depth === this.#elementDepth()) {
          this.#capturing = true;
          start = i;
        }
        this.#depth++;
        continue;
      }
      if (c === 0x7d || c === 0x5d) {
        // } or ]
        if (this.#depth === 0) {
          junk = true;
          continue;
        }
        this.#depth--;
        if (this.#capturing && this.#depth === this.#elementDepth()) {
          this.#pending.push(chunk.slice(start, i + 1));
          values.push(this.#pending.join(""));
          this.#pending = [];
          this.#capturing = false;
          start = -1;
        } else if (this.#top === "array" && this.#depth === 0) {
          this.#closed = true;
        }
        continue;
      }
      if (!this.#capturing && c !== 0x2c && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) junk = true;
    }
    if (this.#capturing) this.#pending.push(start <= 0 ? chunk : chunk.slice(start));
    return { values, junk };
  }

  /** True when the text ended inside an element or before the array's closing bracket. */
  get incomplete(): boolean {
    return this.#capturing || this.#inString || (this.#top === "array" && !this.#closed);
  }

  #elementDepth(): number {
    return this.#top === "array" ? 1 : 0;
  }
}

/**
 * Gemini stream → IR events. Reads both stream forms of streamGenerateContent: SSE
 * (`?alt=sse`, `data: {GenerateContentResponse}` events) and the JSON array sent without it;
 * the form is told from the first non-blank character (`[` or `{` → array).
 *
 * Gemini has no content blocks: each chunk holds a partial candidate whose parts continue the
 * answer. Consecutive text (or thought) parts extend one IR block; a part of another kind
 * closes it and opens the next. A functionCall arrives whole, so it is one block with its
 * arguments in one delta. usageMetadata holds running totals, which is what IR usage events
 * mean too ("the latest values win"). A chunk `{"error":{…}}` is a mid-stream error.
 */
import { SseParser } from "../../../shared/sse.ts";
import type { StreamDecoder } from "../codec.ts";
import { Drops } from "../drops.ts";
import type { IrDrop, IrEvent, IrPart, IrUsage } from "../ir.ts";
import { JsonElementScanner } from "./json-stream.ts";
import { decodeParts } from "./parts.ts";
import { answerDrops, CallIds, errorFromWire, isObj, randomHex, stopReasonFromWire, usageFromWire } from "./wire.ts";

type OpenKind = "text" | "reasoning";

export class GeminiStreamDecoder implements StreamDecoder {
  #form: "unknown" | "sse" | "array" = "unknown";
  readonly #sse = new SseParser();
  readonly #array = new JsonElementScanner();
  #started = false;
  #done = false;
  #open: { index: number; kind: OpenKind } | null = null;
  #nextIndex = 0;
  #sawToolCall = false;
  #lastUsage = "";
  #ids: CallIds | null = null;
  readonly #drops = new Drops();

  push(chunk: string): IrEvent[] {
    const out: IrEvent[] = [];
    if (this.#form === "unknown") {
      const first = firstSignificant(chunk);
      if (first === undefined) {
        // Only blanks so far: they mean nothing in either form.
        return out;
      }
      this.#form = first === "[" || first === "{" ? "array" : "sse";
    }
    if (this.#form === "sse") {
      for (const event of this.#sse.push(chunk)) this.#data(event.data, out);
    } else {
      const { values, junk } = this.#array.push(chunk);
      for (const value of values) this.#data(value, out);
      if (junk) this.#fail("the Gemini stream holds text outside its JSON objects", out);
    }
    return out;
  }

  end(): IrEvent[] {
    const out: IrEvent[] = [];
    if (this.#form === "sse") this.#sse.end();
    if (this.#done) return out;
    if (this.#form === "array" && this.#array.incomplete) this.#fail("the Gemini stream ended inside a JSON object", out);
    else this.#fail(this.#started ? "the Gemini stream ended without a finishReason" : "the Gemini stream was empty", out);
    return out;
  }

  #data(data: string, out: IrEvent[]): void {
    // Gemini never sends it, but OpenAI-style relays in front of Gemini do.
    if (data.trim() === "[DONE]") return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      this.#fail("the Gemini stream sent a chunk that is not JSON", out);
      return;
    }
    this.#chunk(json, out);
  }

  #chunk(json: unknown, out: IrEvent[]): void {
    if (this.#done && !isObj(json)) return;
    if (!isObj(json)) return this.#fail("a Gemini stream chunk must be a JSON object", out);
    const error = errorFromWire(json);
    if (error) {
      if (this.#done) return;
      this.#done = true;
      out.push({ type: "error", ...error });
      return;
    }
    const usage = usageFromWire(json.usageMetadata);
    if (this.#done) {
      // Usage sent after the finish chunk still counts.
      if (usage) this.#usage(usage, out);
      return;
    }
    const responseId = typeof json.responseId === "string" ? json.responseId : "";
    if (!this.#started) {
      this.#started = true;
      this.#ids = new CallIds(responseId || randomHex());
      out.push({ type: "start", id: responseId, model: typeof json.modelVersion === "string" ? json.modelVersion : "" });
    }
    const candidate = Array.isArray(json.candidates) ? json.candidates.find((c) => isObj(c) && (c.index === undefined || c.index === 0)) : undefined;
    if (isObj(candidate)) {
      const content = candidate.content;
      const partDrops: IrDrop[] = [];
      if (isObj(content) && Array.isArray(content.parts)) this.#parts(content.parts, partDrops, out);
      for (const d of answerDrops(partDrops, candidate)) this.#drops.announce(out, d.feature, d.reason);
    }
    const finishReason = isObj(candidate) ? candidate.finishReason : undefined;
    const blocked = candidate === undefined && isObj(json.promptFeedback) && json.promptFeedback.blockReason !== undefined;
    if ((finishReason !== undefined && finishReason !== null) || blocked) {
      this.#close(out);
      this.#done = true;
      if (usage) this.#lastUsage = JSON.stringify(usage);
      const finish: IrEvent = { type: "finish", stopReason: blocked ? "content_filter" : stopReasonFromWire(finishReason, this.#sawToolCall) };
      if (usage) finish.usage = usage;
      out.push(finish);
      return;
    }
    if (usage) this.#usage(usage, out);
  }

  #parts(parts: unknown[], drops: IrDrop[], out: IrEvent[]): void {
    let decoded: IrPart[];
    try {
      decoded = decodeParts(parts, { role: "assistant", drops, ids: this.#ids!, turn: 0, path: "candidates[0].content" });
    } catch (e) {
      return this.#fail(`a Gemini stream chunk is malformed: ${(e as Error).message}`, out);
    }
    for (const part of decoded) {
      if (part.type === "text" || (part.type === "reasoning" && part.text !== "" && part.thoughtSignature === undefined && part.signature === undefined)) {
        const kind: OpenKind = part.type;
        if (this.#open?.kind !== kind) {
          this.#close(out);
          const index = this.#nextIndex++;
          this.#open = { index, kind };
          out.push({ type: "block_start", index, part: kind === "text" ? { type: "text", text: "" } : { type: "reasoning", text: "" } });
        }
        const index = this.#open.index;
        out.push(kind === "text" ? { type: "text_delta", index, text: part.text } : { type: "reasoning_delta", index, text: part.text });
        continue;
      }
      this.#close(out);
      const index = this.#nextIndex++;
      if (part.type === "tool_call") {
        this.#sawToolCall = true;
        out.push({ type: "block_start", index, part: { ...part, arguments: "" } });
        out.push({ type: "tool_arguments_delta", index, json: part.arguments });
        out.push({ type: "block_stop", index });
      } else if (part.type === "reasoning") {
        // A signed thought (or a signature carrier): a block of its own whose start holds the
        // signature, so the signature stays with the text it came with. Thoughts after it in
        // later chunks continue this block.
        out.push({ type: "block_start", index, part: { ...part, text: "" } });
        if (part.text !== "") {
          out.push({ type: "reasoning_delta", index, text: part.text });
          this.#open = { index, kind: "reasoning" };
        } else out.push({ type: "block_stop", index });
      } else {
        out.push({ type: "block_start", index, part });
        out.push({ type: "block_stop", index });
      }
    }
  }

  #close(out: IrEvent[]): void {
    if (this.#open) out.push({ type: "block_stop", index: this.#open.index });
    this.#open = null;
  }

  #usage(usage: IrUsage, out: IrEvent[]): void {
    const key = JSON.stringify(usage);
    if (key === this.#lastUsage) return;
    this.#lastUsage = key;
    out.push({ type: "usage", usage });
  }

  #fail(message: string, out: IrEvent[]): void {
    if (this.#done) return;
    this.#done = true;
    out.push({ type: "error", status: 502, code: "upstream_failed", message });
  }
}

function firstSignificant(chunk: string): string | undefined {
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i]!;
    if (c !== " " && c !== "\n" && c !== "\r" && c !== "\t" && c !== "\ufeff") return c;
  }
  return undefined;
}


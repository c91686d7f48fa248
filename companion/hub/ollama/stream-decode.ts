/**
 * A streamed /api/chat answer (NDJSON) → IR events, one line at a time. Sources: see ./wire.ts.
 *
 * [O-API]: each line is `{model, created_at, message: {role, content, thinking?, tool_calls?},
 * done: false}`; the last has `done: true`, `done_reason` and the counters. Tool calls arrive
 * whole in one line ("Streaming with tools"). [O-ERR]: an error mid-stream is a line holding
 * only `error`.
 *
 * Ollama has no content blocks, so this decoder opens them: a run of `thinking` is one
 * reasoning block, a run of `content` one text block; each tool call is a block of its own
 * (block_start, one tool_arguments_delta with the whole JSON, block_stop). A switch of kind
 * closes the open block. Tool calls without an id get `call_<n>_<random>` ones.
 *
 * The first line yields `start` (Ollama has no answer id: one is made up); the done line
 * closes the open block and yields `finish` with the stop reason and usage. An `{error}` line,
 * a line that is not JSON, or an end without a done line yields an `error` event and ends the
 * decoding: later lines are ignored.
 */
import { NdjsonParser } from "../../../shared/ndjson.ts";
import type { StreamDecoder } from "../codec.ts";
import type { IrEvent } from "../ir.ts";
import { newAnswerId, toolCallParts } from "./response.ts";
import { isObject, stopReasonOf, toolCallIds, usageOf } from "./wire.ts";

type Open = { kind: "text" | "reasoning"; index: number } | null;

export class OllamaStreamDecoder implements StreamDecoder {
  readonly #parser = new NdjsonParser();
  readonly #newId = toolCallIds();
  #started = false;
  #ended = false;
  #open: Open = null;
  #nextIndex = 0;
  #sawToolCalls = false;

  push(chunk: string): IrEvent[] {
    const out: IrEvent[] = [];
    for (const item of this.#parser.push(chunk)) {
      if (this.#ended) break;
      if (item.ok) this.#line(item.value, out);
      else this.#fail(out, 502, "upstream_failed", `Ollama sent a line that is not JSON: ${item.line.slice(0, 200)}`);
    }
    return out;
  }

  end(): IrEvent[] {
    const out: IrEvent[] = [];
    for (const item of this.#parser.end()) {
      if (this.#ended) break;
      if (item.ok) this.#line(item.value, out);
      else this.#fail(out, 502, "upstream_failed", `Ollama sent a line that is not JSON: ${item.line.slice(0, 200)}`);
    }
    if (!this.#ended) this.#fail(out, 502, "upstream_failed", "Ollama closed the stream before the answer was done");
    return out;
  }

  #fail(out: IrEvent[], status: number, code: string, message: string): void {
    this.#ended = true;
    out.push({ type: "error", status, code, message });
  }

  #line(value: unknown, out: IrEvent[]): void {
    if (!isObject(value)) return this.#fail(out, 502, "upstream_failed", "Ollama sent a line that is not a JSON object");
    if (value.error !== undefined && value.error !== null) {
      // [O-ERR]: the model failed mid-answer; the HTTP status was already 200.
      return this.#fail(out, 500, "upstream_error", typeof value.error === "string" ? value.error : JSON.stringify(value.error));
    }
    if (!this.#started) {
      this.#started = true;
      out.push({ type: "start", id: newAnswerId(), model: typeof value.model === "string" ? value.model : "" });
    }
    const message = isObject(value.message) ? value.message : {};
    if (typeof message.thinking === "string" && message.thinking !== "") {
      out.push({ type: "reasoning_delta", index: this.#ensure("reasoning", out), text: message.thinking });
    }
    if (typeof message.content === "string" && message.content !== "") {
      out.push({ type: "text_delta", index: this.#ensure("text", out), text: message.content });
    }
    const calls = toolCallParts(message.tool_calls, this.#newId);
    if (!calls.ok) return this.#fail(out, 502, "upstream_failed", `Ollama sent an unreadable tool call: ${calls.error.message}`);
    for (const call of calls.value) {
      this.#close(out);
      this.#sawToolCalls = true;
      const index = this.#nextIndex++;
      out.push({ type: "block_start", index, part: { ...call, arguments: "" } });
      out.push({ type: "tool_arguments_delta", index, json: call.arguments });
      out.push({ type: "block_stop", index });
    }
    if (value.done === true) {
      this.#close(out);
      this.#ended = true;
      out.push({ type: "finish", stopReason: stopReasonOf(value.done_reason, this.#sawToolCalls), usage: usageOf(value) });
    }
  }

  /** The index of an open block of `kind`, opening one (and closing another) when needed. */
  #ensure(kind: "text" | "reasoning", out: IrEvent[]): number {
    if (this.#open?.kind === kind) return this.#open.index;
    this.#close(out);
    const index = this.#nextIndex++;
    this.#open = { kind, index };
    out.push({ type: "block_start", index, part: kind === "text" ? { type: "text", text: "" } : { type: "reasoning", text: "" } });
    return index;
  }

  #close(out: IrEvent[]): void {
    if (!this.#open) return;
    out.push({ type: "block_stop", index: this.#open.index });
    this.#open = null;
  }
}

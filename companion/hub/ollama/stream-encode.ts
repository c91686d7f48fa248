/**
 * IR events → a streamed /api/chat answer (NDJSON) for a client that speaks Ollama.
 * Sources: see ./wire.ts.
 *
 * Each text or reasoning delta goes out at once as one line `{model, created_at, message:
 * {role: "assistant", content, thinking?}, done: false}` ([O-API] stream lines). Ollama sends
 * tool calls whole, with arguments as an object, so a tool-call block's argument fragments are
 * gathered and the call goes out as one line when its block stops (`tool_calls: [{id,
 * function: {index, name, arguments}}]`, [O-TYPES]). `finish` writes the last line: `done:
 * true`, `done_reason` and the counters that are known. An IR `error` becomes Ollama's own
 * mid-stream error line `{"error": "..."}` ([O-ERR]) and ends the stream: nothing follows it.
 *
 * Not expressible here (no drop channel in a stream; the request side records its own):
 * reasoning signatures, and durations, which the hub does not know.
 */
import type { EncodeContext, StreamEncoder } from "../codec.ts";
import type { IrEvent, IrUsage } from "../ir.ts";
import { ollamaToolCall } from "./response.ts";
import { countersOf, createdAt, doneReasonOf, type OllamaChatChunk } from "./wire.ts";

interface PendingCall {
  id: string;
  name: string;
  json: string;
}

export class OllamaStreamEncoder implements StreamEncoder {
  readonly #model: string;
  readonly #createdAt: string;
  readonly #calls = new Map<number, PendingCall>();
  #usage: IrUsage = {};
  #toolIndex = 0;
  #closed = false;

  constructor(ctx: EncodeContext) {
    this.#model = ctx.model;
    this.#createdAt = createdAt(ctx.now);
  }

  push(event: IrEvent): string {
    if (this.#closed) return "";
    switch (event.type) {
      case "start":
        this.#merge(event.usage);
        return "";
      case "block_start": {
        const part = event.part;
        if (part.type === "tool_call") {
          this.#calls.set(event.index, { id: part.id, name: part.name, json: part.arguments });
          return "";
        }
        if (part.type === "text" && part.text !== "") return this.#line({ role: "assistant", content: part.text });
        if (part.type === "reasoning" && part.text !== "") return this.#line({ role: "assistant", content: "", thinking: part.text });
        return "";
      }
      case "text_delta":
        return event.text === "" ? "" : this.#line({ role: "assistant", content: event.text });
      case "reasoning_delta":
        return event.text ? this.#line({ role: "assistant", content: "", thinking: event.text }) : "";
      case "tool_arguments_delta": {
        const call = this.#calls.get(event.index);
        if (call) call.json += event.json;
        return "";
      }
      case "block_stop":
        return this.#flushCall(event.index);
      case "dropped":
        return "";
      case "usage":
        this.#merge(event.usage);
        return "";
      case "finish": {
        let out = this.#flushAll();
        this.#merge(event.usage);
        this.#closed = true;
        out += this.#json({ model: this.#model, created_at: this.#createdAt, message: { role: "assistant", content: "" }, done: true, done_reason: doneReasonOf(event.stopReason), ...countersOf(this.#usage) });
        return out;
      }
      case "error": {
        this.#closed = true;
        return this.#json({ error: event.message });
      }
    }
  }

  /** A stream that got neither `finish` nor `error` did not end well: the client is told. */
  end(): string {
    if (this.#closed) return "";
    const out = this.#flushAll();
    this.#closed = true;
    return out + this.#json({ error: "the answer ended before it was done" });
  }

  #merge(usage: IrUsage | undefined): void {
    if (usage) this.#usage = { ...this.#usage, ...definedOnly(usage) };
  }

  #flushCall(index: number): string {
    const call = this.#calls.get(index);
    if (!call) return "";
    this.#calls.delete(index);
    const toolCall = ollamaToolCall({ type: "tool_call", id: call.id, name: call.name, arguments: call.json }, this.#toolIndex++);
    return this.#line({ role: "assistant", content: "", tool_calls: [toolCall] });
  }

  #flushAll(): string {
    let out = "";
    for (const index of [...this.#calls.keys()]) out += this.#flushCall(index);
    return out;
  }

  #line(message: NonNullable<OllamaChatChunk["message"]>): string {
    return this.#json({ model: this.#model, created_at: this.#createdAt, message, done: false });
  }

  #json(value: OllamaChatChunk): string {
    return `${JSON.stringify(value)}\n`;
  }
}

function definedOnly(usage: IrUsage): IrUsage {
  const out: IrUsage = {};
  for (const [key, value] of Object.entries(usage) as [keyof IrUsage, number | undefined][]) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * IR events → the Responses API's SSE stream, one IR event at a time.
 *
 * Every event has an `event:` line naming its type and a `sequence_number` counting from 0,
 * as the API sends them (API reference, "Streaming events"). The order follows the API's own
 * transcripts: `response.created`, `response.in_progress`, then per output item
 * `output_item.added` → (content/summary part added → deltas → done) → `output_item.done`,
 * and one terminal event: `response.completed`, `response.incomplete` or `response.failed`.
 * Each IR block is one output item (a text block is a `message` with one `output_text` part),
 * so blocks that overlap (parallel tool calls) are simply items open at the same time.
 *
 * The openai SDK's ResponseStream checks this strictly (output indexes appended in order,
 * item ids matching, every item done before `response.completed`): stream-encode.sdk.test.ts
 * feeds this encoder's output to it.
 */
import { encodeSse } from "../../../shared/sse.ts";
import type { EncodeContext, StreamEncoder } from "../codec.ts";
import type { IrEvent, IrPart, IrUsage } from "../ir.ts";
import { callThoughtItem, functionCallItem, messageItem, reasoningItem, responseObject, summaryPart, textPart } from "./output-items.ts";
import { stateOf } from "./reasoning-state.ts";
import { failedCodeOf, mergeUsage, outcomeOf, type WireOutcome } from "./usage-status.ts";
import { itemId, type Json } from "./wire.ts";

/** An output item being streamed, for one IR block. */
type OpenItem =
  | { kind: "text"; id: string; outputIndex: number; text: string }
  | { kind: "tool"; id: string; outputIndex: number; callId: string; name: string; arguments: string }
  | { kind: "reasoning"; id: string; outputIndex: number; text: string; summaryOpen: boolean; signature: string; redactedData?: string; thoughtSignature?: string };

export class ResponsesStreamEncoder implements StreamEncoder {
  readonly #ctx: EncodeContext;
  readonly #createdAt: number;
  #sequence = 0;
  #started = false;
  /** A terminal event (completed / incomplete / failed) was sent: nothing more follows. */
  #ended = false;
  readonly #open = new Map<number, OpenItem>();
  /** Finished items by output index, for the terminal event's `output`. */
  readonly #done = new Map<number, Json>();
  #nextOutput = 0;
  readonly #usage: IrUsage = {};

  constructor(ctx: EncodeContext) {
    this.#ctx = ctx;
    this.#createdAt = Math.floor(ctx.now / 1000);
  }

  push(event: IrEvent): string {
    if (this.#ended) return "";
    if (event.type === "dropped") return "";
    let out = event.type === "start" || event.type === "usage" ? "" : this.#start();
    switch (event.type) {
      case "start":
        mergeUsage(this.#usage, event.usage);
        out += this.#start();
        break;
      case "block_start":
        out += this.#blockStart(event.index, event.part);
        break;
      case "text_delta":
        out += this.#textDelta(event.index, event.text);
        break;
      case "reasoning_delta":
        out += this.#reasoningDelta(event.index, event.text, event.signature);
        break;
      case "tool_arguments_delta": {
        const item = this.#open.get(event.index);
        if (item?.kind === "tool" && event.json !== "") {
          item.arguments += event.json;
          out += this.#emit("response.function_call_arguments.delta", { item_id: item.id, output_index: item.outputIndex, delta: event.json });
        }
        break;
      }
      case "block_stop":
        out += this.#blockStop(event.index);
        break;
      case "usage":
        mergeUsage(this.#usage, event.usage);
        break;
      case "finish":
        mergeUsage(this.#usage, event.usage);
        out += this.#closeAll() + this.#terminal(outcomeOf(event.stopReason));
        break;
      case "error":
        // The SDK raises `error` events as APIError; Codex reads `response.failed`. Both are sent.
        out += this.#emit("error", { code: event.code, message: event.message, param: null });
        out += this.#terminal({ status: "failed", incomplete_details: null, error: { code: failedCodeOf(event.status, event.code), message: event.message } });
        break;
    }
    return out;
  }

  end(): string {
    if (this.#ended) return "";
    return this.#start() + this.#terminal({ status: "failed", incomplete_details: null, error: { code: "server_error", message: "the upstream stream ended before the answer was complete" } });
  }

  #emit(type: string, fields: Json): string {
    return encodeSse({ event: type, data: JSON.stringify({ type, ...fields, sequence_number: this.#sequence++ }) });
  }

  #response(status: WireOutcome["status"] | "in_progress", outcome?: WireOutcome): Json {
    const output = [...this.#done.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
    return responseObject({ id: this.#ctx.id, createdAt: this.#createdAt, model: this.#ctx.model, status, ...(outcome ? { outcome } : {}), output, ...(status === "in_progress" ? {} : { usage: this.#usage }) });
  }

  #start(): string {
    if (this.#started) return "";
    this.#started = true;
    const response = this.#response("in_progress");
    return this.#emit("response.created", { response }) + this.#emit("response.in_progress", { response });
  }

  #terminal(outcome: WireOutcome): string {
    this.#ended = true;
    const type = outcome.status === "completed" ? "response.completed" : outcome.status === "incomplete" ? "response.incomplete" : "response.failed";
    return this.#emit(type, { response: this.#response(outcome.status, outcome) });
  }

  #blockStart(index: number, part: IrPart): string {
    if (this.#open.has(index)) return "";
    switch (part.type) {
      case "text": {
        const item: OpenItem = { kind: "text", id: itemId("msg", this.#ctx.id, this.#nextOutput), outputIndex: this.#nextOutput++, text: "" };
        this.#open.set(index, item);
        const out =
          this.#emit("response.output_item.added", { output_index: item.outputIndex, item: messageItem(item.id, "in_progress", []) }) +
          this.#emit("response.content_part.added", { item_id: item.id, output_index: item.outputIndex, content_index: 0, part: textPart("") });
        return out + this.#textDelta(index, part.text);
      }
      case "tool_call": {
        let out = "";
        if (part.thoughtSignature) {
          const outputIndex = this.#nextOutput++;
          const carrier = callThoughtItem(itemId("rs", this.#ctx.id, outputIndex), part.thoughtSignature);
          out += this.#emit("response.output_item.added", { output_index: outputIndex, item: carrier }) + this.#emit("response.output_item.done", { output_index: outputIndex, item: carrier });
          this.#done.set(outputIndex, carrier);
        }
        const item: OpenItem = { kind: "tool", id: itemId("fc", this.#ctx.id, this.#nextOutput), outputIndex: this.#nextOutput++, callId: part.id, name: part.name, arguments: "" };
        this.#open.set(index, item);
        out += this.#emit("response.output_item.added", { output_index: item.outputIndex, item: functionCallItem(item.id, "in_progress", item) });
        return out + this.push({ type: "tool_arguments_delta", index, json: part.arguments });
      }
      case "reasoning": {
        const item: OpenItem = { kind: "reasoning", id: itemId("rs", this.#ctx.id, this.#nextOutput), outputIndex: this.#nextOutput++, text: "", summaryOpen: false, signature: part.signature ?? "" };
        if (part.redactedData) item.redactedData = part.redactedData;
        if (part.thoughtSignature) item.thoughtSignature = part.thoughtSignature;
        this.#open.set(index, item);
        return this.#emit("response.output_item.added", { output_index: item.outputIndex, item: reasoningItem(item.id, "", undefined) }) + this.#reasoningDelta(index, part.text, undefined);
      }
      default:
        // Images, documents and tool results are never assistant output.
        return "";
    }
  }

  #textDelta(index: number, text: string): string {
    let out = "";
    if (!this.#open.has(index)) out += this.#blockStart(index, { type: "text", text: "" });
    const item = this.#open.get(index);
    if (item?.kind !== "text" || text === "") return out;
    item.text += text;
    return out + this.#emit("response.output_text.delta", { item_id: item.id, output_index: item.outputIndex, content_index: 0, delta: text, logprobs: [] });
  }

  #reasoningDelta(index: number, text: string | undefined, signature: string | undefined): string {
    const item = this.#open.get(index);
    if (item?.kind !== "reasoning") return "";
    if (signature) item.signature += signature;
    if (!text) return "";
    let out = "";
    if (!item.summaryOpen) {
      item.summaryOpen = true;
      out += this.#emit("response.reasoning_summary_part.added", { item_id: item.id, output_index: item.outputIndex, summary_index: 0, part: summaryPart("") });
    }
    item.text += text;
    return out + this.#emit("response.reasoning_summary_text.delta", { item_id: item.id, output_index: item.outputIndex, summary_index: 0, delta: text });
  }

  #blockStop(index: number): string {
    const item = this.#open.get(index);
    if (!item) return "";
    this.#open.delete(index);
    const at = { item_id: item.id, output_index: item.outputIndex };
    let out = "";
    let done: Json;
    switch (item.kind) {
      case "text":
        out += this.#emit("response.output_text.done", { ...at, content_index: 0, text: item.text, logprobs: [] });
        out += this.#emit("response.content_part.done", { ...at, content_index: 0, part: textPart(item.text) });
        done = messageItem(item.id, "completed", [item.text]);
        break;
      case "tool":
        out += this.#emit("response.function_call_arguments.done", { ...at, arguments: item.arguments });
        done = functionCallItem(item.id, "completed", item);
        break;
      case "reasoning":
        if (item.summaryOpen) {
          out += this.#emit("response.reasoning_summary_text.done", { ...at, summary_index: 0, text: item.text });
          out += this.#emit("response.reasoning_summary_part.done", { ...at, summary_index: 0, part: summaryPart(item.text) });
        }
        done = reasoningItem(item.id, item.text, stateOf({ ...(item.signature ? { signature: item.signature } : {}), ...(item.redactedData ? { redactedData: item.redactedData } : {}), ...(item.thoughtSignature ? { thoughtSignature: item.thoughtSignature } : {}) }));
        break;
    }
    this.#done.set(item.outputIndex, done);
    return out + this.#emit("response.output_item.done", { output_index: item.outputIndex, item: done });
  }

  /** Blocks left open when the answer finishes are closed first: `response.completed` needs every item done. */
  #closeAll(): string {
    let out = "";
    for (const index of [...this.#open.keys()].sort((a, b) => a - b)) out += this.#blockStop(index);
    return out;
  }
}

/**
 * IR events → Anthropic Messages stream (SSE), incrementally, in the sequence the API sends
 * (https://docs.claude.com/en/docs/build-with-claude/streaming): `message_start` (with usage)
 * and a `ping`, then each block's `content_block_start` / `content_block_delta`s /
 * `content_block_stop`, then `message_delta` (stop_reason, stop_sequence, cumulative usage) and
 * `message_stop`. An IR `error` becomes `event: error` with the API's error body, after which
 * the stream ends as the API's does (nothing follows an error event).
 *
 * The wire has one block open at a time, numbered from 0 in order. IR streams from dialects
 * without blocks may interleave two open blocks (OpenAI's parallel tool calls): the block that
 * started first stays on the wire, and a later block's events wait until the one before it
 * stops — only events of blocks open at the same time are held.
 */
import { encodeSse } from "../../../shared/sse.ts";
import type { EncodeContext, StreamEncoder } from "../codec.ts";
import type { IrEvent, IrPart, IrUsage } from "../ir.ts";
import { errorBody, errorType, wireInputUsage, writeStopReason, type Json } from "./wire.ts";

type WireKind = "text" | "thinking" | "redacted" | "tool";

interface Block {
  kind: WireKind;
  wireIndex: number;
  /** Wire events not yet written: the block is not the one on the wire yet. */
  pending: string[];
  stopped: boolean;
}

function sse(data: Json): string {
  return encodeSse({ event: String(data.type), data: JSON.stringify(data) });
}

export class AnthropicStreamEncoder implements StreamEncoder {
  readonly #ctx: EncodeContext;
  #started = false;
  #closed = false;
  #usage: IrUsage = {};
  #nextWire = 0;
  /** Open (or stopped but not yet written) blocks in the order they started; the head is on the wire. */
  readonly #queue: Block[] = [];
  readonly #byIr = new Map<number, Block>();

  constructor(ctx: EncodeContext) {
    this.#ctx = ctx;
  }

  push(event: IrEvent): string {
    if (this.#closed) return "";
    switch (event.type) {
      case "start":
        if (event.usage) this.#mergeUsage(event.usage);
        return this.#start();
      case "block_start":
        return this.#start() + this.#blockStart(event.index, event.part);
      case "text_delta": {
        const b = this.#byIr.get(event.index);
        if (!b || b.kind !== "text" || event.text === "") return "";
        return this.#emit(b, { type: "content_block_delta", index: b.wireIndex, delta: { type: "text_delta", text: event.text } });
      }
      case "reasoning_delta": {
        const b = this.#byIr.get(event.index);
        if (!b || b.kind !== "thinking") return "";
        let out = "";
        if (event.text) out += this.#emit(b, { type: "content_block_delta", index: b.wireIndex, delta: { type: "thinking_delta", thinking: event.text } });
        if (event.signature) out += this.#emit(b, { type: "content_block_delta", index: b.wireIndex, delta: { type: "signature_delta", signature: event.signature } });
        return out;
      }
      case "tool_arguments_delta": {
        const b = this.#byIr.get(event.index);
        if (!b || b.kind !== "tool" || event.json === "") return "";
        return this.#emit(b, { type: "content_block_delta", index: b.wireIndex, delta: { type: "input_json_delta", partial_json: event.json } });
      }
      case "block_stop": {
        const b = this.#byIr.get(event.index);
        if (!b) return "";
        this.#byIr.delete(event.index);
        return this.#stop(b);
      }
      case "dropped":
        return "";
      case "usage":
        this.#mergeUsage(event.usage);
        return "";
      case "finish":
        if (event.usage) this.#mergeUsage(event.usage);
        return this.#finish(writeStopReason(event.stopReason), event.stopSequence ?? null);
      case "error":
        this.#closed = true;
        return sse(errorBody(errorType(event.status, event.code), event.message));
    }
  }

  end(): string {
    if (this.#closed) return "";
    // The events stopped without a finish: close the message properly all the same.
    return this.#finish("end_turn", null);
  }

  #start(): string {
    if (this.#started) return "";
    this.#started = true;
    const message = {
      id: this.#ctx.id,
      type: "message",
      role: "assistant",
      model: this.#ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...wireInputUsage(this.#usage), output_tokens: this.#usage.outputTokens ?? 0 },
    };
    return sse({ type: "message_start", message }) + sse({ type: "ping" });
  }

  #blockStart(irIndex: number, part: IrPart): string {
    if (this.#byIr.has(irIndex)) return "";
    let kind: WireKind;
    let block: Json;
    const follow: Json[] = [];
    switch (part.type) {
      case "text":
        kind = "text";
        block = { type: "text", text: "" };
        if (part.text) follow.push({ type: "text_delta", text: part.text });
        break;
      case "reasoning":
        if (part.redactedData !== undefined) {
          kind = "redacted";
          block = { type: "redacted_thinking", data: part.redactedData };
          break;
        }
        kind = "thinking";
        block = { type: "thinking", thinking: "", signature: "" };
        if (part.text) follow.push({ type: "thinking_delta", thinking: part.text });
        if (part.signature) follow.push({ type: "signature_delta", signature: part.signature });
        break;
      case "tool_call":
        kind = "tool";
        block = { type: "tool_use", id: part.id, name: part.name, input: {} };
        if (part.arguments) follow.push({ type: "input_json_delta", partial_json: part.arguments });
        break;
      default:
        // Images, documents and tool results are not parts of an answer.
        return "";
    }
    const b: Block = { kind, wireIndex: this.#nextWire++, pending: [], stopped: false };
    this.#byIr.set(irIndex, b);
    this.#queue.push(b);
    let out = this.#emit(b, { type: "content_block_start", index: b.wireIndex, content_block: block });
    for (const delta of follow) out += this.#emit(b, { type: "content_block_delta", index: b.wireIndex, delta });
    return out;
  }

  #emit(b: Block, data: Json): string {
    b.pending.push(sse(data));
    return this.#drain();
  }

  #stop(b: Block): string {
    if (b.stopped) return "";
    b.pending.push(sse({ type: "content_block_stop", index: b.wireIndex }));
    b.stopped = true;
    return this.#drain();
  }

  /** Writes the head block's events; once it has stopped, the next block becomes the head. */
  #drain(): string {
    let out = "";
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      out += head.pending.join("");
      head.pending = [];
      if (!head.stopped) break;
      this.#queue.shift();
    }
    return out;
  }

  #finish(stopReason: string, stopSequence: string | null): string {
    let out = this.#start();
    for (const b of [...this.#queue]) out += this.#stop(b);
    this.#byIr.clear();
    this.#closed = true;
    const u = this.#usage;
    const usage: Json = u.inputTokens !== undefined ? { ...wireInputUsage(u), output_tokens: u.outputTokens ?? 0 } : { output_tokens: u.outputTokens ?? 0 };
    if (u.reasoningTokens !== undefined) usage.output_tokens_details = { thinking_tokens: u.reasoningTokens };
    out += sse({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage });
    return out + sse({ type: "message_stop" });
  }

  #mergeUsage(u: IrUsage): void {
    const next: IrUsage = { ...this.#usage };
    for (const [k, v] of Object.entries(u) as [keyof IrUsage, number | undefined][]) if (v !== undefined) next[k] = v;
    this.#usage = next;
  }
}

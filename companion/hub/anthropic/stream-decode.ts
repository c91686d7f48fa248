/**
 * Anthropic Messages stream (SSE) → IR events, incrementally.
 *
 * The wire (https://docs.claude.com/en/docs/build-with-claude/streaming): `message_start` (the
 * message with empty content and first usage), then per content block `content_block_start`,
 * `content_block_delta`s (text_delta, input_json_delta, thinking_delta, signature_delta,
 * citations_delta) and `content_block_stop`; `message_delta` (stop_reason, stop_sequence,
 * cumulative usage); `message_stop`. `ping` may come anywhere; `error` ends a failed stream.
 * Unknown event types are to be ignored ("we may occasionally add new event types").
 *
 * Blocks the IR has no part for (server_tool_use, web_search_tool_result…) are skipped with their
 * deltas and announced once as a `dropped` event; IR indices count only the blocks passed on. A `tool_use` of `FERRY_JSON_TOOL` streams
 * as a text block whose text is its JSON input.
 */
import { SseParser } from "../../../shared/sse.ts";
import type { StreamDecoder } from "../codec.ts";
import type { IrEvent, IrPart, IrStopReason } from "../ir.ts";
import { blockDropped, CITATIONS_DROPPED, Drops, errorStatus, FERRY_JSON_TOOL, isObj, mergeWireUsage, parseJson, readStopReason, str, toIrUsage, type Json, type WireUsage } from "./wire.ts";

type BlockKind = "text" | "reasoning" | "tool" | "json";

export class AnthropicStreamDecoder implements StreamDecoder {
  readonly #sse = new SseParser();
  /** Wire block index → the IR block it became (absent: skipped or unknown). */
  readonly #blocks = new Map<number, { index: number; kind: BlockKind }>();
  #nextIndex = 0;
  #usage: WireUsage = {};
  #started = false;
  /** A finish or an error has been passed on: the stream's outcome is known. */
  #done = false;
  #realToolCalls = 0;
  #jsonAnswer = false;
  readonly #drops = new Drops();

  push(chunk: string): IrEvent[] {
    const out: IrEvent[] = [];
    for (const e of this.#sse.push(chunk)) this.#event(e.event, e.data, out);
    return out;
  }

  end(): IrEvent[] {
    const out: IrEvent[] = [];
    for (const e of this.#sse.end()) this.#event(e.event, e.data, out);
    if (!this.#done) {
      this.#done = true;
      out.push({ type: "error", status: 502, code: "api_error", message: "the Anthropic stream ended before its message_delta" });
    }
    return out;
  }

  #event(name: string, data: string, out: IrEvent[]): void {
    if (name === "ping") return;
    const value = parseJson(data);
    if (!isObj(value)) {
      if (!this.#done) out.push({ type: "error", status: 502, code: "api_error", message: `unreadable Anthropic stream event ${JSON.stringify(name)}` });
      this.#done = true;
      return;
    }
    // The `type` inside the data is authoritative; the SSE event name is the same string.
    const type = str(value.type) ?? name;
    if (this.#done && type !== "message_stop") return;
    switch (type) {
      case "message_start":
        return this.#start(value, out);
      case "content_block_start":
        return this.#blockStart(value, out);
      case "content_block_delta":
        return this.#blockDelta(value, out);
      case "content_block_stop": {
        const block = this.#blocks.get(num(value.index));
        if (block) out.push({ type: "block_stop", index: block.index });
        this.#blocks.delete(num(value.index));
        return;
      }
      case "message_delta":
        return this.#messageDelta(value, out);
      case "message_stop":
        if (!this.#done) {
          this.#done = true;
          this.#ensureStarted(out);
          out.push({ type: "finish", stopReason: "other", usage: toIrUsage(this.#usage) });
        }
        return;
      case "error": {
        const e = isObj(value.error) ? value.error : {};
        const code = str(e.type) ?? "api_error";
        this.#done = true;
        out.push({ type: "error", status: errorStatus(code), code, message: str(e.message) ?? "the Anthropic stream failed" });
        return;
      }
      default:
        return;
    }
  }

  #ensureStarted(out: IrEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push({ type: "start", id: "", model: "" });
  }

  #start(value: Json, out: IrEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    const message = isObj(value.message) ? value.message : {};
    this.#usage = mergeWireUsage({}, message.usage);
    const event: IrEvent = { type: "start", id: str(message.id) ?? "", model: str(message.model) ?? "" };
    const usage = toIrUsage(this.#usage);
    if (Object.keys(usage).length > 0) event.usage = usage;
    out.push(event);
  }

  #blockStart(value: Json, out: IrEvent[]): void {
    this.#ensureStarted(out);
    const cb = isObj(value.content_block) ? value.content_block : {};
    const wireIndex = num(value.index);
    let part: IrPart;
    let kind: BlockKind;
    const follow: IrEvent[] = [];
    const index = this.#nextIndex;
    switch (cb.type) {
      case "text": {
        part = { type: "text", text: "" };
        kind = "text";
        if (Array.isArray(cb.citations) && cb.citations.length > 0) this.#drops.announce(out, "response.citations", CITATIONS_DROPPED);
        const text = str(cb.text);
        if (text) follow.push({ type: "text_delta", index, text });
        break;
      }
      case "thinking": {
        part = { type: "reasoning", text: "" };
        kind = "reasoning";
        const text = str(cb.thinking);
        const signature = str(cb.signature);
        if (text) follow.push({ type: "reasoning_delta", index, text });
        if (signature) follow.push({ type: "reasoning_delta", index, signature });
        break;
      }
      case "redacted_thinking":
        part = { type: "reasoning", text: "", redactedData: str(cb.data) ?? "" };
        kind = "reasoning";
        break;
      case "tool_use": {
        const name = str(cb.name) ?? "";
        // `input` starts as {} and fills through input_json_delta; a server that sends it whole
        // at the start is read too.
        const input = isObj(cb.input) && Object.keys(cb.input).length > 0 ? JSON.stringify(cb.input) : "";
        if (name === FERRY_JSON_TOOL) {
          this.#jsonAnswer = true;
          part = { type: "text", text: "" };
          kind = "json";
          if (input) follow.push({ type: "text_delta", index, text: input });
        } else {
          this.#realToolCalls++;
          part = { type: "tool_call", id: str(cb.id) ?? "", name, arguments: "" };
          kind = "tool";
          if (input) follow.push({ type: "tool_arguments_delta", index, json: input });
        }
        break;
      }
      default:
        this.#drops.announce(out, ...blockDropped(cb.type));
        return;
    }
    this.#nextIndex++;
    this.#blocks.set(wireIndex, { index, kind });
    out.push({ type: "block_start", index, part }, ...follow);
  }

  #blockDelta(value: Json, out: IrEvent[]): void {
    const block = this.#blocks.get(num(value.index));
    const d = isObj(value.delta) ? value.delta : {};
    if (!block) return;
    const { index, kind } = block;
    switch (d.type) {
      case "text_delta": {
        const text = str(d.text);
        if (text && (kind === "text" || kind === "json")) out.push({ type: "text_delta", index, text });
        return;
      }
      case "input_json_delta": {
        const json = str(d.partial_json);
        if (!json) return;
        if (kind === "tool") out.push({ type: "tool_arguments_delta", index, json });
        else if (kind === "json") out.push({ type: "text_delta", index, text: json });
        return;
      }
      case "thinking_delta": {
        const text = str(d.thinking);
        if (text && kind === "reasoning") out.push({ type: "reasoning_delta", index, text });
        return;
      }
      case "signature_delta": {
        const signature = str(d.signature);
        if (signature && kind === "reasoning") out.push({ type: "reasoning_delta", index, signature });
        return;
      }
      case "citations_delta":
        this.#drops.announce(out, "response.citations", CITATIONS_DROPPED);
        return;
      default:
        return;
    }
  }

  #messageDelta(value: Json, out: IrEvent[]): void {
    this.#ensureStarted(out);
    this.#usage = mergeWireUsage(this.#usage, value.usage);
    const usage = toIrUsage(this.#usage);
    const delta = isObj(value.delta) ? value.delta : {};
    if (delta.stop_reason === undefined || delta.stop_reason === null) {
      out.push({ type: "usage", usage });
      return;
    }
    let stopReason: IrStopReason = readStopReason(delta.stop_reason);
    if (stopReason === "tool_use" && this.#jsonAnswer && this.#realToolCalls === 0) stopReason = "end_turn";
    const finish: IrEvent = { type: "finish", stopReason, usage };
    const stopSequence = str(delta.stop_sequence);
    if (stopSequence !== undefined) finish.stopSequence = stopSequence;
    this.#done = true;
    out.push(finish);
  }
}

/** A block index: a number, or -1 (no block) for anything else. */
function num(v: unknown): number {
  return typeof v === "number" ? v : -1;
}

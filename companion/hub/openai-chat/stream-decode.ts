/**
 * A target's `chat.completion.chunk` SSE stream → IR events, incrementally.
 *
 * Chat Completions has no content blocks, so this keeps the state that makes them: reasoning
 * (`delta.reasoning_content`, DeepSeek; `delta.reasoning`, OpenRouter/vLLM) and text
 * (`delta.content`, `delta.refusal`) each open a block that lasts until the other kind
 * arrives; each tool call (`delta.tool_calls[].index`) is a block of its own, started when its
 * name is known. Fragments of parallel calls may interleave by index, so tool blocks stay
 * open until `finish_reason`, when every open block is closed.
 *
 * The `finish` event waits for the usage chunk that follows `finish_reason` when the request
 * asked for `stream_options.include_usage` (a chunk with empty `choices`, SDK
 * `ChatCompletionStreamOptions`), so that one event carries both; `[DONE]` or the end of the
 * stream releases it. A stream that ends with neither `finish_reason` nor `[DONE]` was cut:
 * it ends with an `error` event.
 */
import { SseParser, type SseEvent } from "../../../shared/sse.ts";
import type { StreamDecoder } from "../codec.ts";
import type { IrEvent, IrPart, IrStopReason, IrUsage } from "../ir.ts";
import { answerExtras, decodeErrorObject, Drops, decodeFinishReason, decodeUsage, generateCallId, isFiniteNumber, isRecord, type Json, present } from "./wire.ts";

interface ToolState {
  /** IR block index once started. */
  index?: number;
  id?: string;
  name?: string;
  thoughtSignature?: string;
  /** Argument fragments that came before the name. */
  buffered: string;
  closed: boolean;
}

export class ChatStreamDecoder implements StreamDecoder {
  readonly #sse = new SseParser();
  #started = false;
  #nextIndex = 0;
  #text: number | null = null;
  #reasoning: number | null = null;
  readonly #tools = new Map<number, ToolState>();
  #lastToolKey: number | null = null;
  #sawTools = false;
  #refusal = false;
  readonly #drops = new Drops();
  #usage: IrUsage | undefined;
  #pendingFinish: { stopReason: IrStopReason; stopSequence?: string } | null = null;
  #finished = false;
  #errored = false;
  #done = false;

  push(chunk: string): IrEvent[] {
    const out: IrEvent[] = [];
    for (const ev of this.#sse.push(chunk)) this.#event(ev, out);
    return out;
  }

  end(): IrEvent[] {
    const out: IrEvent[] = [];
    for (const ev of this.#sse.end()) this.#event(ev, out);
    // An error after finish_reason (while the usage chunk was awaited) ends the stream: no finish.
    if (this.#pendingFinish && !this.#errored) this.#emitFinish(out);
    else if (!this.#finished && !this.#errored) {
      out.push({ type: "error", status: 502, code: "upstream_truncated", message: "the target's stream ended before the answer was complete" });
      this.#errored = true;
    }
    return out;
  }

  #event(ev: SseEvent, out: IrEvent[]): void {
    // After the finish (its usage chunk included) the answer is complete: a late error changes nothing.
    if (this.#done || this.#errored || this.#finished) return;
    if (ev.data === "[DONE]") {
      this.#doneReceived(out);
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      this.#fail(out, { status: 502, code: "bad_response", message: "the target sent a stream event that is not JSON" });
      return;
    }
    if (!isRecord(data)) return;
    // Mid-stream errors: `data: {"error": {...}}` (OpenAI, OpenRouter — which also sends
    // finish_reason "error" in the same chunk), vLLM's flat `{"object": "error", ...}`, or an
    // `event: error` SSE event; the openai SDK throws an APIError on each (core/streaming.ts).
    if (present(data.error)) return this.#fail(out, decodeErrorObject(data.error));
    if (data.object === "error" || ev.event === "error") return this.#fail(out, decodeErrorObject(data));
    this.#chunk(data, out);
  }

  #fail(out: IrEvent[], e: { status: number; code: string; message: string }): void {
    out.push({ type: "error", ...e });
    this.#errored = true;
  }

  #chunk(c: Json, out: IrEvent[]): void {
    const choices = Array.isArray(c.choices) ? c.choices : [];
    const usage = present(c.usage) ? decodeUsage(c.usage) : undefined;
    // Azure opens with a chunk of prompt_filter_results, empty choices and an empty id: the answer starts later.
    if (!this.#started) {
      if (choices.length === 0 && !usage) return;
      this.#started = true;
      out.push({ type: "start", id: typeof c.id === "string" ? c.id : "", model: typeof c.model === "string" ? c.model : "" });
    }
    const choice = choices.find((ch) => isRecord(ch) && (ch.index === 0 || ch.index === undefined));
    // After finish_reason only the usage chunk is expected; stray deltas are ignored.
    if (isRecord(choice) && !this.#pendingFinish && !this.#finished) {
      if (isRecord(choice.delta)) this.#delta(choice.delta, out);
      if (present(choice.finish_reason)) {
        this.#closeAll(out);
        this.#pendingFinish = decodeFinishReason(choice.finish_reason, { toolCalls: this.#sawTools, refusal: this.#refusal, stopString: choice.stop_reason });
      }
    }
    if (usage) {
      this.#usage = { ...this.#usage, ...usage };
      if (this.#pendingFinish) this.#emitFinish(out);
      else out.push({ type: "usage", usage });
    }
  }

  #delta(d: Json, out: IrEvent[]): void {
    const reasoning = typeof d.reasoning_content === "string" ? d.reasoning_content : typeof d.reasoning === "string" ? d.reasoning : "";
    if (reasoning !== "") {
      if (this.#reasoning === null) {
        this.#closeText(out);
        this.#reasoning = this.#open(out, { type: "reasoning", text: "" });
      }
      out.push({ type: "reasoning_delta", index: this.#reasoning, text: reasoning });
    }
    for (const key of ["content", "refusal"] as const) {
      const text = d[key];
      if (typeof text !== "string" || text === "") continue;
      if (key === "refusal") this.#refusal = true;
      if (this.#text === null) {
        this.#closeReasoning(out);
        this.#text = this.#open(out, { type: "text", text: "" });
      }
      out.push({ type: "text_delta", index: this.#text, text });
    }
    answerExtras(d, this.#drops, out);
    if (Array.isArray(d.tool_calls)) for (const tc of d.tool_calls) if (isRecord(tc)) this.#toolFragment(tc, out);
    if (isRecord(d.function_call)) this.#toolFragment({ index: 0, function: d.function_call }, out);
  }

  #toolFragment(tc: Json, out: IrEvent[]): void {
    let key: number;
    if (isFiniteNumber(tc.index)) key = tc.index;
    else if (typeof tc.id === "string" && tc.id !== "" && ![...this.#tools.values()].some((t) => t.id === tc.id)) key = this.#tools.size === 0 ? 0 : Math.max(...this.#tools.keys()) + 1;
    else key = this.#lastToolKey ?? 0;
    this.#lastToolKey = key;
    let state = this.#tools.get(key);
    if (!state) {
      state = { buffered: "", closed: false };
      this.#tools.set(key, state);
    }
    if (state.closed) return;
    if (state.id === undefined && typeof tc.id === "string" && tc.id !== "") state.id = tc.id;
    const fn = isRecord(tc.function) ? tc.function : {};
    if (state.name === undefined && typeof fn.name === "string" && fn.name !== "") state.name = fn.name;
    const sig = isRecord(tc.extra_content) && isRecord(tc.extra_content.google) ? tc.extra_content.google.thought_signature : undefined;
    if (typeof sig === "string") state.thoughtSignature = sig;
    const args = typeof fn.arguments === "string" ? fn.arguments : isRecord(fn.arguments) ? JSON.stringify(fn.arguments) : "";

    if (state.index === undefined) {
      if (state.name === undefined) {
        state.buffered += args;
        return;
      }
      this.#closeText(out);
      this.#closeReasoning(out);
      // Hosts that send no id get a generated one (kept for the whole stream).
      const part: IrPart = { type: "tool_call", id: state.id ?? generateCallId(), name: state.name, arguments: "" };
      if (state.thoughtSignature !== undefined) part.thoughtSignature = state.thoughtSignature;
      state.index = this.#open(out, part);
      this.#sawTools = true;
      const first = state.buffered + args;
      state.buffered = "";
      if (first !== "") out.push({ type: "tool_arguments_delta", index: state.index, json: first });
      return;
    }
    if (args !== "") out.push({ type: "tool_arguments_delta", index: state.index, json: args });
  }

  #open(out: IrEvent[], part: IrPart): number {
    const index = this.#nextIndex++;
    out.push({ type: "block_start", index, part });
    return index;
  }

  #closeText(out: IrEvent[]): void {
    if (this.#text === null) return;
    out.push({ type: "block_stop", index: this.#text });
    this.#text = null;
  }

  #closeReasoning(out: IrEvent[]): void {
    if (this.#reasoning === null) return;
    out.push({ type: "block_stop", index: this.#reasoning });
    this.#reasoning = null;
  }

  #closeAll(out: IrEvent[]): void {
    const open: number[] = [];
    if (this.#text !== null) open.push(this.#text);
    if (this.#reasoning !== null) open.push(this.#reasoning);
    for (const t of this.#tools.values()) {
      if (t.index !== undefined && !t.closed) open.push(t.index);
      t.closed = true;
    }
    this.#text = null;
    this.#reasoning = null;
    for (const index of open.sort((a, b) => a - b)) out.push({ type: "block_stop", index });
  }

  #emitFinish(out: IrEvent[]): void {
    const f = this.#pendingFinish;
    if (!f) return;
    const event: IrEvent = { type: "finish", stopReason: f.stopReason };
    if (f.stopSequence !== undefined) event.stopSequence = f.stopSequence;
    if (this.#usage) event.usage = this.#usage;
    out.push(event);
    this.#pendingFinish = null;
    this.#finished = true;
  }

  /** `[DONE]`: the target says the answer is complete, even when it sent no finish_reason. */
  #doneReceived(out: IrEvent[]): void {
    this.#done = true;
    if (this.#finished) return;
    if (!this.#pendingFinish) {
      if (!this.#started) {
        this.#started = true;
        out.push({ type: "start", id: "", model: "" });
      }
      this.#closeAll(out);
      this.#pendingFinish = { stopReason: this.#sawTools ? "tool_use" : "end_turn" };
    }
    this.#emitFinish(out);
  }
}

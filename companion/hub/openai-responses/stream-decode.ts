/**
 * A Responses API SSE stream → IR events, incrementally (shared/sse.ts does the framing, so
 * chunks may split anywhere).
 *
 * Each `function_call` and `reasoning` output item is one IR block; each content part of a
 * `message` item is one text block (refusal parts too, and the stop reason becomes
 * `refusal`). Reasoning summary parts of one item join with a blank line. A reasoning item's
 * `encrypted_content`, complete only in `response.output_item.done`, comes out as the block's
 * signature (see reasoning-state.ts). Servers that send only the `.done` events, or only
 * `response.completed` with its output, are read too: whatever text the deltas did not carry
 * is emitted from the final values.
 */
import { SseParser } from "../../../shared/sse.ts";
import type { StreamDecoder } from "../codec.ts";
import type { IrEvent, IrUsage } from "../ir.ts";
import { reasoningPart } from "./response.ts";
import { statusOfCode, stopOf, usageFromWire } from "./usage-status.ts";
import { ANNOTATIONS_DROPPED, arr, Drops, isObj, itemDropped, num, str, type Json } from "./wire.ts";

type ItemState =
  | { type: "function_call"; block: number; sent: number; open: boolean }
  | { type: "reasoning"; block: number; parts: number; open: boolean }
  | { type: "message"; parts: Map<number, { block: number; sent: number; open: boolean }> }
  | { type: "other" };

export class ResponsesStreamDecoder implements StreamDecoder {
  readonly #parser = new SseParser();
  #started = false;
  #over = false;
  #nextBlock = 0;
  readonly #items = new Map<number, ItemState>();
  readonly #drops = new Drops();
  readonly #seen = { toolCall: false, refusal: false };

  push(chunk: string): IrEvent[] {
    const out: IrEvent[] = [];
    for (const sse of this.#parser.push(chunk)) {
      if (this.#over) break;
      if (sse.data === "[DONE]") continue;
      let data: unknown;
      try {
        data = JSON.parse(sse.data);
      } catch {
        this.#fail(out, 502, "upstream_failed", "the Responses stream sent an event that is not JSON");
        break;
      }
      if (!isObj(data)) continue;
      this.#event(str(data.type) ?? sse.event, data, out);
    }
    return out;
  }

  end(): IrEvent[] {
    this.#parser.end();
    const out: IrEvent[] = [];
    if (!this.#over) this.#fail(out, 502, "upstream_failed", "the Responses stream ended before response.completed");
    return out;
  }

  #fail(out: IrEvent[], status: number, code: string, message: string): void {
    this.#over = true;
    out.push({ type: "error", status, code, message });
  }

  #start(out: IrEvent[], response?: Json): void {
    if (this.#started) return;
    this.#started = true;
    const usage = usageFromWire(response?.usage);
    out.push({ type: "start", id: str(response?.id) ?? "", model: str(response?.model) ?? "", ...(usage ? { usage } : {}) });
  }

  #event(type: string, e: Json, out: IrEvent[]): void {
    const response = isObj(e.response) ? e.response : undefined;
    this.#start(out, response);
    const outputIndex = num(e.output_index) ?? 0;
    switch (type) {
      case "response.output_item.added":
        if (isObj(e.item)) this.#itemAdded(outputIndex, e.item, out);
        return;
      case "response.content_part.added":
        if (isObj(e.part) && (e.part.type === "output_text" || e.part.type === "refusal")) this.#textPart(outputIndex, num(e.content_index) ?? 0, out, e.part.type === "refusal");
        return;
      case "response.output_text.delta":
      case "response.refusal.delta":
        this.#text(outputIndex, num(e.content_index) ?? 0, str(e.delta) ?? "", false, out, type === "response.refusal.delta");
        return;
      case "response.output_text.done":
      case "response.refusal.done":
        this.#text(outputIndex, num(e.content_index) ?? 0, str(type === "response.refusal.done" ? e.refusal : e.text) ?? "", true, out, type === "response.refusal.done");
        return;
      case "response.output_text.annotation.added":
        this.#drops.announce(out, ...ANNOTATIONS_DROPPED);
        return;
      case "response.content_part.done":
        if (isObj(e.part) && e.part.type !== "reasoning_text") this.#closePart(outputIndex, num(e.content_index) ?? 0, out);
        return;
      case "response.function_call_arguments.delta":
      case "response.function_call_arguments.done":
        this.#arguments(outputIndex, str(type.endsWith("delta") ? e.delta : e.arguments) ?? "", type.endsWith("done"), out);
        return;
      case "response.reasoning_summary_part.added": {
        const item = this.#items.get(outputIndex);
        if (item?.type === "reasoning" && item.parts++ > 0) out.push({ type: "reasoning_delta", index: item.block, text: "\n\n" });
        return;
      }
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        const item = this.#items.get(outputIndex);
        const delta = str(e.delta) ?? "";
        if (item?.type !== "reasoning" || delta === "") return;
        if (item.parts === 0) item.parts = 1;
        out.push({ type: "reasoning_delta", index: item.block, text: delta });
        return;
      }
      case "response.output_item.done":
        if (isObj(e.item)) this.#itemDone(outputIndex, e.item, out);
        return;
      case "response.completed":
      case "response.incomplete":
        if (response) this.#finish(response, out);
        return;
      case "response.failed": {
        const usage = usageFromWire(response?.usage);
        if (usage) out.push({ type: "usage", usage });
        const error = isObj(response?.error) ? response.error : {};
        const code = str(error.code) ?? "server_error";
        this.#fail(out, statusOfCode(code), code, str(error.message) ?? "the response failed");
        return;
      }
      case "error": {
        // Flat per the API reference (`{type, code, message, param}`); some servers nest it under `error`.
        const nested = isObj(e.error);
        const error = isObj(e.error) ? e.error : e;
        const code = str(error.code) ?? (nested ? str(error.type) : undefined) ?? "upstream_error";
        this.#fail(out, num(error.status) ?? statusOfCode(code), code, str(error.message) ?? "the upstream reported an error");
        return;
      }
      default:
        return;
    }
  }

  #itemAdded(outputIndex: number, item: Json, out: IrEvent[]): void {
    if (this.#items.has(outputIndex)) return;
    switch (item.type) {
      case "function_call": {
        const state: ItemState = { type: "function_call", block: this.#nextBlock++, sent: 0, open: true };
        this.#items.set(outputIndex, state);
        this.#seen.toolCall = true;
        out.push({ type: "block_start", index: state.block, part: { type: "tool_call", id: str(item.call_id) ?? str(item.id) ?? "", name: str(item.name) ?? "", arguments: "" } });
        this.#arguments(outputIndex, str(item.arguments) ?? "", false, out);
        return;
      }
      case "reasoning": {
        const state: ItemState = { type: "reasoning", block: this.#nextBlock++, parts: 0, open: true };
        this.#items.set(outputIndex, state);
        out.push({ type: "block_start", index: state.block, part: { type: "reasoning", text: "" } });
        return;
      }
      case "message":
        this.#items.set(outputIndex, { type: "message", parts: new Map() });
        return;
      default:
        this.#items.set(outputIndex, { type: "other" });
        this.#drops.announce(out, ...itemDropped(item.type));
    }
  }

  #textPart(outputIndex: number, contentIndex: number, out: IrEvent[], refusal: boolean) {
    let item = this.#items.get(outputIndex);
    if (!item) {
      item = { type: "message", parts: new Map() };
      this.#items.set(outputIndex, item);
    }
    if (item.type !== "message") return undefined;
    let part = item.parts.get(contentIndex);
    if (!part) {
      part = { block: this.#nextBlock++, sent: 0, open: true };
      item.parts.set(contentIndex, part);
      out.push({ type: "block_start", index: part.block, part: { type: "text", text: "" } });
    }
    if (refusal) this.#seen.refusal = true;
    return part;
  }

  /** A delta, or (`final`) the whole text of which only the unsent tail is emitted. */
  #text(outputIndex: number, contentIndex: number, text: string, final: boolean, out: IrEvent[], refusal: boolean): void {
    const part = this.#textPart(outputIndex, contentIndex, out, refusal);
    if (!part?.open) return;
    const delta = final ? text.slice(part.sent) : text;
    if (delta === "") return;
    part.sent += delta.length;
    out.push({ type: "text_delta", index: part.block, text: delta });
  }

  #closePart(outputIndex: number, contentIndex: number, out: IrEvent[]): void {
    const item = this.#items.get(outputIndex);
    const part = item?.type === "message" ? item.parts.get(contentIndex) : undefined;
    if (!part?.open) return;
    part.open = false;
    out.push({ type: "block_stop", index: part.block });
  }

  #arguments(outputIndex: number, json: string, final: boolean, out: IrEvent[]): void {
    const item = this.#items.get(outputIndex);
    if (item?.type !== "function_call" || !item.open) return;
    const delta = final ? json.slice(item.sent) : json;
    if (delta === "") return;
    item.sent += delta.length;
    out.push({ type: "tool_arguments_delta", index: item.block, json: delta });
  }

  #itemDone(outputIndex: number, item: Json, out: IrEvent[]): void {
    this.#itemAdded(outputIndex, item, out);
    const state = this.#items.get(outputIndex);
    if (!state) return;
    switch (state.type) {
      case "function_call":
        this.#arguments(outputIndex, str(item.arguments) ?? "", true, out);
        if (state.open) out.push({ type: "block_stop", index: state.block });
        state.open = false;
        return;
      case "reasoning": {
        if (!state.open) return;
        const part = reasoningPart(item);
        if (state.parts === 0 && part.type === "reasoning" && part.text !== "") out.push({ type: "reasoning_delta", index: state.block, text: part.text });
        if (part.type === "reasoning" && part.signature) out.push({ type: "reasoning_delta", index: state.block, signature: part.signature });
        out.push({ type: "block_stop", index: state.block });
        state.open = false;
        return;
      }
      case "message": {
        const content = arr(item.content) ?? [];
        content.forEach((p, contentIndex) => {
          if (!isObj(p) || (p.type !== "output_text" && p.type !== "refusal")) return;
          const refusal = p.type === "refusal";
          this.#text(outputIndex, contentIndex, str(refusal ? p.refusal : p.text) ?? "", true, out, refusal);
        });
        for (const contentIndex of [...state.parts.keys()]) this.#closePart(outputIndex, contentIndex, out);
        return;
      }
      case "other":
        return;
    }
  }

  #finish(response: Json, out: IrEvent[]): void {
    // A server that streamed no items still lists them in the final response.
    if (this.#items.size === 0) (arr(response.output) ?? []).forEach((item, i) => isObj(item) && this.#itemDone(i, item, out));
    for (const [outputIndex, state] of this.#items) {
      if (state.type === "message") for (const contentIndex of state.parts.keys()) this.#closePart(outputIndex, contentIndex, out);
      else if (state.type !== "other" && state.open) {
        state.open = false;
        out.push({ type: "block_stop", index: state.block });
      }
    }
    this.#over = true;
    const usage: IrUsage | undefined = usageFromWire(response.usage);
    out.push({ type: "finish", stopReason: stopOf(response.status, response.incomplete_details, this.#seen), ...(usage ? { usage } : {}) });
  }
}

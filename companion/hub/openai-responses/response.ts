/**
 * Whole (non-streamed) answers: a Responses API `Response` object ↔ IR.
 *
 * Each IR part becomes one output item: text → a `message` with one `output_text` part,
 * tool_call → a `function_call` (preceded by its thought-signature carrier when it has one),
 * reasoning → a `reasoning` item whose summary is the reasoning text and whose
 * `encrypted_content` holds the opaque state (reasoning-state.ts). Stop reasons map to
 * `status` + `incomplete_details` (usage-status.ts).
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { EncodeContext, HubError } from "../codec.ts";
import type { IrPart, IrResponse } from "../ir.ts";
import { callThoughtItem, functionCallItem, messageItem, reasoningItem, responseObject } from "./output-items.ts";
import { stateOf } from "./reasoning-state.ts";
import { outcomeOf, stopOf, usageFromWire } from "./usage-status.ts";
import { ANNOTATIONS_DROPPED, arr, Drops, isObj, itemDropped, itemId, str, type Json } from "./wire.ts";

export function decodeResponse(body: unknown): Result<IrResponse, HubError> {
  if (!isObj(body)) return err({ code: "bad_request", message: "a Responses answer must be a JSON object" });
  const output = arr(body.output);
  if (!output) return err({ code: "bad_request", message: "a Responses answer needs an `output` array" });
  const content: IrPart[] = [];
  const seen = { toolCall: false, refusal: false };
  const drops = new Drops();
  for (const item of output) {
    if (!isObj(item)) continue;
    if (item.type === "message") {
      for (const part of arr(item.content) ?? []) {
        if (!isObj(part)) continue;
        if (part.type === "output_text") {
          if ((arr(part.annotations) ?? []).length > 0) drops.add(...ANNOTATIONS_DROPPED);
          content.push({ type: "text", text: str(part.text) ?? "" });
        } else if (part.type === "refusal") {
          seen.refusal = true;
          content.push({ type: "text", text: str(part.refusal) ?? "" });
        }
      }
    } else if (item.type === "function_call") {
      seen.toolCall = true;
      content.push({ type: "tool_call", id: str(item.call_id) ?? str(item.id) ?? "", name: str(item.name) ?? "", arguments: str(item.arguments) ?? "" });
    } else if (item.type === "reasoning") {
      content.push(reasoningPart(item));
    } else {
      drops.add(...itemDropped(item.type));
    }
  }
  const response: IrResponse = {
    id: str(body.id) ?? "",
    model: str(body.model) ?? "",
    content,
    stopReason: stopOf(body.status, body.incomplete_details, seen),
    usage: usageFromWire(body.usage) ?? {},
  };
  if (drops.list.length > 0) response.dropped = drops.list;
  return ok(response);
}

/** An OpenAI target's reasoning item: summary (or raw reasoning text) + encrypted_content as the signature. */
export function reasoningPart(item: Json): IrPart {
  const summary = (arr(item.summary) ?? []).filter(isObj).map((s) => str(s.text) ?? "");
  const raw = (arr(item.content) ?? []).filter(isObj).map((s) => str(s.text) ?? "");
  const text = summary.length > 0 ? summary.join("\n\n") : raw.join("\n\n");
  const encrypted = str(item.encrypted_content);
  return encrypted ? { type: "reasoning", text, signature: encrypted } : { type: "reasoning", text };
}

export function encodeResponse(ir: IrResponse, ctx: EncodeContext): unknown {
  const output: Json[] = [];
  const next = (prefix: "msg" | "fc" | "rs") => itemId(prefix, ctx.id, output.length);
  const outcome = outcomeOf(ir.stopReason);
  for (const part of ir.content) {
    switch (part.type) {
      case "text":
        output.push(messageItem(next("msg"), outcome.status === "incomplete" ? "incomplete" : "completed", [part.text]));
        break;
      case "tool_call":
        if (part.thoughtSignature) output.push(callThoughtItem(next("rs"), part.thoughtSignature));
        output.push(functionCallItem(next("fc"), "completed", { callId: part.id, name: part.name, arguments: part.arguments }));
        break;
      case "reasoning":
        output.push(reasoningItem(next("rs"), part.text, stateOf(part)));
        break;
      default:
        // Images, documents and tool results are never assistant output.
        break;
    }
  }
  return responseObject({ id: ctx.id, createdAt: Math.floor(ctx.now / 1000), model: ctx.model, status: outcome.status, outcome, output, usage: ir.usage });
}

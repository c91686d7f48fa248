/**
 * Anthropic Message object (a non-streamed answer) ⇄ IR response.
 *
 * `{id, type: "message", role: "assistant", model, content, stop_reason, stop_sequence, usage}`
 * (Messages API reference; SDK 1.x `Message`). A `tool_use` of `FERRY_JSON_TOOL` is the JSON
 * answer the encoder asked for: it becomes a text part and the turn ends normally.
 */
import type { EncodeContext } from "../codec.ts";
import type { IrPart, IrResponse } from "../ir.ts";
import { blockDropped, CITATIONS_DROPPED, Drops, FERRY_JSON_TOOL, isObj, mergeWireUsage, parseJson, readStopReason, Refusal, str, toIrUsage, writeStopReason, writeUsage, type Json } from "./wire.ts";

export function decodeResponseBody(body: unknown): IrResponse {
  if (!isObj(body)) throw new Refusal("the answer must be a JSON object");
  if (body.type === "error") {
    const e = isObj(body.error) ? body.error : {};
    throw new Refusal(`the target answered with an error: ${str(e.type) ?? "error"}: ${str(e.message) ?? ""}`);
  }
  if (!Array.isArray(body.content)) throw new Refusal("the answer has no content array");
  const content: IrPart[] = [];
  const drops = new Drops();
  let realToolCalls = 0;
  let jsonAnswer = false;
  body.content.forEach((b, i) => {
    if (!isObj(b) || typeof b.type !== "string") throw new Refusal(`content.${i} must be a content block with a type`);
    switch (b.type) {
      case "text":
        if (typeof b.text !== "string") throw new Refusal(`content.${i}.text must be a string`);
        if (Array.isArray(b.citations) && b.citations.length > 0) drops.add("response.citations", CITATIONS_DROPPED);
        content.push({ type: "text", text: b.text });
        break;
      case "thinking": {
        if (typeof b.thinking !== "string") throw new Refusal(`content.${i}.thinking must be a string`);
        const signature = str(b.signature);
        content.push(signature ? { type: "reasoning", text: b.thinking, signature } : { type: "reasoning", text: b.thinking });
        break;
      }
      case "redacted_thinking":
        if (typeof b.data !== "string") throw new Refusal(`content.${i}.data must be a string`);
        content.push({ type: "reasoning", text: "", redactedData: b.data });
        break;
      case "tool_use": {
        if (typeof b.id !== "string" || typeof b.name !== "string") throw new Refusal(`content.${i}: tool_use needs a string id and name`);
        const args = JSON.stringify(b.input ?? {});
        if (b.name === FERRY_JSON_TOOL) {
          jsonAnswer = true;
          content.push({ type: "text", text: args });
        } else {
          realToolCalls++;
          content.push({ type: "tool_call", id: b.id, name: b.name, arguments: args });
        }
        break;
      }
      // Server-tool blocks (server_tool_use, web_search_tool_result…), container uploads and
      // newer kinds have no IR part: left out, and recorded.
      default:
        drops.add(...blockDropped(b.type));
        break;
    }
  });
  let stopReason = readStopReason(body.stop_reason);
  if (stopReason === "tool_use" && jsonAnswer && realToolCalls === 0) stopReason = "end_turn";
  const out: IrResponse = { id: str(body.id) ?? "", model: str(body.model) ?? "", content, stopReason, usage: toIrUsage(mergeWireUsage({}, body.usage)) };
  if (drops.list.length > 0) out.dropped = drops.list;
  const stopSequence = str(body.stop_sequence);
  if (stopSequence !== undefined) out.stopSequence = stopSequence;
  return out;
}

export function encodeResponseBody(ir: IrResponse, ctx: EncodeContext): Json {
  const content: Json[] = [];
  for (const part of ir.content) {
    const block = responseBlock(part);
    if (block) content.push(block);
  }
  return {
    id: ctx.id,
    type: "message",
    role: "assistant",
    model: ctx.model,
    content,
    stop_reason: writeStopReason(ir.stopReason),
    stop_sequence: ir.stopSequence ?? null,
    usage: writeUsage(ir.usage),
  };
}

/** An assistant part as a response content block (other part kinds do not occur in answers). */
export function responseBlock(part: IrPart): Json | undefined {
  switch (part.type) {
    case "text":
      return { type: "text", text: part.text };
    case "reasoning":
      if (part.redactedData !== undefined) return { type: "redacted_thinking", data: part.redactedData };
      // ThinkingBlock.signature is required; reasoning from a dialect without one gets "".
      return { type: "thinking", thinking: part.text, signature: part.signature ?? "" };
    case "tool_call":
      return { type: "tool_use", id: part.id, name: part.name, input: toolInput(part.arguments) };
    default:
      return undefined;
  }
}

/** Tool-call arguments (JSON text) as a tool_use `input` object: unparsable or non-object text gives {}. */
export function toolInput(args: string): Json {
  const parsed = parseJson(args);
  return isObj(parsed) ? parsed : {};
}

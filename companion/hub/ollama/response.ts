/**
 * Whole (non-streamed) /api/chat answers ⇄ IR. Sources: see ./wire.ts.
 *
 * [O-API] "Chat request (No streaming)": `{model, created_at, message: {role, content,
 * thinking?, tool_calls?}, done: true, done_reason, total_duration, load_duration,
 * prompt_eval_count, prompt_eval_duration, eval_count, eval_duration}`.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { EncodeContext, HubError } from "../codec.ts";
import type { IrPart, IrResponse } from "../ir.ts";
import {
  argumentsJson,
  argumentsObject,
  countersOf,
  createdAt,
  doneReasonOf,
  isObject,
  randomToken,
  stopReasonOf,
  toolCallIds,
  usageOf,
  type OllamaChatChunk,
  type OllamaToolCall,
} from "./wire.ts";

/** Ollama's answer has no id; the hub names it. */
export function newAnswerId(): string {
  return `ollama-${randomToken(24)}`;
}

/**
 * Ollama's tool calls (whole, arguments as objects) → IR tool_call parts; ids kept, or made up
 * with `newId` where the server sent none. Entries without a function name are unreadable.
 */
export function toolCallParts(calls: unknown, newId: () => string): Result<Extract<IrPart, { type: "tool_call" }>[], HubError> {
  if (calls === undefined || calls === null) return ok([]);
  if (!Array.isArray(calls)) return err({ code: "bad_request", message: "message.tool_calls must be an array" });
  const parts: Extract<IrPart, { type: "tool_call" }>[] = [];
  for (const call of calls) {
    if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== "string") {
      return err({ code: "bad_request", message: "a tool call without function.name" });
    }
    const id = typeof call.id === "string" && call.id !== "" ? call.id : newId();
    parts.push({ type: "tool_call", id, name: call.function.name, arguments: argumentsJson(call.function.arguments) });
  }
  return ok(parts);
}

export function decodeResponse(body: unknown): Result<IrResponse, HubError> {
  if (!isObject(body)) return err({ code: "bad_request", message: "Ollama's answer is not a JSON object" });
  // [O-ERR]: errors are `{"error": "..."}`.
  if (body.error !== undefined && body.error !== null) {
    return err({ code: "bad_request", message: `Ollama answered with an error: ${typeof body.error === "string" ? body.error : JSON.stringify(body.error)}` });
  }
  const message = body.message === undefined || body.message === null ? {} : body.message;
  if (!isObject(message)) return err({ code: "bad_request", message: "message must be an object" });
  if (message.content !== undefined && message.content !== null && typeof message.content !== "string") {
    return err({ code: "bad_request", message: "message.content must be a string" });
  }
  if (message.thinking !== undefined && message.thinking !== null && typeof message.thinking !== "string") {
    return err({ code: "bad_request", message: "message.thinking must be a string" });
  }
  const content: IrPart[] = [];
  if (typeof message.thinking === "string" && message.thinking !== "") content.push({ type: "reasoning", text: message.thinking });
  if (typeof message.content === "string" && message.content !== "") content.push({ type: "text", text: message.content });
  const calls = toolCallParts(message.tool_calls, toolCallIds());
  if (!calls.ok) return calls;
  content.push(...calls.value);
  // A body with done: false is an answer cut short (a stream line posing as a whole answer).
  const stopReason = body.done === false ? "other" : stopReasonOf(body.done_reason, calls.value.length > 0);
  return ok({
    id: newAnswerId(),
    model: typeof body.model === "string" ? body.model : "",
    content,
    stopReason,
    usage: usageOf(body),
  });
}

/** IR tool call → Ollama's (arguments as an object; JSON text that is no object is passed on as it is). */
export function ollamaToolCall(part: Extract<IrPart, { type: "tool_call" }>, index: number): OllamaToolCall {
  const args = argumentsObject(part.arguments);
  return { id: part.id, function: { index, name: part.name, arguments: args ?? part.arguments } };
}

/**
 * IR → a whole /api/chat answer for a client that speaks Ollama. Texts are concatenated,
 * reasoning becomes `thinking`. Durations are not known to the hub and are left out (Ollama
 * itself omits zero counters and durations, [O-TYPES] `omitempty`).
 */
export function encodeResponse(ir: IrResponse, ctx: EncodeContext): OllamaChatChunk {
  let text = "";
  let thinking = "";
  const calls: OllamaToolCall[] = [];
  for (const part of ir.content) {
    if (part.type === "text") text += part.text;
    else if (part.type === "reasoning") thinking += part.text;
    else if (part.type === "tool_call") calls.push(ollamaToolCall(part, calls.length));
  }
  const message: NonNullable<OllamaChatChunk["message"]> = { role: "assistant", content: text };
  if (thinking !== "") message.thinking = thinking;
  if (calls.length) message.tool_calls = calls;
  return {
    model: ctx.model,
    created_at: createdAt(ctx.now),
    message,
    done: true,
    done_reason: doneReasonOf(ir.stopReason),
    ...countersOf(ir.usage),
  };
}

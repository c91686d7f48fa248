/**
 * Whole answers: `chat.completion` (SDK `ChatCompletion`) ↔ IR response.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { EncodeContext, HubError } from "../codec.ts";
import type { IrPart, IrResponse } from "../ir.ts";
import { answerExtras, decodeErrorBody, Drops, decodeFinishReason, decodeUsage, encodeFinishReason, encodeUsage, generateCallId, isRecord, type Json, present } from "./wire.ts";

export function decodeResponse(body: unknown): Result<IrResponse, HubError> {
  if (!isRecord(body)) return err({ code: "bad_request", message: "the chat completion is not a JSON object" });
  const error = decodeErrorBody(body);
  if (error) return err({ code: "bad_request", message: `the target answered an error: ${error.message}` });
  if (!Array.isArray(body.choices) || body.choices.length === 0 || !isRecord(body.choices[0])) {
    return err({ code: "bad_request", message: "the chat completion has no choices" });
  }
  const choice = body.choices[0];
  const message = isRecord(choice.message) ? choice.message : {};
  const content: IrPart[] = [];

  // DeepSeek: `reasoning_content`; OpenRouter / vLLM: `reasoning`.
  const reasoning = typeof message.reasoning_content === "string" ? message.reasoning_content : typeof message.reasoning === "string" ? message.reasoning : "";
  if (reasoning !== "") content.push({ type: "reasoning", text: reasoning });
  if (typeof message.content === "string") {
    if (message.content !== "") content.push({ type: "text", text: message.content });
  } else if (Array.isArray(message.content)) {
    for (const p of message.content) if (isRecord(p) && typeof p.text === "string") content.push({ type: "text", text: p.text });
  }
  const refusal = typeof message.refusal === "string" && message.refusal !== "";
  if (refusal) content.push({ type: "text", text: message.refusal as string });

  let toolCalls = false;
  if (Array.isArray(message.tool_calls)) {
    for (const tc of message.tool_calls) {
      if (!isRecord(tc) || !isRecord(tc.function) || typeof tc.function.name !== "string") continue;
      const args = tc.function.arguments;
      const part: IrPart = {
        type: "tool_call",
        id: typeof tc.id === "string" && tc.id !== "" ? tc.id : generateCallId(),
        name: tc.function.name,
        arguments: typeof args === "string" ? args : present(args) ? JSON.stringify(args) : "",
      };
      const sig = isRecord(tc.extra_content) && isRecord(tc.extra_content.google) ? tc.extra_content.google.thought_signature : undefined;
      if (typeof sig === "string") part.thoughtSignature = sig;
      content.push(part);
      toolCalls = true;
    }
  }
  if (isRecord(message.function_call) && typeof message.function_call.name === "string") {
    const args = message.function_call.arguments;
    content.push({ type: "tool_call", id: generateCallId(), name: message.function_call.name, arguments: typeof args === "string" ? args : "" });
    toolCalls = true;
  }

  const drops = new Drops();
  answerExtras(message, drops);
  if (body.choices.length > 1) drops.add("response.choices", "only the first choice is passed on");
  const stop = decodeFinishReason(choice.finish_reason, { toolCalls, refusal, stopString: choice.stop_reason });
  const out: IrResponse = {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    content,
    stopReason: stop.stopReason,
    usage: decodeUsage(body.usage) ?? {},
  };
  if (stop.stopSequence !== undefined) out.stopSequence = stop.stopSequence;
  if (drops.list.length > 0) out.dropped = drops.list;
  return ok(out);
}

export function encodeResponse(ir: IrResponse, ctx: EncodeContext): unknown {
  let text = "";
  let hasText = false;
  let reasoning = "";
  const toolCalls: Json[] = [];
  for (const p of ir.content) {
    if (p.type === "text") {
      text += p.text;
      hasText = true;
    } else if (p.type === "reasoning") reasoning += p.text;
    else if (p.type === "tool_call") toolCalls.push(encodeToolCall(p));
  }
  const message: Json = { role: "assistant", content: hasText || toolCalls.length === 0 ? text : null, refusal: null };
  // DeepSeek's field; clients that do not know it ignore it (the openai SDK keeps unknown fields).
  if (reasoning !== "") message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: ctx.id,
    object: "chat.completion",
    created: Math.floor(ctx.now / 1000),
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: encodeFinishReason(ir.stopReason) }],
    usage: encodeUsage(ir.usage),
  };
}

/** A tool call on the client's wire; a Gemini thought signature rides where Gemini's own OpenAI layer puts it. */
export function encodeToolCall(p: Extract<IrPart, { type: "tool_call" }>, index?: number): Json {
  const out: Json = index === undefined ? {} : { index };
  out.id = p.id;
  out.type = "function";
  // An empty argument text (a call without arguments) is sent as "{}": clients JSON.parse it.
  out.function = { name: p.name, arguments: p.arguments === "" && index === undefined ? "{}" : p.arguments };
  if (p.thoughtSignature !== undefined) out.extra_content = { google: { thought_signature: p.thoughtSignature } };
  return out;
}

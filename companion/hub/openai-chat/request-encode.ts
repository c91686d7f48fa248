/**
 * IR → Chat Completions request body, for any OpenAI-compatible host (OpenAI, DeepSeek,
 * DashScope, OpenRouter, vLLM…).
 *
 * Text-only content is sent as a string, never as an array of parts: DeepSeek does not accept
 * content in list format (LiteLLM flattens it for that reason, litellm/llms/deepseek/chat/
 * transformation.py), and every host accepts strings. Several text blocks are joined: "\n\n"
 * between system, user and tool blocks, nothing between assistant text blocks (Anthropic
 * splits one answer into several blocks mid-sentence, e.g. around citations).
 */
import { ok, type Result } from "../../../shared/result.ts";
import type { Encoded, HubError } from "../codec.ts";
import type { IrMessage, IrPart, IrRequest, IrResponseFormat } from "../ir.ts";
import { dataUrl, Drops, isOpenAiFirstParty, type Json } from "./wire.ts";

const CACHE_REASON = "explicit cache breakpoints are not sent to Chat Completions hosts, which cache prefixes on their own";

export function encodeRequest(ir: IrRequest, ctx: { model: string }): Result<Encoded, HubError> {
  const drops = new Drops();
  const firstParty = isOpenAiFirstParty(ctx.model);
  const messages: Json[] = [];
  if (ir.system.length > 0) {
    if (ir.system.some((s) => s.cacheControl)) drops.add("cache_control", CACHE_REASON);
    messages.push({ role: "system", content: ir.system.map((s) => s.text).join("\n\n") });
  }
  for (const m of ir.messages) {
    if (m.role === "user") encodeUser(m, messages, drops);
    else encodeAssistant(m, messages, drops, firstParty);
  }

  const body: Json = { model: ctx.model, messages };
  if (ir.tools.length > 0) {
    body.tools = ir.tools.map((t) => {
      if (t.cacheControl) drops.add("cache_control", CACHE_REASON);
      const fn: Json = { name: t.name };
      if (t.description !== undefined) fn.description = t.description;
      fn.parameters = t.parameters;
      return { type: "function", function: fn };
    });
    if (ir.toolChoice) {
      const c = ir.toolChoice;
      body.tool_choice = c.type === "tool" ? { type: "function", function: { name: c.name } } : c.type;
    }
    if (ir.parallelToolCalls !== undefined) body.parallel_tool_calls = ir.parallelToolCalls;
  } else if (ir.toolChoice && (ir.toolChoice.type === "required" || ir.toolChoice.type === "tool")) {
    // OpenAI rejects tool_choice without tools; forcing a call of no tool means nothing.
    drops.add("tool_choice", "a tool call was required but the request has no tools");
  }

  if (ir.maxOutputTokens !== undefined) {
    // OpenAI's reasoning models reject max_tokens (SDK: "not compatible with o-series models");
    // other hosts (DeepSeek, vLLM) document max_tokens.
    body[firstParty ? "max_completion_tokens" : "max_tokens"] = ir.maxOutputTokens;
  }
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.topP !== undefined) body.top_p = ir.topP;
  if (ir.topK !== undefined) drops.add("request.top_k", "Chat Completions has no top_k");
  if (ir.stopSequences && ir.stopSequences.length > 0) {
    let stop = ir.stopSequences;
    if (firstParty && stop.length > 4) {
      // "Up to 4 sequences" (SDK `stop`).
      drops.add("request.stop_sequences", `OpenAI takes at most 4 stop sequences; ${stop.length - 4} were left out`);
      stop = stop.slice(0, 4);
    }
    body.stop = stop;
  }
  if (ir.seed !== undefined) body.seed = ir.seed;
  if (ir.presencePenalty !== undefined) body.presence_penalty = ir.presencePenalty;
  if (ir.frequencyPenalty !== undefined) body.frequency_penalty = ir.frequencyPenalty;
  if (ir.responseFormat) {
    const rf = encodeResponseFormat(ir.responseFormat);
    if (rf) body.response_format = rf;
  }
  if (ir.reasoning) {
    const r = ir.reasoning;
    if (!r.enabled) {
      // "none" exists only on some OpenAI models; others reject the whole parameter.
      drops.add("reasoning.disabled", "Chat Completions hosts cannot all be told to skip reasoning; the host's default applies");
    } else if (r.effort) body.reasoning_effort = r.effort;
    else if (r.budgetTokens !== undefined) {
      const effort = r.budgetTokens <= 1024 ? "low" : r.budgetTokens <= 2048 ? "medium" : "high";
      body.reasoning_effort = effort;
      drops.add("reasoning.budget_tokens", `a thinking budget of ${r.budgetTokens} tokens was sent as reasoning_effort "${effort}"`);
    }
  }
  if (ir.stream) {
    body.stream = true;
    if (ir.streamUsage) body.stream_options = { include_usage: true };
  }
  return ok({ body, dropped: drops.list });
}

function encodeResponseFormat(rf: IrResponseFormat): Json | null {
  switch (rf.type) {
    case "text":
      return null;
    case "json":
      return { type: "json_object" };
    case "json_schema": {
      // `name` is required: a-z, A-Z, 0-9, underscores and dashes, at most 64 (SDK ResponseFormatJSONSchema).
      const name = (rf.name ?? "response").replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) || "response";
      const js: Json = { name, schema: rf.schema };
      if (rf.strict !== undefined) js.strict = rf.strict;
      return { type: "json_schema", json_schema: js };
    }
  }
}

function textOnly(parts: IrPart[]): parts is Extract<IrPart, { type: "text" }>[] {
  return parts.every((p) => p.type === "text");
}

/** A user turn: tool results become `tool` messages (which must follow the assistant's calls directly), the rest a user message. */
function encodeUser(m: IrMessage, out: Json[], drops: Drops): void {
  let pending: IrPart[] = [];
  // Tool messages carry text only; images a tool returned follow in a user message.
  let toolImages: IrPart[] = [];
  const flush = (): void => {
    const parts = [...toolImages, ...pending];
    pending = [];
    toolImages = [];
    const content = userContent(parts, drops);
    if (content !== null) out.push({ role: "user", content });
  };
  for (const p of m.content) {
    if (p.type !== "tool_result") {
      pending.push(p);
      continue;
    }
    if (pending.length > 0) flush();
    if (p.cacheControl) drops.add("cache_control", CACHE_REASON);
    if (p.isError) drops.add("part.tool_result.is_error", "Chat Completions tool messages cannot mark a result as an error; its text is kept");
    const texts: string[] = [];
    for (const c of p.content) {
      if (c.type === "text") texts.push(c.text);
      else toolImages.push({ type: "image", source: c.source });
    }
    out.push({ role: "tool", tool_call_id: p.toolCallId, content: texts.join("\n\n") });
  }
  if (pending.length > 0 || toolImages.length > 0) flush();
}

function userContent(parts: IrPart[], drops: Drops): string | Json[] | null {
  for (const p of parts) if ("cacheControl" in p && p.cacheControl) drops.add("cache_control", CACHE_REASON);
  if (parts.length === 0) return null;
  if (textOnly(parts)) return parts.map((p) => p.text).join("\n\n");
  const out: Json[] = [];
  for (const p of parts) {
    switch (p.type) {
      case "text":
        out.push({ type: "text", text: p.text });
        break;
      case "image":
        out.push({ type: "image_url", image_url: { url: p.source.kind === "base64" ? dataUrl(p.source.mediaType, p.source.data) : p.source.url } });
        break;
      case "document":
        if (p.source.kind === "url") {
          drops.add("part.document.url", "Chat Completions file parts take inline data or an uploaded file id, not a URL");
          break;
        }
        // https://platform.openai.com/docs/guides/pdf-files: {type: "file", file: {filename, file_data: data URL}}.
        out.push({ type: "file", file: { filename: p.title ?? defaultFilename(p.source.mediaType), file_data: dataUrl(p.source.mediaType, p.source.data) } });
        break;
      default:
        drops.add(`part.${p.type}`, `a ${p.type} part cannot appear in a user message`);
    }
  }
  return out.length > 0 ? out : null;
}

function defaultFilename(mediaType: string): string {
  const ext = mediaType === "application/pdf" ? "pdf" : (mediaType.split("/")[1] ?? "bin").replace(/[^a-z0-9]/gi, "");
  return `document.${ext || "bin"}`;
}

function encodeAssistant(m: IrMessage, out: Json[], drops: Drops, firstParty: boolean): void {
  let text = "";
  let hasText = false;
  let reasoning = "";
  const toolCalls: Json[] = [];
  for (const p of m.content) {
    switch (p.type) {
      case "text":
        if (p.cacheControl) drops.add("cache_control", CACHE_REASON);
        text += p.text;
        hasText = true;
        break;
      case "reasoning":
        reasoning += p.text;
        if (p.signature !== undefined) drops.add("part.reasoning.signature", "reasoning signatures are Anthropic's and cannot be sent to a Chat Completions host");
        if (p.redactedData !== undefined) drops.add("part.reasoning.redacted", "redacted reasoning is Anthropic's and cannot be sent to a Chat Completions host");
        if (p.thoughtSignature !== undefined) drops.add("part.thought_signature", "Gemini thought signatures cannot be sent to a Chat Completions host");
        break;
      case "tool_call":
        if (p.thoughtSignature !== undefined) drops.add("part.thought_signature", "Gemini thought signatures cannot be sent to a Chat Completions host");
        toolCalls.push({ id: p.id, type: "function", function: { name: p.name, arguments: p.arguments === "" ? "{}" : p.arguments } });
        break;
      default:
        drops.add(`part.${p.type}`, `a ${p.type} part cannot appear in an assistant message`);
    }
  }
  const msg: Json = { role: "assistant", content: hasText || toolCalls.length === 0 ? text : null };
  if (reasoning !== "") {
    // DeepSeek's thinking mode requires earlier reasoning back ("the reasoning_content must be
    // passed back to the API", https://api-docs.deepseek.com/guides/thinking_mode), and the
    // hosts that return it accept it; OpenAI's own models never produce it and have rejected
    // unknown message fields, so it is not sent there.
    if (firstParty) drops.add("part.reasoning", "OpenAI models take no reasoning text in the conversation");
    else msg.reasoning_content = reasoning;
  }
  if (toolCalls.length > 0) msg.tool_calls = toolCalls;
  out.push(msg);
}

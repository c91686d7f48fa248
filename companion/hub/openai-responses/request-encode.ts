/**
 * IR → Responses API request, for a target that speaks the Responses API.
 *
 * Input items follow what Codex CLI sends (test/fixtures/clients/codex-0.169.0.responses.json):
 * `{type:"message", role, content:[input_text | output_text …]}`, `function_call`,
 * `function_call_output` and `reasoning` items, no item ids. `store: false` keeps the target
 * from keeping the conversation, so reasoning is asked back as `encrypted_content`
 * (`include: ["reasoning.encrypted_content"]`) and returned in later turns.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { Encoded, HubError } from "../codec.ts";
import type { IrMessage, IrPart, IrRequest, IrToolResultContent } from "../ir.ts";
import { encodeReasoning, encodeTextFormat, encodeToolChoice, encodeTools } from "./request-options.ts";
import { dataUrl, Drops, type Json } from "./wire.ts";

export function encodeRequest(ir: IrRequest, ctx: { model: string }): Result<Encoded, HubError> {
  try {
    return ok(encode(ir, ctx));
  } catch (e) {
    return err({ code: "bad_request", message: `the request cannot be written for the Responses API: ${(e as Error).message}` });
  }
}

function encode(ir: IrRequest, ctx: { model: string }): Encoded {
  const drops = new Drops();
  const body: Json = { model: ctx.model };
  if (ir.system.length > 0) {
    if (ir.system.some((s) => s.cacheControl)) drops.add("system.cache_control", "OpenAI caches prompt prefixes automatically");
    body.instructions = ir.system.map((s) => s.text).join("\n\n");
  }
  body.input = ir.messages.flatMap((m) => messageItems(m, drops));
  if (ir.tools.length > 0) body.tools = encodeTools(ir.tools, drops);
  if (ir.toolChoice) body.tool_choice = encodeToolChoice(ir.toolChoice);
  if (ir.parallelToolCalls !== undefined) body.parallel_tool_calls = ir.parallelToolCalls;
  if (ir.maxOutputTokens !== undefined) body.max_output_tokens = ir.maxOutputTokens;
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.topP !== undefined) body.top_p = ir.topP;
  if (ir.responseFormat) body.text = { format: encodeTextFormat(ir.responseFormat) };
  if (ir.reasoning) body.reasoning = encodeReasoning(ir.reasoning, drops);
  body.stream = ir.stream;
  body.store = false;
  if (ir.reasoning?.enabled !== false) body.include = ["reasoning.encrypted_content"];

  const unsupported: [keyof IrRequest, string][] = [
    ["topK", "the Responses API has no top_k"],
    ["stopSequences", "the Responses API has no stop sequences"],
    ["seed", "the Responses API has no seed"],
    ["presencePenalty", "the Responses API has no presence_penalty"],
    ["frequencyPenalty", "the Responses API has no frequency_penalty"],
  ];
  for (const [field, reason] of unsupported) if (ir[field] !== undefined) drops.add(`request.${field}`, reason);
  return { body, dropped: drops.list };
}

function messageItems(m: IrMessage, drops: Drops): Json[] {
  const items: Json[] = [];
  let content: Json[] = [];
  const flush = () => {
    if (content.length > 0) items.push({ type: "message", role: m.role, content });
    content = [];
  };
  for (const part of m.content) {
    if ("cacheControl" in part && part.cacheControl) drops.add("part.cache_control", "OpenAI caches prompt prefixes automatically");
    switch (part.type) {
      case "text":
        content.push(m.role === "assistant" ? { type: "output_text", text: part.text } : { type: "input_text", text: part.text });
        break;
      case "image":
        if (m.role === "assistant") drops.add("part.image", "an assistant message cannot hold an image in the Responses API");
        else content.push(imagePart(part.source));
        break;
      case "document":
        if (m.role === "assistant") drops.add("part.document", "an assistant message cannot hold a file in the Responses API");
        else content.push(part.source.kind === "url" ? { type: "input_file", file_url: part.source.url } : { type: "input_file", file_data: dataUrl(part.source.mediaType, part.source.data), filename: part.title ?? "document" });
        break;
      case "tool_call":
        flush();
        if (part.thoughtSignature) drops.add("tool_call.thought_signature", "a Gemini thought signature cannot be replayed to OpenAI");
        items.push({ type: "function_call", call_id: part.id, name: part.name, arguments: part.arguments });
        break;
      case "tool_result":
        flush();
        if (part.isError) drops.add("tool_result.is_error", "function_call_output has no error flag");
        items.push({ type: "function_call_output", call_id: part.toolCallId, output: toolOutput(part.content) });
        break;
      case "reasoning":
        flush();
        reasoningItem(part, items, drops);
        break;
    }
  }
  flush();
  return items;
}

function imagePart(source: Extract<IrPart, { type: "image" }>["source"]): Json {
  return { type: "input_image", image_url: source.kind === "url" ? source.url : dataUrl(source.mediaType, source.data), detail: "auto" };
}

/** One text → a plain string (what most servers expect); anything else → a list of parts. */
function toolOutput(content: IrToolResultContent[]): string | Json[] {
  if (content.length === 0) return "";
  if (content.length === 1 && content[0]!.type === "text") return content[0]!.text;
  return content.map((c) => (c.type === "text" ? { type: "input_text", text: c.text } : imagePart(c.source)));
}

/**
 * Only OpenAI's own encrypted reasoning (IR `signature`) can be replayed: with `store: false`
 * a reasoning item is identified by its `encrypted_content` alone. Reasoning from other
 * providers has no such value and is dropped.
 */
function reasoningItem(part: Extract<IrPart, { type: "reasoning" }>, items: Json[], drops: Drops): void {
  if (part.redactedData) drops.add("reasoning.redacted", "Anthropic redacted thinking cannot be replayed to OpenAI");
  if (part.thoughtSignature) drops.add("reasoning.thought_signature", "a Gemini thought signature cannot be replayed to OpenAI");
  if (!part.signature) {
    if (part.text !== "") drops.add("reasoning.text", "reasoning without OpenAI encrypted_content cannot be replayed to OpenAI");
    return;
  }
  items.push({ type: "reasoning", summary: part.text === "" ? [] : [{ type: "summary_text", text: part.text }], encrypted_content: part.signature });
}

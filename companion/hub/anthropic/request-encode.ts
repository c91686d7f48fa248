/**
 * IR → Anthropic Messages request body.
 *
 * Rules of the API this encoder follows (beyond the field names of the Messages reference):
 * - `max_tokens` is required: the IR's limit, else 4096 (raised above a thinking budget, which
 *   "must be ≥1024 and less than max_tokens" — SDK ThinkingConfigEnabled.budget_tokens).
 * - JSON output has no `response_format`: the encoder offers one tool, `FERRY_JSON_TOOL`, whose
 *   input schema is the wanted JSON, and forces it; decoders turn that call back into text.
 * - "Tool use with thinking only supports tool_choice auto or none" (extended thinking docs,
 *   https://docs.claude.com/en/docs/build-with-claude/extended-thinking#extended-thinking-with-tool-use):
 *   a forced choice leaves thinking off, recorded as dropped.
 * - "Thinking isn't compatible with temperature or top_k modifications … you can set top_p to
 *   values between 1 and 0.95" (same page): other values are dropped while thinking is on.
 * - Per-model rules (thinking form, sampling parameters): see model-traits.ts.
 * - Consecutive turns of one role are merged (the API "combines" them anyway — SDK
 *   MessageCreateParamsBase.messages) and in a user turn tool_result blocks come first ("In the
 *   user message containing tool results, the tool_result blocks must come first in the content
 *   array", https://docs.claude.com/en/docs/agents-and-tools/tool-use/implement-tool-use).
 * - tool_use ids must match ^[a-zA-Z0-9_-]+$ (the API's validation error for other ids):
 *   other characters become "_", the same way in tool_use and tool_result, so pairs still match.
 * - Empty text blocks are refused by the API ("text content blocks must be non-empty"): they
 *   are left out (nothing is lost).
 */
import type { Encoded } from "../codec.ts";
import type { IrMessage, IrPart, IrRequest, IrToolResultContent } from "../ir.ts";
import { modelTraits } from "./model-traits.ts";
import { encodeSampling, encodeThinking, encodeTool, encodeToolChoice, jsonSchemaForTool } from "./options.ts";
import { base64ToUtf8, Drops, FERRY_JSON_TOOL, isObj, parseJson, writeCacheControl, type Json } from "./wire.ts";

export function encodeRequestBody(ir: IrRequest, model: string): Encoded {
  const drops = new Drops();
  const traits = modelTraits(model);
  const body: Json = { model };

  const system = ir.system.filter((s) => s.text !== "").map((s) => ({ type: "text", text: s.text, ...writeCacheControl(s.cacheControl) }));
  const messages = encodeMessages(ir.messages, drops);
  const tools: Json[] = ir.tools.map(encodeTool);
  let toolChoice = encodeToolChoice(ir, tools.length > 0, drops);

  const rf = ir.responseFormat;
  if (rf && rf.type !== "text") {
    const jsonTool: Json = {
      name: FERRY_JSON_TOOL,
      description: `Give your final answer as this tool's input: a JSON object${rf.type === "json_schema" && rf.name ? ` (${rf.name})` : ""} matching the input schema.`,
      input_schema: jsonSchemaForTool(rf.type === "json_schema" ? rf.schema : undefined, drops),
    };
    if (rf.type === "json_schema" && rf.strict) drops.add("response_format.strict", "the JSON answer tool is sent without strict schema validation");
    const otherToolsInPlay = tools.length > 0 && ir.toolChoice?.type !== "none";
    tools.push(jsonTool);
    if (otherToolsInPlay) {
      drops.add("response_format", "with other tools on offer the JSON answer tool is offered, not forced");
      toolChoice ??= { type: "auto" };
    } else {
      toolChoice = { type: "tool", name: FERRY_JSON_TOOL, disable_parallel_tool_use: true };
    }
  }

  const forced = toolChoice?.type === "any" || toolChoice?.type === "tool";
  let reasoning = ir.reasoning;
  if (reasoning?.enabled && forced) {
    drops.add("reasoning", "Anthropic allows no thinking with a forced tool choice: thinking was left off");
    reasoning = undefined;
  }
  const t = encodeThinking(reasoning, ir.maxOutputTokens, traits, drops);

  body.max_tokens = t.maxTokens;
  if (system.length > 0) body.system = system;
  body.messages = messages;
  if (tools.length > 0) {
    body.tools = tools;
    if (toolChoice) body.tool_choice = toolChoice;
  }
  if (t.thinking) body.thinking = t.thinking;
  if (t.effort) body.output_config = { effort: t.effort };
  if (ir.stopSequences && ir.stopSequences.length > 0) body.stop_sequences = [...ir.stopSequences];
  Object.assign(body, encodeSampling(ir, traits, t.thinking?.type === "enabled" || t.thinking?.type === "adaptive", drops));
  if (ir.stream) body.stream = true;

  if (ir.seed !== undefined) drops.add("request.seed", "Anthropic has no seed");
  if (ir.presencePenalty !== undefined) drops.add("request.presence_penalty", "Anthropic has no presence penalty");
  if (ir.frequencyPenalty !== undefined) drops.add("request.frequency_penalty", "Anthropic has no frequency penalty");
  return { body, dropped: drops.list };
}

/** A tool_use id as the API accepts it. */
export function wireToolId(id: string): string {
  const clean = id.replace(/[^a-zA-Z0-9_-]/g, "_");
  return clean === "" ? "toolu_" : clean;
}

function encodeMessages(messages: IrMessage[], drops: Drops): Json[] {
  const out: { role: string; content: Json[] }[] = [];
  for (const m of messages) {
    const blocks: Json[] = [];
    for (const part of m.content) {
      const block = encodePart(part, drops);
      if (block) blocks.push(block);
    }
    if (blocks.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.role === m.role) last.content.push(...blocks);
    else out.push({ role: m.role, content: blocks });
  }
  for (const m of out) {
    if (m.role === "user") m.content = [...m.content.filter((b) => b.type === "tool_result"), ...m.content.filter((b) => b.type !== "tool_result")];
  }
  return out;
}

function encodePart(part: IrPart, drops: Drops): Json | undefined {
  switch (part.type) {
    case "text":
      return part.text === "" ? undefined : { type: "text", text: part.text, ...writeCacheControl(part.cacheControl) };
    case "image":
      return { type: "image", source: imageSource(part.source), ...writeCacheControl(part.cacheControl) };
    case "document": {
      const source = documentSource(part.source, drops);
      if (!source) return undefined;
      const block: Json = { type: "document", source };
      if (part.title !== undefined) block.title = part.title;
      return { ...block, ...writeCacheControl(part.cacheControl) };
    }
    case "tool_call": {
      if (part.thoughtSignature !== undefined) drops.add("part.tool_call.thought_signature", "Gemini thought signatures mean nothing to Anthropic");
      const parsed = part.arguments.trim() === "" ? {} : parseJson(part.arguments);
      if (!isObj(parsed)) drops.add("part.tool_call.arguments", "tool-call arguments that are not a JSON object were sent as {}");
      return { type: "tool_use", id: wireToolId(part.id), name: part.name, input: isObj(parsed) ? parsed : {} };
    }
    case "tool_result": {
      const block: Json = { type: "tool_result", tool_use_id: wireToolId(part.toolCallId) };
      const content = toolResultContent(part.content);
      if (content !== undefined) block.content = content;
      if (part.isError) block.is_error = true;
      return { ...block, ...writeCacheControl(part.cacheControl) };
    }
    case "reasoning":
      if (part.redactedData !== undefined) return { type: "redacted_thinking", data: part.redactedData };
      if (part.signature) return { type: "thinking", thinking: part.text, signature: part.signature };
      drops.add("part.reasoning", "reasoning without an Anthropic signature cannot be sent back to Anthropic");
      return undefined;
  }
}

function imageSource(s: Extract<IrPart, { type: "image" }>["source"]): Json {
  if (s.kind === "base64") return { type: "base64", media_type: s.mediaType, data: s.data };
  const data = parseDataUrl(s.url);
  return data ? { type: "base64", media_type: data.mediaType, data: data.data } : { type: "url", url: s.url };
}

/** Documents are PDFs (base64 or URL) or plain text (`PlainTextSource`). */
function documentSource(s: Extract<IrPart, { type: "document" }>["source"], drops: Drops): Json | undefined {
  const b64 = s.kind === "base64" ? s : parseDataUrl(s.url);
  if (!b64) return { type: "url", url: s.kind === "url" ? s.url : "" };
  if (b64.mediaType === "application/pdf") return { type: "base64", media_type: "application/pdf", data: b64.data };
  if (b64.mediaType.startsWith("text/")) {
    const text = base64ToUtf8(b64.data);
    if (text !== undefined) return { type: "text", media_type: "text/plain", data: text };
  }
  drops.add("part.document", `Anthropic documents are PDF or plain text, not ${b64.mediaType}`);
  return undefined;
}

/** `data:<type>;base64,<data>` (RFC 2397) → its parts; any other URL → undefined. */
function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  const meta = comma === -1 ? "" : url.slice(5, comma);
  if (!meta.endsWith(";base64")) return undefined;
  return { mediaType: meta.slice(0, -";base64".length) || "application/octet-stream", data: url.slice(comma + 1) };
}

/** A single text stays a string (the wire's shorthand); no content leaves the field out. */
function toolResultContent(items: IrToolResultContent[]): string | Json[] | undefined {
  const kept = items.filter((c) => c.type !== "text" || c.text !== "");
  if (kept.length === 0) return undefined;
  const only = kept[0]!;
  if (kept.length === 1 && only.type === "text") return only.text;
  return kept.map((c) => (c.type === "text" ? { type: "text", text: c.text } : { type: "image", source: imageSource(c.source) }));
}


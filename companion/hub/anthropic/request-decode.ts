/**
 * Anthropic Messages request (POST /v1/messages body) → IR.
 *
 * Shapes from the Messages API reference and SDK 1.x `MessageCreateParamsBase`. Besides the
 * documented `system` parameter, a `role: "system"` message inside `messages` (SDK
 * `SystemMessageParam`: string or text blocks; CLIENTS.md reports Claude Code sending one)
 * becomes IR system text.
 * Server and Anthropic-defined tools (web_search, bash, text_editor, code_execution…) and
 * content blocks the IR has no part for are recorded in `dropped`, never passed on silently.
 */
import type { IrCacheControl, IrMessage, IrPart, IrRequest, IrToolResultContent } from "../ir.ts";
import { decodeOutputConfig, decodeThinking, decodeToolChoice, decodeTools } from "./options.ts";
import { Drops, isObj, num, readCacheControl, Refusal, str, utf8ToBase64 } from "./wire.ts";

/** Top-level fields this decoder reads; any other is recorded as dropped. */
const KNOWN = new Set([
  "model", "messages", "system", "max_tokens", "stream", "tools", "tool_choice", "thinking", "output_config",
  "stop_sequences", "temperature", "top_p", "top_k", "metadata", "cache_control",
]);

interface Ctx {
  drops: Drops;
  /** tool_use id → tool name, so tool results can name their tool (Gemini needs it). */
  toolNames: Map<string, string>;
}

export function decodeRequestBody(body: unknown, opts: { model?: string; stream?: boolean }): IrRequest {
  if (!isObj(body)) throw new Refusal("the request body must be a JSON object");
  const drops = new Drops();
  const ctx: Ctx = { drops, toolNames: new Map() };

  const model = opts.model ?? str(body.model);
  if (model === undefined) throw new Refusal("model is required");

  const system = decodeSystem(body.system, "system", drops);
  const messages: IrMessage[] = [];
  if (!Array.isArray(body.messages)) throw new Refusal("messages must be an array");
  body.messages.forEach((m, i) => {
    const where = `messages.${i}`;
    if (!isObj(m)) throw new Refusal(`${where} must be an object`);
    if (m.role === "system") {
      if (messages.length > 0) drops.add("message.system.position", "a system message after the first turn was moved into the system prompt: the IR has no in-conversation system turns");
      system.push(...decodeSystem(m.content, `${where}.content`, drops));
    } else if (m.role === "user" || m.role === "assistant") {
      messages.push({ role: m.role, content: decodeContent(m.content, where, ctx) });
    } else {
      throw new Refusal(`${where}.role must be "user", "assistant" or "system"`);
    }
  });

  const ir: IrRequest = { model, system, messages, tools: decodeTools(body.tools, drops), stream: opts.stream ?? body.stream === true, dropped: drops.list };
  if (body.cache_control !== undefined && body.cache_control !== null) applyTopLevelCache(ir, readCacheControl(body.cache_control, "request", drops), drops);

  const choice = decodeToolChoice(body.tool_choice);
  if (choice) {
    ir.toolChoice = choice.choice;
    if (choice.disableParallel) ir.parallelToolCalls = false;
  }
  if (body.max_tokens !== undefined) {
    const n = num(body.max_tokens);
    if (n === undefined || n < 0 || !Number.isInteger(n)) throw new Refusal("max_tokens must be a non-negative integer");
    ir.maxOutputTokens = n;
  }
  for (const [key, field] of [["temperature", "temperature"], ["top_p", "topP"], ["top_k", "topK"]] as const) {
    const v = body[key];
    if (v === undefined || v === null) continue;
    const n = num(v);
    if (n === undefined) throw new Refusal(`${key} must be a number`);
    ir[field] = n;
  }
  if (body.stop_sequences !== undefined && body.stop_sequences !== null) {
    if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => typeof s === "string")) throw new Refusal("stop_sequences must be an array of strings");
    ir.stopSequences = [...(body.stop_sequences as string[])];
  }
  const reasoning = decodeThinking(body.thinking, drops);
  if (reasoning) ir.reasoning = reasoning;
  decodeOutputConfig(body.output_config, ir, drops);

  if (body.metadata !== undefined) drops.add("request.metadata", "request metadata (user_id) has no IR equivalent");
  for (const key of Object.keys(body)) if (!KNOWN.has(key)) drops.add(`request.${key}`, "not carried by the IR");
  return ir;
}

/** `system` (top level or a system message's content): a string or text blocks. */
function decodeSystem(v: unknown, where: string, drops: Drops): IrRequest["system"] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return v === "" ? [] : [{ text: v }];
  if (!Array.isArray(v)) throw new Refusal(`${where} must be a string or an array of text blocks`);
  return v.map((b, i) => {
    if (!isObj(b) || b.type !== "text" || typeof b.text !== "string") throw new Refusal(`${where}.${i} must be a text block`);
    if (Array.isArray(b.citations) && b.citations.length > 0) drops.add("system.citations", "the IR has no citations");
    const cache = readCacheControl(b.cache_control, "system", drops);
    return cache ? { text: b.text, cacheControl: cache } : { text: b.text };
  });
}

function decodeContent(content: unknown, where: string, ctx: Ctx): IrPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) throw new Refusal(`${where}.content must be a string or an array of content blocks`);
  const parts: IrPart[] = [];
  content.forEach((b, i) => {
    const part = decodeBlock(b, `${where}.content.${i}`, ctx);
    if (part) parts.push(part);
  });
  return parts;
}

function withCache<T extends object>(part: T, cache: IrCacheControl | undefined): T {
  return cache ? { ...part, cacheControl: cache } : part;
}

function decodeBlock(b: unknown, where: string, ctx: Ctx): IrPart | undefined {
  const { drops } = ctx;
  if (!isObj(b) || typeof b.type !== "string") throw new Refusal(`${where} must be a content block with a type`);
  switch (b.type) {
    case "text": {
      if (typeof b.text !== "string") throw new Refusal(`${where}.text must be a string`);
      if (Array.isArray(b.citations) && b.citations.length > 0) drops.add("part.text.citations", "the IR has no citations");
      return withCache({ type: "text" as const, text: b.text }, readCacheControl(b.cache_control, "part.text", drops));
    }
    case "image": {
      if (b.transformations !== undefined && b.transformations !== null) drops.add("part.image.transformations", "the IR has no image transformations");
      const source = decodeSource(b.source, where, "image", drops);
      return source && withCache({ type: "image" as const, source }, readCacheControl(b.cache_control, "part.image", drops));
    }
    case "document": {
      if (isObj(b.citations) && b.citations.enabled === true) drops.add("part.document.citations", "the IR has no citations");
      if (typeof b.context === "string") drops.add("part.document.context", "the IR has no document context");
      const source = decodeSource(b.source, where, "document", drops);
      if (!source) return undefined;
      const part: IrPart = { type: "document", source };
      if (typeof b.title === "string") part.title = b.title;
      return withCache(part, readCacheControl(b.cache_control, "part.document", drops));
    }
    case "tool_use": {
      if (typeof b.id !== "string" || typeof b.name !== "string") throw new Refusal(`${where}: tool_use needs a string id and name`);
      if (b.cache_control !== undefined && b.cache_control !== null) drops.add("part.tool_use.cache_control", "the IR has no cache marker on tool calls");
      ctx.toolNames.set(b.id, b.name);
      return { type: "tool_call", id: b.id, name: b.name, arguments: b.input === undefined ? "{}" : JSON.stringify(b.input) };
    }
    case "tool_result": {
      if (typeof b.tool_use_id !== "string") throw new Refusal(`${where}.tool_use_id must be a string`);
      const part: IrPart = { type: "tool_result", toolCallId: b.tool_use_id, content: decodeToolResultContent(b.content, where, drops) };
      const name = ctx.toolNames.get(b.tool_use_id);
      if (name !== undefined) part.name = name;
      if (b.is_error === true) part.isError = true;
      return withCache(part, readCacheControl(b.cache_control, "part.tool_result", drops));
    }
    case "thinking": {
      if (typeof b.thinking !== "string") throw new Refusal(`${where}.thinking must be a string`);
      const signature = str(b.signature);
      return signature ? { type: "reasoning", text: b.thinking, signature } : { type: "reasoning", text: b.thinking };
    }
    case "redacted_thinking": {
      if (typeof b.data !== "string") throw new Refusal(`${where}.data must be a string`);
      return { type: "reasoning", text: "", redactedData: b.data };
    }
    default:
      drops.add(`part.${b.type}`, "this content block has no IR equivalent");
      return undefined;
  }
}

/** An image or document `source`: base64, url, plain text (documents), or an unsupported kind (dropped). */
function decodeSource(s: unknown, where: string, kind: "image" | "document", drops: Drops): Extract<IrPart, { type: "image" }>["source"] | undefined {
  if (!isObj(s)) throw new Refusal(`${where}.source must be an object`);
  if (s.type === "base64") {
    if (typeof s.media_type !== "string" || typeof s.data !== "string") throw new Refusal(`${where}.source needs media_type and data`);
    return { kind: "base64", mediaType: s.media_type, data: s.data };
  }
  if (s.type === "url") {
    if (typeof s.url !== "string") throw new Refusal(`${where}.source.url must be a string`);
    return { kind: "url", url: s.url };
  }
  // PlainTextSource {type: "text", media_type: "text/plain", data}: the IR carries bytes as base64.
  if (kind === "document" && s.type === "text") {
    if (typeof s.data !== "string") throw new Refusal(`${where}.source.data must be a string`);
    return { kind: "base64", mediaType: str(s.media_type) ?? "text/plain", data: utf8ToBase64(s.data) };
  }
  drops.add(`part.${kind}.source.${String(s.type)}`, "only base64, url and plain-text sources can be carried (not Files API ids or content sources)");
  return undefined;
}

function decodeToolResultContent(c: unknown, where: string, drops: Drops): IrToolResultContent[] {
  if (c === undefined || c === null) return [];
  if (typeof c === "string") return [{ type: "text", text: c }];
  if (!Array.isArray(c)) throw new Refusal(`${where}.content must be a string or an array of blocks`);
  const out: IrToolResultContent[] = [];
  c.forEach((b, i) => {
    const at = `${where}.content.${i}`;
    if (!isObj(b) || typeof b.type !== "string") throw new Refusal(`${at} must be a content block with a type`);
    if (b.type === "text") {
      if (typeof b.text !== "string") throw new Refusal(`${at}.text must be a string`);
      out.push({ type: "text", text: b.text });
    } else if (b.type === "image") {
      const source = decodeSource(b.source, at, "image", drops);
      if (source) out.push({ type: "image", source });
    } else {
      drops.add(`part.tool_result.${b.type}`, "tool results carry only text and images in the IR");
    }
    if (isObj(b) && b.cache_control !== undefined && b.cache_control !== null) drops.add("part.tool_result.content.cache_control", "the IR has no cache marker inside tool results");
  });
  return out;
}

/**
 * Top-level `cache_control` "automatically applies a cache_control marker to the last cacheable
 * block in the request" (SDK MessageCreateParamsBase.cache_control): the IR has no such switch,
 * so the marker goes on that block (the last one that can hold a marker in the IR).
 */
function applyTopLevelCache(ir: IrRequest, cache: IrCacheControl | undefined, drops: Drops): void {
  if (!cache) return;
  for (let m = ir.messages.length - 1; m >= 0; m--) {
    const parts = ir.messages[m]!.content;
    for (let p = parts.length - 1; p >= 0; p--) {
      const part = parts[p]!;
      if (part.type === "text" || part.type === "image" || part.type === "document" || part.type === "tool_result") {
        if (!part.cacheControl) parts[p] = { ...part, cacheControl: cache };
        return;
      }
    }
  }
  const last = ir.system[ir.system.length - 1];
  if (last) {
    if (!last.cacheControl) ir.system[ir.system.length - 1] = { ...last, cacheControl: cache };
    return;
  }
  drops.add("request.cache_control", "no block in the request can carry the cache marker");
}

/**
 * Chat Completions `messages` → IR system prompt and conversation. Message shapes: SDK
 * `ChatCompletionMessageParam` (node_modules/openai/src/resources/chat/completions/completions.ts).
 */
import type { IrCacheControl, IrMessage, IrPart, IrRequest, IrToolResultContent } from "../ir.ts";
import { Drops, fail, generateCallId, isRecord, type Json, parseDataUrl, present } from "./wire.ts";

/** `prompt_cache_breakpoint` (SDK 7.x content parts) → IR cache control. Its lifetimes (30m/12h) are OpenAI's own. */
function cacheControl(part: Json, drops: Drops): IrCacheControl | undefined {
  const bp = part.prompt_cache_breakpoint;
  if (!isRecord(bp)) return undefined;
  if (present(bp.ttl)) drops.add("part.prompt_cache_breakpoint.ttl", "OpenAI cache lifetimes (30m, 12h) have no equivalent elsewhere; the breakpoint is kept");
  return { type: "ephemeral" };
}

function withCache<T extends IrPart>(p: T, cc: IrCacheControl | undefined): T {
  return cc ? { ...p, cacheControl: cc } : p;
}

export class MessageDecoder {
  /** Tool-call id → function name, so tool results can name their function (Gemini needs it). */
  readonly #names = new Map<string, string>();
  /** Legacy `function_call`s waiting for their `function` message. */
  readonly #legacy: { id: string; name: string }[] = [];
  /** The user message that tool results are being gathered into. */
  #toolTurn: IrMessage | null = null;
  #conversationStarted = false;

  readonly ir: IrRequest;
  readonly drops: Drops;

  constructor(ir: IrRequest, drops: Drops) {
    this.ir = ir;
    this.drops = drops;
  }

  decodeAll(messages: unknown[]): void {
    messages.forEach((m, i) => {
      if (!isRecord(m)) fail(`messages[${i}] must be an object`);
      this.#one(m, i);
    });
  }

  #one(m: Json, i: number): void {
    if (present(m.name) && m.role !== "function") this.drops.add("messages.name", "participant names have no equivalent in the hub's representation");
    switch (m.role) {
      case "system":
      case "developer":
        if (this.#conversationStarted) this.drops.add("messages.system_position", "a system/developer message inside the conversation was moved to the top-level system prompt");
        for (const t of this.#textParts(m.content, i)) this.ir.system.push(t.cacheControl ? { text: t.text, cacheControl: t.cacheControl } : { text: t.text });
        return;
      case "user":
        this.#conversationStarted = true;
        this.#user(this.#userParts(m.content, i));
        return;
      case "assistant":
        this.#conversationStarted = true;
        this.#toolTurn = null;
        this.#assistant(m, i);
        return;
      case "tool": {
        this.#conversationStarted = true;
        if (typeof m.tool_call_id !== "string") fail(`messages[${i}].tool_call_id must be a string`);
        const part: IrPart = { type: "tool_result", toolCallId: m.tool_call_id, content: this.#toolContent(m.content, i) };
        const name = this.#names.get(m.tool_call_id);
        if (name !== undefined) part.name = name;
        this.#toolResult(part);
        return;
      }
      case "function": {
        this.#conversationStarted = true;
        if (typeof m.name !== "string") fail(`messages[${i}].name must be a string`);
        const at = this.#legacy.findIndex((c) => c.name === m.name);
        const id = at === -1 ? generateCallId() : this.#legacy.splice(at, 1)[0]!.id;
        const text = typeof m.content === "string" ? m.content : "";
        this.#toolResult({ type: "tool_result", toolCallId: id, name: m.name, content: [{ type: "text", text }] });
        return;
      }
      default:
        fail(`messages[${i}].role must be system, developer, user, assistant, tool or function`);
    }
  }

  /** Tool results are parts of one user message; a user message right after them joins it. */
  #toolResult(part: IrPart): void {
    if (!this.#toolTurn) {
      this.#toolTurn = { role: "user", content: [] };
      this.ir.messages.push(this.#toolTurn);
    }
    this.#toolTurn.content.push(part);
  }

  #user(parts: IrPart[]): void {
    if (this.#toolTurn) {
      this.#toolTurn.content.push(...parts);
      this.#toolTurn = null;
      return;
    }
    this.ir.messages.push({ role: "user", content: parts });
  }

  #assistant(m: Json, i: number): void {
    const parts: IrPart[] = [];
    // DeepSeek returns `reasoning_content` (https://api-docs.deepseek.com/guides/thinking_mode);
    // OpenRouter and newer vLLM name it `reasoning`.
    const reasoning = typeof m.reasoning_content === "string" ? m.reasoning_content : typeof m.reasoning === "string" ? m.reasoning : "";
    if (reasoning !== "") parts.push({ type: "reasoning", text: reasoning });
    if (typeof m.content === "string") {
      if (m.content !== "") parts.push({ type: "text", text: m.content });
    } else if (Array.isArray(m.content)) {
      for (const p of m.content) {
        if (!isRecord(p)) fail(`messages[${i}].content parts must be objects`);
        if (p.type === "text" && typeof p.text === "string") parts.push(withCache({ type: "text", text: p.text }, cacheControl(p, this.drops)));
        else if (p.type === "refusal" && typeof p.refusal === "string") parts.push({ type: "text", text: p.refusal });
        else this.drops.add(`part.${String(p.type)}`, "this assistant content part has no equivalent in the hub's representation");
      }
    } else if (present(m.content)) fail(`messages[${i}].content must be a string, an array or null`);
    if (typeof m.refusal === "string" && m.refusal !== "") parts.push({ type: "text", text: m.refusal });
    if (present(m.audio)) this.drops.add("messages.audio", "earlier audio answers cannot be referenced in another dialect");

    if (present(m.tool_calls)) {
      if (!Array.isArray(m.tool_calls)) fail(`messages[${i}].tool_calls must be an array`);
      for (const tc of m.tool_calls) {
        if (!isRecord(tc)) fail(`messages[${i}].tool_calls entries must be objects`);
        if (tc.type === "custom" || !isRecord(tc.function)) {
          this.drops.add("tool_calls.custom", "custom tool calls cannot be translated to another dialect");
          continue;
        }
        const fn = tc.function;
        if (typeof fn.name !== "string") fail(`messages[${i}].tool_calls[].function.name must be a string`);
        const id = typeof tc.id === "string" && tc.id !== "" ? tc.id : generateCallId();
        const args = typeof fn.arguments === "string" ? fn.arguments : present(fn.arguments) ? JSON.stringify(fn.arguments) : "{}";
        const part: IrPart = { type: "tool_call", id, name: fn.name, arguments: args };
        // Gemini's OpenAI layer carries thought signatures here (https://ai.google.dev/gemini-api/docs/thought-signatures).
        const sig = isRecord(tc.extra_content) && isRecord(tc.extra_content.google) ? tc.extra_content.google.thought_signature : undefined;
        if (typeof sig === "string") part.thoughtSignature = sig;
        this.#names.set(id, fn.name);
        parts.push(part);
      }
    }
    if (isRecord(m.function_call) && typeof m.function_call.name === "string") {
      const id = generateCallId();
      const args = typeof m.function_call.arguments === "string" ? m.function_call.arguments : "{}";
      this.#legacy.push({ id, name: m.function_call.name });
      parts.push({ type: "tool_call", id, name: m.function_call.name, arguments: args });
    }
    if (parts.length > 0) this.ir.messages.push({ role: "assistant", content: parts });
  }

  #textParts(content: unknown, i: number): { text: string; cacheControl?: IrCacheControl }[] {
    if (typeof content === "string") return [{ text: content }];
    if (!Array.isArray(content)) fail(`messages[${i}].content must be a string or an array of parts`);
    const out: { text: string; cacheControl?: IrCacheControl }[] = [];
    for (const p of content) {
      if (!isRecord(p)) fail(`messages[${i}].content parts must be objects`);
      if (p.type === "text" && typeof p.text === "string") {
        const cc = cacheControl(p, this.drops);
        out.push(cc ? { text: p.text, cacheControl: cc } : { text: p.text });
      } else this.drops.add(`part.${String(p.type)}`, "only text parts can appear in system messages");
    }
    return out;
  }

  #userParts(content: unknown, i: number): IrPart[] {
    if (typeof content === "string") return [{ type: "text", text: content }];
    if (!Array.isArray(content)) fail(`messages[${i}].content must be a string or an array of parts`);
    const out: IrPart[] = [];
    for (const p of content) {
      if (!isRecord(p)) fail(`messages[${i}].content parts must be objects`);
      const part = this.#userPart(p, i);
      if (part) out.push(part);
    }
    return out;
  }

  #userPart(p: Json, i: number): IrPart | null {
    const cc = cacheControl(p, this.drops);
    switch (p.type) {
      case "text":
        if (typeof p.text !== "string") fail(`messages[${i}] has a text part without text`);
        return withCache({ type: "text", text: p.text }, cc);
      case "image_url": {
        const image = p.image_url;
        const url = typeof image === "string" ? image : isRecord(image) ? image.url : undefined;
        if (typeof url !== "string") fail(`messages[${i}] has an image_url part without a url`);
        if (isRecord(image) && present(image.detail) && image.detail !== "auto") this.drops.add("part.image_url.detail", "image detail levels are OpenAI-specific");
        const data = parseDataUrl(url);
        return withCache({ type: "image", source: data ? { kind: "base64", mediaType: data.mediaType, data: data.data } : { kind: "url", url } }, cc);
      }
      case "input_audio":
        this.drops.add("part.input_audio", "audio input cannot be translated to another dialect");
        return null;
      case "file": {
        const file = p.file;
        if (!isRecord(file)) fail(`messages[${i}] has a file part without a file`);
        if (typeof file.file_data !== "string") {
          this.drops.add("part.file.file_id", "uploaded OpenAI files cannot be referenced from another dialect");
          return null;
        }
        // file_data is a data URL per https://platform.openai.com/docs/guides/pdf-files; bare base64 is read as a PDF.
        const data = parseDataUrl(file.file_data) ?? { mediaType: "application/pdf", data: file.file_data };
        const doc: IrPart = { type: "document", source: { kind: "base64", mediaType: data.mediaType, data: data.data } };
        if (typeof file.filename === "string") doc.title = file.filename;
        return withCache(doc, cc);
      }
      default:
        this.drops.add(`part.${String(p.type)}`, "this content part has no equivalent in the hub's representation");
        return null;
    }
  }

  #toolContent(content: unknown, i: number): IrToolResultContent[] {
    if (typeof content === "string") return [{ type: "text", text: content }];
    if (!present(content)) return [];
    if (!Array.isArray(content)) fail(`messages[${i}].content must be a string or an array of text parts`);
    const out: IrToolResultContent[] = [];
    for (const p of content) {
      if (!isRecord(p)) fail(`messages[${i}].content parts must be objects`);
      const part = this.#userPart(p, i);
      if (part?.type === "text") out.push({ type: "text", text: part.text });
      else if (part?.type === "image") out.push({ type: "image", source: part.source });
      else if (part) this.drops.add(`tool_result.${part.type}`, "tool results carry only text and images");
    }
    return out;
  }
}

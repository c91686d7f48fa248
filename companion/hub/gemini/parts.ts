/**
 * Gemini `Part`s ↔ IR parts, for requests (contents) and answers (candidate content).
 *
 * Thought signatures: Gemini puts `thoughtSignature` on the part it belongs to — a thought
 * part, a functionCall part, or (Gemini 3, answers without calls) a plain text part, often an
 * empty one at the end (`{"text":"","thoughtSignature":"…"}`). The IR has the field on
 * reasoning and tool_call parts only, so a signed text part becomes an empty reasoning part
 * carrying the signature, right before the text: the "carrier". Encoding reverses it: a
 * reasoning part with empty text and a signature is merged into the text part that follows,
 * or sent alone as `{"text":"","thoughtSignature":…}`. Gemini → IR → Gemini is exact.
 */
import type { IrDrop, IrImageSource, IrPart, IrToolResultContent } from "../ir.ts";
import { addDrop, type CallIds, fail, isObj, type Json, optObj, optStr } from "./wire.ts";

/** Function calls seen in a conversation, to give id-less functionResponses their call's id. */
export class CallTracker {
  readonly #calls: { id: string; name: string; turn: number; matched: boolean }[] = [];

  add(id: string, name: string, turn: number): void {
    this.#calls.push({ id, name, turn, matched: false });
  }

  matchId(id: string): void {
    const call = this.#calls.find((c) => c.id === id && !c.matched);
    if (call) call.matched = true;
  }

  /**
   * The most recent turn's unmatched call of that name; within the turn the first one, so
   * parallel calls of one function pair with their responses in order.
   */
  matchName(name: string): string | undefined {
    let turn = -1;
    for (const c of this.#calls) if (!c.matched && c.name === name && c.turn > turn) turn = c.turn;
    const call = this.#calls.find((c) => !c.matched && c.name === name && c.turn === turn);
    if (!call) return undefined;
    call.matched = true;
    return call.id;
  }
}

export interface DecodePartsContext {
  role: "user" | "assistant";
  drops: IrDrop[];
  ids: CallIds;
  /** Request decoding: pairs function responses with calls. */
  tracker?: CallTracker;
  turn: number;
  path: string;
}

/** Keys that carry a part's data (Part is a oneof of these in the API). */
const DATA_KEYS = ["text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult", "toolCall", "toolResponse"];
/** Part metadata the IR has no place for. */
const META_KEYS = ["videoMetadata", "mediaResolution", "partMetadata", "mediaProcessing", "speechMetadata"];

export function decodeParts(parts: unknown, ctx: DecodePartsContext): IrPart[] {
  if (!Array.isArray(parts)) fail(`${ctx.path}.parts must be an array`);
  const out: IrPart[] = [];
  parts.forEach((part, i) => decodePart(part, { ...ctx, path: `${ctx.path}.parts[${i}]` }, out));
  return out;
}

function decodePart(part: unknown, ctx: DecodePartsContext, out: IrPart[]): void {
  if (!isObj(part)) fail(`${ctx.path} must be an object`);
  const sig = optStr(part, "thoughtSignature", ctx.path);
  for (const key of META_KEYS) if (part[key] !== undefined) addDrop(ctx.drops, `part.${key}`, `Gemini part metadata "${key}" has no IR equivalent`);
  const assistant = ctx.role === "assistant";
  const signatureElsewhere = (): void => {
    if (sig !== undefined) addDrop(ctx.drops, "part.thoughtSignature", "a thought signature on this kind of part has no place in the IR");
  };

  if (part.text !== undefined && part.text !== null) {
    const text = optStr(part, "text", ctx.path) ?? "";
    if (part.thought === true) {
      if (assistant) {
        if (text !== "" || sig !== undefined) out.push(sig === undefined ? { type: "reasoning", text } : { type: "reasoning", text, thoughtSignature: sig });
        return;
      }
      addDrop(ctx.drops, "part.thought", "a thought part in a user turn is sent as plain text");
    }
    if (sig !== undefined) {
      if (assistant) out.push({ type: "reasoning", text: "", thoughtSignature: sig });
      else signatureElsewhere();
    }
    if (text !== "") out.push({ type: "text", text });
    return;
  }

  const fc = optObj(part, "functionCall", ctx.path);
  if (fc) {
    const path = `${ctx.path}.functionCall`;
    const name = optStr(fc, "name", path);
    if (name === undefined) fail(`${path}.name is required`);
    const args = optObj(fc, "args", path) ?? {};
    const argsText = JSON.stringify(args);
    const id = optStr(fc, "id", path) || ctx.ids.next(name, argsText);
    if (!assistant) {
      addDrop(ctx.drops, "part.functionCall", "a function call in a user turn has no IR equivalent");
      return;
    }
    ctx.tracker?.add(id, name, ctx.turn);
    out.push(sig === undefined ? { type: "tool_call", id, name, arguments: argsText } : { type: "tool_call", id, name, arguments: argsText, thoughtSignature: sig });
    return;
  }

  const fr = optObj(part, "functionResponse", ctx.path);
  if (fr) {
    const path = `${ctx.path}.functionResponse`;
    const name = optStr(fr, "name", path);
    if (name === undefined) fail(`${path}.name is required`);
    if (assistant) {
      addDrop(ctx.drops, "part.functionResponse", "a function response in a model turn has no IR equivalent");
      return;
    }
    signatureElsewhere();
    const given = optStr(fr, "id", path);
    if (given) ctx.tracker?.matchId(given);
    const toolCallId = given || ctx.tracker?.matchName(name) || ctx.ids.next(name, "functionResponse");
    const response = optObj(fr, "response", path) ?? {};
    const { text, isError } = toolResultText(response);
    const content: IrToolResultContent[] = [{ type: "text", text }];
    const frParts = fr.parts;
    if (Array.isArray(frParts)) {
      for (const p of frParts) {
        const media = isObj(p) ? mediaSource(p, path) : undefined;
        if (media && media.image) content.push({ type: "image", source: media.source });
        else addDrop(ctx.drops, "part.functionResponse.parts", "only images can go with a tool result in the IR");
      }
    }
    for (const key of ["scheduling", "willContinue"]) if (fr[key] !== undefined) addDrop(ctx.drops, `part.functionResponse.${key}`, "non-blocking function responses have no IR equivalent");
    out.push(isError ? { type: "tool_result", toolCallId, name, content, isError: true } : { type: "tool_result", toolCallId, name, content });
    return;
  }

  const media = mediaSource(part, ctx.path);
  if (media) {
    signatureElsewhere();
    out.push(media.image ? { type: "image", source: media.source } : { type: "document", source: media.source });
    return;
  }

  const other = DATA_KEYS.find((k) => part[k] !== undefined && part[k] !== null);
  if (other) {
    addDrop(ctx.drops, `part.${other}`, `Gemini "${other}" parts have no IR equivalent`);
    return;
  }
  // A part holding nothing but a signature: the same carrier as a signed empty text part.
  if (sig !== undefined) {
    if (assistant) out.push({ type: "reasoning", text: "", thoughtSignature: sig });
    else signatureElsewhere();
  }
}

/** inlineData / fileData as an IR source; `image` tells images from documents (PDFs, others). */
function mediaSource(part: Json, path: string): { image: boolean; source: IrImageSource } | undefined {
  const inline = optObj(part, "inlineData", path);
  if (inline) {
    const mediaType = optStr(inline, "mimeType", `${path}.inlineData`);
    const data = optStr(inline, "data", `${path}.inlineData`);
    if (mediaType === undefined || data === undefined) fail(`${path}.inlineData needs mimeType and data`);
    return { image: mediaType.startsWith("image/"), source: { kind: "base64", mediaType, data } };
  }
  const file = optObj(part, "fileData", path);
  if (file) {
    const url = optStr(file, "fileUri", `${path}.fileData`);
    if (url === undefined) fail(`${path}.fileData.fileUri is required`);
    const mediaType = optStr(file, "mimeType", `${path}.fileData`);
    return { image: mediaType?.startsWith("image/") ?? false, source: { kind: "url", url } };
  }
  return undefined;
}

/**
 * A functionResponse.response as tool-result text. Gemini's convention (SDK FunctionResponse
 * docs): an "output" key holds the output, an "error" key the error; otherwise the whole
 * object is the output. Gemini CLI sends `{"output": "…"}`.
 */
function toolResultText(response: Json): { text: string; isError: boolean } {
  const keys = Object.keys(response);
  if (keys.length === 1 && typeof response.output === "string") return { text: response.output, isError: false };
  if (response.error !== undefined && response.output === undefined) {
    return { text: typeof response.error === "string" ? response.error : JSON.stringify(response.error), isError: true };
  }
  return { text: JSON.stringify(response), isError: false };
}

/** Tool-result text as a functionResponse.response, the inverse of `toolResultText`. */
function toolResultResponse(text: string, isError: boolean): Json {
  if (isError) return { error: text };
  // Text that is exactly a JSON object's serialisation goes as that object: decoding gives the
  // same text back, and the model sees structured output.
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObj(parsed) && JSON.stringify(parsed) === text && !("output" in parsed) && !("error" in parsed)) return parsed;
  } catch {
    // not JSON
  }
  return { output: text };
}

export interface EncodePartsContext {
  drops: IrDrop[];
  /** Tool-call id → function name, for results that do not carry their name. */
  toolNames: Map<string, string>;
}

/** IR parts of one message → Gemini parts. */
export function encodeParts(parts: IrPart[], role: "user" | "assistant", ctx: EncodePartsContext): Json[] {
  const out: Json[] = [];
  let carrier: string | undefined;
  const flush = (): void => {
    if (carrier !== undefined) out.push({ text: "", thoughtSignature: carrier });
    carrier = undefined;
  };
  for (const part of parts) {
    if ("cacheControl" in part && part.cacheControl) addDrop(ctx.drops, "part.cacheControl", "Gemini has no per-part cache breakpoints (it caches implicitly)");
    switch (part.type) {
      case "text": {
        const p: Json = { text: part.text };
        if (carrier !== undefined) p.thoughtSignature = carrier;
        carrier = undefined;
        out.push(p);
        break;
      }
      case "reasoning": {
        if (part.signature !== undefined || part.redactedData !== undefined) {
          addDrop(ctx.drops, "part.reasoning.signature", "another provider's reasoning signature or redacted reasoning cannot be verified by Gemini");
        }
        if (role === "user") {
          addDrop(ctx.drops, "part.reasoning", "reasoning in a user turn has no Gemini equivalent");
          break;
        }
        if (part.text === "") {
          flush();
          carrier = part.thoughtSignature;
          break;
        }
        flush();
        out.push(part.thoughtSignature === undefined ? { text: part.text, thought: true } : { text: part.text, thought: true, thoughtSignature: part.thoughtSignature });
        break;
      }
      case "tool_call": {
        flush();
        const p: Json = { functionCall: { id: part.id, name: part.name, args: argsObject(part.arguments, ctx.drops) } };
        if (part.thoughtSignature !== undefined) p.thoughtSignature = part.thoughtSignature;
        out.push(p);
        break;
      }
      case "tool_result": {
        flush();
        const text = part.content
          .filter((c) => c.type === "text")
          .map((c) => c.text)
          .join("\n");
        const name = part.name ?? ctx.toolNames.get(part.toolCallId);
        if (name === undefined) addDrop(ctx.drops, "part.tool_result.name", "Gemini needs the function name of a tool result; its call was not in the conversation, so the id stands in");
        out.push({ functionResponse: { id: part.toolCallId, name: name ?? part.toolCallId, response: toolResultResponse(text, part.isError === true) } });
        // Images go beside the response: every Gemini model reads sibling inline data, while
        // functionResponse.parts is a Gemini 3 feature.
        for (const c of part.content) if (c.type === "image") out.push(mediaPart(c.source));
        break;
      }
      case "image":
        flush();
        out.push(mediaPart(part.source));
        break;
      case "document":
        flush();
        if (part.title !== undefined) addDrop(ctx.drops, "part.document.title", "Gemini documents have no title");
        out.push(mediaPart(part.source));
        break;
    }
  }
  flush();
  return out;
}

/** Tool-call arguments (JSON text) as Gemini's `args` object. */
export function argsObject(args: string, drops?: IrDrop[]): Json {
  if (args.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (isObj(parsed)) return parsed;
  } catch {
    // fall through
  }
  if (drops) addDrop(drops, "part.tool_call.arguments", "tool-call arguments that are not a JSON object cannot be Gemini args; {} was sent");
  return {};
}

const EXT_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif",
  pdf: "application/pdf",
};

export function mediaPart(source: IrImageSource): Json {
  if (source.kind === "base64") return { inlineData: { mimeType: source.mediaType, data: source.data } };
  const url = source.url;
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    const meta = url.slice(5, comma < 0 ? 5 : comma);
    if (comma > 0 && meta.endsWith(";base64")) return { inlineData: { mimeType: meta.slice(0, -7) || "application/octet-stream", data: url.slice(comma + 1) } };
  }
  const path = url.split(/[?#]/, 1)[0] ?? "";
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const mimeType = EXT_TYPES[ext];
  return { fileData: mimeType ? { mimeType, fileUri: url } : { fileUri: url } };
}

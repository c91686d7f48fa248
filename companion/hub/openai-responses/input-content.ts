/**
 * A message item's `content` → IR parts: a plain string, or parts `input_text` /
 * `output_text` / `refusal` / `input_image` / `input_file` (openai-node 7.x
 * `ResponseInputText`, `ResponseInputImage`, `ResponseInputFile`, `ResponseOutputText`).
 */
import type { IrCacheControl, IrPart } from "../ir.ts";
import { arr, type Drops, isObj, mediaTypeOfFilename, Refusal, sourceFromUrl, str, type Json } from "./wire.ts";

/** `where` names the item in error messages, e.g. `input[3]`. */
export function decodeContent(content: unknown, where: string, drops: Drops): IrPart[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  const list = arr(content);
  if (!list) throw new Refusal("bad_request", `${where}.content must be a string or an array of parts`);
  const parts: IrPart[] = [];
  for (const raw of list) {
    if (!isObj(raw)) throw new Refusal("bad_request", `${where}.content has a part that is not an object`);
    const part = decodePart(raw, where, drops);
    if (part) parts.push(part);
  }
  return parts;
}

function decodePart(p: Json, where: string, drops: Drops): IrPart | undefined {
  const cache = cacheMark(p, drops);
  const withCache = <T extends IrPart>(part: T): T => (cache ? { ...part, cacheControl: cache } : part);
  switch (p.type) {
    case "input_text":
    case "output_text": {
      const text = str(p.text);
      if (text === undefined) throw new Refusal("bad_request", `${where} has a ${p.type} part without text`);
      return withCache({ type: "text", text });
    }
    case "refusal":
      drops.add("part.refusal", "the IR has no refusal part; the refusal is kept as plain text");
      return { type: "text", text: str(p.refusal) ?? "" };
    case "input_image": {
      if (p.detail !== undefined && p.detail !== null && p.detail !== "auto") drops.add("part.input_image.detail", "the IR has no image detail level");
      const url = str(p.image_url);
      if (url) return withCache({ type: "image", source: sourceFromUrl(url) });
      drops.add("part.input_image.file_id", "OpenAI file ids cannot be read by another target");
      return undefined;
    }
    case "input_file": {
      const filename = str(p.filename);
      const data = str(p.file_data);
      const fileUrl = str(p.file_url);
      // file_data is a data URL in the API's own examples; bare base64 is accepted too.
      const source = data !== undefined ? (data.startsWith("data:") ? sourceFromUrl(data) : { kind: "base64" as const, mediaType: mediaTypeOfFilename(filename), data }) : fileUrl !== undefined ? sourceFromUrl(fileUrl) : undefined;
      if (!source) {
        drops.add("part.input_file.file_id", "OpenAI file ids cannot be read by another target");
        return undefined;
      }
      return withCache(filename ? { type: "document", source, title: filename } : { type: "document", source });
    }
    default:
      drops.add(`part.${String(p.type)}`, "the IR has no such content part");
      return undefined;
  }
}

/** `prompt_cache_breakpoint` marks the end of a cacheable prefix, as Anthropic's cache_control does. */
function cacheMark(p: Json, drops: Drops): IrCacheControl | undefined {
  const bp = p.prompt_cache_breakpoint;
  if (!isObj(bp)) return undefined;
  if (bp.ttl !== undefined) drops.add("part.prompt_cache_breakpoint.ttl", "OpenAI's cache lifetimes (30m, 12h) have no IR equivalent");
  return { type: "ephemeral" };
}

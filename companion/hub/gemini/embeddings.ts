/**
 * Embeddings: `models/{model}:embedContent` ({content, taskType, title, outputDimensionality}
 * → {embedding: {values}}) and `:batchEmbedContents` ({requests: [EmbedContentRequest…]} →
 * {embeddings: [{values}…]}), https://ai.google.dev/api/embeddings. @google/genai's
 * `models.embedContent` always calls batchEmbedContents on the Gemini API, so that is the form
 * this codec writes unless told otherwise.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { EncodeContext, Encoded, HubError } from "../codec.ts";
import type { IrDrop, IrEmbeddingsRequest, IrEmbeddingsResponse } from "../ir.ts";
import { addDrop, errorFromWire, isObj, type Json, usageFromWire } from "./wire.ts";

const REQUEST_KNOWN = new Set(["model", "content", "outputDimensionality"]);

function contentText(content: unknown, path: string, dropped: IrDrop[]): string | HubError {
  if (!isObj(content) || !Array.isArray(content.parts)) return { code: "bad_request", message: `${path} must be a Content with parts` };
  const texts: string[] = [];
  for (const part of content.parts) {
    if (isObj(part) && typeof part.text === "string") texts.push(part.text);
    else addDrop(dropped, "embeddings.content.parts", "only text parts are embedded");
  }
  // "Only the parts.text fields will be counted" (EmbedContentRequest docs): one input per content.
  return texts.join("\n");
}

export function decodeEmbeddings(body: unknown, opts: { model?: string }): Result<IrEmbeddingsRequest, HubError> {
  if (!isObj(body)) return err({ code: "bad_request", message: "the request body must be a JSON object" });
  const dropped: IrDrop[] = [];
  const requests: Json[] = [];
  if (Array.isArray(body.requests)) {
    for (const [i, r] of body.requests.entries()) {
      if (!isObj(r)) return err({ code: "bad_request", message: `requests[${i}] must be an object` });
      requests.push(r);
    }
    for (const key of Object.keys(body)) if (key !== "requests" && key !== "model") addDrop(dropped, `embeddings.${key}`, `"${key}" has no IR equivalent`);
  } else if (body.content !== undefined) {
    requests.push(body);
  } else {
    return err({ code: "bad_request", message: "an embeddings request needs content or requests" });
  }
  const inputs: string[] = [];
  let dimensions: number | undefined;
  for (const [i, r] of requests.entries()) {
    const text = contentText(r.content, `requests[${i}].content`, dropped);
    if (typeof text !== "string") return err(text);
    inputs.push(text);
    for (const key of Object.keys(r)) if (!REQUEST_KNOWN.has(key)) addDrop(dropped, `embeddings.${key}`, `"${key}" has no IR equivalent`);
    const d = r.outputDimensionality;
    if (d === undefined || d === null) continue;
    if (typeof d !== "number" || !Number.isInteger(d) || d <= 0) return err({ code: "bad_request", message: "outputDimensionality must be a positive integer" });
    if (dimensions !== undefined && d !== dimensions) addDrop(dropped, "embeddings.outputDimensionality", "the IR has one dimension for all inputs; the first was used");
    dimensions ??= d;
  }
  const bodyModel = typeof body.model === "string" ? body.model.replace(/^models\//, "") : "";
  const ir: IrEmbeddingsRequest = { model: opts.model ?? bodyModel, inputs, dropped };
  if (dimensions !== undefined) ir.dimensions = dimensions;
  return ok(ir);
}

/** Always the batch form: the target path is `models/{model}:batchEmbedContents`. */
export function encodeEmbeddings(ir: IrEmbeddingsRequest, ctx: { model: string }): Result<Encoded, HubError> {
  const model = `models/${ctx.model}`;
  const requests = ir.inputs.map((text) => {
    const r: Json = { model, content: { parts: [{ text }] } };
    if (ir.dimensions !== undefined) r.outputDimensionality = ir.dimensions;
    return r;
  });
  return ok({ body: { requests }, dropped: [] });
}

export function decodeEmbeddingsResponse(body: unknown): Result<IrEmbeddingsResponse, HubError> {
  if (!isObj(body)) return err({ code: "bad_request", message: "an embeddings answer must be a JSON object" });
  const error = errorFromWire(body);
  if (error) return err({ code: "bad_request", message: `Gemini error ${error.status} ${error.code}: ${error.message}` });
  const list = Array.isArray(body.embeddings) ? body.embeddings : isObj(body.embedding) ? [body.embedding] : undefined;
  if (!list) return err({ code: "bad_request", message: "an embeddings answer needs embedding or embeddings" });
  const vectors: number[][] = [];
  for (const e of list) {
    const values = isObj(e) ? e.values : undefined;
    if (!Array.isArray(values) || !values.every((v) => typeof v === "number")) return err({ code: "bad_request", message: "each embedding needs numeric values" });
    vectors.push(values as number[]);
  }
  return ok({ model: "", vectors, usage: usageFromWire(body.usageMetadata) ?? {} });
}

export interface EmbeddingsEncodeContext extends EncodeContext {
  /** The client called `:embedContent` (one `embedding`), not `:batchEmbedContents`. */
  single?: boolean;
}

export function encodeEmbeddingsResponse(ir: IrEmbeddingsResponse, ctx: EmbeddingsEncodeContext): Json {
  const body: Json = ctx.single ? { embedding: { values: ir.vectors[0] ?? [] } } : { embeddings: ir.vectors.map((values) => ({ values })) };
  if (ir.usage.inputTokens !== undefined) body.usageMetadata = { promptTokenCount: ir.usage.inputTokens, totalTokenCount: ir.usage.inputTokens };
  return body;
}

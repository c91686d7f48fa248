/**
 * OpenAI embeddings (`POST /v1/embeddings`, https://platform.openai.com/docs/api-reference/embeddings,
 * SDK `EmbeddingCreateParams` / `CreateEmbeddingResponse`) ⇄ IR.
 *
 * Request `{model, input: string | string[] | number[] | number[][], dimensions, encoding_format:
 * "float" | "base64", user}`. Token-array inputs are refused (`unsupported`): they are ids of
 * OpenAI's tokenizer, meaningless to another dialect's model. `encoding_format` is how the
 * *client* wants its answer, so it is no drop: the pipeline passes it to the response encoder
 * through `OpenAIEmbeddingsEncodeContext`. `user` is dropped.
 *
 * Answer `{object: "list", data: [{object: "embedding", index, embedding}], model, usage:
 * {prompt_tokens, total_tokens}}`; `embedding` is a number array, or for "base64" the
 * little-endian float32 bytes in base64 (what the Node SDK asks for unless told otherwise, and
 * decodes itself, openai lib/embeddings.mjs and internal/utils/base64.mjs).
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { EncodeContext, Encoded, HubError } from "../codec.ts";
import type { IrEmbeddingsRequest, IrEmbeddingsResponse } from "../ir.ts";
import { decodeErrorBody, Drops, isFiniteNumber, isRecord, type Json, present } from "./wire.ts";

export type EncodingFormat = "float" | "base64";

export interface OpenAIEmbeddingsEncodeContext extends EncodeContext {
  /** The client's `encoding_format` (default "float"). */
  encodingFormat?: EncodingFormat;
}

const KNOWN = new Set(["model", "input", "dimensions", "encoding_format", "user"]);

const isTokenArray = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === "number");

/** The `encoding_format` a client asked for; anything but "base64" is float. */
export function encodingFormatOf(body: unknown): EncodingFormat {
  return isRecord(body) && body.encoding_format === "base64" ? "base64" : "float";
}

export function decodeEmbeddings(body: unknown, opts: { model?: string }): Result<IrEmbeddingsRequest, HubError> {
  if (!isRecord(body)) return err({ code: "bad_request", message: "the request body must be a JSON object" });
  const model = opts.model ?? body.model;
  if (typeof model !== "string" || model === "") return err({ code: "bad_request", message: "model is required" });

  const input = body.input;
  let inputs: string[];
  if (typeof input === "string") inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((i) => typeof i === "string")) inputs = [...(input as string[])];
  else if (isTokenArray(input) || (Array.isArray(input) && input.length > 0 && input.every(isTokenArray))) {
    return err({ code: "unsupported", message: "token-array inputs cannot be translated to another dialect: send the text instead" });
  } else return err({ code: "bad_request", message: "input must be a string or a non-empty array of strings" });

  const ir: IrEmbeddingsRequest = { model, inputs, dropped: [] };
  if (present(body.dimensions)) {
    const d = body.dimensions;
    if (!isFiniteNumber(d) || !Number.isInteger(d) || d <= 0) return err({ code: "bad_request", message: "dimensions must be a positive integer" });
    ir.dimensions = d;
  }
  if (present(body.encoding_format) && body.encoding_format !== "float" && body.encoding_format !== "base64") {
    return err({ code: "bad_request", message: 'encoding_format must be "float" or "base64"' });
  }
  const drops = new Drops();
  if (present(body.user)) drops.add("embeddings.user", "the end-user id is not passed to another dialect");
  for (const key of Object.keys(body)) if (!KNOWN.has(key) && present(body[key])) drops.add(`embeddings.${key}`, "not an embeddings field the hub knows");
  ir.dropped = drops.list;
  return ok(ir);
}

/** IR → the target's body. No `encoding_format`: the API's default (float) is what the hub reads. */
export function encodeEmbeddings(ir: IrEmbeddingsRequest, ctx: { model: string }): Result<Encoded, HubError> {
  const body: Json = { model: ctx.model, input: [...ir.inputs] };
  if (ir.dimensions !== undefined) body.dimensions = ir.dimensions;
  return ok({ body, dropped: [] });
}

export function decodeEmbeddingsResponse(body: unknown): Result<IrEmbeddingsResponse, HubError> {
  if (!isRecord(body)) return err({ code: "bad_request", message: "the embeddings answer is not a JSON object" });
  const error = decodeErrorBody(body);
  if (error) return err({ code: "bad_request", message: `the target answered an error: ${error.message}` });
  if (!Array.isArray(body.data)) return err({ code: "bad_request", message: "the embeddings answer has no data list" });
  const slots: number[][] = [];
  for (const [position, item] of body.data.entries()) {
    if (!isRecord(item)) return err({ code: "bad_request", message: `data[${position}] is not an object` });
    const index = Number.isInteger(item.index) && (item.index as number) >= 0 ? (item.index as number) : position;
    let vector: number[] | null = null;
    if (Array.isArray(item.embedding) && item.embedding.every(isFiniteNumber)) vector = [...(item.embedding as number[])];
    else if (typeof item.embedding === "string") vector = base64ToFloats(item.embedding);
    if (!vector) return err({ code: "bad_request", message: `data[${position}].embedding is neither a number array nor base64 float32` });
    if (slots[index] !== undefined) return err({ code: "bad_request", message: `two embeddings for index ${index}` });
    slots[index] = vector;
  }
  const vectors: number[][] = [];
  for (let i = 0; i < slots.length; i++) {
    const v = slots[i];
    if (v === undefined) return err({ code: "bad_request", message: `the embedding for index ${i} is missing` });
    vectors.push(v);
  }
  const response: IrEmbeddingsResponse = { model: typeof body.model === "string" ? body.model : "", vectors, usage: {} };
  const usage = body.usage;
  if (isRecord(usage) && isFiniteNumber(usage.prompt_tokens)) response.usage.inputTokens = usage.prompt_tokens;
  return ok(response);
}

export function encodeEmbeddingsResponse(ir: IrEmbeddingsResponse, ctx: OpenAIEmbeddingsEncodeContext): Json {
  const base64 = ctx.encodingFormat === "base64";
  const tokens = ir.usage.inputTokens ?? 0;
  return {
    object: "list",
    data: ir.vectors.map((vector, index) => ({ object: "embedding", index, embedding: base64 ? floatsToBase64(vector) : vector })),
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** Numbers → little-endian float32 bytes → base64 (OpenAI's `encoding_format: "base64"`). */
export function floatsToBase64(values: number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  const bytes = new Uint8Array(view.buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The reverse; null when the text is not base64 of a whole number of float32s. */
export function base64ToFloats(text: string): number[] | null {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  if (binary.length % 4 !== 0) return null;
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const out: number[] = [];
  for (let i = 0; i < binary.length; i += 4) out.push(view.getFloat32(i, true));
  return out;
}

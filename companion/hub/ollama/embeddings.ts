/**
 * /api/embed ⇄ IR. [O-EMBED] / [O-API] "Generate Embeddings": the request is `{model, input
 * (text or list of text), truncate (default true), dimensions, keep_alive, options}`; the answer
 * `{model, embeddings: [[…], …] (one vector per input, in order), total_duration,
 * load_duration, prompt_eval_count}`.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { Encoded, EncodeContext, HubError } from "../codec.ts";
import type { IrDrop, IrEmbeddingsRequest, IrEmbeddingsResponse } from "../ir.ts";
import { addDrop, isObject, nonNegativeInt } from "./wire.ts";

const FIELDS = new Set(["model", "input", "truncate", "dimensions", "keep_alive", "options"]);

export interface OllamaEmbedRequest {
  model: string;
  input: string[];
  dimensions?: number;
}

export interface OllamaEmbedResponse {
  model: string;
  embeddings: number[][];
  prompt_eval_count?: number;
}

export function decodeEmbeddings(body: unknown, opts: { model?: string }): Result<IrEmbeddingsRequest, HubError> {
  if (!isObject(body)) return err({ code: "bad_request", message: "request body must be a JSON object" });
  const model = opts.model ?? body.model;
  if (typeof model !== "string" || model === "") return err({ code: "bad_request", message: "model is required" });
  let inputs: string[];
  if (typeof body.input === "string") inputs = [body.input];
  else if (Array.isArray(body.input) && body.input.every((item) => typeof item === "string")) inputs = [...(body.input as string[])];
  else return err({ code: "bad_request", message: "input must be a string or an array of strings" });
  const dropped: IrDrop[] = [];
  const ir: IrEmbeddingsRequest = { model, inputs, dropped };
  if (body.dimensions !== undefined && body.dimensions !== null) {
    const dimensions = nonNegativeInt(body.dimensions);
    if (dimensions === undefined || dimensions === 0) return err({ code: "bad_request", message: "dimensions must be a positive integer" });
    ir.dimensions = dimensions;
  }
  if (body.truncate !== undefined && body.truncate !== null) {
    addDrop(dropped, "embeddings.truncate", "the IR has no truncation switch; the target's own handling of long inputs applies");
  }
  if (body.keep_alive !== undefined && body.keep_alive !== null) {
    addDrop(dropped, "embeddings.keep_alive", "how long a model stays loaded is the companion's decision, not the client's");
  }
  if (isObject(body.options) && Object.keys(body.options).length) {
    addDrop(dropped, "embeddings.options", "Ollama model options have no IR equivalent for embeddings");
  }
  for (const key of Object.keys(body)) if (!FIELDS.has(key)) addDrop(dropped, `embeddings.${key}`, "not an /api/embed field the hub knows");
  return ok(ir);
}

export function encodeEmbeddings(ir: IrEmbeddingsRequest, ctx: { model: string }): Result<Encoded, HubError> {
  const body: OllamaEmbedRequest = { model: ctx.model, input: [...ir.inputs] };
  if (ir.dimensions !== undefined) body.dimensions = ir.dimensions;
  return ok({ body, dropped: [] });
}

export function decodeEmbeddingsResponse(body: unknown): Result<IrEmbeddingsResponse, HubError> {
  if (!isObject(body)) return err({ code: "bad_request", message: "Ollama's answer is not a JSON object" });
  if (body.error !== undefined && body.error !== null) {
    return err({ code: "bad_request", message: `Ollama answered with an error: ${typeof body.error === "string" ? body.error : JSON.stringify(body.error)}` });
  }
  const embeddings = body.embeddings;
  const valid = Array.isArray(embeddings) && embeddings.every((v) => Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x)));
  if (!valid) return err({ code: "bad_request", message: "embeddings must be an array of number arrays" });
  const response: IrEmbeddingsResponse = { model: typeof body.model === "string" ? body.model : "", vectors: (embeddings as number[][]).map((v) => [...v]), usage: {} };
  const tokens = nonNegativeInt(body.prompt_eval_count);
  if (tokens !== undefined) response.usage.inputTokens = tokens;
  return ok(response);
}

export function encodeEmbeddingsResponse(ir: IrEmbeddingsResponse, ctx: EncodeContext): OllamaEmbedResponse {
  const out: OllamaEmbedResponse = { model: ctx.model, embeddings: ir.vectors };
  if (ir.usage.inputTokens !== undefined) out.prompt_eval_count = ir.usage.inputTokens;
  return out;
}

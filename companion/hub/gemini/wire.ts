/**
 * Gemini generateContent wire helpers shared by the codec's files: reading untrusted JSON,
 * finish reasons, usage, schemas, tool-call ids and error bodies.
 *
 * Field names follow the official SDK types (node_modules/@google/genai/dist/genai.d.ts, 3.x)
 * and https://ai.google.dev/api/generate-content.
 */
import { errorBody } from "../../../shared/error-shapes.ts";
import type { IrDrop, IrStopReason, IrUsage } from "../ir.ts";

export type Json = Record<string, unknown>;

/** Thrown inside decoders only, caught at their entry point and turned into `bad_request`. */
export class WireError extends Error {
  override readonly name = "WireError";
}

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function fail(message: string): never {
  throw new WireError(message);
}

export function optStr(o: Json, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") fail(`${path}.${key} must be a string`);
  return v;
}

export function optNum(o: Json, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) fail(`${path}.${key} must be a number`);
  return v;
}

export function optObj(o: Json, key: string, path: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) fail(`${path}.${key} must be an object`);
  return v;
}

export function optArr(o: Json, key: string, path: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(`${path}.${key} must be an array`);
  return v;
}

import { addDrop } from "../drops.ts";
export { addDrop };

/** Candidate-level metadata the IR has no place for (search grounding, citations, URL context). */
const CANDIDATE_EXTRAS = ["groundingMetadata", "citationMetadata", "urlContextMetadata"] as const;

/**
 * What a target's answer (one candidate, whole or a streamed chunk) held that the IR cannot:
 * its parts' drops (named `part.*` by the shared part decoder, renamed `response.part.*` here)
 * and the candidate's metadata.
 */
export function answerDrops(partDrops: IrDrop[], candidate: Json | undefined): IrDrop[] {
  const out = partDrops.map((d) => ({ feature: `response.${d.feature}`, reason: d.reason }));
  for (const key of CANDIDATE_EXTRAS) {
    if (candidate?.[key] !== undefined) out.push({ feature: `response.${key}`, reason: `Gemini's ${key} has no equivalent in the hub; the answer's text is kept without it` });
  }
  return out;
}

// ---- finish reasons ------------------------------------------------------------------------

/**
 * Gemini FinishReason → IR. Gemini answers a function call with STOP, so the caller turns
 * end_turn into tool_use when the content holds tool calls. Values from the SDK's
 * `FinishReason` enum; the safety family (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT,
 * SPII, IMAGE_*) is what the API uses for blocked output.
 */
export function stopReasonFromWire(reason: unknown, hasToolCalls: boolean): IrStopReason {
  switch (reason) {
    case "STOP":
    case undefined:
    case null:
      return hasToolCalls ? "tool_use" : "end_turn";
    case "MAX_TOKENS":
      return "max_tokens";
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "IMAGE_PROHIBITED_CONTENT":
    case "IMAGE_RECITATION":
      return "content_filter";
    default:
      // OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, …
      return "other";
  }
}

/** IR → Gemini FinishReason. Stop sequences and tool calls are STOP on Gemini's wire. */
export function stopReasonToWire(reason: IrStopReason): string {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
    case "tool_use":
      return "STOP";
    case "max_tokens":
      return "MAX_TOKENS";
    case "content_filter":
    case "refusal":
      return "SAFETY";
    case "error":
    case "other":
      return "OTHER";
  }
}

// ---- usage ---------------------------------------------------------------------------------

/**
 * usageMetadata → IR. Per the SDK docs, totalTokenCount = promptTokenCount +
 * candidatesTokenCount + toolUsePromptTokenCount + thoughtsTokenCount: thoughts are NOT part
 * of candidatesTokenCount (the IR counts reasoning inside outputTokens), tool-use prompt
 * tokens are input the model read, and promptTokenCount already includes
 * cachedContentTokenCount ("When cached_content is set, this also includes …").
 * Returns undefined when the object carries no counts (Gemini's intermediate stream chunks
 * often hold only `trafficType`).
 */
export function usageFromWire(u: unknown): IrUsage | undefined {
  if (!isObj(u)) return undefined;
  const n = (k: string): number | undefined => (typeof u[k] === "number" && Number.isFinite(u[k]) ? (u[k] as number) : undefined);
  const prompt = n("promptTokenCount");
  const candidates = n("candidatesTokenCount");
  const thoughts = n("thoughtsTokenCount");
  const toolUse = n("toolUsePromptTokenCount");
  const cached = n("cachedContentTokenCount");
  if (prompt === undefined && candidates === undefined && thoughts === undefined && toolUse === undefined && cached === undefined) return undefined;
  const usage: IrUsage = {};
  if (prompt !== undefined || toolUse !== undefined) usage.inputTokens = (prompt ?? 0) + (toolUse ?? 0);
  if (candidates !== undefined || thoughts !== undefined) usage.outputTokens = (candidates ?? 0) + (thoughts ?? 0);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  if (thoughts !== undefined) usage.reasoningTokens = thoughts;
  return usage;
}

/** IR → usageMetadata (undefined when nothing is known). */
export function usageToWire(u: IrUsage | undefined): Json | undefined {
  if (!u || (u.inputTokens === undefined && u.outputTokens === undefined)) return undefined;
  const input = u.inputTokens ?? 0;
  const output = u.outputTokens ?? 0;
  const reasoning = Math.min(u.reasoningTokens ?? 0, output);
  const out: Json = { promptTokenCount: input };
  if (u.outputTokens !== undefined) out.candidatesTokenCount = output - reasoning;
  out.totalTokenCount = input + output;
  if (u.reasoningTokens !== undefined) out.thoughtsTokenCount = reasoning;
  if (u.cachedInputTokens !== undefined) out.cachedContentTokenCount = u.cachedInputTokens;
  return out;
}

// ---- schemas -------------------------------------------------------------------------------

const TYPE_NAMES = new Set(["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"]);
const SCHEMA_MAPS = ["properties", "$defs", "definitions", "patternProperties", "dependentSchemas"];
const SCHEMA_LISTS = ["anyOf", "oneOf", "allOf", "prefixItems"];
const SCHEMA_ONES = ["not", "if", "then", "else", "contains", "additionalProperties", "propertyNames", "unevaluatedProperties"];

/**
 * A Gemini schema (the OpenAPI-3.0 subset of `parameters` / `responseSchema`, which spells
 * types in capitals and has `nullable`) as JSON Schema. Gemini also accepts the capitals in
 * `parametersJsonSchema` / `responseJsonSchema` — Gemini CLI's router sends `"type": "OBJECT"`
 * there (shared/fixtures/clients/gemini-cli-0.61.0.auto-router-json-mode…) — which other
 * targets reject, so both are normalised. Walks only schema positions, never property names.
 */
export function toJsonSchema(schema: unknown): unknown {
  if (!isObj(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "type") {
      if (typeof value === "string" && TYPE_NAMES.has(value)) out.type = value.toLowerCase();
      else if (value === "TYPE_UNSPECIFIED") continue;
      else if (Array.isArray(value)) out.type = value.map((t) => (typeof t === "string" && TYPE_NAMES.has(t) ? t.toLowerCase() : t));
      else out.type = value;
    } else if (key === "nullable") {
      continue;
    } else if (SCHEMA_MAPS.includes(key) && isObj(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v)]));
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map(toJsonSchema);
    } else if (key === "items") {
      out[key] = Array.isArray(value) ? value.map(toJsonSchema) : toJsonSchema(value);
    } else if (SCHEMA_ONES.includes(key)) {
      out[key] = toJsonSchema(value);
    } else {
      out[key] = value;
    }
  }
  if (schema.nullable === true) {
    const t = out.type;
    if (typeof t === "string") out.type = [t, "null"];
    else if (Array.isArray(t) && !t.includes("null")) out.type = [...t, "null"];
  }
  return out;
}

// ---- ids -----------------------------------------------------------------------------------

/** FNV-1a, 32 bits, as 8 hex digits: a short stable fingerprint for generated ids. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Random hex from the Web Crypto API (Workers and Node alike). */
export function randomHex(bytes = 6): string {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Ids for function calls the wire gave none (the Gemini Developer API often omits
 * `functionCall.id`): `call_<n>_<hash>`, where the hash covers a seed (the answer's
 * responseId, or a random value) plus name and arguments, so ids are unique per answer and
 * the same call decodes to the same id every time.
 */
export class CallIds {
  #n = 0;
  readonly #seed: string;
  constructor(seed: string) {
    this.#seed = seed;
  }
  next(name: string, args: string): string {
    const n = this.#n++;
    return `call_${n}_${fnv1a(`${this.#seed}\u0000${n}\u0000${name}\u0000${args}`)}`;
  }
}

// ---- errors --------------------------------------------------------------------------------

/** Gemini's error body: `{"error":{"code","message","status"}}` (google.rpc.Status in JSON). */
export function errorToWire(status: number, message: string): Json {
  return errorBody("gemini", status, "upstream_error", message) as Json;
}

/** A Gemini error body, or null when `body` is not one. */
export function errorFromWire(body: unknown): { status: number; code: string; message: string } | null {
  const e = isObj(body) ? body.error : undefined;
  if (!isObj(e)) return null;
  const status = typeof e.code === "number" && Number.isInteger(e.code) ? e.code : 500;
  const code = typeof e.status === "string" && e.status !== "" ? e.status : "upstream_error";
  const message = typeof e.message === "string" ? e.message : JSON.stringify(e);
  return { status, code, message };
}

/**
 * Stand-in embeddings for test/helpers/upstream.ts, beside provider-mocks.ts (whose Gemini
 * behaviour answers generateContent, streamGenerateContent and countTokens only):
 *
 * - `geminiEmbed()`: `models/{model}:embedContent` (`{content, taskType, title,
 *   outputDimensionality}` → `{embedding: {values}}`) and `:batchEmbedContents` (`{requests:
 *   [EmbedContentRequest…]}` → `{embeddings: [{values}…]}`, in order), as
 *   https://ai.google.dev/api/embeddings describes them. Like the real API it refuses a batch
 *   whose requests name another model than the path ("The model in each of these requests must
 *   match the model specified BatchEmbedContentsRequest.model") and content without parts.
 *   Every other action goes to `mocks.geminiGenerate`. Vectors come from `geminiVector`, so a
 *   test can compute what the stand-in answered; their values are float32, so they survive
 *   OpenAI's base64 encoding exactly.
 * - `recordAnswers(behaviour)`: any behaviour, with the bodies it answered kept (to compare
 *   what a client got with what the stand-in sent, e.g. `mocks.openai` embeddings).
 */
import type { ServerResponse } from "node:http";
import { mocks, type MockOptions } from "./provider-mocks.ts";
import type { Behaviour } from "./upstream.ts";

export interface GeminiEmbedOptions extends MockOptions {
  /** Vector length when the request names no outputDimensionality (gemini-embedding-001: 3072). */
  dims?: number;
  /** When set, answers carry `usageMetadata` with this prompt token count. */
  usageTokens?: number;
}

/** A deterministic float32 unit-ish vector for one text. */
export function geminiVector(text: string, dims: number): number[] {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) ^ i;
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    out.push(Math.fround(((h >>> 0) / 4294967296) * 2 - 1) / 8);
  }
  return out.map(Math.fround);
}

const JSON_TYPE = { "content-type": "application/json; charset=UTF-8" };

function geminiError(res: ServerResponse, code: number, status: string, message: string) {
  res.writeHead(code, JSON_TYPE);
  res.end(JSON.stringify({ error: { code, message, status } }, null, 2) + "\n");
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The text of one EmbedContentRequest, or an error message. */
function embedOne(r: unknown, model: string, where: string, opts: GeminiEmbedOptions): { values: number[] } | string {
  if (!isObj(r)) return `${where}: must be an object`;
  if (r.model !== undefined && r.model !== `models/${model}`) {
    return `${where}.model: the model in each request must match the model specified in BatchEmbedContentsRequest.model (models/${model})`;
  }
  const content = r.content;
  if (!isObj(content) || !Array.isArray(content.parts) || content.parts.length === 0) return `${where}.content: * contents is required`;
  const text = content.parts.map((p) => (isObj(p) && typeof p.text === "string" ? p.text : "")).join("\n");
  const dims = typeof r.outputDimensionality === "number" ? r.outputDimensionality : (opts.dims ?? 3072);
  return { values: geminiVector(text, dims) };
}

export function geminiEmbed(opts: GeminiEmbedOptions = {}): Behaviour {
  const generate = mocks.geminiGenerate(opts);
  return (req, res, rec) => {
    const url = new URL(rec.url, "http://stand-in");
    const m = /\/models\/([^/:]+):(embedContent|batchEmbedContents)$/.exec(url.pathname);
    if (!m) return generate(req, res, rec);
    const model = decodeURIComponent(m[1]!);
    let body: unknown;
    try {
      body = JSON.parse(rec.body.toString("utf8"));
    } catch {
      return geminiError(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    if (!isObj(body)) return geminiError(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    const usage = opts.usageTokens === undefined ? {} : { usageMetadata: { promptTokenCount: opts.usageTokens, totalTokenCount: opts.usageTokens } };
    if (m[2] === "embedContent") {
      const one = embedOne(body, model, "EmbedContentRequest", opts);
      if (typeof one === "string") return geminiError(res, 400, "INVALID_ARGUMENT", one);
      res.writeHead(200, JSON_TYPE);
      return void res.end(JSON.stringify({ embedding: one, ...usage }, null, 2) + "\n");
    }
    if (!Array.isArray(body.requests) || body.requests.length === 0) return geminiError(res, 400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: requests is required");
    const embeddings: { values: number[] }[] = [];
    for (const [i, r] of body.requests.entries()) {
      const one = embedOne(r, model, `BatchEmbedContentsRequest.requests[${i}]`, opts);
      if (typeof one === "string") return geminiError(res, 400, "INVALID_ARGUMENT", one);
      embeddings.push(one);
    }
    res.writeHead(200, JSON_TYPE);
    res.end(JSON.stringify({ embeddings, ...usage }, null, 2) + "\n");
  };
}

export interface RecordedAnswers {
  behaviour: Behaviour;
  /** Each answer's body text, in order. */
  bodies: string[];
  /** The last answer, parsed. */
  last(): unknown;
}

/** Wraps a behaviour and keeps the body of every answer it writes. */
export function recordAnswers(inner: Behaviour): RecordedAnswers {
  const bodies: string[] = [];
  const behaviour: Behaviour = (req, res, rec) => {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    const keep = (chunk: unknown) => {
      if (typeof chunk === "string") chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== "function") keep(chunk);
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
    return inner(req, res, rec);
  };
  return { behaviour, bodies, last: () => JSON.parse(bodies.at(-1) ?? "null") };
}

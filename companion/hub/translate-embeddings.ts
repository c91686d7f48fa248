/**
 * Embeddings to a target that speaks another dialect: the client's request (OpenAI
 * `/v1/embeddings`, Gemini `:embedContent` / `:batchEmbedContents`) is decoded to the IR with
 * the client's codec and encoded for the target's (OpenAI `/v1/embeddings`, Gemini
 * `:batchEmbedContents`, Ollama `/api/embed`); the answer comes back the same way. A target's
 * error keeps its status and is re-shaped into the client's dialect. Usage is read from the
 * IR, so quotas settle on the target's count.
 */
import { errorBody } from "../../shared/error-shapes.ts";
import { err, ok, type Result } from "../../shared/result.ts";
import type { Call, Endpoint } from "../pipeline.ts";
import { matchesAny } from "../glob.ts";
import { describeTarget, type Target } from "../routing.ts";
import type { Runtime } from "../runtime.ts";
import type { Outbound, TargetAnswer } from "../targets/send.ts";
import type { Usage } from "../usage.ts";
import type { DialectCodec, HubError } from "./codec.ts";
import type { EmbeddingsEncodeContext } from "./gemini/index.ts";
import { encodingFormatOf, type OpenAIEmbeddingsEncodeContext } from "./openai-chat/index.ts";
import { CODECS, targetCodec } from "./registry.ts";
import type { Translation } from "./translate.ts";
import { translateError } from "./translate.ts";

const encoder = new TextEncoder();

const EMBEDDINGS: ReadonlySet<Endpoint> = new Set(["openai.embeddings", "gemini.embed", "gemini.batch_embed"]);

export function isEmbeddingsEndpoint(endpoint: Endpoint): boolean {
  return EMBEDDINGS.has(endpoint);
}

/** The codec that speaks a client's embeddings endpoint, or null. */
export function embeddingsClientCodec(endpoint: Endpoint): DialectCodec | null {
  switch (endpoint) {
    case "openai.embeddings":
      return CODECS["openai-chat"];
    case "gemini.embed":
    case "gemini.batch_embed":
      return CODECS.gemini;
    default:
      return null;
  }
}

function codecOf(target: Target): DialectCodec {
  return targetCodec(target.kind === "ollama" ? "ollama" : target.dialect);
}

/** Whether the hub can carry this embeddings call to this target (Anthropic has no embeddings). */
export function canTranslateEmbeddings(call: Call, target: Target): boolean {
  const from = embeddingsClientCodec(call.endpoint);
  const to = codecOf(target);
  return Boolean(from?.decodeEmbeddings && from.encodeEmbeddingsResponse && to.encodeEmbeddings && to.decodeEmbeddingsResponse);
}

/** The target's embeddings path on its edge pool. */
function edgeRoute(target: Extract<Target, { kind: "edge" }>): { path: string; query: string } | null {
  const model = encodeURIComponent(target.model);
  switch (target.dialect) {
    case "openai":
      return target.azureApiVersion
        ? { path: `/openai/deployments/${model}/embeddings`, query: `?api-version=${encodeURIComponent(target.azureApiVersion)}` }
        : { path: "/v1/embeddings", query: "" };
    case "gemini":
      return { path: `/v1beta/models/${model}:batchEmbedContents`, query: "" };
    case "anthropic":
      return null;
  }
}

function jsonAnswer(status: number, body: unknown, extra: Partial<TargetAnswer> = {}): TargetAnswer {
  return {
    status,
    headers: new Headers({ "content-type": "application/json" }),
    body: new Response(typeof body === "string" ? body : JSON.stringify(body)).body,
    streaming: false,
    usageDialect: "openai-embeddings",
    retryable: false,
    ...extra,
  };
}

export async function translateEmbeddings(rt: Runtime, call: Call, target: Target, out: Outbound): Promise<Result<Translation, HubError>> {
  const from = embeddingsClientCodec(call.endpoint);
  const to = codecOf(target);
  if (!from?.decodeEmbeddings || !from.encodeEmbeddingsResponse || !to.encodeEmbeddings || !to.decodeEmbeddingsResponse) {
    return err({ code: "unsupported", message: `${describeTarget(target)} has no embeddings the hub can translate ${call.endpoint} to` });
  }
  const decoded = from.decodeEmbeddings(out.body, { model: target.model });
  if (!decoded.ok) return decoded;
  const ir = { ...decoded.value, model: target.model };
  const encoded = to.encodeEmbeddings(ir, { model: target.model });
  if (!encoded.ok) return encoded;
  const dropped = [...ir.dropped, ...encoded.value.dropped];
  const refused = dropped.find((d) => matchesAny(d.feature, rt.config.hub.refuseDrops));
  if (refused) {
    return err({ code: "unsupported", message: `${describeTarget(target)} cannot express ${refused.feature} (${refused.reason}); this office refuses to drop it (hub.refuseDrops)` });
  }

  let res: Response;
  if (target.kind === "ollama") {
    res = await rt.ollama!.embed(encoded.value.body as never, call.signal);
  } else {
    const route = edgeRoute(target);
    if (!route) return err({ code: "unsupported", message: `${describeTarget(target)} has no embeddings endpoint` });
    const linked = await rt.link!.send({
      requestId: out.requestId,
      method: "POST",
      pool: target.pool,
      path: route.path,
      query: route.query,
      // The client's dialect-specific headers mean nothing to this target: only these go.
      headers: [...out.headers.filter(([name]) => name === "user-agent" || name === "accept"), ["content-type", "application/json"], ["x-ferry-model", target.model]],
      body: encoder.encode(JSON.stringify(encoded.value.body)),
      signal: call.signal,
    });
    res = new Response(linked.body, { status: linked.status, headers: linked.headers });
  }

  if (!res.ok) {
    const retryAfter = res.headers.get("retry-after");
    const answer = jsonAnswer(res.status, translateError(res.status, await res.text(), call.dialect), { retryable: res.status === 429 || res.status >= 500 });
    if (retryAfter) answer.headers.set("retry-after", retryAfter);
    return ok({ dropped, answer });
  }
  const decodedAnswer = to.decodeEmbeddingsResponse(await res.json().catch(() => null));
  if (!decodedAnswer.ok) {
    const body = errorBody(call.dialect, 502, "upstream_failed", `the target's answer could not be read: ${decodedAnswer.error.message}`);
    return ok({ dropped, answer: jsonAnswer(502, body) });
  }
  if (decodedAnswer.value.vectors.length !== ir.inputs.length) {
    const body = errorBody(call.dialect, 502, "upstream_failed", `the target answered ${decodedAnswer.value.vectors.length} embeddings for ${ir.inputs.length} inputs`);
    return ok({ dropped, answer: jsonAnswer(502, body) });
  }

  const usage: Usage = {};
  if (decodedAnswer.value.usage.inputTokens !== undefined) usage.inputTokens = decodedAnswer.value.usage.inputTokens;
  const model = call.model ?? target.model;
  const ctx: OpenAIEmbeddingsEncodeContext & EmbeddingsEncodeContext = {
    model,
    id: `ferry-${out.requestId.slice(0, 24)}`,
    now: Date.now(),
    ...(call.endpoint === "openai.embeddings" ? { encodingFormat: encodingFormatOf(out.body) } : {}),
    ...(call.endpoint === "gemini.embed" ? { single: true } : {}),
  };
  const body = from.encodeEmbeddingsResponse({ ...decodedAnswer.value, model }, ctx);
  return ok({ dropped, answer: jsonAnswer(200, body, { usage: { push: () => {}, end: () => usage, failure: () => null } }) });
}

/**
 * One model call through the companion: authenticate the project, check the model is
 * allowed, take the quota, resolve targets, scrub, send (falling back along the targets
 * until one answers), stream the answer back untouched while counting its usage, then
 * settle the quota and write the audit record — exactly once, however the call ends.
 */
import { randomUUID } from "node:crypto";
import type { ClientDialect } from "./config/schema.ts";
import { clientError, type ClientErrorCode } from "./dialects/errors.ts";
import { matchesAny } from "./glob.ts";
import { LinkError } from "./link/types.ts";
import { describeTarget, resolveTargets, type Target } from "./routing.ts";
import { keyHash, type Runtime } from "./runtime.ts";
import { scrubBody, scrubHeaders } from "./scrub/index.ts";
import { sendToOllama, sendToTarget, type TargetAnswer } from "./targets/send.ts";
import { canTranslate, translateCall } from "./hub/translate.ts";
import { clientCodec, conversationDialect } from "./hub/registry.ts";
import { canTranslateEmbeddings, isEmbeddingsEndpoint, translateEmbeddings } from "./hub/translate-embeddings.ts";
import type { AuditRecord } from "./audit/types.ts";
import type { IrDrop } from "./hub/ir.ts";
import { estimateTokens, UsageTap, type Usage } from "./usage.ts";
import { countPromptTokens } from "./tokens.ts";

export type Endpoint =
  | "anthropic.messages"
  | "anthropic.count_tokens"
  | "openai.chat"
  | "openai.responses"
  | "openai.completions"
  | "openai.embeddings"
  | "gemini.generate"
  | "gemini.stream"
  | "gemini.count_tokens"
  | "gemini.embed"
  | "gemini.batch_embed"
  | "ollama.chat"
  | "proxy";

export interface Call {
  dialect: ClientDialect;
  endpoint: Endpoint;
  model: string | null;
  stream: boolean;
  body: Record<string, unknown> | null;
  /** The client's query, with any `key` removed. */
  query: URLSearchParams;
  /** The `?key=` the client sent, if any (Gemini clients may authenticate that way). */
  queryKey: string | null;
  headers: Headers;
  clientIp: string | null;
  signal: AbortSignal;
  /** For /proxy: pool and native path. */
  proxy?: { pool: string; path: string; method: string; raw: Uint8Array | null };
}

/** The project key, however the client sent it: Bearer, x-api-key, x-goog-api-key or ?key=. */
export function projectKey(headers: Headers, queryKey: string | null): string | null {
  const auth = headers.get("authorization");
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim() || null;
  return headers.get("x-api-key") ?? headers.get("x-goog-api-key") ?? queryKey;
}

const COUNTING: ReadonlySet<Endpoint> = new Set(["anthropic.count_tokens", "gemini.count_tokens"]);

export async function handleCall(rt: Runtime, call: Call): Promise<Response> {
  const requestId = randomUUID().replaceAll("-", "");
  const started = Date.now();
  const audit: AuditRecord = {
    id: requestId,
    time: new Date(started).toISOString(),
    project: null,
    clientIp: call.clientIp,
    userAgent: call.headers.get("user-agent"),
    dialect: call.dialect,
    endpoint: call.endpoint,
    requestedModel: call.model,
    servedModel: null,
    target: null,
    status: 0,
    errorClass: null,
    inputTokens: null,
    outputTokens: null,
    ttfbMs: null,
    durationMs: 0,
    removed: [],
    fallbacks: [],
  };
  const finishAudit = (status: number, errorClass: string | null) => {
    audit.status = status;
    audit.errorClass = errorClass;
    audit.durationMs = Date.now() - started;
    try {
      rt.audit.write(audit);
    } catch (error) {
      rt.log("error", "audit write failed", { requestId, error: (error as Error).message });
    }
    rt.metrics.requests.inc({ project: audit.project ?? "-", model: call.model ?? "-", target: audit.target ?? "-", status: String(status), dialect: call.dialect });
  };
  const refuse = (code: ClientErrorCode, message: string, headers: Record<string, string> = {}, errorClass: string = code) => {
    const res = clientError(call.dialect, code, message, { ...headers, "x-ferry-request-id": requestId });
    finishAudit(res.status, errorClass);
    rt.log("info", "refused", { requestId, project: audit.project, status: res.status, reason: errorClass });
    return res;
  };

  const key = projectKey(call.headers, call.queryKey);
  const project = key ? rt.projectsByKeyHash.get(keyHash(key)) : undefined;
  if (!project) return refuse("unauthorized", key ? "invalid API key" : "missing API key");
  audit.project = project.id;

  const targets: Target[] = call.proxy
    ? [{ kind: "edge", pool: call.proxy.pool, model: call.model ?? "", dialect: rt.config.edgePools[call.proxy.pool]?.dialect ?? "openai" }]
    : call.model
      ? resolveTargets(call.model, rt.config)
      : [];
  if (call.proxy) {
    if (!(call.proxy.pool in rt.config.edgePools) || !rt.link) return refuse("forbidden", `provider ${call.proxy.pool} is not available here`);
  } else if (!call.model) {
    return refuse("bad_request", "the request names no model");
  }
  if (call.model && !matchesAny(call.model, project.allowedModels)) {
    return refuse("forbidden", `model ${call.model} is not allowed for this project`);
  }
  if (!call.proxy && targets.length === 0) return refuse("model_not_found", `model ${call.model} is not routed to any target`);

  const charge = !COUNTING.has(call.endpoint);
  const reserve = charge ? estimateTokens(call.body) : 0;
  const admission = charge ? await rt.quota.admit(project.id, project.limits, reserve) : null;
  if (admission && !admission.ok) {
    const r = admission.error;
    rt.metrics.quotaRejections.inc({ project: project.id, limit: r.limit });
    return refuse("rate_limited", `project ${project.id} is over its ${r.limit} limit (${r.value}); retry after ${r.retryAfterSeconds} s`, {
      "retry-after": String(r.retryAfterSeconds),
      "x-ferry-limit": r.limit,
    }, `quota:${r.limit}`);
  }
  let settled = false;
  const settle = async (usage: Usage | null) => {
    if (settled || !admission?.ok) return;
    settled = true;
    const actual = usage && (usage.inputTokens !== undefined || usage.outputTokens !== undefined) ? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0) : reserve;
    try {
      await rt.quota.settle(project.id, admission.value, actual);
    } catch (error) {
      rt.log("error", "quota settle failed", { requestId, error: (error as Error).message });
    }
  };

  let answer: TargetAnswer | null = null;
  /** Features the hub could not carry to the target (recorded and announced). */
  let dropped: string[] = [];
  /** Drops met while a translated answer streams (known only once it has ended). */
  let streamDropped: IrDrop[] = [];
  let lastFailure: { status: number; code: ClientErrorCode; message: string } | null = null;
  const scrub = { policy: rt.config.scrub, gatewayUserAgent: rt.config.server.gatewayUserAgent, hashKey: rt.hashKey };
  // The body's identity depends on the client's dialect only: scrubbed once, whatever the targets.
  const scrubbed = call.body ? await scrubBody(call.body, bodyDialect(call), scrub) : null;
  for (const [attempt, target] of targets.entries()) {
    const skip = unsupported(rt, call, target);
    if (skip) {
      audit.fallbacks.push(`${describeTarget(target)}: ${skip}`);
      lastFailure = { status: 400, code: "unsupported", message: skip };
      continue;
    }
    const headers = scrubHeaders(call.headers, target.kind === "edge" ? target.dialect : "ollama", scrub);
    audit.removed = [...new Set([...headers.removed, ...(scrubbed?.removed ?? [])])];
    try {
      // The edge refuses to start one request id twice; a fallback to another target is a new
      // request, so it gets its own id (the audit record keeps the caller's).
      const outbound = { requestId: attempt === 0 ? requestId : `${requestId}-${attempt}`, headers: headers.headers, body: scrubbed?.body ?? null };
      if (COUNTING.has(call.endpoint) && needsHub(rt, call, target)) {
        answer = localTokenCount(call);
      } else if (needsHub(rt, call, target)) {
        // Embeddings have their own translation (hub/translate-embeddings.ts); the rest, translateCall.
        const translated = isEmbeddingsEndpoint(call.endpoint) ? await translateEmbeddings(rt, call, target, outbound) : await translateCall(rt, call, target, outbound);
        if (!translated.ok) {
          audit.fallbacks.push(`${describeTarget(target)}: ${translated.error.message}`);
          lastFailure = { status: 400, code: translated.error.code, message: translated.error.message };
          continue;
        }
        answer = translated.value.answer;
        dropped = translated.value.dropped.map((d) => d.feature);
        streamDropped = translated.value.streamDropped ?? [];
      } else {
        answer = target.kind === "ollama" ? await sendToOllama(rt, call, target, outbound) : await sendToTarget(rt, call, target, outbound);
      }
    } catch (error) {
      const reason = error instanceof LinkError ? `${error.code}: ${error.message}` : (error as Error).message;
      if (call.signal.aborted) {
        await settle(null);
        finishAudit(499, "cancelled");
        return new Response(null, { status: 499 });
      }
      if (error instanceof LinkError && !error.resendable && error.code !== "unavailable") {
        // Started at the edge and lost: trying elsewhere could run it twice.
        await settle(null);
        return refuse("upstream_failed", error.message, {}, `link:${error.code}`);
      }
      audit.fallbacks.push(`${describeTarget(target)}: ${reason}`);
      rt.metrics.fallbacks.inc({ from: describeTarget(target) });
      lastFailure = { status: 502, code: "target_unavailable", message: reason };
      continue;
    }
    if (answer.retryable && target !== targets.at(-1)) {
      audit.fallbacks.push(`${describeTarget(target)}: answered ${answer.status}`);
      rt.metrics.fallbacks.inc({ from: describeTarget(target) });
      await answer.body?.cancel().catch(() => {});
      answer = null;
      continue;
    }
    audit.target = target.kind === "edge" ? `edge:${target.pool}` : "ollama";
    audit.servedModel = target.model;
    break;
  }
  if (!answer) {
    await settle(null);
    const failure = lastFailure ?? { status: 502, code: "target_unavailable" as const, message: "no target could serve" };
    return refuse(failure.code, `no target could serve model ${call.model}: ${failure.message}`, {}, failure.code);
  }

  const served = answer;
  const headers = new Headers(served.headers);
  headers.set("x-ferry-request-id", requestId);
  headers.set("x-ferry-served-model", audit.servedModel ?? "");
  headers.set("x-ferry-target", audit.target ?? "");
  if (audit.removed.length) headers.set("x-ferry-scrubbed", audit.removed.join(", ").slice(0, 1000));
  if (dropped.length) {
    headers.set("x-ferry-dropped", dropped.join(", ").slice(0, 1000));
    audit.removed.push(...dropped.map((feature) => `dropped:${feature}`));
  }
  const tap = served.usage ?? new UsageTap({ dialect: served.usageDialect, streaming: served.streaming });
  // Prompt and answer text are kept only when the office asked for it (audit.recordContent).
  const content = rt.config.audit.recordContent ? new ContentRecorder(call.body) : null;
  let firstByteAt: number | null = null;
  const end = async (how: "ok" | "error" | "cancelled") => {
    const usage = tap.end();
    if (content) audit.content = content.record();
    for (const d of streamDropped) audit.removed.push(`dropped:${d.feature}`);
    audit.inputTokens = usage.inputTokens ?? null;
    audit.outputTokens = usage.outputTokens ?? null;
    audit.ttfbMs = firstByteAt === null ? null : firstByteAt - started;
    await settle(usage);
    const labels = { dialect: call.dialect, target: audit.target ?? "-" };
    rt.metrics.duration.observe(labels, (Date.now() - started) / 1000);
    if (audit.ttfbMs !== null) rt.metrics.ttfb.observe(labels, audit.ttfbMs / 1000);
    if (usage.inputTokens) rt.metrics.tokens.inc({ project: project.id, model: call.model ?? "-", direction: "input" }, usage.inputTokens);
    if (usage.outputTokens) rt.metrics.tokens.inc({ project: project.id, model: call.model ?? "-", direction: "output" }, usage.outputTokens);
    // A stream that began with 200 and then carried its dialect's error event failed all the same.
    const failure = served.streaming ? tap.failure() : null;
    const errorClass = how === "cancelled" ? "cancelled" : how === "error" || failure !== null ? "stream_failed" : served.status >= 400 ? "upstream_error" : null;
    finishAudit(served.status, errorClass);
    rt.log(failure === null ? "info" : "warn", "served", { requestId, project: project.id, model: call.model, target: audit.target, status: served.status, ms: audit.durationMs, ...(errorClass ? { errorClass } : {}) });
  };
  if (!served.body) {
    await end("ok");
    return new Response(null, { status: served.status, headers });
  }
  const reader = served.body.getReader();
  let done = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: finished, value } = await reader.read();
          if (finished) {
            done = true;
            controller.close();
            await end("ok");
            return;
          }
          firstByteAt ??= Date.now();
          tap.push(value);
          content?.push(value);
          controller.enqueue(value);
        } catch (error) {
          done = true;
          controller.error(error);
          await end("error");
        }
      },
      async cancel(reason) {
        if (done) return;
        done = true;
        await reader.cancel(reason).catch(() => {});
        await end("cancelled");
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: served.status, headers });
}

function bodyDialect(call: Call): "anthropic" | "openai-chat" | "openai-responses" | "gemini" {
  if (call.dialect === "anthropic") return "anthropic";
  if (call.dialect === "gemini") return "gemini";
  // Ollama's chat body has OpenAI's shape as far as identity goes (messages of strings).
  return call.endpoint === "openai.responses" ? "openai-responses" : "openai-chat";
}

/**
 * Same-dialect targets get the request as it came (scrubbed, model renamed); every other pair
 * of dialects goes through the hub.
 */
function needsHub(rt: Runtime, call: Call, target: Target): boolean {
  if (call.proxy) return false;
  // Ollama is reached through its native API: only an Ollama client's chat speaks it already.
  if (target.kind === "ollama") return call.endpoint !== "ollama.chat";
  if (target.dialect !== call.dialect) return true;
  const from = clientCodec(call.endpoint);
  return from !== null && from.dialect !== conversationDialect(call.endpoint, target, rt.config.edgePools[target.pool]);
}

/** Why this target cannot take this call at all. */
function unsupported(rt: Runtime, call: Call, target: Target): string | null {
  if (isEmbeddingsEndpoint(call.endpoint) && needsHub(rt, call, target)) {
    return canTranslateEmbeddings(call, target) ? null : `${call.endpoint} cannot be translated for ${describeTarget(target)}`;
  }
  if (!needsHub(rt, call, target) || canTranslate(call) || COUNTING.has(call.endpoint)) return null;
  return `${call.endpoint} cannot be translated for ${describeTarget(target)}`;
}

/**
 * count_tokens for a target without a counting endpoint in the client's dialect: answered
 * here with an estimate (the prompt's text through an OpenAI tokenizer, see tokens.ts),
 * never charged.
 */
function localTokenCount(call: Call): TargetAnswer {
  const tokens = Math.max(1, countPromptTokens(call.body, bodyDialect(call)));
  const body = call.dialect === "gemini" ? { totalTokens: tokens } : { input_tokens: tokens };
  return {
    status: 200,
    headers: new Headers({ "content-type": "application/json", "x-ferry-estimate": "true" }),
    body: new Response(JSON.stringify(body)).body,
    streaming: false,
    usageDialect: "anthropic",
    retryable: false,
  };
}

/** Keeps the first CONTENT_LIMIT bytes of the request and the answer for the audit log. */
const CONTENT_LIMIT = 64 * 1024;

class ContentRecorder {
  private readonly request: string;
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  constructor(body: unknown) {
    this.request = body === null ? "" : JSON.stringify(body).slice(0, CONTENT_LIMIT);
  }

  push(bytes: Uint8Array): void {
    if (this.size >= CONTENT_LIMIT) return;
    const part = bytes.subarray(0, CONTENT_LIMIT - this.size);
    this.chunks.push(part.slice());
    this.size += part.byteLength;
  }

  record(): { request: string; response: string } {
    return { request: this.request, response: new TextDecoder().decode(Buffer.concat(this.chunks)) };
  }
}

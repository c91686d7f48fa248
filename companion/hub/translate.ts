/**
 * Sends a call to a target that speaks another dialect: the client's request is decoded to
 * the IR and encoded for the target; the answer — whole or streamed, errors included — goes
 * back the same way, one upstream event at a time. Usage is read from the IR events, so
 * quotas settle on real counts whichever dialects are involved.
 */
import { errorBody } from "../../shared/error-shapes.ts";
import { err, ok, type Result } from "../../shared/result.ts";
import type { Call } from "../pipeline.ts";
import { matchesAny } from "../glob.ts";
import { describeTarget, type Target } from "../routing.ts";
import type { Runtime } from "../runtime.ts";
import type { Outbound, TargetAnswer } from "../targets/send.ts";
import type { Usage } from "../usage.ts";
import type { DialectCodec, HubDialect, HubError } from "./codec.ts";
import type { IrDrop, IrEvent, IrPart, IrUsage } from "./ir.ts";
import { IrAccumulator } from "./accumulate.ts";
import { clientCodec, CODECS, conversationDialect } from "./registry.ts";

const encoder = new TextEncoder();

export interface Translation {
  answer: TargetAnswer;
  /** Features dropped before the answer's head went out (request, and a whole answer's content). */
  dropped: IrDrop[];
  /**
   * Features dropped from a streamed answer as it goes: filled while the body is read, so the
   * pipeline reads it when the stream ends (the audit record; the head has gone by then).
   */
  streamDropped?: IrDrop[];
}

/** Answer parts the client's dialect has no place for: only Gemini answers carry media. */
function unshowable(part: IrPart, client: HubDialect): IrDrop | null {
  if ((part.type === "image" || part.type === "document") && client !== "gemini") {
    return { feature: `response.part.${part.type}`, reason: `a generated ${part.type} cannot be shown in a ${client} answer` };
  }
  return null;
}

/** The first drop the office refuses (hub.refuseDrops), if any. */
function refusedDrop(rt: Runtime, drops: readonly IrDrop[]): IrDrop | undefined {
  return drops.find((d) => matchesAny(d.feature, rt.config.hub.refuseDrops));
}

function toUsage(u: IrUsage | undefined, into: Usage): void {
  if (!u) return;
  if (u.inputTokens !== undefined) into.inputTokens = u.inputTokens;
  if (u.outputTokens !== undefined) into.outputTokens = u.outputTokens;
  if (u.cachedInputTokens !== undefined) into.cachedTokens = u.cachedInputTokens;
  if (u.reasoningTokens !== undefined) into.reasoningTokens = u.reasoningTokens;
}

/** The wire call for a target in a hub dialect: path and query. */
function targetRoute(target: Target, dialect: HubDialect, stream: boolean): { path: string; query: string } {
  const model = encodeURIComponent(target.model);
  // Azure OpenAI: the v1 Responses route takes the deployment as `model`; chat is per deployment.
  const azure = target.kind === "edge" && target.azureApiVersion ? `?api-version=${encodeURIComponent(target.azureApiVersion)}` : null;
  switch (dialect) {
    case "ollama":
      return { path: "/api/chat", query: "" };
    case "anthropic":
      return { path: "/v1/messages", query: "" };
    case "openai-chat":
      return azure ? { path: `/openai/deployments/${model}/chat/completions`, query: azure } : { path: "/v1/chat/completions", query: "" };
    case "openai-responses":
      return azure ? { path: "/openai/responses", query: azure } : { path: "/v1/responses", query: "" };
    case "gemini":
      return stream ? { path: `/v1beta/models/${model}:streamGenerateContent`, query: "?alt=sse" } : { path: `/v1beta/models/${model}:generateContent`, query: "" };
  }
}

/** A target's error body, re-shaped into the client's dialect with the same status. */
export function translateError(status: number, text: string, client: Call["dialect"]): string {
  let message = `upstream answered ${status}`;
  try {
    const json = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const e = json.error;
    message = (typeof e === "string" ? e : e?.message) ?? json.message ?? message;
  } catch {
    // not JSON: keep the generic message
  }
  return JSON.stringify(errorBody(client, status, "upstream_error", message));
}

export function canTranslate(call: Call): boolean {
  return clientCodec(call.endpoint) !== null;
}

export async function translateCall(rt: Runtime, call: Call, target: Target, out: Outbound): Promise<Result<Translation, HubError>> {
  const from = clientCodec(call.endpoint);
  if (!from) return err({ code: "unsupported", message: `${call.endpoint} cannot be translated to another dialect` });
  const to: DialectCodec = CODECS[conversationDialect(call.endpoint, target, target.kind === "edge" ? rt.config.edgePools[target.pool] : undefined)];
  const decoded = from.decodeRequest(out.body, { model: target.model, stream: call.stream });
  if (!decoded.ok) return decoded;
  const ir = { ...decoded.value, model: target.model, stream: call.stream, streamUsage: true };
  rt.reasoning.restore(ir);
  const encoded = to.encodeRequest(ir, { model: target.model });
  if (!encoded.ok) return encoded;
  const dropped = [...ir.dropped, ...encoded.value.dropped];
  const streamDropped: IrDrop[] = [];
  const refused = refusedDrop(rt, dropped);
  if (refused) {
    return err({ code: "unsupported", message: `${describeTarget(target)} cannot express ${refused.feature} (${refused.reason}); this office refuses to drop it (hub.refuseDrops)` });
  }
  const body = encoder.encode(JSON.stringify(encoded.value.body));
  const route = targetRoute(target, to.dialect, call.stream);

  let res: Response;
  if (target.kind === "ollama") {
    res = await rt.ollama!.chat(encoded.value.body as never, call.signal);
  } else {
    const linked = await rt.link!.send({
      requestId: out.requestId,
      method: "POST",
      pool: target.pool,
      path: route.path,
      query: route.query,
      // The client's dialect-specific headers mean nothing to this target: only these go.
      headers: [...out.headers.filter(([name]) => name === "user-agent" || name === "accept"), ["content-type", "application/json"], ["x-ferry-model", target.model], ...anthropicVersion(target)],
      body,
      signal: call.signal,
    });
    res = new Response(linked.body, { status: linked.status, headers: linked.headers });
  }

  const ctx = { model: call.model ?? target.model, id: `ferry-${out.requestId.slice(0, 24)}`, now: Date.now() };
  if (!res.ok) {
    const text = await res.text();
    return ok({
      dropped,
      streamDropped,
      answer: {
        status: res.status,
        headers: new Headers({ "content-type": "application/json", ...(res.headers.get("retry-after") ? { "retry-after": res.headers.get("retry-after")! } : {}) }),
        body: new Response(translateError(res.status, text, call.dialect)).body,
        streaming: false,
        usageDialect: "openai-chat",
        retryable: res.status === 429 || res.status >= 500,
      },
    });
  }

  const usage: Usage = {};
  let failure: string | null = null;
  const usageTap = { push: () => {}, end: () => usage, failure: () => failure };
  if (!call.stream || !res.body) {
    const json: unknown = await res.json().catch(() => null);
    const answer = to.decodeResponse(json);
    if (!answer.ok) {
      const body = JSON.stringify(errorBody(call.dialect, 502, "upstream_failed", `the target's answer could not be read: ${answer.error.message}`));
      return ok({ dropped, streamDropped, answer: jsonAnswer(502, body) });
    }
    toUsage(answer.value.usage, usage);
    rt.reasoning.remember(answer.value);
    const answerDropped = [...(answer.value.dropped ?? []), ...answer.value.content.flatMap((p) => unshowable(p, from.dialect) ?? [])];
    dropped.push(...answerDropped);
    const refusedAnswer = refusedDrop(rt, answerDropped);
    if (refusedAnswer) {
      // The target has answered (and been paid for): the usage still settles the quota.
      const body = JSON.stringify(errorBody(call.dialect, 502, "unsupported", answerRefusal(refusedAnswer)));
      return ok({ dropped, streamDropped, answer: { ...jsonAnswer(502, body), usage: usageTap } });
    }
    const body = JSON.stringify(from.encodeResponse({ ...answer.value, model: ctx.model }, ctx));
    return ok({ dropped, streamDropped, answer: { ...jsonAnswer(200, body), usage: usageTap } });
  }

  const includeUsage = Boolean((out.body as { stream_options?: { include_usage?: boolean } } | null)?.stream_options?.include_usage);
  const sse = call.endpoint !== "gemini.stream" || call.query.get("alt") === "sse";
  const decoder = to.streamDecoder();
  const streamEncoder = from.streamEncoder({ ...ctx, includeUsage, ...(from.dialect === "gemini" ? { sse } : {}) } as never);
  const text = new TextDecoder();
  const reader = res.body.getReader();
  const seen = new IrAccumulator();
  let refusedMidStream = false;
  const observe = (events: IrEvent[]): string => {
    let outText = "";
    for (const event of events) {
      if (refusedMidStream) break;
      const drop = event.type === "dropped" ? event.drop : event.type === "block_start" ? unshowable(event.part, from.dialect) : null;
      if (drop) {
        if (!streamDropped.some((d) => d.feature === drop.feature)) streamDropped.push(drop);
        if (refusedDrop(rt, [drop])) {
          // What follows would be a different answer than the target gave: stop here, in the client's dialect.
          refusedMidStream = true;
          failure = answerRefusal(drop);
          outText += streamEncoder.push({ type: "error", status: 502, code: "unsupported", message: failure });
          break;
        }
        if (event.type === "block_start") continue;
      }
      seen.push(event);
      if (event.type === "usage" || event.type === "start") toUsage(event.usage, usage);
      if (event.type === "error") failure ??= event.message;
      if (event.type === "finish") toUsage(event.usage, usage);
      outText += streamEncoder.push(event);
    }
    return outText;
  };
  let closed = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (closed) return;
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (error) {
            // The link or the upstream broke mid-answer: the client's own error event, then its end.
            const tail = observe([{ type: "error", status: 502, code: "upstream_failed", message: (error as Error).message }]) + streamEncoder.end();
            closed = true;
            if (tail) controller.enqueue(encoder.encode(tail));
            controller.close();
            return;
          }
          if (chunk.done) {
            const tail = observe(decoder.end()) + streamEncoder.end();
            rt.reasoning.remember(seen.result());
            closed = true;
            if (tail) controller.enqueue(encoder.encode(tail));
            controller.close();
            return;
          }
          const emitted = observe(decoder.push(text.decode(chunk.value, { stream: true })));
          if (refusedMidStream) {
            closed = true;
            controller.enqueue(encoder.encode(emitted + streamEncoder.end()));
            controller.close();
            await reader.cancel().catch(() => {});
            return;
          }
          if (emitted) {
            controller.enqueue(encoder.encode(emitted));
            return;
          }
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return ok({
    dropped,
    streamDropped,
    answer: {
      status: 200,
      headers: new Headers({ "content-type": from.streamContentType({ sse }), "cache-control": "no-cache" }),
      body: stream,
      streaming: true,
      usageDialect: "openai-chat",
      retryable: false,
      usage: usageTap,
    },
  });
}

function answerRefusal(drop: IrDrop): string {
  return `the target's answer holds ${drop.feature} (${drop.reason}); this office refuses to drop it (hub.refuseDrops)`;
}

function jsonAnswer(status: number, body: string): TargetAnswer {
  return { status, headers: new Headers({ "content-type": "application/json" }), body: new Response(body).body, streaming: false, usageDialect: "openai-chat", retryable: false };
}

function anthropicVersion(target: Target): [string, string][] {
  return target.kind === "edge" && target.dialect === "anthropic" ? [["anthropic-version", "2023-06-01"]] : [];
}

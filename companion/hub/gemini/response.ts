/**
 * GenerateContentResponse ↔ IrResponse (https://ai.google.dev/api/generate-content#generatecontentresponse).
 * Only the first candidate is read: the decoder refuses candidateCount > 1.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { EncodeContext, HubError } from "../codec.ts";
import type { IrDrop, IrResponse } from "../ir.ts";
import { decodeParts, encodeParts } from "./parts.ts";
import { answerDrops, CallIds, errorFromWire, isObj, type Json, randomHex, stopReasonFromWire, stopReasonToWire, usageFromWire, usageToWire, WireError } from "./wire.ts";

export function decodeResponse(body: unknown): Result<IrResponse, HubError> {
  try {
    if (!isObj(body)) return err({ code: "bad_request", message: "a Gemini answer must be a JSON object" });
    const error = errorFromWire(body);
    if (error) return err({ code: "bad_request", message: `Gemini error ${error.status} ${error.code}: ${error.message}` });
    const responseId = typeof body.responseId === "string" ? body.responseId : "";
    const candidates = Array.isArray(body.candidates) ? body.candidates : [];
    const candidate = candidates[0];
    const ids = new CallIds(responseId || randomHex());
    const drops: IrDrop[] = [];
    const content = isObj(candidate) && isObj(candidate.content) ? decodeParts(candidate.content.parts ?? [], { role: "assistant", drops, ids, turn: 0, path: "candidates[0].content" }) : [];
    const hasToolCalls = content.some((p) => p.type === "tool_call");
    const blocked = candidate === undefined && isObj(body.promptFeedback) && body.promptFeedback.blockReason !== undefined;
    const finishReason = isObj(candidate) ? candidate.finishReason : undefined;
    const response: IrResponse = {
      id: responseId,
      model: typeof body.modelVersion === "string" ? body.modelVersion : "",
      content,
      stopReason: blocked ? "content_filter" : stopReasonFromWire(finishReason, hasToolCalls),
      usage: usageFromWire(body.usageMetadata) ?? {},
    };
    const dropped = answerDrops(drops, isObj(candidate) ? candidate : undefined);
    if (candidates.length > 1) dropped.push({ feature: "response.candidates", reason: "only the first candidate is passed on" });
    if (dropped.length > 0) response.dropped = dropped;
    return ok(response);
  } catch (e) {
    return err({ code: "bad_request", message: e instanceof WireError ? e.message : `unreadable Gemini answer: ${String(e)}` });
  }
}

export function encodeResponse(ir: IrResponse, ctx: EncodeContext): Json {
  // The response side has no channel for drops; what cannot go is the same as for requests.
  const parts = encodeParts(ir.content, "assistant", { drops: [], toolNames: new Map() });
  const body: Json = {
    candidates: [{ content: { role: "model", parts }, finishReason: stopReasonToWire(ir.stopReason), index: 0 }],
  };
  const usage = usageToWire(ir.usage);
  if (usage) body.usageMetadata = usage;
  body.modelVersion = ctx.model;
  body.responseId = ctx.id;
  return body;
}

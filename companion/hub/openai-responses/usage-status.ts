/**
 * Usage, response status and error codes: the mappings the whole-response and streaming
 * halves share. Field names from openai-node 7.x `ResponseUsage`, `Response.IncompleteDetails`
 * and `ResponseError`.
 */
import type { IrStopReason, IrUsage } from "../ir.ts";
import { isObj, num, str } from "./wire.ts";

export interface WireUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** IR → `usage`. Responses `input_tokens` counts cached tokens too, as the IR does. */
export function usageToWire(u: IrUsage): WireUsage {
  const input = u.inputTokens ?? 0;
  const output = u.outputTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cachedInputTokens ?? 0, ...(u.cacheCreationInputTokens !== undefined ? { cache_write_tokens: u.cacheCreationInputTokens } : {}) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: input + output,
  };
}

export function usageFromWire(v: unknown): IrUsage | undefined {
  if (!isObj(v)) return undefined;
  const u: IrUsage = {};
  const input = num(v.input_tokens);
  const output = num(v.output_tokens);
  if (input !== undefined) u.inputTokens = input;
  if (output !== undefined) u.outputTokens = output;
  if (isObj(v.input_tokens_details)) {
    const cached = num(v.input_tokens_details.cached_tokens);
    const written = num(v.input_tokens_details.cache_write_tokens);
    if (cached !== undefined) u.cachedInputTokens = cached;
    if (written !== undefined) u.cacheCreationInputTokens = written;
  }
  if (isObj(v.output_tokens_details)) {
    const reasoning = num(v.output_tokens_details.reasoning_tokens);
    if (reasoning !== undefined) u.reasoningTokens = reasoning;
  }
  return u;
}

export function mergeUsage(into: IrUsage, from: IrUsage | undefined): void {
  if (from) Object.assign(into, from);
}

export type WireStatus = "completed" | "incomplete" | "failed";

export interface WireOutcome {
  status: WireStatus;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  error: { code: string; message: string } | null;
}

/**
 * IR stop reason → `status` with its details. Stop sequences, tool use and refusals all end
 * a response normally (`completed`); the Responses API has no field that names them.
 */
export function outcomeOf(stop: IrStopReason, errorMessage = "the answer was cut off by an upstream error"): WireOutcome {
  switch (stop) {
    case "max_tokens":
      return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, error: null };
    case "content_filter":
      return { status: "incomplete", incomplete_details: { reason: "content_filter" }, error: null };
    case "error":
      return { status: "failed", incomplete_details: null, error: { code: "server_error", message: errorMessage } };
    case "end_turn":
    case "stop_sequence":
    case "tool_use":
    case "refusal":
    case "other":
      return { status: "completed", incomplete_details: null, error: null };
  }
}

/** `status` (+ details, + what the output held) → IR stop reason. */
export function stopOf(status: unknown, incomplete: unknown, seen: { toolCall: boolean; refusal: boolean }): IrStopReason {
  switch (status) {
    case "incomplete": {
      const reason = isObj(incomplete) ? str(incomplete.reason) : undefined;
      // The API reference's own response.incomplete example says "max_tokens"; the type says "max_output_tokens".
      if (reason === "max_output_tokens" || reason === "max_tokens") return "max_tokens";
      if (reason === "content_filter") return "content_filter";
      return "other";
    }
    case "failed":
      return "error";
    case "completed":
    case undefined:
      if (seen.refusal) return "refusal";
      return seen.toolCall ? "tool_use" : "end_turn";
    default:
      return "other";
  }
}

/** HTTP status an error code stands for (codes from `ResponseError.code` and the API's error bodies). */
export function statusOfCode(code: string | undefined): number {
  switch (code) {
    case "rate_limit_exceeded":
    case "insufficient_quota":
      return 429;
    case "invalid_prompt":
    case "invalid_request_error":
    case "context_length_exceeded":
    case "invalid_image":
    case "invalid_image_format":
    case "invalid_base64_image":
    case "invalid_image_url":
    case "image_too_large":
    case "image_too_small":
    case "unsupported_image_media_type":
      return 400;
    case "invalid_api_key":
      return 401;
    default:
      return 500;
  }
}

/**
 * The `response.failed` error code for an IR error. Codex acts on some codes
 * (context_length_exceeded, insufficient_quota, rate_limit_exceeded), so those pass through;
 * the rest become the closest `ResponseError.code` by status.
 */
export function failedCodeOf(status: number, code: string): string {
  if (code === "context_length_exceeded" || code === "insufficient_quota" || code === "rate_limit_exceeded" || code === "invalid_prompt" || code === "server_error") return code;
  if (status === 429) return "rate_limit_exceeded";
  if (status >= 400 && status < 500) return "invalid_prompt";
  return "server_error";
}

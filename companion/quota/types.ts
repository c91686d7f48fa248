/**
 * Per-project quotas (seeds 003, 004): requests per minute, requests per day (day boundary in
 * the configured time zone), tokens per day (reserved when a request starts, settled with
 * the real usage when it ends), concurrent requests. Stores must be atomic: a check and its
 * count are one step, so no interleaving lets a project past its limit.
 */
import type { Result } from "../../shared/result.ts";
import type { Limits } from "../config/schema.ts";

export type LimitName = "requestsPerMinute" | "requestsPerDay" | "tokensPerDay" | "concurrent";

export interface Admission {
  /** Identifies this request's concurrency slot and token reservation. */
  leaseId: string;
  reservedTokens: number;
  /** Day key (YYYY-MM-DD in the store's time zone) the request was counted on. */
  day: string;
}

export interface Refusal {
  limit: LimitName;
  /** The configured value of that limit. */
  value: number;
  /** Seconds until the limit lets a request through again (≥ 1). */
  retryAfterSeconds: number;
}

export interface UsageView {
  day: string;
  requestsToday: number;
  tokensToday: number;
  requestsThisMinute: number;
  concurrent: number;
}

export interface QuotaStore {
  /**
   * Atomically checks every configured limit and, if all allow, counts the request, reserves
   * `reserveTokens` against today's token budget and takes a concurrency slot.
   */
  admit(project: string, limits: Limits, reserveTokens: number, now?: Date): Promise<Result<Admission, Refusal>>;
  /** Replaces the reservation with `actualTokens` and frees the slot. Call exactly once per admission. */
  settle(project: string, admission: Admission, actualTokens: number): Promise<void>;
  usage(project: string, now?: Date): Promise<UsageView>;
  close(): Promise<void>;
}

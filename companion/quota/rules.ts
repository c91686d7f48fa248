/**
 * The refusal rules both stores apply (the Redis store mirrors `firstExceeded` in Lua):
 * limits are checked in the order concurrent, requestsPerMinute, requestsPerDay,
 * tokensPerDay, and only an admitted request is counted.
 */
import type { Limits } from "../config/schema.ts";
import { secondsToNextDay, secondsToNextMinute } from "./day.ts";
import type { LimitName, Refusal } from "./types.ts";

export const LIMIT_ORDER: readonly LimitName[] = ["concurrent", "requestsPerMinute", "requestsPerDay", "tokensPerDay"];

/** Lease lifetime when none is configured: a crashed process's slots free themselves after this. */
export const DEFAULT_LEASE_TTL_MS = 10 * 60_000;

export interface Counts {
  concurrent: number;
  requestsThisMinute: number;
  requestsToday: number;
  tokensToday: number;
}

/**
 * The first limit that refuses a request reserving `reserveTokens`, or null. A count at the
 * limit refuses; tokens refuse when the reservation would take the day past the budget, or
 * when the budget is already spent (so a request reserving 0 cannot run on a spent budget).
 */
export function firstExceeded(limits: Limits, counts: Counts, reserveTokens: number): LimitName | null {
  if (limits.concurrent !== undefined && counts.concurrent >= limits.concurrent) return "concurrent";
  if (limits.requestsPerMinute !== undefined && counts.requestsThisMinute >= limits.requestsPerMinute) return "requestsPerMinute";
  if (limits.requestsPerDay !== undefined && counts.requestsToday >= limits.requestsPerDay) return "requestsPerDay";
  if (limits.tokensPerDay !== undefined && (counts.tokensToday >= limits.tokensPerDay || counts.tokensToday + reserveTokens > limits.tokensPerDay)) {
    return "tokensPerDay";
  }
  return null;
}

export function refusal(limit: LimitName, limits: Limits, now: Date, timeZone: string): Refusal {
  const value = limits[limit];
  if (value === undefined) throw new Error(`refused on ${limit}, which is not configured`);
  let retryAfterSeconds: number;
  switch (limit) {
    case "concurrent":
      retryAfterSeconds = 1;
      break;
    case "requestsPerMinute":
      retryAfterSeconds = secondsToNextMinute(now);
      break;
    case "requestsPerDay":
    case "tokensPerDay":
      retryAfterSeconds = secondsToNextDay(now, timeZone);
      break;
  }
  return { limit, value, retryAfterSeconds: Math.max(1, retryAfterSeconds) };
}

/** Token counts are non-negative integers; anything else is a caller's bug. */
export function tokenCount(n: number, what: string): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what} must be a non-negative number, got ${n}`);
  return Math.ceil(n);
}

export function leaseTtl(ms: number | undefined): number {
  const ttl = ms ?? DEFAULT_LEASE_TTL_MS;
  if (!Number.isInteger(ttl) || ttl < 1) throw new RangeError(`leaseTtlMs must be a positive integer, got ${ttl}`);
  return ttl;
}

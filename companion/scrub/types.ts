/**
 * What leaves the office is built from allowlists; identity inside bodies is removed or
 * rewritten. Each function reports what it removed (names, never values) for the audit log.
 */
import type { Dialect, ScrubPolicy } from "../config/schema.ts";

export type TargetDialect = Dialect | "ollama";

export interface ScrubbedHeaders {
  headers: [string, string][];
  removed: string[];
}

export interface ScrubbedBody {
  body: unknown;
  removed: string[];
}

export interface ScrubContext {
  policy: ScrubPolicy;
  gatewayUserAgent: string;
  /** Key for the keyed hash of session-valued fields (prompt_cache_key): stable per companion. */
  hashKey: string;
}

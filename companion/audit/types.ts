/**
 * The local audit log: one record for every request, admitted or refused. It is where the
 * person behind a request is remembered (client IP, user agent), because nothing about them
 * leaves the office. Never a key; prompt text only when `audit.recordContent` is on.
 */
export interface AuditRecord {
  /** The request id, also in the `x-ferry-request-id` response header and in log lines. */
  id: string;
  /** ISO time the request arrived. */
  time: string;
  project: string | null;
  clientIp: string | null;
  userAgent: string | null;
  /** The client's dialect and endpoint, e.g. "anthropic" / "messages". */
  dialect: string;
  endpoint: string;
  requestedModel: string | null;
  servedModel: string | null;
  /** e.g. "edge:anthropic" or "ollama". */
  target: string | null;
  status: number;
  /** Why it failed or was refused: e.g. "unauthorized", "quota:requestsPerDay", "upstream_failed". */
  errorClass: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  ttfbMs: number | null;
  durationMs: number;
  /** What scrubbing removed or rewrote (names, never values). */
  removed: string[];
  /** Targets tried before the one that served, with why each was skipped. */
  fallbacks: string[];
  /** Only with audit.recordContent. */
  content?: { request?: string; response?: string };
}

export interface AuditLog {
  /** Durable when it returns: a crash right after loses nothing. */
  write(record: AuditRecord): void;
  recent(limit: number): AuditRecord[];
  close(): void;
}

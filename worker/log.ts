/**
 * Structured JSON log lines. Callers pass ids, names and numbers only: never a key, a
 * secret, a header value or a body.
 */

export function log(level: "debug" | "info" | "warn" | "error", fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), ...fields });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

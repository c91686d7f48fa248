/**
 * Structured JSON log lines on stdout/stderr with a level threshold. Callers pass ids,
 * names and numbers: never a key, a header value or prompt text.
 */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  (level: Level, msg: string, fields?: Record<string, unknown>): void;
  level: Level;
}

export function createLogger(level: Level = "info", write: (line: string, level: Level) => void = defaultWrite): Logger {
  const logger = ((lvl: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < ORDER[logger.level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }), lvl);
  }) as Logger;
  logger.level = level;
  return logger;
}

function defaultWrite(line: string, level: Level): void {
  (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line + "\n");
}

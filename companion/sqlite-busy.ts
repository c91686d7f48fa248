/**
 * SQLite set-up steps (switching a new file to WAL, creating tables) can fail with
 * SQLITE_BUSY without the busy handler being consulted when two processes open one file at
 * the same moment; they are retried here with a short synchronous sleep.
 */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

export function retryWhileBusy<T>(deadline: number, body: () => T): T {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, 50)) {
    try {
      return body();
    } catch (error) {
      const code = ((error as { errcode?: number }).errcode ?? 0) & 0xff;
      if ((code !== SQLITE_BUSY && code !== SQLITE_LOCKED) || Date.now() >= deadline) throw error;
      Atomics.wait(sleeper, 0, 0, delayMs);
    }
  }
}

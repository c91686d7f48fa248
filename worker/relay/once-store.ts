/**
 * Keys that may be used once within a window: signature nonces and started request ids.
 * Rows in the Relay's SQLite storage, so they survive a restart; pruned as they expire.
 */
const PRUNE_EVERY = 256;

export class OnceStore {
  private readonly sql: SqlStorage;
  private sincePrune = 0;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
  }

  /** True if `key` was new (and is now remembered until `expiresAt`). */
  remember(key: string, expiresAt: number): boolean {
    if (++this.sincePrune >= PRUNE_EVERY) {
      this.sincePrune = 0;
      this.sql.exec("DELETE FROM seen WHERE expires_at < ?", Date.now());
    }
    return this.sql.exec("INSERT INTO seen (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, expiresAt).rowsWritten > 0;
  }
}

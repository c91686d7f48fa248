/**
 * The audit log in a SQLite file (node:sqlite; nothing to install). WAL with
 * synchronous=FULL: each insert is on disk when write() returns, so a crash loses nothing.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { retryWhileBusy } from "../sqlite-busy.ts";
import type { AuditLog, AuditRecord } from "./types.ts";

const BUSY_TIMEOUT_MS = 5_000;

export class SqliteAuditLog implements AuditLog {
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync;
  private readonly select: StatementSync;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    // Several companion processes may share one audit file and open it at the same moment.
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    retryWhileBusy(deadline, () => this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"));
    retryWhileBusy(deadline, () => this.db.exec(`CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL,
      time TEXT NOT NULL,
      project TEXT,
      status INTEGER NOT NULL,
      record TEXT NOT NULL
    )`));
    retryWhileBusy(deadline, () => this.db.exec("CREATE INDEX IF NOT EXISTS audit_id ON audit (id)"));
    this.insert = this.db.prepare("INSERT INTO audit (id, time, project, status, record) VALUES (?, ?, ?, ?, ?)");
    this.select = this.db.prepare("SELECT record FROM audit ORDER BY seq DESC LIMIT ?");
  }

  write(record: AuditRecord): void {
    this.insert.run(record.id, record.time, record.project, record.status, JSON.stringify(record));
  }

  recent(limit: number): AuditRecord[] {
    return this.select.all(limit).map((row) => JSON.parse(String((row as { record: string }).record)) as AuditRecord);
  }

  byId(id: string): AuditRecord | undefined {
    const row = this.db.prepare("SELECT record FROM audit WHERE id = ? ORDER BY seq DESC LIMIT 1").get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as AuditRecord) : undefined;
  }

  close(): void {
    this.db.close();
  }
}

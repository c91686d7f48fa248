/**
 * Quotas in a SQLite file (node:sqlite). WAL with synchronous=NORMAL: a counted request is in
 * the WAL before admit() returns, so counters survive a process crash or restart. Every admit is one
 * BEGIN IMMEDIATE transaction (the write lock is taken before anything is read), so checks
 * and counts stay exact even with several processes on one file; a process waiting for
 * another's lock waits up to the busy timeout (synchronously: node:sqlite is synchronous).
 *
 * Concurrency slots are lease rows with an expiry, so the slots of a process that crashed
 * before settling free themselves after the lease TTL.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { err, ok, type Result } from "../../shared/result.ts";
import type { Limits } from "../config/schema.ts";
import { assertTimeZone, dayKey, minuteKey } from "./day.ts";
import { firstExceeded, leaseTtl, refusal, tokenCount, type Counts } from "./rules.ts";
import type { Admission, QuotaStore, Refusal, UsageView } from "./types.ts";
import { retryWhileBusy } from "../sqlite-busy.ts";

export interface SqliteQuotaStoreOptions {
  path: string;
  /** IANA zone of the daily boundary. */
  timeZone: string;
  /** How long a concurrency slot is held if never settled (default 10 min). */
  leaseTtlMs?: number;
  /** How long to wait for another process's write lock (default 5 s). */
  busyTimeoutMs?: number;
}

/** Minute rows older than this many minutes are deleted as the project is admitted. */
const MINUTE_ROWS_KEPT = 2;

type Row = Record<string, unknown>;

const num = (row: Row | undefined, column: string) => Number(row?.[column] ?? 0);

export class SqliteQuotaStore implements QuotaStore {
  private readonly db: DatabaseSync;
  private readonly timeZone: string;
  private readonly leaseTtlMs: number;
  private readonly q: Record<
    "expireLeases" | "countLeases" | "dayRow" | "minuteRow" | "countDay" | "countMinute" | "insertLease" | "pruneMinutes" | "settleTokens" | "deleteLease",
    StatementSync
  >;
  private closed = false;

  constructor(options: SqliteQuotaStoreOptions) {
    assertTimeZone(options.timeZone);
    this.timeZone = options.timeZone;
    this.leaseTtlMs = leaseTtl(options.leaseTtlMs);
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.db = new DatabaseSync(options.path, { timeout: busyTimeoutMs });
    try {
      // Switching a new file to WAL while another process does the same can fail with
      // SQLITE_BUSY without the busy handler being consulted: retry it ourselves.
      retryWhileBusy(Date.now() + busyTimeoutMs, () => this.db.exec("PRAGMA journal_mode = WAL"));
      // NORMAL in WAL mode: a commit survives the process crashing (the WAL is written before
      // it returns); only an OS crash or power loss can lose the last commits. Quota counts
      // tolerate that, and FULL (an fsync per commit, two per request) capped the companion's
      // throughput in bench/chain.ts.
      this.db.exec("PRAGMA synchronous = NORMAL");
      retryWhileBusy(Date.now() + busyTimeoutMs, () => this.transaction(() => {
        this.db.exec(`CREATE TABLE IF NOT EXISTS quota_day (
          project TEXT NOT NULL,
          day TEXT NOT NULL,
          requests INTEGER NOT NULL DEFAULT 0,
          tokens INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (project, day)
        ) WITHOUT ROWID`);
        this.db.exec(`CREATE TABLE IF NOT EXISTS quota_minute (
          project TEXT NOT NULL,
          minute TEXT NOT NULL,
          requests INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (project, minute)
        ) WITHOUT ROWID`);
        this.db.exec(`CREATE TABLE IF NOT EXISTS quota_lease (
          id TEXT PRIMARY KEY,
          project TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        )`);
        this.db.exec("CREATE INDEX IF NOT EXISTS quota_lease_project ON quota_lease (project, expires_at)");
      }));
    } catch (error) {
      this.db.close();
      throw error;
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      expireLeases: p("DELETE FROM quota_lease WHERE project = ? AND expires_at <= ?"),
      countLeases: p("SELECT COUNT(*) AS n FROM quota_lease WHERE project = ? AND expires_at > ?"),
      dayRow: p("SELECT requests, tokens FROM quota_day WHERE project = ? AND day = ?"),
      minuteRow: p("SELECT requests FROM quota_minute WHERE project = ? AND minute = ?"),
      countDay: p(
        `INSERT INTO quota_day (project, day, requests, tokens) VALUES (?, ?, 1, ?)
         ON CONFLICT (project, day) DO UPDATE SET requests = requests + 1, tokens = tokens + excluded.tokens`,
      ),
      countMinute: p(
        `INSERT INTO quota_minute (project, minute, requests) VALUES (?, ?, 1)
         ON CONFLICT (project, minute) DO UPDATE SET requests = requests + 1`,
      ),
      insertLease: p("INSERT INTO quota_lease (id, project, expires_at) VALUES (?, ?, ?)"),
      pruneMinutes: p("DELETE FROM quota_minute WHERE project = ? AND minute < ?"),
      settleTokens: p("UPDATE quota_day SET tokens = MAX(0, tokens + ?) WHERE project = ? AND day = ?"),
      deleteLease: p("DELETE FROM quota_lease WHERE id = ? AND project = ?"),
    };
  }

  async admit(project: string, limits: Limits, reserveTokens: number, now: Date = new Date()): Promise<Result<Admission, Refusal>> {
    const reserve = tokenCount(reserveTokens, "reserveTokens");
    const t = now.getTime();
    const day = dayKey(now, this.timeZone);
    const minute = minuteKey(now);
    const leaseId = randomUUID();
    const refused = this.transaction(() => {
      this.q.expireLeases.run(project, t);
      this.q.pruneMinutes.run(project, minuteKey(new Date(t - MINUTE_ROWS_KEPT * 60_000)));
      const counts = this.counts(project, day, minute, t);
      const limit = firstExceeded(limits, counts, reserve);
      if (limit) return limit;
      this.q.countDay.run(project, day, reserve);
      this.q.countMinute.run(project, minute);
      this.q.insertLease.run(leaseId, project, t + this.leaseTtlMs);
      return null;
    });
    if (refused) return err(refusal(refused, limits, now, this.timeZone));
    return ok({ leaseId, reservedTokens: reserve, day });
  }

  async settle(project: string, admission: Admission, actualTokens: number): Promise<void> {
    const actual = tokenCount(actualTokens, "actualTokens");
    this.transaction(() => {
      this.q.settleTokens.run(actual - admission.reservedTokens, project, admission.day);
      this.q.deleteLease.run(admission.leaseId, project);
    });
  }

  async usage(project: string, now: Date = new Date()): Promise<UsageView> {
    const day = dayKey(now, this.timeZone);
    const c = this.counts(project, day, minuteKey(now), now.getTime());
    return { day, ...c };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private counts(project: string, day: string, minute: string, t: number): Counts {
    const d = this.q.dayRow.get(project, day);
    return {
      concurrent: num(this.q.countLeases.get(project, t), "n"),
      requestsThisMinute: num(this.q.minuteRow.get(project, minute), "requests"),
      requestsToday: num(d, "requests"),
      tokensToday: num(d, "tokens"),
    };
  }

  private transaction<T>(body: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }
}

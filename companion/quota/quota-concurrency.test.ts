/**
 * Acceptance: two separate processes, each firing 200 admit() calls at once against one
 * store (one Redis key prefix / one SQLite file) with requestsPerDay 100, admit exactly 100
 * between them.
 */
import { fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { WorkerConfig, WorkerReport } from "../../test/helpers/quota-worker.ts";
import { RedisQuotaStore } from "./redis-store.ts";
import { SqliteQuotaStore } from "./sqlite-store.ts";
import type { QuotaStore } from "./types.ts";

const WORKER = fileURLToPath(new URL("../../test/helpers/quota-worker.ts", import.meta.url));
const REDIS_URL = "redis://127.0.0.1:6379";
const PROCESSES = 2;
const ATTEMPTS = 200;
const LIMIT = 100;
const NOW = "2024-06-01T12:00:00.000Z";

interface Worker {
  ready: Promise<void>;
  report: Promise<WorkerReport>;
  go(): void;
}

function startWorker(config: WorkerConfig): Worker {
  const child = fork(WORKER, [JSON.stringify(config)], { execPath: process.execPath, execArgv: [], stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once("message", (m) => (m === "ready" ? resolve() : reject(new Error(`unexpected message ${JSON.stringify(m)}`))));
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it was ready: ${stderr}`)));
  });
  const report = exited.then((code) => {
    if (code !== 0) throw new Error(`worker exited with ${code}: ${stderr}`);
    return JSON.parse(stdout.trim()) as WorkerReport;
  });
  // Either promise may reject first; the other's rejection must not go unhandled.
  ready.catch(() => undefined);
  report.catch(() => undefined);
  return { ready, report, go: () => child.send("go") };
}

async function race(store: WorkerConfig["store"]): Promise<WorkerReport[]> {
  const config = (i: number): WorkerConfig => ({
    store,
    timeZone: "Asia/Shanghai",
    project: "race",
    limits: { requestsPerDay: LIMIT },
    attempts: ATTEMPTS,
    reserveTokens: 3 + i,
    now: NOW,
  });
  const workers = Array.from({ length: PROCESSES }, (_, i) => startWorker(config(i)));
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.go();
  return Promise.all(workers.map((w) => w.report));
}

async function check(reports: WorkerReport[], store: QuotaStore) {
  if (process.env.QUOTA_RACE_DEBUG) console.log(JSON.stringify(reports));
  const admitted = reports.reduce((sum, r) => sum + r.admitted, 0);
  expect(admitted).toBe(LIMIT);
  for (const r of reports) {
    expect(r.admitted + (r.refused.requestsPerDay ?? 0)).toBe(ATTEMPTS);
    expect(Object.keys(r.refused).filter((k) => k !== "requestsPerDay")).toEqual([]);
  }
  // The stored counts agree with what the processes saw.
  const usage = await store.usage("race", new Date(NOW));
  expect(usage.requestsToday).toBe(LIMIT);
  expect(usage.tokensToday).toBe(reports.reduce((sum, r, i) => sum + r.admitted * (3 + i), 0));
  expect(usage.concurrent).toBe(LIMIT);
}

describe(`${PROCESSES} processes × ${ATTEMPTS} concurrent admits, requestsPerDay ${LIMIT}`, () => {
  const keyPrefix = `ferry-test:${randomBytes(6).toString("hex")}:race:`;
  const dir = mkdtempSync(join(tmpdir(), "ferry-quota-race-"));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      await redis.quit();
    }
  });

  it("admit exactly the limit on one Redis prefix", async () => {
    const reports = await race({ kind: "redis", url: REDIS_URL, keyPrefix });
    const store = new RedisQuotaStore({ url: REDIS_URL, keyPrefix, timeZone: "Asia/Shanghai" });
    try {
      await check(reports, store);
    } finally {
      await store.close();
    }
  });

  it("admit exactly the limit on one SQLite file", async () => {
    const path = join(dir, "quota.db");
    const reports = await race({ kind: "sqlite", path });
    const store = new SqliteQuotaStore({ path, timeZone: "Asia/Shanghai" });
    try {
      await check(reports, store);
    } finally {
      await store.close();
    }
  });

  it("SQLite: admit reads the counts only once it holds the write lock", async () => {
    // Another process takes the write lock and counts a request; admit() started meanwhile
    // must wait for it and see its count (a read before the lock would see the old one).
    const path = join(dir, "lock.db");
    const store = new SqliteQuotaStore({ path, timeZone: "UTC" });
    const limits = { requestsPerDay: 2 };
    const now = new Date(NOW);
    try {
      expect((await store.admit("p", limits, 0, now)).ok).toBe(true);
      const holder = spawn(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { DatabaseSync } from "node:sqlite";
           const db = new DatabaseSync(process.env.DB, { timeout: 5000 });
           db.exec("BEGIN IMMEDIATE");
           db.prepare("UPDATE quota_day SET requests = requests + 1 WHERE project = 'p' AND day = ?").run(process.env.DAY);
           process.stdout.write("locked\\n");
           setTimeout(() => { db.exec("COMMIT"); db.close(); }, 300);`,
        ],
        { env: { ...process.env, DB: path, DAY: NOW.slice(0, 10) }, stdio: ["ignore", "pipe", "inherit"] },
      );
      const exited = new Promise<number | null>((resolve) => holder.once("exit", resolve));
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve());
        void exited.then((code) => reject(new Error(`lock holder exited (${code}) before locking`)));
      });
      const started = Date.now();
      const r = await store.admit("p", limits, 0, now);
      expect(Date.now() - started).toBeGreaterThan(100);
      expect(r.ok ? null : r.error.limit).toBe("requestsPerDay");
      expect(await exited).toBe(0);
      expect((await store.usage("p", now)).requestsToday).toBe(2);
    } finally {
      await store.close();
    }
  });
});

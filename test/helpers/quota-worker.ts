/**
 * A separate process for the quota concurrency test (companion/quota/quota-concurrency.test.ts).
 * argv[2] is a JSON WorkerConfig. The worker opens its store, reports `ready` over IPC,
 * waits for `go`, fires `attempts` admit() calls at once, and prints one JSON line:
 * {"admitted": n, "refused": {limit: n}, "startedAt": ms, "endedAt": ms}.
 */
import type { Limits } from "../../companion/config/schema.ts";
import { RedisQuotaStore } from "../../companion/quota/redis-store.ts";
import { SqliteQuotaStore } from "../../companion/quota/sqlite-store.ts";
import type { QuotaStore } from "../../companion/quota/types.ts";

export type WorkerConfig = {
  store: { kind: "redis"; url: string; keyPrefix: string } | { kind: "sqlite"; path: string };
  timeZone: string;
  project: string;
  limits: Limits;
  attempts: number;
  reserveTokens: number;
  /** ISO time passed to every admit (so a run across midnight cannot split the day). */
  now: string;
};

export type WorkerReport = { admitted: number; refused: Record<string, number>; startedAt: number; endedAt: number };

const config = JSON.parse(process.argv[2] ?? "") as WorkerConfig;
const store: QuotaStore =
  config.store.kind === "redis"
    ? new RedisQuotaStore({ url: config.store.url, keyPrefix: config.store.keyPrefix, timeZone: config.timeZone })
    : new SqliteQuotaStore({ path: config.store.path, timeZone: config.timeZone });
const now = new Date(config.now);

// Connected (Redis) / schema in place (SQLite) before the starting signal.
await store.usage(config.project, now);
const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
process.send?.("ready");
await go;

const startedAt = Date.now();
const results = await Promise.all(Array.from({ length: config.attempts }, () => store.admit(config.project, config.limits, config.reserveTokens, now)));
const endedAt = Date.now();
const report: WorkerReport = { admitted: 0, refused: {}, startedAt, endedAt };
for (const r of results) {
  if (r.ok) report.admitted++;
  else report.refused[r.error.limit] = (report.refused[r.error.limit] ?? 0) + 1;
}
await store.close();
process.stdout.write(JSON.stringify(report) + "\n");
process.disconnect?.();

/**
 * One suite, run against both stores: each limit refuses at exactly its value, day
 * boundaries follow the time zone, settlement adjusts tokens exactly, concurrency slots free
 * on settle and on lease expiry, and counts survive reopening the store.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Limits } from "../config/schema.ts";
import { createQuotaStore } from "./index.ts";
import { RedisQuotaStore } from "./redis-store.ts";
import { SqliteQuotaStore } from "./sqlite-store.ts";
import type { Admission, QuotaStore, Refusal } from "./types.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const LEASE_TTL_MS = 60_000;

interface StoreOptions {
  timeZone?: string;
  leaseTtlMs?: number;
}

interface Backend {
  name: string;
  /** A fresh, empty location (file / key prefix); `open` opens a store on it. */
  fresh(): { open(options?: StoreOptions): QuotaStore };
  cleanup(): Promise<void>;
}

const sqliteBackend = (): Backend => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-quota-"));
  let n = 0;
  return {
    name: "sqlite",
    fresh() {
      const path = join(dir, `quota-${n++}.db`);
      return { open: (o = {}) => new SqliteQuotaStore({ path, timeZone: o.timeZone ?? "UTC", leaseTtlMs: o.leaseTtlMs ?? LEASE_TTL_MS }) };
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const runPrefix = `ferry-test:${randomBytes(6).toString("hex")}:`;

async function deleteKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    await redis.quit();
  }
}

const redisBackend = (): Backend => {
  let n = 0;
  return {
    name: "redis",
    fresh() {
      const keyPrefix = `${runPrefix}${n++}:`;
      return { open: (o = {}) => new RedisQuotaStore({ url: REDIS_URL, keyPrefix, timeZone: o.timeZone ?? "UTC", leaseTtlMs: o.leaseTtlMs ?? LEASE_TTL_MS }) };
    },
    async cleanup() {
      await deleteKeys(`${runPrefix}*`);
    },
  };
};

const at = (iso: string) => new Date(iso);
const plusMs = (d: Date, ms: number) => new Date(d.getTime() + ms);

function admitted(r: Awaited<ReturnType<QuotaStore["admit"]>>): Admission {
  if (!r.ok) throw new Error(`expected admission, got refusal ${JSON.stringify(r.error)}`);
  return r.value;
}
function refused(r: Awaited<ReturnType<QuotaStore["admit"]>>): Refusal {
  if (r.ok) throw new Error(`expected refusal, got admission ${JSON.stringify(r.value)}`);
  return r.error;
}

describe.each([sqliteBackend(), redisBackend()])("$name quota store", (backend) => {
  const open: QuotaStore[] = [];
  const store = (loc: { open(o?: StoreOptions): QuotaStore }, o?: StoreOptions) => {
    const s = loc.open(o);
    open.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(() => backend.cleanup());

  it("requestsPerMinute refuses at exactly the limit until the next UTC minute", async () => {
    const s = store(backend.fresh());
    const limits: Limits = { requestsPerMinute: 3 };
    const t = at("2024-06-01T12:00:15.000Z");
    for (let i = 0; i < 3; i++) admitted(await s.admit("p", limits, 0, plusMs(t, i * 1000)));
    expect(refused(await s.admit("p", limits, 0, plusMs(t, 3000)))).toEqual({ limit: "requestsPerMinute", value: 3, retryAfterSeconds: 42 });
    expect(refused(await s.admit("p", limits, 0, at("2024-06-01T12:00:59.500Z")))).toEqual({ limit: "requestsPerMinute", value: 3, retryAfterSeconds: 1 });
    // Refusals are not counted, and the next minute starts from zero.
    admitted(await s.admit("p", limits, 0, at("2024-06-01T12:01:00.000Z")));
    expect((await s.usage("p", at("2024-06-01T12:01:00.000Z"))).requestsThisMinute).toBe(1);
    expect((await s.usage("p", at("2024-06-01T12:01:00.000Z"))).requestsToday).toBe(4);
    // Other projects have their own counts.
    admitted(await s.admit("q", limits, 0, plusMs(t, 4000)));
  });

  it("requestsPerDay refuses at exactly the limit, retrying at local midnight", async () => {
    const s = store(backend.fresh(), { timeZone: "America/New_York" });
    const limits: Limits = { requestsPerDay: 2 };
    // 20:00 EDT on 2024-06-01.
    const t = at("2024-06-02T00:00:00Z");
    admitted(await s.admit("p", limits, 0, t));
    admitted(await s.admit("p", limits, 0, plusMs(t, 3_600_000)));
    expect(refused(await s.admit("p", limits, 0, plusMs(t, 2 * 3_600_000)))).toEqual({ limit: "requestsPerDay", value: 2, retryAfterSeconds: 2 * 3600 });
    // 00:00 EDT on 2024-06-02.
    const a = admitted(await s.admit("p", limits, 0, at("2024-06-02T04:00:00Z")));
    expect(a.day).toBe("2024-06-02");
  });

  it("tokensPerDay refuses a reservation that would pass the budget, and a spent budget", async () => {
    const s = store(backend.fresh(), { timeZone: "Asia/Shanghai" });
    const limits: Limits = { tokensPerDay: 1000 };
    // 12:00 in Shanghai.
    const t = at("2024-06-01T04:00:00Z");
    admitted(await s.admit("p", limits, 600, t));
    expect(refused(await s.admit("p", limits, 401, t))).toEqual({ limit: "tokensPerDay", value: 1000, retryAfterSeconds: 12 * 3600 });
    admitted(await s.admit("p", limits, 400, t));
    expect((await s.usage("p", t)).tokensToday).toBe(1000);
    expect(refused(await s.admit("p", limits, 1, t)).limit).toBe("tokensPerDay");
    expect(refused(await s.admit("p", limits, 0, t)).limit).toBe("tokensPerDay");
    // A reservation larger than the whole budget is refused even with nothing used.
    expect(refused(await s.admit("fresh", limits, 1001, t))).toEqual({ limit: "tokensPerDay", value: 1000, retryAfterSeconds: 12 * 3600 });
    expect(await s.usage("fresh", t)).toMatchObject({ requestsToday: 0, tokensToday: 0, concurrent: 0 });
    admitted(await s.admit("fresh", limits, 1000, t));
  });

  it("concurrent refuses at exactly the limit with retry-after 1; settle frees a slot", async () => {
    const s = store(backend.fresh());
    const limits: Limits = { concurrent: 2 };
    const t = at("2024-06-01T12:00:00Z");
    const a = admitted(await s.admit("p", limits, 10, t));
    admitted(await s.admit("p", limits, 10, t));
    expect(refused(await s.admit("p", limits, 10, t))).toEqual({ limit: "concurrent", value: 2, retryAfterSeconds: 1 });
    expect((await s.usage("p", t)).concurrent).toBe(2);
    await s.settle("p", a, 10);
    expect((await s.usage("p", t)).concurrent).toBe(1);
    admitted(await s.admit("p", limits, 10, t));
    expect(refused(await s.admit("p", limits, 10, t)).limit).toBe("concurrent");
  });

  it("concurrency slots free themselves when the lease expires", async () => {
    const s = store(backend.fresh(), { leaseTtlMs: LEASE_TTL_MS });
    const limits: Limits = { concurrent: 2 };
    const t = at("2024-06-01T12:00:00Z");
    admitted(await s.admit("p", limits, 0, t));
    admitted(await s.admit("p", limits, 0, plusMs(t, 10_000)));
    expect(refused(await s.admit("p", limits, 0, plusMs(t, LEASE_TTL_MS - 1))).limit).toBe("concurrent");
    expect((await s.usage("p", plusMs(t, LEASE_TTL_MS - 1))).concurrent).toBe(2);
    // The first lease is gone at t + TTL; the second still holds its slot.
    expect((await s.usage("p", plusMs(t, LEASE_TTL_MS))).concurrent).toBe(1);
    const c = admitted(await s.admit("p", limits, 0, plusMs(t, LEASE_TTL_MS)));
    expect(refused(await s.admit("p", limits, 0, plusMs(t, LEASE_TTL_MS))).limit).toBe("concurrent");
    // Settling a request whose lease already expired is harmless.
    await s.settle("p", c, 0);
    expect((await s.usage("p", plusMs(t, LEASE_TTL_MS))).concurrent).toBe(1);
  });

  it("checks limits in the order concurrent, requestsPerMinute, requestsPerDay, tokensPerDay", async () => {
    const s = store(backend.fresh());
    const limits: Limits = { concurrent: 1, requestsPerMinute: 1, requestsPerDay: 2, tokensPerDay: 100 };
    const t = at("2024-06-01T12:00:00Z");
    const a = admitted(await s.admit("p", limits, 10, t));
    expect(refused(await s.admit("p", limits, 1000, t)).limit).toBe("concurrent");
    await s.settle("p", a, 10);
    expect(refused(await s.admit("p", limits, 1000, t)).limit).toBe("requestsPerMinute");
    const t2 = plusMs(t, 60_000);
    expect(refused(await s.admit("p", limits, 91, t2)).limit).toBe("tokensPerDay");
    const b = admitted(await s.admit("p", limits, 90, t2));
    await s.settle("p", b, 0);
    expect(refused(await s.admit("p", limits, 0, plusMs(t, 120_000))).limit).toBe("requestsPerDay");
    expect(await s.usage("p", plusMs(t, 120_000))).toEqual({ day: "2024-06-01", requestsToday: 2, tokensToday: 10, requestsThisMinute: 0, concurrent: 0 });
  });

  it.each([
    ["Asia/Shanghai", "2024-06-01T15:59:59Z", "2024-06-01T16:00:01Z", "2024-06-01", "2024-06-02"],
    ["America/New_York", "2024-03-10T04:59:59Z", "2024-03-10T05:00:01Z", "2024-03-09", "2024-03-10"],
    ["America/New_York", "2024-03-11T03:59:59Z", "2024-03-11T04:00:01Z", "2024-03-10", "2024-03-11"],
  ])("days follow the time zone (%s: %s and %s are different days)", async (timeZone, before, after, dayBefore, dayAfter) => {
    const s = store(backend.fresh(), { timeZone });
    const limits: Limits = { requestsPerDay: 1 };
    const a = admitted(await s.admit("p", limits, 5, at(before)));
    expect(a.day).toBe(dayBefore);
    expect(refused(await s.admit("p", limits, 5, at(before))).retryAfterSeconds).toBe(1);
    const b = admitted(await s.admit("p", limits, 7, at(after)));
    expect(b.day).toBe(dayAfter);
    expect(await s.usage("p", at(before))).toMatchObject({ day: dayBefore, requestsToday: 1, tokensToday: 5 });
    expect(await s.usage("p", at(after))).toMatchObject({ day: dayAfter, requestsToday: 1, tokensToday: 7 });
    // UTC would have put both on one day in these cases where the zone is not UTC+0.
    const utc = store(backend.fresh());
    admitted(await utc.admit("p", limits, 0, at(before)));
    expect(refused(await utc.admit("p", limits, 0, at(after))).limit).toBe("requestsPerDay");
  });

  it("settle replaces the reservation with the actual tokens, on the admission's day", async () => {
    const s = store(backend.fresh(), { timeZone: "Asia/Shanghai" });
    const limits: Limits = { tokensPerDay: 10_000 };
    const t = at("2024-06-01T04:00:00Z");
    const a = admitted(await s.admit("p", limits, 500, t));
    expect(a.reservedTokens).toBe(500);
    expect((await s.usage("p", t)).tokensToday).toBe(500);
    await s.settle("p", a, 120);
    expect((await s.usage("p", t)).tokensToday).toBe(120);
    const b = admitted(await s.admit("p", limits, 300, t));
    await s.settle("p", b, 700);
    expect((await s.usage("p", t)).tokensToday).toBe(820);

    // Admitted at 23:59:59 local, settled after midnight: the tokens stay on the first day.
    const late = admitted(await s.admit("p", limits, 100, at("2024-06-01T15:59:59Z")));
    const next = at("2024-06-01T16:00:01Z");
    const early = admitted(await s.admit("p", limits, 40, next));
    await s.settle("p", late, 1000);
    expect((await s.usage("p", t)).tokensToday).toBe(1820);
    expect((await s.usage("p", next)).tokensToday).toBe(40);
    await s.settle("p", early, 45);
    expect((await s.usage("p", next)).tokensToday).toBe(45);
    // The settled budget is what later admissions see.
    expect(refused(await s.admit("p", limits, 10_000 - 45 + 1, next)).limit).toBe("tokensPerDay");
    admitted(await s.admit("p", limits, 10_000 - 45, next));
  });

  it("counts, tokens and leases survive reopening the store", async () => {
    const loc = backend.fresh();
    const limits: Limits = { requestsPerMinute: 5, requestsPerDay: 3, tokensPerDay: 1000, concurrent: 2 };
    const t = at("2024-06-01T12:00:00Z");
    const first = loc.open({ timeZone: "Asia/Shanghai" });
    const a = admitted(await first.admit("p", limits, 100, t));
    const b = admitted(await first.admit("p", limits, 200, t));
    await first.settle("p", a, 150);
    await first.close();

    const second = store(loc, { timeZone: "Asia/Shanghai" });
    expect(await second.usage("p", t)).toEqual({ day: "2024-06-01", requestsToday: 2, tokensToday: 350, requestsThisMinute: 2, concurrent: 1 });
    const c = admitted(await second.admit("p", limits, 0, t));
    expect(refused(await second.admit("p", limits, 0, t)).limit).toBe("concurrent");
    await second.settle("p", b, 50);
    await second.settle("p", c, 0);
    expect(refused(await second.admit("p", limits, 0, t)).limit).toBe("requestsPerDay");
    expect(await second.usage("p", t)).toEqual({ day: "2024-06-01", requestsToday: 3, tokensToday: 200, requestsThisMinute: 3, concurrent: 0 });
  });

  it("usage() shows today's view and zeros for an unknown project", async () => {
    const s = store(backend.fresh(), { timeZone: "America/New_York" });
    expect(await s.usage("nobody", at("2024-06-01T12:00:00Z"))).toEqual({ day: "2024-06-01", requestsToday: 0, tokensToday: 0, requestsThisMinute: 0, concurrent: 0 });
    const t = at("2024-06-01T12:00:30Z");
    const a = admitted(await s.admit("p", {}, 11, t));
    admitted(await s.admit("p", {}, 22, at("2024-06-01T12:01:05Z")));
    admitted(await s.admit("p", {}, 33, at("2024-06-01T12:01:10Z")));
    expect(await s.usage("p", at("2024-06-01T12:01:20Z"))).toEqual({ day: "2024-06-01", requestsToday: 3, tokensToday: 66, requestsThisMinute: 2, concurrent: 3 });
    await s.settle("p", a, 1);
    expect(await s.usage("p", at("2024-06-01T12:02:00Z"))).toEqual({ day: "2024-06-01", requestsToday: 3, tokensToday: 56, requestsThisMinute: 0, concurrent: 2 });
    // No limits configured: nothing refuses.
    for (let i = 0; i < 20; i++) admitted(await s.admit("p", {}, 1000, t));
  });

  it("rejects negative or non-finite token counts", async () => {
    const s = store(backend.fresh());
    await expect(s.admit("p", {}, -1)).rejects.toThrow(RangeError);
    await expect(s.admit("p", {}, Number.NaN)).rejects.toThrow(RangeError);
    const a = admitted(await s.admit("p", {}, 1));
    await expect(s.settle("p", a, Number.POSITIVE_INFINITY)).rejects.toThrow(RangeError);
  });
});

describe("redis key expiry", () => {
  const keyPrefix = `${runPrefix}ttl:`;
  afterAll(() => deleteKeys(`${keyPrefix}*`));

  it("day keys live about 48 h, minute keys about 2 min, the lease set a little past its TTL", async () => {
    const s = new RedisQuotaStore({ url: REDIS_URL, keyPrefix, timeZone: "UTC", leaseTtlMs: LEASE_TTL_MS });
    const redis = new Redis(REDIS_URL);
    try {
      const t = at("2024-06-01T12:00:00Z");
      const a = admitted(await s.admit("p", { requestsPerDay: 10 }, 5, t));
      const k = s.keys("p", "2024-06-01", "2024-06-01T12:00");
      expect(await redis.ttl(k.day)).toBeGreaterThan(47 * 3600);
      expect(await redis.ttl(k.day)).toBeLessThanOrEqual(48 * 3600);
      expect(await redis.ttl(k.minute)).toBeGreaterThan(100);
      expect(await redis.ttl(k.minute)).toBeLessThanOrEqual(120);
      expect(await redis.pttl(k.leases)).toBeGreaterThan(LEASE_TTL_MS);
      // Settling after the day hash has gone does not recreate it without a TTL.
      await redis.del(k.day);
      await s.settle("p", a, 50);
      expect(await redis.exists(k.day)).toBe(0);
      expect(await redis.zcard(k.leases)).toBe(0);
    } finally {
      await s.close();
      await redis.quit();
    }
  });
});

describe("createQuotaStore", () => {
  it("builds the store the config names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ferry-quota-"));
    const keyPrefix = `${runPrefix}factory:`;
    try {
      const sqlite = createQuotaStore({ kind: "sqlite", path: join(dir, "nested", "q.db") }, "Asia/Shanghai");
      const redis = createQuotaStore({ kind: "redis", url: REDIS_URL, keyPrefix }, "Asia/Shanghai");
      expect(sqlite).toBeInstanceOf(SqliteQuotaStore);
      expect(redis).toBeInstanceOf(RedisQuotaStore);
      for (const s of [sqlite, redis]) {
        expect(admitted(await s.admit("p", {}, 1, at("2024-06-01T16:00:00Z"))).day).toBe("2024-06-02");
        await s.close();
      }
      expect(() => createQuotaStore({ kind: "sqlite", path: join(dir, "x.db") }, "Nowhere/Atlantis")).toThrow(RangeError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await deleteKeys(`${keyPrefix}*`);
    }
  });
});

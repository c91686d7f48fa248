/**
 * Quotas in Redis, shared by any number of companion processes. admit() is one Lua script
 * (checks every limit, then counts and takes a lease), settle() another; Redis runs a script
 * atomically, so no interleaving of processes lets a project past a limit.
 *
 * Keys (the project is a hash tag, so one project's keys share a cluster slot):
 *   <prefix>{<project>}:day:<YYYY-MM-DD>     hash {requests, tokens}, expires 48 h after the last write
 *   <prefix>{<project>}:min:<YYYY-MM-DDTHH:MM> request count of one UTC minute, expires after 2 min
 *   <prefix>{<project>}:leases               sorted set leaseId → expiry (epoch ms); concurrency = ZCARD
 *                                            after removing expired leases
 * Times in keys and lease expiries come from the `now` the caller passes (default: this
 * process's clock), not from the Redis server's clock.
 */
import { createHash, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { err, ok, type Result } from "../../shared/result.ts";
import type { Limits } from "../config/schema.ts";
import { assertTimeZone, dayKey, minuteKey } from "./day.ts";
import { LIMIT_ORDER, leaseTtl, refusal, tokenCount } from "./rules.ts";
import type { Admission, LimitName, QuotaStore, Refusal, UsageView } from "./types.ts";

export interface RedisQuotaStoreOptions {
  url: string;
  keyPrefix: string;
  /** IANA zone of the daily boundary. */
  timeZone: string;
  /** How long a concurrency slot is held if never settled (default 10 min). */
  leaseTtlMs?: number;
}

const DAY_TTL_SECONDS = 48 * 3600;
const MINUTE_TTL_SECONDS = 120;
/** The lease set outlives its newest lease by this much (real time). */
const LEASE_SET_MARGIN_MS = 60_000;

/**
 * KEYS: day hash, minute counter, lease set.
 * ARGV: now ms, lease expiry ms, lease id, reserve tokens, concurrent, requestsPerMinute,
 *       requestsPerDay, tokensPerDay (-1: no limit), day TTL s, minute TTL s, lease set TTL ms.
 * Returns {1} when admitted, {0, limitName} when refused. Same rules as rules.ts firstExceeded.
 */
const ADMIT_LUA = `
local reserve = tonumber(ARGV[4])
local conc, rpm, rpd, tpd = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
if conc >= 0 and redis.call('ZCARD', KEYS[3]) >= conc then return {0, 'concurrent'} end
local minute = tonumber(redis.call('GET', KEYS[2]) or 0)
if rpm >= 0 and minute >= rpm then return {0, 'requestsPerMinute'} end
local day = redis.call('HMGET', KEYS[1], 'requests', 'tokens')
local requests = tonumber(day[1] or 0)
local tokens = tonumber(day[2] or 0)
if rpd >= 0 and requests >= rpd then return {0, 'requestsPerDay'} end
if tpd >= 0 and (tokens >= tpd or tokens + reserve > tpd) then return {0, 'tokensPerDay'} end
redis.call('HINCRBY', KEYS[1], 'requests', 1)
redis.call('HINCRBY', KEYS[1], 'tokens', reserve)
redis.call('EXPIRE', KEYS[1], ARGV[9])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[10])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[11])
return {1}
`;

/**
 * KEYS: day hash of the admission, lease set. ARGV: actual − reserved tokens, lease id.
 * A day hash that has already expired is not recreated (it would have no TTL).
 */
const SETTLE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local tokens = redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[1])
  if tokens < 0 then redis.call('HSET', KEYS[1], 'tokens', 0) end
end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`;

interface Script {
  lua: string;
  sha: string;
}
const script = (lua: string): Script => ({ lua, sha: createHash("sha1").update(lua).digest("hex") });
const ADMIT = script(ADMIT_LUA);
const SETTLE = script(SETTLE_LUA);

export class RedisQuotaStore implements QuotaStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly timeZone: string;
  private readonly leaseTtlMs: number;
  private closed = false;

  constructor(options: RedisQuotaStoreOptions) {
    assertTimeZone(options.timeZone);
    this.timeZone = options.timeZone;
    this.leaseTtlMs = leaseTtl(options.leaseTtlMs);
    this.prefix = options.keyPrefix;
    this.redis = new Redis(options.url, { maxRetriesPerRequest: 3 });
  }

  /** The keys of one project (exported for tests and tooling). */
  keys(project: string, day: string, minute: string): { day: string; minute: string; leases: string } {
    const base = `${this.prefix}{${project}}:`;
    return { day: `${base}day:${day}`, minute: `${base}min:${minute}`, leases: `${base}leases` };
  }

  async admit(project: string, limits: Limits, reserveTokens: number, now: Date = new Date()): Promise<Result<Admission, Refusal>> {
    const reserve = tokenCount(reserveTokens, "reserveTokens");
    const t = now.getTime();
    const day = dayKey(now, this.timeZone);
    const k = this.keys(project, day, minuteKey(now));
    const leaseId = randomUUID();
    const limit = (name: LimitName) => String(limits[name] ?? -1);
    const reply = await this.run(
      ADMIT,
      [k.day, k.minute, k.leases],
      [
        String(t),
        String(t + this.leaseTtlMs),
        leaseId,
        String(reserve),
        limit("concurrent"),
        limit("requestsPerMinute"),
        limit("requestsPerDay"),
        limit("tokensPerDay"),
        String(DAY_TTL_SECONDS),
        String(MINUTE_TTL_SECONDS),
        String(this.leaseTtlMs + LEASE_SET_MARGIN_MS),
      ],
    );
    if (!Array.isArray(reply)) throw new Error(`unexpected reply from the admit script: ${JSON.stringify(reply)}`);
    if (reply[0] === 1) return ok({ leaseId, reservedTokens: reserve, day });
    const refused = reply[1];
    if (!LIMIT_ORDER.includes(refused as LimitName)) throw new Error(`unexpected reply from the admit script: ${JSON.stringify(reply)}`);
    return err(refusal(refused as LimitName, limits, now, this.timeZone));
  }

  async settle(project: string, admission: Admission, actualTokens: number): Promise<void> {
    const actual = tokenCount(actualTokens, "actualTokens");
    const k = this.keys(project, admission.day, "");
    await this.run(SETTLE, [k.day, k.leases], [String(actual - admission.reservedTokens), admission.leaseId]);
  }

  async usage(project: string, now: Date = new Date()): Promise<UsageView> {
    const day = dayKey(now, this.timeZone);
    const k = this.keys(project, day, minuteKey(now));
    const replies = await this.redis.multi().hmget(k.day, "requests", "tokens").get(k.minute).zcount(k.leases, `(${now.getTime()}`, "+inf").exec();
    if (!replies) throw new Error("usage transaction was discarded");
    for (const [error] of replies) if (error) throw error;
    const [dayFields, minute, leases] = replies.map(([, value]) => value) as [(string | null)[], string | null, number];
    return {
      day,
      requestsToday: Number(dayFields[0] ?? 0),
      tokensToday: Number(dayFields[1] ?? 0),
      requestsThisMinute: Number(minute ?? 0),
      concurrent: Number(leases),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** EVALSHA, loading the script with EVAL when the server does not have it cached. */
  private async run(s: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return await this.redis.eval(s.lua, keys.length, ...keys, ...args);
    }
  }
}

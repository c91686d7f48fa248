/** The quota store the configuration names. */
import type { CompanionConfig } from "../config/schema.ts";
import { RedisQuotaStore } from "./redis-store.ts";
import { SqliteQuotaStore } from "./sqlite-store.ts";
import type { QuotaStore } from "./types.ts";

export type { Admission, LimitName, QuotaStore, Refusal, UsageView } from "./types.ts";

export function createQuotaStore(config: CompanionConfig["store"], timeZone: string): QuotaStore {
  switch (config.kind) {
    case "sqlite":
      return new SqliteQuotaStore({ path: config.path, timeZone });
    case "redis":
      return new RedisQuotaStore({ url: config.url, keyPrefix: config.keyPrefix, timeZone });
  }
}

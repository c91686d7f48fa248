import { describe, expect, it } from "vitest";
import { companionMayUse, formatPath, getConfig, loadConfig, type ConfigIssue, type EdgeConfig } from "./config.ts";

const INLINE_KEY = "fake-test-INLINEKEYVALUE-0001";
const ENV_KEY = "fake-ant-test-ENVKEYVALUE-0002";
const OFFICE_SECRET = "office-secret-VALUE-0123456789abcdef-xyz";
const OTHER_SECRET = "other-secret-VALUE-fedcba9876543210-xyz";
const SECRET_VALUES = [INLINE_KEY, ENV_KEY, OFFICE_SECRET, OTHER_SECRET];

function validConfig() {
  return {
    pools: {
      openai: { type: "openai", members: [{ key: INLINE_KEY }] },
      anthropic: {
        type: "anthropic",
        members: [{ id: "primary", key: { env: "ANTHROPIC_KEY_1" }, weight: 3 }],
        requestHeaders: ["x-extra"],
        dropResponseHeaders: ["x-account"],
      },
      azure: {
        type: "azure-openai",
        baseUrl: "https://res.openai.azure.com",
        members: [{ key: INLINE_KEY, apiVersion: "2024-10-21", deployments: { "gpt-4o": "gpt4o-prod" } }],
      },
    },
    companions: [
      { id: "office", secret: { env: "OFFICE_SECRET" }, pools: ["*"] },
      { id: "branch", secret: OTHER_SECRET, pools: ["openai", "azure"] },
    ],
  };
}

function envFor(config: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { FERRY_CONFIG: JSON.stringify(config), ANTHROPIC_KEY_1: ENV_KEY, OFFICE_SECRET, ...extra };
}

async function loaded(env: Record<string, unknown>): Promise<EdgeConfig> {
  const r = await loadConfig(env);
  if (!r.ok) throw new Error(`expected a config, got ${JSON.stringify(r.error)}`);
  return r.value;
}

async function issues(env: Record<string, unknown>): Promise<ConfigIssue[]> {
  const r = await loadConfig(env);
  if (r.ok) throw new Error("expected config issues");
  expect(r.error.length).toBeGreaterThan(0);
  return r.error;
}

function expectNoSecrets(found: ConfigIssue[], secrets: readonly string[] = SECRET_VALUES) {
  const text = JSON.stringify(found);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe("loadConfig: a valid config", () => {
  it("resolves inline keys and {env} references", async () => {
    const config = await loaded(envFor(validConfig()));
    expect(config.pools.get("openai")!.members[0]!.key).toBe(INLINE_KEY);
    expect(config.pools.get("anthropic")!.members[0]!.key).toBe(ENV_KEY);
    expect(config.companions.get("office")!.secret).toBe(OFFICE_SECRET);
    expect(config.companions.get("branch")!.secret).toBe(OTHER_SECRET);
  });

  it("fills in member ids, weights and the provider's default base URL", async () => {
    const config = await loaded(envFor(validConfig()));
    const openai = config.pools.get("openai")!;
    expect(openai.name).toBe("openai");
    expect(openai.type).toBe("openai");
    expect(openai.members[0]).toMatchObject({ id: "0", weight: 1 });
    expect(openai.members[0]!.baseUrl.href).toBe("https://api.openai.com/");
    expect(openai.members[0]).not.toHaveProperty("apiVersion");
    expect(config.pools.get("anthropic")!.members[0]).toMatchObject({ id: "primary", weight: 3 });
    expect(config.pools.get("anthropic")!.members[0]!.baseUrl.href).toBe("https://api.anthropic.com/");
  });

  it("uses the pool's base URL, and a member's own base URL over it", async () => {
    const raw = validConfig();
    raw.pools.azure.members.push({ key: "sk-test-second", baseUrl: "https://other.openai.azure.com/x" } as never);
    const azure = (await loaded(envFor(raw))).pools.get("azure")!;
    expect(azure.members[0]!.baseUrl.href).toBe("https://res.openai.azure.com/");
    expect(azure.members[0]).toMatchObject({ apiVersion: "2024-10-21", deployments: { "gpt-4o": "gpt4o-prod" } });
    expect(azure.members[1]!.baseUrl.href).toBe("https://other.openai.azure.com/x");
  });

  it("allows content-type, accept, the provider's headers and the pool's extra headers", async () => {
    const config = await loaded(envFor(validConfig()));
    const anthropic = config.pools.get("anthropic")!;
    expect([...anthropic.requestHeaders].sort()).toEqual(
      ["accept", "anthropic-beta", "anthropic-version", "content-type", "x-extra"].sort(),
    );
    expect([...anthropic.dropResponseHeaders]).toEqual(["x-account"]);
    expect(config.pools.get("openai")!.requestHeaders.has("openai-beta")).toBe(true);
    expect(config.pools.get("openai")!.requestHeaders.has("x-extra")).toBe(false);
  });

  it("gives companions the pools they name, or all with *", async () => {
    const config = await loaded(envFor(validConfig()));
    const office = config.companions.get("office")!;
    const branch = config.companions.get("branch")!;
    expect(office.pools).toBe("*");
    expect(companionMayUse(office, "anthropic")).toBe(true);
    expect(companionMayUse(branch, "openai")).toBe(true);
    expect(companionMayUse(branch, "azure")).toBe(true);
    expect(companionMayUse(branch, "anthropic")).toBe(false);
  });

  it("applies the documented defaults to settings", async () => {
    const config = await loaded(envFor(validConfig()));
    expect(config.settings).toEqual({
      maxAttempts: 3,
      retryBudgetMs: 30_000,
      headersTimeoutMs: 300_000,
      rateLimitCooldownMs: 60_000,
      rateLimitCooldownMaxMs: 3_600_000,
      backoffBaseMs: 1_000,
      backoffMaxMs: 300_000,
      failureHalfLifeMs: 300_000,
      maxRequestBytes: 32 * 1024 * 1024,
      userAgent: "ferry-edge/0.1",
      dropRequestIds: false,
    });
  });

  it("keeps given settings and defaults the rest", async () => {
    const config = await loaded(envFor({ ...validConfig(), settings: { maxAttempts: 5, dropRequestIds: true } }));
    expect(config.settings).toMatchObject({ maxAttempts: 5, dropRequestIds: true, retryBudgetMs: 30_000 });
  });

  it("gives each member a short hex fingerprint that changes with the key or the host only", async () => {
    const fingerprint = async (pool: object) => {
      const companions = [{ id: "office", secret: OFFICE_SECRET, pools: ["*"] }];
      const config = await loaded(envFor({ pools: { p: pool }, companions }));
      return config.pools.get("p")!.members[0]!.fingerprint;
    };
    const base = await fingerprint({ type: "openai", members: [{ key: INLINE_KEY }] });
    expect(base).toMatch(/^[0-9a-f]{24}$/);
    expect(base).not.toContain(INLINE_KEY);
    expect(await fingerprint({ type: "openai", members: [{ key: INLINE_KEY, weight: 7 }] })).toBe(base);
    expect(await fingerprint({ type: "openai", members: [{ key: INLINE_KEY + "x" }] })).not.toBe(base);
    expect(
      await fingerprint({ type: "openai", baseUrl: "https://proxy.example", members: [{ key: INLINE_KEY }] }),
    ).not.toBe(base);
  });
});

describe("loadConfig: refusals", () => {
  it.each([
    ["absent", {}],
    ["empty", { FERRY_CONFIG: "" }],
    ["blank", { FERRY_CONFIG: "  \n" }],
    ["not a string", { FERRY_CONFIG: 42 }],
  ])("says FERRY_CONFIG is not set when it is %s", async (_label, env) => {
    const found = await issues(env);
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe("FERRY_CONFIG");
    expect(found[0]!.message).toMatch(/not set/);
  });

  it("refuses invalid JSON without quoting any of it", async () => {
    const fake = "sk-test-SECRETVALUE123";
    for (const raw of [`{"pools": {"openai": {"members": [{"key": "${fake}"`, `{"key": ${fake}}`, `{"key": '${fake}'}`]) {
      const found = await issues({ FERRY_CONFIG: raw });
      expect(found).toEqual([{ path: "FERRY_CONFIG", message: "is not valid JSON" }]);
      expectNoSecrets(found, [fake, "SECRETVALUE"]);
    }
  });

  it("reports a missing member key at its exact path", async () => {
    const raw = validConfig();
    delete (raw.pools.openai.members[0] as { key?: unknown }).key;
    const found = await issues(envFor(raw));
    expect(found.map((i) => i.path)).toContain("pools.openai.members[0].key");
  });

  it("reports a member key of the wrong type at its exact path", async () => {
    const raw = validConfig();
    (raw.pools.openai.members[0] as { key: unknown }).key = 12345;
    const found = await issues(envFor(raw));
    expect(found.map((i) => i.path)).toEqual(["pools.openai.members[0].key"]);
  });

  it("reports a companion naming an unknown pool at companions[i].pools[j]", async () => {
    const raw = validConfig();
    raw.companions[1]!.pools = ["openai", "mistral"];
    const found = await issues(envFor(raw));
    expect(found).toEqual([{ path: "companions[1].pools[1]", message: "names no configured pool" }]);
  });

  it("reports the first companion's unknown pool at companions[0].pools[0]", async () => {
    const raw = validConfig();
    raw.companions[0]!.pools = ["opanai"];
    const found = await issues(envFor(raw));
    expect(found.map((i) => i.path)).toEqual(["companions[0].pools[0]"]);
  });

  it("requires a baseUrl for azure-openai members", async () => {
    const raw = validConfig();
    delete (raw.pools.azure as { baseUrl?: string }).baseUrl;
    const found = await issues(envFor(raw));
    expect(found).toEqual([{ path: "pools.azure.members[0].baseUrl", message: "azure-openai needs a baseUrl" }]);
  });

  it("requires a baseUrl for openai-compatible members", async () => {
    const raw = { ...validConfig(), pools: { qwen: { type: "openai-compatible", members: [{ key: INLINE_KEY }] } } };
    raw.companions = [{ id: "office", secret: OFFICE_SECRET, pools: ["*"] }];
    const found = await issues(envFor(raw));
    expect(found.map((i) => i.path)).toEqual(["pools.qwen.members[0].baseUrl"]);
  });

  it("reports an unknown top-level key (a typo) by name", async () => {
    const found = await issues(envFor({ ...validConfig(), setings: { maxAttempts: 2 } }));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe("(root)");
    expect(found[0]!.message).toContain("setings");
  });

  it("reports an unknown key in a member and in settings at their paths", async () => {
    const raw = validConfig();
    (raw.pools.openai.members[0] as Record<string, unknown>).weigth = 2;
    const found = await issues(envFor({ ...raw, settings: { maxAtempts: 2 } }));
    const byPath = Object.fromEntries(found.map((i) => [i.path, i.message]));
    expect(byPath["pools.openai.members[0]"]).toContain("weigth");
    expect(byPath["settings"]).toContain("maxAtempts");
  });

  it("reports invalid names, types and numbers at their paths", async () => {
    const raw = {
      pools: {
        OpenAI: { type: "openai", members: [{ key: INLINE_KEY }] },
        good: { type: "mistral", members: [] },
        other: { type: "openai", baseUrl: "ftp://x.example", members: [{ key: INLINE_KEY, weight: 0, id: "Bad Id" }] },
      },
      companions: [{ id: "office", secret: OFFICE_SECRET, pools: [] }],
      settings: { maxAttempts: 11 },
    };
    const paths = (await issues(envFor(raw))).map((i) => i.path);
    for (const path of [
      "pools.good.type",
      "pools.good.members",
      "pools.other.baseUrl",
      "pools.other.members[0].weight",
      "pools.other.members[0].id",
      "companions[0].pools",
      "settings.maxAttempts",
    ]) {
      expect(paths).toContain(path);
    }
    expect(paths.some((p) => p.startsWith("pools.OpenAI") || p === "pools")).toBe(true);
  });

  it("reports duplicate member and companion ids", async () => {
    const raw = validConfig();
    raw.pools.openai.members = [{ key: INLINE_KEY }, { id: "0", key: INLINE_KEY } as never];
    raw.companions[1]!.id = "office";
    const found = await issues(envFor(raw));
    expect(found).toEqual(
      expect.arrayContaining([
        { path: "pools.openai.members[1].id", message: "duplicate member id" },
        { path: "companions[1].id", message: "duplicate companion id" },
      ]),
    );
  });

  it("refuses an inline companion secret shorter than 32 characters without echoing it", async () => {
    const short = "short-secret-abc";
    const raw = validConfig();
    raw.companions[1]!.secret = short;
    const found = await issues(envFor(raw));
    expect(found).toEqual([{ path: "companions[1].secret", message: "must be at least 32 characters" }]);
    expectNoSecrets(found, [short]);
  });

  it("refuses a referenced companion secret shorter than 32 characters without echoing it", async () => {
    const short = "x".repeat(31);
    const found = await issues(envFor(validConfig(), { OFFICE_SECRET: short }));
    expect(found).toEqual([{ path: "companions[0].secret", message: "must be at least 32 characters" }]);
    expectNoSecrets(found, [short]);
  });

  it("accepts a companion secret of exactly 32 characters", async () => {
    const config = await loaded(envFor(validConfig(), { OFFICE_SECRET: "y".repeat(32) }));
    expect(config.companions.get("office")!.secret).toBe("y".repeat(32));
  });

  it("names a referenced secret that is not set, with its path, and no values", async () => {
    const env = envFor(validConfig());
    delete env.OFFICE_SECRET;
    const found = await issues(env);
    expect(found).toEqual([{ path: "companions[0].secret", message: "refers to secret OFFICE_SECRET, which is not set" }]);
    expectNoSecrets(found);
  });

  it("names a referenced key that is not set or empty", async () => {
    for (const extra of [{ ANTHROPIC_KEY_1: undefined }, { ANTHROPIC_KEY_1: "" }, { ANTHROPIC_KEY_1: 7 }]) {
      const found = await issues(envFor(validConfig(), extra));
      expect(found).toEqual([
        { path: "pools.anthropic.members[0].key", message: "refers to secret ANTHROPIC_KEY_1, which is not set" },
      ]);
      expectNoSecrets(found);
    }
  });

  it("reports every unresolved secret at once", async () => {
    const found = await issues({ FERRY_CONFIG: JSON.stringify(validConfig()) });
    expect(found.map((i) => i.path)).toEqual(["pools.anthropic.members[0].key", "companions[0].secret"]);
  });

  it("refuses an {env} reference that is not a secret name", async () => {
    const raw = validConfig();
    raw.pools.anthropic.members[0]!.key = { env: "sk-test-SECRETVALUE123" };
    const found = await issues(envFor(raw));
    expect(found).toEqual([{ path: "pools.anthropic.members[0].key.env", message: "must be a secret name" }]);
    expectNoSecrets(found, ["sk-test-SECRETVALUE123", "SECRETVALUE"]);
  });
});

describe("loadConfig: no issue message echoes a configured value", () => {
  const fake = "sk-test-SECRETVALUE123";

  it.each<[string, (raw: ReturnType<typeof validConfig>) => unknown]>([
    ["a key in a misspelt field", (raw) => ((raw.pools.openai.members[0] as Record<string, unknown>).kye = fake)],
    ["a key object with an unknown field", (raw) => ((raw.pools.openai.members[0] as { key: unknown }).key = { value: fake })],
    ["a key object with extra fields", (raw) => ((raw.pools.openai.members[0] as { key: unknown }).key = { env: "OK_NAME", value: fake })],
    ["a key pasted as the base URL", (raw) => ((raw.pools.openai as Record<string, unknown>).baseUrl = fake)],
    ["a key pasted as a provider type", (raw) => ((raw.pools.openai as Record<string, unknown>).type = fake)],
    ["a key pasted as a member id", (raw) => ((raw.pools.openai.members[0] as Record<string, unknown>).id = fake)],
    ["a key pasted as a weight", (raw) => ((raw.pools.openai.members[0] as Record<string, unknown>).weight = fake)],
    ["a key pasted as a deployment name", (raw) => (raw.pools.azure.members[0]!.deployments = { "gpt-4o": fake + "!" })],
    ["a key pasted as a header name", (raw) => ((raw.pools.anthropic.requestHeaders = [fake]))],
    ["a key pasted as a companion id", (raw) => (raw.companions[1]!.id = fake)],
    ["a key pasted as a setting", (raw) => ((raw as Record<string, unknown>).settings = { userAgent: fake.repeat(20) })],
    ["a key as the whole pools value", (raw) => ((raw as Record<string, unknown>).pools = fake)],
    ["a short inline secret", (raw) => (raw.companions[1]!.secret = fake)],
  ])("when the config has %s", async (_label, mutate) => {
    const raw = validConfig();
    mutate(raw);
    const found = await issues(envFor(raw));
    for (const issue of found) {
      expect(typeof issue.path).toBe("string");
      expect(typeof issue.message).toBe("string");
    }
    expectNoSecrets(found, [...SECRET_VALUES, fake, "SECRETVALUE"]);
  });

  it("when every secret is present but other parts are wrong", async () => {
    const raw = validConfig();
    delete (raw.pools.azure as { baseUrl?: string }).baseUrl;
    raw.companions[1]!.pools = ["nope"];
    const found = await issues(envFor(raw));
    expect(found.length).toBe(2);
    expectNoSecrets(found);
  });
});

describe("formatPath", () => {
  it("renders zod paths as dotted names with [index]", () => {
    expect(formatPath(["pools", "openai", "members", 0, "key"])).toBe("pools.openai.members[0].key");
    expect(formatPath(["companions", 0, "pools", 2])).toBe("companions[0].pools[2]");
    expect(formatPath([0, "id"])).toBe("[0].id");
    expect(formatPath([])).toBe("(root)");
  });
});

describe("getConfig", () => {
  it("parses once per FERRY_CONFIG value and again when it changes", async () => {
    const env = envFor(validConfig());
    const first = getConfig(env);
    expect(getConfig({ ...env })).toBe(first);
    expect((await first).ok).toBe(true);
    const changed = envFor({ ...validConfig(), settings: { maxAttempts: 4 } });
    const second = getConfig(changed);
    expect(second).not.toBe(first);
    const result = await second;
    expect(result.ok && result.value.settings.maxAttempts).toBe(4);
  });
});

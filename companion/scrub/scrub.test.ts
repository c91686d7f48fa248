import { existsSync, readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ScrubSchema, type ScrubPolicy } from "../config/schema.ts";
import { hashPromptCacheKey, scrubBody, scrubHeaders, type BodyDialect, type ScrubContext, type TargetDialect } from "./index.ts";

const GATEWAY_UA = "ferry-companion/0.1";
const HASH_KEY = "test-hash-key-0123456789abcdef";
const ctxWith = (policy: Partial<ScrubPolicy> = {}, hashKey = HASH_KEY): ScrubContext => ({
  policy: { ...ScrubSchema.parse({}), ...policy },
  gatewayUserAgent: GATEWAY_UA,
  hashKey,
});
const ctx = ctxWith();

// ---------------------------------------------------------------------------------------------
// Golden inputs: the recorded requests of the real clients (copied from the team handbook).

const FIXTURES = new URL("../../test/fixtures/clients/", import.meta.url);

interface Fixture {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}
const load = (file: string): Fixture => JSON.parse(readFileSync(new URL(file, FIXTURES), "utf8")) as Fixture;

/** Each fixture's target dialect (headers) and body dialect. */
const KINDS: Record<string, { target: TargetDialect; dialect: BodyDialect }> = {
  "claude-code-2.1.330.messages.json": { target: "anthropic", dialect: "anthropic" },
  "codex-0.169.0.responses.json": { target: "openai", dialect: "openai-responses" },
  "codex-0.169.0.responses-websocket-upgrade.json": { target: "openai", dialect: "openai-responses" },
  "gemini-cli-0.61.0.streamGenerateContent.json": { target: "gemini", dialect: "gemini" },
  "gemini-cli-0.61.0.auto-router-json-mode.generateContent.json": { target: "gemini", dialect: "gemini" },
};

/** CLIENTS.md, "What identifies the person or machine": headers (exact names, and prefixes). */
const IDENTITY_HEADERS = [
  "x-app", "x-claude-code-session-id", "anthropic-dangerous-direct-browser-access",
  "originator", "version", "session-id", "thread-id", "x-client-request-id", "x-codex-window-id",
  "x-codex-turn-metadata", "x-codex-beta-features", "x-goog-api-client", "x-gemini-api-privileged-user-id",
  "cookie", "x-real-ip", "forwarded", "authorization", "x-api-key", "x-goog-api-key",
];
const IDENTITY_PREFIXES = ["x-stainless-", "x-openai-internal-", "x-forwarded-"];
/** Not in every recording; added to each so every fixture is checked against all of them. */
const EXTRA_IDENTITY = {
  cookie: "sid=abc",
  "x-forwarded-for": "10.1.2.3",
  "x-forwarded-host": "alice-laptop.office",
  "x-real-ip": "10.1.2.3",
  forwarded: "for=10.1.2.3",
  "x-openai-internal-codex-residency": "us",
  "x-gemini-api-privileged-user-id": "3f0c5a2e-0000-4000-8000-000000000000",
  "x-stainless-helper-method": "stream",
};

describe("fixtures", () => {
  it("finds the recorded requests beside the repo, and knows the dialect of each", () => {
    expect(existsSync(FIXTURES)).toBe(true);
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    expect(files.sort()).toEqual(Object.keys(KINDS).sort());
  });

  describe.each(Object.entries(KINDS))("%s", (file, { target, dialect }) => {
    const fx = load(file);

    it("headers: only the allowlist leaves, with the gateway's user-agent", () => {
      const inbound = new Headers({ ...fx.headers, ...EXTRA_IDENTITY });
      const { headers, removed } = scrubHeaders(inbound, target, ctx);
      const allowed = new Set(["content-type", "accept", "user-agent", ...ctx.policy.allowHeaders[target]]);
      const names = headers.map(([n]) => n);
      for (const name of names) expect(allowed, name).toContain(name);
      expect(new Set(names).size).toBe(names.length);
      expect(headers.filter(([n]) => n === "user-agent")).toEqual([["user-agent", GATEWAY_UA]]);
      for (const name of names) {
        expect(IDENTITY_HEADERS).not.toContain(name);
        for (const prefix of IDENTITY_PREFIXES) expect(name.startsWith(prefix), name).toBe(false);
      }
      // Reported by name, never by value; x-stainless-* as one entry.
      expect(removed).toContain("x-stainless-*");
      expect(removed.filter((r) => r.startsWith("x-stainless"))).toEqual(["x-stainless-*"]);
      const dropped = [...inbound.keys()].filter((n) => !names.includes(n));
      const betaGlobs = ctx.policy.dropAnthropicBetas.map((g) => `anthropic-beta:${g}`);
      for (const r of removed) expect([...dropped, "x-stainless-*", "user-agent", ...betaGlobs]).toContain(r);
      expect(JSON.stringify(removed)).not.toContain("sk-mock");
      for (const key of ["authorization", "x-api-key", "x-goog-api-key"]) {
        if (inbound.has(key)) expect(removed).toContain(key);
      }
    });

    it("headers: the claude-code beta is gone, the feature betas remain", () => {
      const { headers } = scrubHeaders(new Headers(fx.headers), target, ctx);
      const beta = headers.find(([n]) => n === "anthropic-beta")?.[1];
      const inboundBeta = fx.headers["anthropic-beta"];
      if (!inboundBeta) return expect(beta).toBeUndefined();
      const original = inboundBeta.split(",").map((s) => s.trim());
      expect(original.some((b) => b.startsWith("claude-code-"))).toBe(true);
      expect(beta!.split(",")).toEqual(original.filter((b) => !b.startsWith("claude-code-")));
      expect(beta).toContain("interleaved-thinking-2025-05-14");
    });

    it("body: no user name, device, installation or session ids, nor billing header", async () => {
      const before = structuredClone(fx.body);
      const { body } = await scrubBody(fx.body, dialect, ctx);
      expect(fx.body).toEqual(before); // the input is not mutated
      const text = JSON.stringify(body);
      expect(text.toLowerCase()).not.toContain("alice");
      expect(text).not.toContain("device_id");
      expect(text).not.toContain("x-anthropic-billing-header");
      expect(text).not.toContain("installation");
      // Every id the client sends in headers, metadata or client_metadata.
      for (const id of identityIds(fx)) expect(text, id).not.toContain(id);
    });

    it("body: nothing else changes", async () => {
      const { body } = await scrubBody(fx.body, dialect, ctx);
      expect(body).toEqual(await expectedScrub(fx.body));
    });
  });

  it("Claude Code: reports each removal once", async () => {
    const fx = load("claude-code-2.1.330.messages.json");
    const { removed } = await scrubBody(fx.body, "anthropic", ctx);
    // Two home paths and the project-directory slug -home-alice-projects-payments-service.
    expect(removed).toEqual(["metadata.user_id", "system[0]:billing-header", "home-paths:3", "os-version:1"]);
  });

  it("Codex: reports each removal once; prompt_cache_key hashed stably", async () => {
    const fx = load("codex-0.169.0.responses.json");
    const a = await scrubBody(fx.body, "openai-responses", ctx);
    const b = await scrubBody(fx.body, "openai-responses", ctx);
    expect(a.removed).toEqual(["client_metadata", "prompt_cache_key:hashed", "home-paths:3"]);
    const key = (a.body as Record<string, unknown>).prompt_cache_key;
    expect(key).toMatch(/^pc_[A-Za-z0-9_-]{22}$/);
    expect((b.body as Record<string, unknown>).prompt_cache_key).toBe(key);
    expect(key).toBe(await hashPromptCacheKey(fx.body.prompt_cache_key as string, HASH_KEY));
    const other = await scrubBody(fx.body, "openai-responses", ctxWith({}, "another-companion-key-0123456789"));
    expect((other.body as Record<string, unknown>).prompt_cache_key).not.toBe(key);
  });

  it("Codex: the <environment_context> cwd and workspace root are redacted", async () => {
    const fx = load("codex-0.169.0.responses.json");
    const { body } = await scrubBody(fx.body, "openai-responses", ctx);
    const env = JSON.stringify(body).match(/<environment_context>.*?<\/environment_context>/)?.[0];
    expect(env).toBeDefined();
    expect(env).toContain("<cwd>/home/user/projects/payments-service</cwd>");
    expect(env).toContain("<root>/home/user/projects/payments-service</root>");
  });

  it("Gemini CLI: the <session_context> temp dir and workspace are redacted", async () => {
    const fx = load("gemini-cli-0.61.0.streamGenerateContent.json");
    const { body, removed } = await scrubBody(fx.body, "gemini", ctx);
    const text = JSON.stringify(body);
    expect(text).toContain("The project's temporary directory is: /home/user/.gemini/tmp/work");
    expect(text).toContain("  - /home/user/projects/payments-service\\n");
    expect(removed).toEqual(["home-paths:4"]);
  });
});

/** Ids found in the recorded identity headers and body fields (values that must not leave). */
function identityIds(fx: Fixture): string[] {
  const sources = [
    fx.headers["x-claude-code-session-id"],
    fx.headers["session-id"],
    fx.headers["x-codex-turn-metadata"],
    JSON.stringify((fx.body.metadata as Record<string, unknown> | undefined)?.user_id ?? ""),
    JSON.stringify(fx.body.client_metadata ?? ""),
    JSON.stringify(fx.body.prompt_cache_key ?? ""),
  ].join(" ");
  const ids = new Set(sources.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64}/g) ?? []);
  return [...ids];
}

/** The fixture with exactly the documented changes made by hand (all fixture paths are /home/alice). */
async function expectedScrub(original: Record<string, unknown>): Promise<unknown> {
  const body = structuredClone(original);
  if (body.metadata) delete body.metadata;
  if (Array.isArray(body.system) && String((body.system[0] as { text: string }).text).startsWith("x-anthropic-billing-header:")) body.system.shift();
  delete body.client_metadata;
  if (typeof body.prompt_cache_key === "string") body.prompt_cache_key = await hashPromptCacheKey(body.prompt_cache_key, HASH_KEY);
  const text = JSON.stringify(body).replaceAll("/home/alice", "/home/user").replaceAll("-home-alice-", "-home-user-");
  return JSON.parse(text.replace(/(OS Version:[ \t]*)[^\\<]+/g, "$1(redacted)"));
}

// ---------------------------------------------------------------------------------------------

describe("scrubHeaders", () => {
  const names = (h: [string, string][]) => h.map(([n]) => n).sort();

  it("keeps content-type, accept and the target's allowlist; sets the gateway user-agent", () => {
    const inbound = new Headers({
      "Content-Type": "application/json",
      Accept: "text/event-stream",
      "anthropic-version": "2023-06-01",
      "openai-beta": "responses=v1",
      "x-custom": "1",
    });
    expect(names(scrubHeaders(inbound, "anthropic", ctx).headers)).toEqual(["accept", "anthropic-version", "content-type", "user-agent"]);
    expect(names(scrubHeaders(inbound, "openai", ctx).headers)).toEqual(["accept", "content-type", "openai-beta", "user-agent"]);
    expect(names(scrubHeaders(inbound, "gemini", ctx).headers)).toEqual(["accept", "content-type", "user-agent"]);
    expect(names(scrubHeaders(inbound, "ollama", ctx).headers)).toEqual(["accept", "content-type", "user-agent"]);
    const { headers, removed } = scrubHeaders(inbound, "gemini", ctx);
    expect(headers).toContainEqual(["user-agent", GATEWAY_UA]);
    expect(removed).toEqual(["anthropic-version", "openai-beta", "x-custom"]); // no user-agent came in
  });

  it("takes extra allowed headers from the policy, case-insensitively", () => {
    const c = ctxWith({ allowHeaders: { anthropic: [], openai: ["OpenAI-Organization"], gemini: [], ollama: [] } });
    const { headers } = scrubHeaders(new Headers({ "openai-organization": "org-1", "openai-beta": "x" }), "openai", c);
    expect(headers).toEqual([["openai-organization", "org-1"], ["user-agent", GATEWAY_UA]]);
  });

  it("always drops the project key headers, even when allowlisted", () => {
    const c = ctxWith({ allowHeaders: { anthropic: ["authorization", "x-api-key", "x-goog-api-key"], openai: [], gemini: [], ollama: [] } });
    const inbound = new Headers({ authorization: "Bearer sk-secret", "x-api-key": "sk-secret", "x-goog-api-key": "sk-secret" });
    const { headers, removed } = scrubHeaders(inbound, "anthropic", c);
    expect(headers).toEqual([["user-agent", GATEWAY_UA]]);
    expect(removed).toEqual(["authorization", "x-api-key", "x-goog-api-key"]);
  });

  it("replaces the client's user-agent and reports it (not its value)", () => {
    const { headers, removed } = scrubHeaders(new Headers({ "user-agent": "claude-cli/2.1.330 (external, sdk-cli)" }), "anthropic", ctx);
    expect(headers).toEqual([["user-agent", GATEWAY_UA]]);
    expect(removed).toEqual(["user-agent"]);
  });

  it("groups x-stainless-* as one entry", () => {
    const inbound = new Headers({ "x-stainless-os": "Linux", "x-stainless-arch": "x64", "x-stainless-runtime-version": "v24" });
    expect(scrubHeaders(inbound, "openai", ctx).removed).toEqual(["x-stainless-*"]);
  });

  it("filters anthropic-beta by the dropAnthropicBetas globs; removes it when nothing is left", () => {
    const both = new Headers({ "anthropic-beta": "claude-code-20250219, interleaved-thinking-2025-05-14" });
    const r1 = scrubHeaders(both, "anthropic", ctx);
    expect(r1.headers).toContainEqual(["anthropic-beta", "interleaved-thinking-2025-05-14"]);
    expect(r1.removed).toEqual(["anthropic-beta:claude-code-*"]);

    const only = scrubHeaders(new Headers({ "anthropic-beta": "claude-code-20250219" }), "anthropic", ctx);
    expect(names(only.headers)).toEqual(["user-agent"]);
    expect(only.removed).toEqual(["anthropic-beta:claude-code-*", "anthropic-beta"]);

    const keepAll = scrubHeaders(both, "anthropic", ctxWith({ dropAnthropicBetas: [] }));
    expect(keepAll.headers).toContainEqual(["anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14"]);
    expect(keepAll.removed).toEqual([]);

    const custom = scrubHeaders(both, "anthropic", ctxWith({ dropAnthropicBetas: ["interleaved-*"] }));
    expect(custom.headers).toContainEqual(["anthropic-beta", "claude-code-20250219"]);
  });

  it("drops anthropic-beta for targets that do not allow it", () => {
    const { headers, removed } = scrubHeaders(new Headers({ "anthropic-beta": "interleaved-thinking-2025-05-14" }), "openai", ctx);
    expect(names(headers)).toEqual(["user-agent"]);
    expect(removed).toEqual(["anthropic-beta"]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("scrubBody: Anthropic", () => {
  const userId = JSON.stringify({ device_id: "d".repeat(64), account_uuid: "", session_id: "78553026-bf7d-4c66-b179-85ad2908dcd2" });
  const billing = { type: "text", text: "x-anthropic-billing-header: cc_version=2.1.330.440; cc_entrypoint=sdk-cli;" };
  const base = () => ({
    model: "claude-sonnet-4-5",
    max_tokens: 100,
    system: [billing, { type: "text", text: "You are Claude.", cache_control: { type: "ephemeral" } }],
    messages: [{ role: "user", content: "hi" }],
    metadata: { user_id: userId },
  });

  it("metadataUserId: drop removes it (and the emptied metadata); keep leaves it", async () => {
    const dropped = await scrubBody(base(), "anthropic", ctx);
    expect(dropped.body).not.toHaveProperty("metadata");
    expect(dropped.removed).toContain("metadata.user_id");
    const other = await scrubBody({ ...base(), metadata: { user_id: userId, tag: "x" } }, "anthropic", ctx);
    expect((other.body as { metadata: unknown }).metadata).toEqual({ tag: "x" });
    const kept = await scrubBody(base(), "anthropic", ctxWith({ metadataUserId: "keep", billingHeaderBlock: "keep" }));
    expect(kept.body).toEqual(base());
    expect(kept.removed).toEqual([]);
  });

  it("billingHeaderBlock: drop removes the first billing block; keep leaves it", async () => {
    const dropped = await scrubBody(base(), "anthropic", ctx);
    expect((dropped.body as { system: unknown }).system).toEqual([base().system[1]]);
    expect(dropped.removed).toEqual(["metadata.user_id", "system[0]:billing-header"]);
    const kept = await scrubBody(base(), "anthropic", ctxWith({ billingHeaderBlock: "keep" }));
    expect((kept.body as { system: unknown }).system).toEqual(base().system);
    expect(kept.removed).toEqual(["metadata.user_id"]);
  });

  it("billing header: only the first such block, wherever it is; system as a string; alone", async () => {
    const later = { ...base(), system: [{ type: "text", text: "a" }, billing, { ...billing }] };
    const r = await scrubBody(later, "anthropic", ctx);
    expect((r.body as { system: unknown }).system).toEqual([{ type: "text", text: "a" }, billing]);
    expect(r.removed).toContain("system[1]:billing-header");

    const str = await scrubBody({ ...base(), system: `${billing.text}\nYou are Claude.` }, "anthropic", ctx);
    expect((str.body as { system: unknown }).system).toBe("You are Claude.");
    expect(str.removed).toContain("system:billing-header");
    const plain = await scrubBody({ ...base(), system: "You are Claude." }, "anthropic", ctx);
    expect((plain.body as { system: unknown }).system).toBe("You are Claude.");

    const alone = await scrubBody({ ...base(), system: [billing] }, "anthropic", ctx);
    expect(alone.body).not.toHaveProperty("system");
    const aloneStr = await scrubBody({ ...base(), system: billing.text }, "anthropic", ctx);
    expect(aloneStr.body).not.toHaveProperty("system");
  });

  it("leaves metadata and system alone in other dialects", async () => {
    const body = { model: "gpt-4o", messages: [{ role: "system", content: billing.text }], metadata: { user_id: "u1" } };
    const r = await scrubBody(body, "openai-chat", ctx);
    expect(r.body).toEqual(body);
    expect(r.removed).toEqual([]);
  });
});

describe("scrubBody: Codex (OpenAI Responses)", () => {
  const base = () => ({
    model: "gpt-4o",
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "say hi" }] }],
    prompt_cache_key: "01a20c53-d347-72b2-a0ae-d0f3dc2b1ea2",
    client_metadata: { "x-codex-installation-id": "27deb95f-a3e1-4c38-9e5e-648d3666fb2c", session_id: "01a20c53-d347-72b2-a0ae-d0f3dc2b1ea2" },
  });

  it("clientMetadata: drop / keep", async () => {
    const dropped = await scrubBody(base(), "openai-responses", ctx);
    expect(dropped.body).not.toHaveProperty("client_metadata");
    expect(dropped.removed).toContain("client_metadata");
    const kept = await scrubBody(base(), "openai-responses", ctxWith({ clientMetadata: "keep" }));
    expect((kept.body as { client_metadata: unknown }).client_metadata).toEqual(base().client_metadata);
    expect(kept.removed).not.toContain("client_metadata");
  });

  it("promptCacheKey: hash (stable, keyed) / drop / keep", async () => {
    const h1 = await scrubBody(base(), "openai-responses", ctx);
    const h2 = await scrubBody(base(), "openai-responses", ctx);
    const k1 = (h1.body as { prompt_cache_key: string }).prompt_cache_key;
    expect(k1).toMatch(/^pc_[A-Za-z0-9_-]{22}$/);
    expect((h2.body as { prompt_cache_key: string }).prompt_cache_key).toBe(k1);
    expect(h1.removed).toContain("prompt_cache_key:hashed");
    const differentInput = await scrubBody({ ...base(), prompt_cache_key: "another-session" }, "openai-responses", ctx);
    expect((differentInput.body as { prompt_cache_key: string }).prompt_cache_key).not.toBe(k1);

    const dropped = await scrubBody(base(), "openai-responses", ctxWith({ promptCacheKey: "drop" }));
    expect(dropped.body).not.toHaveProperty("prompt_cache_key");
    expect(dropped.removed).toContain("prompt_cache_key");

    const kept = await scrubBody(base(), "openai-responses", ctxWith({ promptCacheKey: "keep", clientMetadata: "keep" }));
    expect(kept.body).toEqual(base());
    expect(kept.removed).toEqual([]);
  });

  it("hashPromptCacheKey is HMAC-SHA256 in base64url, first 22 characters", async () => {
    // Reference value computed independently with node:crypto.
    const { createHmac } = await import("node:crypto");
    const expected = `pc_${createHmac("sha256", HASH_KEY).update("session-1").digest("base64url").slice(0, 22)}`;
    expect(await hashPromptCacheKey("session-1", HASH_KEY)).toBe(expected);
  });

  it("the same rules apply to prompt_cache_key on Chat Completions", async () => {
    const r = await scrubBody({ model: "gpt-4o", messages: [], prompt_cache_key: "s1" }, "openai-chat", ctx);
    expect((r.body as { prompt_cache_key: string }).prompt_cache_key).toBe(await hashPromptCacheKey("s1", HASH_KEY));
  });

  it("redacts the <environment_context> cwd and workspace roots", async () => {
    const env = "<environment_context>\n  <cwd>/Users/bob/src/app</cwd>\n  <shell>zsh</shell>\n  <filesystem><workspace_roots><root>/Users/bob/src/app</root></workspace_roots></filesystem>\n</environment_context>";
    const body = { ...base(), input: [{ type: "message", role: "user", content: [{ type: "input_text", text: env }] }] };
    const r = await scrubBody(body, "openai-responses", ctx);
    const text = (r.body as typeof body).input[0]!.content[0]!.text;
    expect(text).toBe(env.replaceAll("/Users/bob", "/Users/user"));
    expect(r.removed).toContain("home-paths:2");
  });
});

describe("scrubBody: home paths", () => {
  const redact = async (s: string, policy: Partial<ScrubPolicy> = {}) => {
    const r = await scrubBody({ contents: [{ role: "user", parts: [{ text: s }] }] }, "gemini", ctxWith(policy));
    return { text: (r.body as { contents: [{ parts: [{ text: string }] }] }).contents[0].parts[0].text, removed: r.removed };
  };

  it.each([
    ["/home/alice/projects/x", "/home/user/projects/x"],
    ["cwd: /home/alice", "cwd: /home/user"],
    ["in /home/alice.", "in /home/user."],
    ["`/home/alice`", "`/home/user`"],
    ["file:///home/alice/a.txt", "file:///home/user/a.txt"],
    ["/home/alice.smith/x", "/home/user/x"],
    ["/Users/alice/Library", "/Users/user/Library"],
    [String.raw`C:\Users\alice\src`, String.raw`C:\Users\user\src`],
    [String.raw`c:\users\alice`, String.raw`c:\users\user`],
    ["C:/Users/alice/src", "C:/Users/user/src"],
    ["/c/Users/alice/src", "/c/Users/user/src"],
    ["/mnt/c/Users/alice/src", "/mnt/c/Users/user/src"],
    [String.raw`{"path":"C:\\Users\\alice\\src"}`, String.raw`{"path":"C:\\Users\\user\\src"}`],
    [String.raw`C:\Users\Alice Smith\Documents`, String.raw`C:\Users\user\Documents`],
    ["/home/alice and /Users/bob", "/home/user and /Users/user"],
  ])("%s → %s", async (input, output) => {
    expect((await redact(input)).text).toBe(output);
  });

  it.each([
    "/home",
    "/home/",
    "cd /home and look",
    "Users may configure hooks",
    "/srv/home/alice",
    "https://example.com/home/alice",
    "/home/user/x",
  ])("leaves %s alone", async (input) => {
    const r = await redact(input);
    expect(r.text).toBe(input);
    expect(r.removed).toEqual([]);
  });

  it("counts the replacements and uses homePathUser", async () => {
    const r = await redact("/home/alice/a /home/alice/b /Users/carol", { homePathUser: "someone" });
    expect(r.text).toBe("/home/someone/a /home/someone/b /Users/someone");
    expect(r.removed).toEqual(["home-paths:3"]);
    expect((await redact("/home/x$/y", { homePathUser: "$&" })).text).toBe("/home/$&/y"); // taken literally
  });

  it("redactHomePaths: false leaves every path", async () => {
    const r = await redact("/home/alice/x -home-alice-x", { redactHomePaths: false });
    expect(r.text).toBe("/home/alice/x -home-alice-x");
    expect(r.removed).toEqual([]);
  });

  it("also rewrites path slugs of user names found in paths (Claude Code project dirs)", async () => {
    const s = "memory at `/home/alice/.claude/projects/-home-alice-projects-p/memory/`; -home-alicex- and -home-bob- stay";
    expect((await redact(s)).text).toBe("memory at `/home/user/.claude/projects/-home-user-projects-p/memory/`; -home-alicex- and -home-bob- stay");
    expect((await redact("-home-alice-projects-p")).text).toBe("-home-alice-projects-p"); // no path names the user
    expect((await redact(String.raw`C:\Users\a.b\x C--Users-a-b-x`)).text).toBe(String.raw`C:\Users\user\x C--Users-user-x`);
  });

  it("reaches every string: messages, tool results, tool inputs, instructions, keys; not tool names", async () => {
    const body = {
      model: "claude-sonnet-4-5",
      system: "Home: /home/alice",
      tools: [{ name: "files_-home-alice-x", description: "reads /home/alice files", input_schema: { type: "object", properties: { path: { type: "string", description: "e.g. /home/alice/a" } } } }],
      messages: [
        { role: "system", content: "cwd /home/alice/p" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "files_-home-alice-x", input: { path: "/home/alice/p/a.ts", map: { "/home/alice/p/b.ts": 1 } } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "ls /home/alice/p" }] }] },
      ],
    };
    const r = await scrubBody(body, "anthropic", ctx);
    const out = r.body as typeof body;
    expect(JSON.stringify(out).replaceAll("files_-home-alice-x", "")).not.toContain("alice");
    expect(out.tools[0]!.name).toBe("files_-home-alice-x");
    const toolUse = (out.messages[1]!.content as unknown as [{ name: string; input: { map: Record<string, number> } }])[0];
    expect(toolUse.name).toBe("files_-home-alice-x");
    expect(toolUse.input.map).toEqual({ "/home/user/p/b.ts": 1 });
    expect(r.removed).toEqual(["home-paths:7"]);
  });

  it("OpenAI chat: tool-call arguments (JSON inside a string) and Gemini function responses", async () => {
    const chat = {
      model: "gpt-4o",
      messages: [{ role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "read_file", arguments: JSON.stringify({ path: String.raw`C:\Users\alice\a.txt` }) } }] }],
    };
    const r = await scrubBody(chat, "openai-chat", ctx);
    const args = (r.body as typeof chat).messages[0]!.tool_calls[0]!.function.arguments;
    expect(JSON.parse(args)).toEqual({ path: String.raw`C:\Users\user\a.txt` });

    const gemini = { contents: [{ role: "user", parts: [{ functionResponse: { name: "read_file", response: { output: "/home/alice/a", files: ["/home/alice/b"] } } }] }] };
    const g = await scrubBody(gemini, "gemini", ctx);
    expect(JSON.stringify(g.body)).not.toContain("alice");
    expect(g.removed).toEqual(["home-paths:2"]);
  });

  it("does not mutate the input and keeps an own __proto__ key as data", async () => {
    const body = JSON.parse('{"a":"/home/alice","__proto__":{"b":"/home/alice/x"}}') as Record<string, unknown>;
    const copy = structuredClone(body);
    const r = await scrubBody(body, "gemini", ctx);
    expect(body).toEqual(copy);
    const out = r.body as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toEqual({ b: "/home/user/x" });
  });
});

describe("scrubBody: everything else is untouched", () => {
  it.each(["anthropic", "openai-chat", "openai-responses", "gemini"] as const)("%s: arbitrary JSON without identity comes back equal", async (dialect) => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const text = JSON.stringify(value) ?? "";
        fc.pre(!/home|users|metadata|billing|prompt_cache_key|client_metadata/i.test(text));
        const before = structuredClone(value);
        const r = await scrubBody(value, dialect, ctx);
        expect(r.body).toEqual(before);
        expect(r.removed).toEqual([]);
        expect(value).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});

describe("system details", () => {
  it("replaces Claude Code's kernel release, and only with redactSystemDetails on", async () => {
    const body = { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "env:\n - OS Version: Linux 6.18.44-fc-v657\n - Shell: bash" }] }] };
    const base = ScrubSchema.parse({});
    const on = await scrubBody(body, "anthropic", { policy: base, gatewayUserAgent: "g", hashKey: "k" });
    expect(JSON.stringify(on.body)).toContain("OS Version: (redacted)\\n - Shell: bash");
    expect(JSON.stringify(on.body)).not.toContain("6.18.44");
    expect(on.removed).toContain("os-version:1");
    const off = await scrubBody(body, "anthropic", { policy: { ...base, redactSystemDetails: false }, gatewayUserAgent: "g", hashKey: "k" });
    expect(JSON.stringify(off.body)).toContain("6.18.44");
  });
});

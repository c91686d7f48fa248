/**
 * The operator's view end to end: the status page and /status.json of a companion linked to
 * the real worker (link state, the edge's pool member health, project use, recent requests
 * without prompt text), its admin-key and cookie sign-in, the page rendered by a headless
 * Chromium (screenshot in test-artifacts/status.png), and webhook notifications: a key the
 * edge disables (its upstream answers 401), a pool left with no member, a link that stays down.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompanionConfigSchema } from "../../companion/config/schema.ts";
import { createLogger } from "../../companion/log.ts";
import type { NotifyEvent } from "../../companion/notify.ts";
import { createCompanion } from "../../companion/server.ts";
import type { StatusData } from "../../companion/surfaces/status.ts";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { mocks } from "../helpers/provider-mocks.ts";
import { behaviours, sleep } from "../helpers/upstream.ts";

const ADMIN = "admin-" + randomBytes(16).toString("hex");
const K1 = projectKey();
const K2 = projectKey();
/** Sent in every prompt: it must never show up on the status page. */
const PROMPT_MARKER = "PROMPT-TEXT-" + randomBytes(6).toString("hex");
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = resolve(import.meta.dirname, "../../test-artifacts/status.png");

interface Hook {
  url: string;
  events: NotifyEvent[];
  raw: string[];
  close(): Promise<void>;
}

/** A stand-in webhook receiver on 127.0.0.1. */
async function startHook(): Promise<Hook> {
  const events: NotifyEvent[] = [];
  const raw: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    raw.push(text);
    if (req.method === "POST" && req.headers["content-type"] === "application/json") events.push(JSON.parse(text) as NotifyEvent);
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events,
    raw,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let chain: Chain;
let hook: Hook;
let refusedStatus = 0;

const statusJson = async (headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` }) => {
  const res = await fetch(`${chain.url}/status.json`, { headers });
  expect(res.status).toBe(200);
  return { text: await res.clone().text(), data: (await res.json()) as StatusData };
};

const chat = (key: string, model: string) =>
  fetch(`${chain.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: `say hi ${PROMPT_MARKER}` }] }),
  });

beforeAll(async () => {
  hook = await startHook();
  chain = await startChain({
    pools: {
      openai: { type: "openai", prefix: "/oai" },
      // Its only key is refused upstream: the edge disables it at the first 401.
      legacy: { type: "openai", prefix: "/bad" },
    },
    companion: ({ dataDir }) => ({
      edgePools: { openai: { dialect: "openai" }, legacy: { dialect: "openai" } },
      models: {
        "gpt-4o-mini": ["edge:openai/*"],
        "legacy-gpt": ["edge:legacy/gpt-4o-mini"],
        "local-*": ["ollama:qwen2.5-coder:7b"],
      },
      projects: [
        { id: "payments", keys: [K1], limits: { requestsPerDay: 20, tokensPerDay: 5000, concurrent: 4 } },
        { id: "intern", keys: [K2], allowedModels: ["gpt-4o-mini"], limits: { requestsPerMinute: 10 } },
      ],
      server: { adminKey: ADMIN },
      // Prompt text is kept in the audit log here, so the test shows the page leaves it out.
      audit: { path: join(dataDir, "audit.db"), recordContent: true },
      notify: { webhookUrl: `${hook.url}/ferry-hook`, pollIntervalMs: 300, minIntervalMs: 60_000 },
    }),
  });
  chain.up.on("/oai", mocks.openai());
  chain.up.on("/bad", behaviours.json(401, { error: { message: "Incorrect API key provided", type: "invalid_request_error" } }));
  await until("the tunnel", () => chain.companion.runtime().link?.state().tunnel.state === "up");
  // Traffic every test below looks at: three calls of payments, one of intern, and one to the
  // pool whose key is refused upstream (the edge disables it).
  for (let i = 0; i < 3; i++) expect((await chat(K1, "gpt-4o-mini")).status).toBe(200);
  expect((await chat(K2, "gpt-4o-mini")).status).toBe(200);
  refusedStatus = (await chat(K1, "legacy-gpt")).status;
});

afterAll(async () => {
  await chain?.close();
  await hook?.close();
});

describe("admin key", () => {
  it("refuses /status.json and /status without the key, or with a wrong one", async () => {
    const bare = await fetch(`${chain.url}/status.json`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get("www-authenticate")).toContain("Bearer");
    expect((await fetch(`${chain.url}/status.json`, { headers: { authorization: `Bearer ${ADMIN}x` } })).status).toBe(401);
    expect((await fetch(`${chain.url}/status.json`, { headers: { cookie: `ferry_admin=${ADMIN}` } })).status).toBe(401);

    const page = await fetch(`${chain.url}/status`);
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toContain('name="key"');
    expect(html).not.toContain("/status.json");

    const wrong = await fetch(`${chain.url}/status?key=${ADMIN}x`, { redirect: "manual" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("signs in with ?key=, which sets a cookie and redirects to a URL without the key", async () => {
    const res = await fetch(`${chain.url}/status?key=${ADMIN}`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/status");
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^ferry_admin=[A-Za-z0-9_-]+;/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toContain(ADMIN);
    const cookie = setCookie.split(";")[0]!;

    const page = await fetch(`${chain.url}/status`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    const html = await page.text();
    // Self-contained: nothing loaded from elsewhere.
    expect(html).not.toMatch(/<(link|img)\b|\bsrc=|https?:\/\//i);
    expect(html).toContain("/status.json");

    expect((await fetch(`${chain.url}/status.json`, { headers: { cookie } })).status).toBe(200);
  });
});

describe("/status.json", () => {
  it("shows the link, the edge's member health, project use and recent requests, without prompt text or keys", async () => {
    expect(refusedStatus).toBe(401);

    // The pool view is cached for 5 s: wait until it shows the disabled key.
    const { data, text } = await until("the legacy member disabled in /status.json", async () => {
      const s = await statusJson();
      return s.data.pools?.ok && s.data.pools.pools.find((p) => p.name === "legacy")?.members[0]?.state === "disabled" ? s : null;
    });

    expect(data.link).toMatchObject({ health: "up", transport: "tunnel", tunnel: { state: "up", edge: chain.edge.url } });
    expect(data.link!.tunnel.connects).toBeGreaterThanOrEqual(1);
    expect(data.link!.edges).toEqual([{ url: chain.edge.url, healthy: true }]);

    if (!data.pools?.ok) throw new Error("pools not fetched");
    expect(data.pools.edge).toBe(chain.edge.url);
    const openai = data.pools.pools.find((p) => p.name === "openai")!;
    expect(openai).toMatchObject({ type: "openai", routed: true });
    expect(openai.members).toEqual([expect.objectContaining({ id: "0", state: "healthy", inFlight: 0 })]);
    expect(data.pools.pools.find((p) => p.name === "legacy")!.members[0]).toMatchObject({ id: "0", state: "disabled", disabledStatus: 401 });

    const payments = data.projects.find((p) => p.id === "payments")!;
    expect(payments).toMatchObject({ requestsToday: 4, concurrent: 0, limits: { requestsPerDay: 20, tokensPerDay: 5000, concurrent: 4 } });
    // Three answered calls of 11 + 7 tokens (the refused one may keep part of its reservation).
    expect(payments.tokensToday).toBeGreaterThanOrEqual(3 * (11 + 7));
    expect(data.projects.find((p) => p.id === "intern")).toMatchObject({ requestsToday: 1, tokensToday: 18, limits: { requestsPerMinute: 10 } });

    expect(data.recent.length).toBe(5);
    expect(data.recent[0]).toMatchObject({ project: "payments", requestedModel: "legacy-gpt" });
    expect(data.recent[0]!.status).toBe(401);
    expect(data.recent[1]).toMatchObject({
      project: "intern",
      requestedModel: "gpt-4o-mini",
      servedModel: "gpt-4o-mini",
      target: "edge:openai",
      status: 200,
      inputTokens: 11,
      outputTokens: 7,
      clientIp: "127.0.0.1",
    });
    expect(data.recent[1]!.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(data.recent[1]!.durationMs).toBeGreaterThanOrEqual(data.recent[1]!.ttfbMs!);

    expect(data.models).toEqual([
      { name: "gpt-4o-mini", targets: ["edge:openai/*"], listed: true },
      { name: "legacy-gpt", targets: ["edge:legacy/gpt-4o-mini"], listed: true },
      { name: "local-*", targets: ["ollama:qwen2.5-coder:7b"], listed: false },
    ]);
    expect(data.companion).toMatchObject({ timeZone: "UTC", notify: { webhookHost: new URL(hook.url).host } });

    // The audit log holds the prompt (recordContent), the page does not; nor any key.
    expect(chain.companion.runtime().audit.recent(1)[0]!.content).toBeDefined();
    for (const secret of [PROMPT_MARKER, K1, K2, ADMIN, chain.companionSecret, ...chain.upstreamKeys]) expect(text.includes(secret)).toBe(false);
    expect(text).not.toMatch(/"(content|userAgent|removed)"/);
  });
});

describe("notifications", () => {
  it("posts member_disabled (and pool_exhausted) once when the edge disables a key, with no key in it", async () => {
    const disabled = await until("a member_disabled notification", () => hook.events.find((e) => e.event === "member_disabled"));
    expect(disabled.detail).toMatchObject({ pool: "legacy", member: "0", upstreamStatus: 401, companion: "office" });
    expect(disabled.detail.message).toContain('pool "legacy"');
    expect(Date.parse(disabled.time)).toBeGreaterThan(Date.now() - 60_000);
    const exhausted = await until("a pool_exhausted notification", () => hook.events.find((e) => e.event === "pool_exhausted"));
    expect(exhausted.detail).toMatchObject({ pool: "legacy", members: [{ id: "0", state: "disabled" }] });

    // Several more polls: still one of each (the state did not change; minIntervalMs anyway).
    await sleep(1200);
    expect(hook.events.filter((e) => e.event === "member_disabled")).toHaveLength(1);
    expect(hook.events.filter((e) => e.event === "pool_exhausted")).toHaveLength(1);
    expect(hook.events.some((e) => e.event === "link_down")).toBe(false);
    for (const body of hook.raw) for (const secret of [...chain.upstreamKeys, chain.companionSecret, K1, K2, ADMIN]) expect(body.includes(secret)).toBe(false);
  });

  it("posts link_down once the link has been down for linkDownAfterMs; the page is off without an adminKey", async () => {
    const local = await startHook();
    // A port with nothing listening: the tunnel never comes up.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dataDir = mkdtempSync(join(tmpdir(), "ferry-status-"));
    const companion = createCompanion(
      CompanionConfigSchema.parse({
        link: { edges: [`http://127.0.0.1:${deadPort}`], companionId: "office", secret: randomBytes(32).toString("base64url"), transport: "tunnel", reconnectBaseMs: 50, reconnectMaxMs: 200 },
        edgePools: { openai: { dialect: "openai" } },
        models: { "gpt-4o-mini": ["edge:openai/*"] },
        projects: [{ id: "payments", keys: [projectKey()] }],
        store: { kind: "sqlite", path: join(dataDir, "ferry.db") },
        audit: { path: join(dataDir, "audit.db") },
        notify: { webhookUrl: `${local.url}/hook`, linkDownAfterMs: 400, pollIntervalMs: 200 },
      }),
      { log: createLogger("error") },
    );
    try {
      const down = await until("a link_down notification", () => local.events.find((e) => e.event === "link_down"), 10_000);
      expect(down.detail).toMatchObject({ transport: "tunnel", edges: [{ url: `http://127.0.0.1:${deadPort}`, healthy: false }] });
      await sleep(600);
      expect(local.events.filter((e) => e.event === "link_down")).toHaveLength(1);

      const off = await companion.app.request("/status");
      expect(off.status).toBe(404);
      expect(await off.text()).toContain("server.adminKey");
      expect((await companion.app.request("/status.json")).status).toBe(404);
    } finally {
      await companion.close();
      await local.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("the page in a browser", () => {
  it("renders the live data in headless Chromium (screenshot in test-artifacts/status.png)", async () => {
    expect(
      existsSync(CHROMIUM),
      `Chromium is not installed at ${CHROMIUM}: install Debian's package (apt-get install -y chromium; .ci/run does this before npm test)`,
    ).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const problems: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") problems.push(msg.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));

      await page.goto(`${chain.url}/status?key=${encodeURIComponent(ADMIN)}`);
      expect(new URL(page.url()).pathname).toBe("/status");
      expect(page.url()).not.toContain(ADMIN);

      await page.locator("#projects", { hasText: "payments" }).waitFor({ timeout: 10_000 });
      await page.locator("#link .pill", { hasText: /^up$/ }).first().waitFor({ timeout: 10_000 });
      await page.locator("#pools .pill", { hasText: "disabled" }).waitFor({ timeout: 10_000 });
      await page.locator("#recent", { hasText: "gpt-4o-mini" }).first().waitFor({ timeout: 10_000 });
      expect(await page.locator("#updated").textContent()).toMatch(/last updated \d\d:\d\d:\d\d/);
      expect(await page.locator("#pools").textContent()).toContain("legacy");
      expect(await page.locator("#overall").textContent()).toBe("needs attention");
      const body = (await page.locator("body").textContent()) ?? "";
      expect(body).not.toContain(PROMPT_MARKER);

      // It keeps refreshing: a new request shows up without a reload.
      const before = await page.locator("#recent tbody tr").count();
      expect((await chat(K2, "gpt-4o-mini")).status).toBe(200);
      await until("the new request on the page", async () => (await page.locator("#recent tbody tr").count()) > before, 8000);

      mkdirSync(resolve(SCREENSHOT, ".."), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

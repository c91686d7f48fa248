/**
 * The companion end to end: official SDKs → companion → tunnel → worker in workerd →
 * stand-in upstream, and → stand-in Ollama. Checks what the clients get, what left the
 * office (no identity, no project key, the gateway's user agent), errors in each dialect,
 * quotas, fallback, audit.
 */
import { request as httpRequest } from "node:http";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteAuditLog } from "../../companion/audit/sqlite-audit.ts";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { textStream } from "../helpers/ollama.ts";
import { DEFAULT_TEXT, mocks } from "../helpers/provider-mocks.ts";
import { behaviours } from "../helpers/upstream.ts";

const K1 = projectKey();
const K2 = projectKey();
const K3 = projectKey();
let chain: Chain;

const IDENTITY_HEADERS = { "x-claude-code-session-id": "sess-123", cookie: "sid=abc", "x-forwarded-for": "10.9.8.7", originator: "codex_cli_rs" };
/**
 * The edge drops unlisted headers too; these pools let identity headers (and the user agent)
 * through the edge, so the tests see what the companion's own scrubbing left.
 */
const PERMISSIVE = ["user-agent", "x-stainless-os", "x-stainless-lang", "x-stainless-arch", "x-stainless-runtime", "x-stainless-package-version", "x-api-key", "x-goog-api-key", "authorization", ...Object.keys(IDENTITY_HEADERS)];

beforeAll(async () => {
  chain = await startChain({
    pools: {
      anthropic: { type: "anthropic", prefix: "/ant", requestHeaders: PERMISSIVE },
      openai: { type: "openai", prefix: "/oai", requestHeaders: PERMISSIVE },
      gemini: { type: "gemini", prefix: "/gem", requestHeaders: PERMISSIVE },
      flaky: { type: "openai-compatible", prefix: "/flaky" },
    },
    companion: () => ({
      edgePools: { anthropic: { dialect: "anthropic" }, openai: { dialect: "openai", responsesApi: true }, gemini: { dialect: "gemini" }, flaky: { dialect: "openai" } },
      models: {
        "claude-sonnet-4-5": ["edge:anthropic/claude-sonnet-4-5-20250929"],
        "gpt-4o-mini": ["edge:openai/*"],
        "gpt-3.5-turbo-instruct": ["edge:openai/*"],
        "text-embedding-3-small": ["edge:openai/*"],
        "gemini-2.5-flash": ["edge:gemini/*"],
        "local-qwen": ["ollama:qwen2.5-coder:7b"],
        "nomic-embed": ["ollama:nomic-embed-text"],
        auto: ["edge:flaky/minimax-m2", "ollama:qwen2.5-coder:7b"],
        "auto-edge": ["edge:flaky/minimax-m2", "edge:openai/gpt-4o-mini"],
      },
      projects: [
        { id: "payments", keys: [K1] },
        { id: "intern", keys: [K2], allowedModels: ["gpt-4o-mini"], limits: { requestsPerMinute: 2 } },
        { id: "batch", keys: [K3], limits: { requestsPerDay: 3 } },
      ],
      server: { gatewayUserAgent: "ferry-test-gateway/1.0", maxBodyBytes: 1024 * 1024 },
    }),
  });
  chain.up.on("/ant", mocks.anthropicMessages());
  chain.up.on("/oai", mocks.openai());
  chain.up.on("/gem", mocks.geminiGenerate());
  chain.up.on("/flaky", behaviours.json(503, { error: { message: "overloaded" } }));
});

afterAll(async () => {
  await chain?.close();
});

/** Every request the upstream got carries no identity, no project key, and our user agent. */
function expectScrubbed(prefix: string) {
  const hits = chain.up.hits(prefix);
  expect(hits.length).toBeGreaterThan(0);
  for (const rec of hits) {
    const names = Object.keys(rec.headers);
    expect(names.some((n) => n.startsWith("x-stainless"))).toBe(false);
    for (const name of Object.keys(IDENTITY_HEADERS)) expect(rec.headers[name], name).toBeUndefined();
    expect(rec.headers["user-agent"]).toBe("ferry-test-gateway/1.0");
    const all = JSON.stringify(rec.headers) + rec.body.toString();
    for (const key of [K1, K2, K3]) expect(all.includes(key)).toBe(false);
  }
}

describe("Anthropic surface", () => {
  const client = () => new Anthropic({ baseURL: chain.url, apiKey: K1, defaultHeaders: IDENTITY_HEADERS, maxRetries: 0 });

  it("answers messages, plain and streamed, from the routed model", async () => {
    const plain = await client().messages.create({ model: "claude-sonnet-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }], metadata: { user_id: "device-xyz" } });
    expect(plain.content[0]).toMatchObject({ type: "text", text: DEFAULT_TEXT });
    expect(plain.usage.output_tokens).toBe(7);
    const stream = client().messages.stream({ model: "claude-sonnet-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: "text", text: DEFAULT_TEXT });
    const sent = JSON.parse(chain.up.hits("/ant").at(-2)!.body.toString());
    expect(sent.model).toBe("claude-sonnet-4-5-20250929");
    expect(sent.metadata?.user_id).toBeUndefined();
    expectScrubbed("/ant");
  });

  it("counts tokens without charging the quota", async () => {
    const result = await client().messages.countTokens({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] });
    expect(result.input_tokens).toBeGreaterThan(0);
    expect(chain.up.hits("/ant").at(-1)!.url).toBe("/ant/v1/messages/count_tokens");
  });

  it("lists models in Anthropic's shape", async () => {
    const page = await client().models.list();
    expect(page.data.map((m) => m.id)).toContain("claude-sonnet-4-5");
    expect(page.data[0]).toHaveProperty("display_name");
  });

  it("refuses an unknown key with Anthropic's 401", async () => {
    const bad = new Anthropic({ baseURL: chain.url, apiKey: "nope-" + "x".repeat(30), maxRetries: 0 });
    await expect(bad.messages.create({ model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });
});

describe("OpenAI surface", () => {
  const client = (apiKey = K1) => new OpenAI({ baseURL: `${chain.url}/v1`, apiKey, defaultHeaders: IDENTITY_HEADERS, maxRetries: 0 });

  it("serves chat completions, plain and streamed with usage", async () => {
    const plain = await client().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    expect(plain.choices[0]!.message.content).toBe(DEFAULT_TEXT);
    const stream = client().chat.completions.stream({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe(DEFAULT_TEXT);
    expect(final.usage?.completion_tokens).toBe(7);
    expectScrubbed("/oai");
  });

  it("serves the Responses API, plain and streamed", async () => {
    const plain = await client().responses.create({ model: "gpt-4o-mini", input: "hi" });
    expect(plain.output_text).toBe(DEFAULT_TEXT);
    const final = await client().responses.stream({ model: "gpt-4o-mini", input: "hi" }).finalResponse();
    expect(final.output_text).toBe(DEFAULT_TEXT);
    expect(final.usage?.output_tokens).toBe(7);
  });

  it("serves legacy completions and embeddings", async () => {
    const completion = await client().completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "hi" });
    expect(completion.choices[0]!.text).toBe(DEFAULT_TEXT);
    const embeddings = await client().embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
    expect(embeddings.data).toHaveLength(2);
  });

  it("lists the project's models in OpenAI's shape, and accepts paths without /v1", async () => {
    const list = await client(K2).models.list();
    expect(list.data.map((m) => m.id)).toEqual(["gpt-4o-mini"]);
    const res = await fetch(`${chain.url}/models`, { headers: { authorization: `Bearer ${K1}` } });
    expect((await res.json()).object).toBe("list");
  });

  it("refuses a model outside the project's list with 403", async () => {
    await expect(client(K2).chat.completions.create({ model: "local-qwen", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it("answers Codex's WebSocket attempt on /v1/responses with 426 at once", async () => {
    const url = new URL(chain.url);
    const status = await new Promise<number>((resolve, reject) => {
      const headers = { authorization: `Bearer ${K1}`, upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "openai-beta": "responses_websockets=2026-02-06" };
      const req = httpRequest({ host: url.hostname, port: url.port, path: "/v1/responses", headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("upgrade", () => resolve(101));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(426);
  });
});

describe("Gemini surface", () => {
  const client = (apiKey = K1) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: chain.url, headers: IDENTITY_HEADERS } });

  it("serves generateContent, the stream, and countTokens", async () => {
    const plain = await client().models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    expect(plain.text).toBe(DEFAULT_TEXT);
    let streamed = "";
    for await (const chunk of await client().models.generateContentStream({ model: "gemini-2.5-flash", contents: "hi" })) streamed += chunk.text ?? "";
    expect(streamed).toBe(DEFAULT_TEXT);
    const count = await client().models.countTokens({ model: "gemini-2.5-flash", contents: "hi" });
    expect(count.totalTokens).toBeGreaterThan(0);
    expect(chain.up.hits("/gem").map((r) => r.url.split("?")[0])).toContain("/gem/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    for (const rec of chain.up.hits("/gem")) expect(rec.url).not.toContain("key=");
    expectScrubbed("/gem");
  });

  it("refuses an unknown key with Gemini's error shape", async () => {
    const res = await fetch(`${chain.url}/v1beta/models/gemini-2.5-flash:generateContent?key=wrong-key-000000000000000000`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 401, message: "invalid API key", status: "UNAUTHENTICATED" } });
  });
});

describe("keys, refusals and streams in each dialect", () => {
  const post = (path: string, headers: Record<string, string>, body: unknown) =>
    fetch(`${chain.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  it("accepts the key as x-api-key (Anthropic SDK 0.x) and as ?key= (Gemini)", async () => {
    const a = await post("/v1/messages", { "x-api-key": K1, "anthropic-version": "2023-06-01" }, { model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
    expect(a.status).toBe(200);
    await a.text();
    const g = await post(`/v1beta/models/gemini-2.5-flash:generateContent?key=${K1}`, {}, { contents: [{ parts: [{ text: "x" }] }] });
    expect(g.status).toBe(200);
    await g.text();
    expect(chain.up.hits("/gem").at(-1)!.url).not.toContain("key=");
  });

  it("streams Gemini's JSON-array form when the client does not ask for SSE", async () => {
    const res = await post(`/v1beta/models/gemini-2.5-flash:streamGenerateContent`, { "x-goog-api-key": K1 }, { contents: [{ parts: [{ text: "x" }] }] });
    expect(res.status).toBe(200);
    const chunks = JSON.parse(await res.text()) as { candidates: { content: { parts: { text: string }[] } }[] }[];
    expect(chunks.map((c) => c.candidates[0]!.content.parts[0]!.text).join("")).toBe(DEFAULT_TEXT);
    expect(chain.up.hits("/gem").at(-1)!.url).toBe("/gem/v1beta/models/gemini-2.5-flash:streamGenerateContent");
  });

  it("lists Gemini models in Gemini's shape", async () => {
    const res = await fetch(`${chain.url}/v1beta/models`, { headers: { "x-goog-api-key": K1 } });
    const body = await res.json();
    expect(body.models.map((m: { name: string }) => m.name)).toContain("models/gemini-2.5-flash");
  });

  it("refuses a model outside the project's list with 403 in Anthropic's and Gemini's shapes", async () => {
    const a = await post("/v1/messages", { "x-api-key": K2, "anthropic-version": "2023-06-01" }, { model: "claude-sonnet-4-5", max_tokens: 5, messages: [] });
    expect(a.status).toBe(403);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "permission_error" } });
    const g = await post("/v1beta/models/gemini-2.5-flash:generateContent", { "x-goog-api-key": K2 }, { contents: [] });
    expect(g.status).toBe(403);
    expect((await g.json()).error.status).toBe("PERMISSION_DENIED");
  });
});

describe("Ollama targets and fallback", () => {
  const client = () => new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: K1, maxRetries: 0 });

  it("serves a local model through Ollama's native API, plain and streamed", async () => {
    chain.ollama.chatStream = textStream("qwen2.5-coder:7b", ["local ", "answer"], { prompt_eval_count: 5, eval_count: 2 });
    const plain = await client().chat.completions.create({ model: "local-qwen", messages: [{ role: "user", content: "hi" }] });
    expect(plain.choices[0]!.message.content).toBeTruthy();
    const final = await client().chat.completions.stream({ model: "local-qwen", messages: [{ role: "user", content: "hi" }] }).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("local answer");
    const sent = chain.ollama.requests.filter((r) => r.path === "/api/chat");
    expect(sent.at(-1)!.body).toMatchObject({ model: "qwen2.5-coder:7b", stream: true });
    expect(Object.keys(sent.at(-1)!.headers).some((h) => h.startsWith("x-stainless"))).toBe(false);
    expect(sent.at(-1)!.headers["user-agent"]).toBe("ferry-test-gateway/1.0");
  });

  it("embeds through Ollama's /api/embed", async () => {
    const result = await client().embeddings.create({ model: "nomic-embed", input: "hello" });
    expect(result.data).toHaveLength(1);
    expect(chain.ollama.requests.at(-1)!.path).toBe("/api/embed");
  });

  it("falls back to the next target when the first fails before its first byte, and says which served", async () => {
    chain.ollama.chatStream = textStream("qwen2.5-coder:7b", ["fallback"]);
    const res = await fetch(`${chain.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${K1}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ferry-served-model")).toBe("qwen2.5-coder:7b");
    expect(res.headers.get("x-ferry-target")).toBe("ollama");
    await res.text();
    const audit = new SqliteAuditLog(chain.config.audit.path);
    try {
      const record = audit.byId(res.headers.get("x-ferry-request-id")!)!;
      expect(record.servedModel).toBe("qwen2.5-coder:7b");
      expect(record.fallbacks[0]).toMatch(/^edge:flaky\/minimax-m2: answered 503/);
    } finally {
      audit.close();
    }
  });
});

describe("edge to edge fallback", () => {
  it("falls back from one edge pool to another (each attempt is a new request at the edge)", async () => {
    const res = await fetch(`${chain.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${K1}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "auto-edge", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ferry-target")).toBe("edge:openai");
    expect((await res.json()).choices[0].message.content).toBe(DEFAULT_TEXT);
  });
});

describe("quotas", () => {
  it("answers 429 in the client's dialect with retry-after and the limit's name", async () => {
    const client = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: K2, maxRetries: 0 });
    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    const res = await fetch(`${chain.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${K2}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("x-ferry-limit")).toBe("requestsPerMinute");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await res.json()).error.code).toBe("rate_limited");
  });

  it("uses Anthropic's and Gemini's own 429 shapes", async () => {
    const key = projectKey();
    chain.companion.swap({ ...chain.config, projects: [...chain.config.projects, { id: "tiny", keys: [key], allowedModels: ["*"], limits: { requestsPerDay: 1 } }] });
    try {
      const ok = await fetch(`${chain.url}/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] }),
      });
      expect(ok.status).toBe(200); // counting tokens is free: the one daily request is still there
      await ok.text();
      const first = await fetch(`${chain.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
      });
      expect(first.status).toBe(200);
      await first.text();
      const a = await fetch(`${chain.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      });
      expect(a.status).toBe(429);
      expect(a.headers.get("x-ferry-limit")).toBe("requestsPerDay");
      expect(await a.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
      const g = await fetch(`${chain.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
      });
      expect(g.status).toBe(429);
      expect((await g.json()).error.status).toBe("RESOURCE_EXHAUSTED");
    } finally {
      chain.companion.swap(chain.config);
    }
  });

  it("keeps daily counts across a companion restart", async () => {
    const call = () =>
      fetch(`${chain.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${K3}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
      }).then(async (r) => (await r.text(), r.status));
    expect(await call()).toBe(200);
    expect(await call()).toBe(200);
    await chain.restart();
    expect(await call()).toBe(200);
    expect(await call()).toBe(429);
  });
});

describe("bad input", () => {
  const post = (path: string, body: string, headers: Record<string, string>) => fetch(`${chain.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${K1}`, ...headers }, body });

  it("answers malformed JSON with 400 in each dialect", async () => {
    const a = await post("/v1/messages", "{not json", { "content-type": "application/json", "anthropic-version": "2023-06-01" });
    expect(a.status).toBe(400);
    expect((await a.json()).type).toBe("error");
    const o = await post("/v1/chat/completions", "{not json", { "content-type": "application/json" });
    expect(o.status).toBe(400);
    expect((await o.json()).error.code).toBe("bad_request");
    const g = await post("/v1beta/models/gemini-2.5-flash:generateContent", "{not json", { "content-type": "application/json" });
    expect(g.status).toBe(400);
    expect((await g.json()).error.status).toBe("INVALID_ARGUMENT");
  });

  it("answers a wrong content type with 415", async () => {
    const res = await post("/v1/chat/completions", "model=x", { "content-type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(415);
  });

  it("answers a 100 MB body with 413 without reading it", async () => {
    const url = new URL(chain.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, method: "POST", path: "/v1/chat/completions", headers: { authorization: `Bearer ${K1}`, "content-type": "application/json", "content-length": String(100 * 1024 * 1024) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write("{");
    });
    expect(status).toBe(413);
  });

  it("answers an unknown route with 404 in the dialect the path implies", async () => {
    const res = await fetch(`${chain.url}/v1beta/nothing-here`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.status).toBe("NOT_FOUND");
  });
});

describe("pass-through, ops and audit", () => {
  it("passes /proxy/{provider}/... through with project auth and scrubbing", async () => {
    const res = await fetch(`${chain.url}/proxy/openai/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${K1}`, "content-type": "application/json", ...IDENTITY_HEADERS },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "from java" }] }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe(DEFAULT_TEXT);
    expect(chain.up.hits("/oai").at(-1)!.url).toBe("/oai/v1/chat/completions");
    expectScrubbed("/oai");
    const refused = await fetch(`${chain.url}/proxy/openai/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(refused.status).toBe(401);
  });

  it("serves health, readiness with per-target detail, and metrics", async () => {
    expect((await fetch(`${chain.url}/health`)).status).toBe(200);
    const ready = await fetch(`${chain.url}/health/readiness`);
    const body = await ready.json();
    expect(ready.status).toBe(200);
    expect(body.checks.map((c: { name: string }) => c.name)).toEqual(["edge", "ollama"]);
    const metrics = await (await fetch(`${chain.url}/metrics`)).text();
    expect(metrics).toMatch(/ferry_requests_total\{project="payments",model="gpt-4o-mini",target="edge:openai",status="200",dialect="openai"\} \d+/);
    expect(metrics).toContain("ferry_quota_rejections_total");
    expect(metrics).toMatch(/ferry_link_up\{transport="tunnel"\} 1/);
    expect(metrics).toMatch(/ferry_quota_used_ratio\{project="batch",limit="requestsPerDay"\} [\d.]+/);
    expect(metrics).toMatch(/ferry_edge_pool_members\{pool="openai",state="healthy"\} 1/);
    expect(metrics).toMatch(/ferry_edge_pool_members\{pool="openai",state="disabled"\} 0/);
  });

  it("writes an audit record for every request, refused ones too, with no key in it", async () => {
    const ids: string[] = [];
    for (const key of [K1, "wrong-key-0000000000000000000000"]) {
      const res = await fetch(`${chain.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "user-agent": "my-sdk/1.0" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "secret prompt text" }] }),
      });
      await res.text();
      ids.push(res.headers.get("x-ferry-request-id")!);
    }
    const audit = new SqliteAuditLog(chain.config.audit.path);
    try {
      const [ok, refused] = ids.map((id) => audit.byId(id)!);
      expect(ok).toMatchObject({ project: "payments", status: 200, userAgent: "my-sdk/1.0", requestedModel: "gpt-4o-mini", target: "edge:openai", clientIp: "127.0.0.1" });
      expect(ok!.outputTokens).toBe(7);
      expect(refused).toMatchObject({ project: null, status: 401, errorClass: "unauthorized" });
      const all = JSON.stringify(audit.recent(1000));
      for (const key of [K1, K2, K3, ...chain.upstreamKeys]) expect(all.includes(key)).toBe(false);
      expect(all.includes("secret prompt text")).toBe(false);
    } finally {
      audit.close();
    }
  });

  it("keeps prompt and answer text in the audit log only when configured to", async () => {
    chain.companion.swap({ ...chain.config, audit: { ...chain.config.audit, recordContent: true } });
    try {
      const res = await fetch(`${chain.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${K1}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "record me" }] }),
      });
      await res.text();
      const audit = new SqliteAuditLog(chain.config.audit.path);
      try {
        const record = audit.byId(res.headers.get("x-ferry-request-id")!)!;
        expect(record.content?.request).toContain("record me");
        expect(record.content?.response).toContain(DEFAULT_TEXT);
      } finally {
        audit.close();
      }
    } finally {
      chain.companion.swap(chain.config);
    }
  });

  it("never logs a key", () => {
    const logs = chain.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const key of [K1, K2, K3, chain.companionSecret, ...chain.upstreamKeys]) expect(logs.includes(key)).toBe(false);
  });
});

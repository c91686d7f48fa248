/**
 * The edge relay end to end: the real worker in local workerd, over real sockets, in front
 * of a stand-in upstream on 127.0.0.1. One edge serves every scenario; each scenario has its
 * own pool (and upstream path prefix), so their health states do not mix.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeKey, randomSecret, rawSignedRequest, signedFetch, startEdge, type Edge, type Signer } from "../helpers/edge.ts";
import { gate, textReader } from "../helpers/streams.ts";
import { behaviours, sleep, startUpstream, type Upstream } from "../helpers/upstream.ts";

const office: Signer = { companionId: "office", secret: randomSecret() };
const limited: Signer = { companionId: "branch", secret: randomSecret() };
const keys = Object.fromEntries(["stream", "a429", "b429", "solo", "a401", "b401", "a500", "b500", "r1", "r2", "r3", "r4", "hang", "fast", "ant", "gem", "az", "cool1", "cool2"].map((k) => [k, fakeKey()]));
const secrets = [office.secret, limited.secret, ...Object.values(keys)];

let up: Upstream;
let edge: Edge;
/** Every response the tests saw, headers and body, checked for leaks at the end. */
const seen: string[] = [];

async function call(signer: Signer, path: string, body: unknown = { model: "m-1", stream: false }, headers: Record<string, string> = {}) {
  const res = await signedFetch(edge.url, signer, path, { body: JSON.stringify(body), headers });
  const text = await res.text();
  seen.push(JSON.stringify([...res.headers]) + text);
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, any> };
}

async function admin(signer: Signer = office) {
  const res = await signedFetch(edge.url, signer, "/admin/pools");
  const text = await res.text();
  seen.push(text);
  expect(res.status).toBe(200);
  return JSON.parse(text).pools as Record<string, { members: { id: string; state: string; inFlight: number; failureScore: number }[] }>;
}

const member = (id: string, prefix = id) => ({ id, key: keys[id]!, baseUrl: `${up.url}/${prefix}` });

beforeAll(async () => {
  up = await startUpstream();
  edge = await startEdge({
    pools: {
      stream: { type: "openai", members: [member("stream")] },
      ratelimit: { type: "openai", members: [member("a429"), member("b429")] },
      solo: { type: "openai", members: [member("solo")] },
      auth: { type: "openai", members: [member("a401"), member("b401")] },
      flaky: { type: "openai", members: [member("a500"), member("b500")] },
      bounded: { type: "openai", members: [member("r1"), member("r2"), member("r3"), member("r4")] },
      slow: { type: "openai", members: [member("hang"), member("fast")] },
      anthropic: { type: "anthropic", members: [member("ant")] },
      gemini: { type: "gemini", members: [member("gem")] },
      azure: {
        type: "azure-openai",
        members: [{ ...member("az"), apiVersion: "2024-10-21", deployments: { "gpt-4o": "prod-gpt4o" } }],
      },
      cooling: { type: "openai", members: [member("cool1"), member("cool2")] },
    },
    companions: [
      { id: "office", secret: office.secret, pools: ["*"] },
      { id: "branch", secret: limited.secret, pools: ["solo"] },
    ],
    settings: { headersTimeoutMs: 1500, retryBudgetMs: 10_000, backoffBaseMs: 60_000 },
  });
});

afterAll(async () => {
  await edge?.close();
  await up?.close();
});

describe("streaming pass-through", () => {
  it("delivers SSE events one by one, before the upstream has finished", async () => {
    const g = gate();
    up.on("/stream", behaviours.sse(["e1", "e2", "e3", "[DONE]"], { gate: () => g.wait() }));
    const res = await signedFetch(edge.url, office, "/proxy/stream/v1/chat/completions", { body: JSON.stringify({ model: "m", stream: true }) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = textReader(res.body!);
    // Each event is released only after the previous one reached the caller: if the edge
    // buffered anything, this would deadlock (and the test time out) instead of passing.
    g.release();
    expect(await reader.until("data: e1")).not.toContain("e2");
    g.release();
    expect(await reader.until("data: e2")).not.toContain("e3");
    g.release();
    g.release();
    const all = await reader.rest();
    expect(all).toBe("data: e1\n\ndata: e2\n\ndata: e3\n\ndata: [DONE]\n\n");
  });

  it("ends an event stream that breaks after the first byte with the provider's error event", async () => {
    up.once("/stream", behaviours.resetAfter(["partial-1"]));
    const res = await signedFetch(edge.url, office, "/proxy/stream/v1/chat/completions", { body: JSON.stringify({ model: "m", stream: true }) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith("data: partial-1\n\n")).toBe(true);
    const last = text.trim().split("\n\n").at(-1)!;
    expect(JSON.parse(last.replace(/^data: /, ""))).toEqual({
      error: { message: "upstream connection lost mid-stream", type: "upstream_unreachable", code: "upstream_unreachable", param: null },
    });
  });

  it("uses Anthropic's own error event when an Anthropic stream breaks", async () => {
    up.once("/ant", behaviours.resetAfter(['{"type":"message_start"}']));
    const res = await signedFetch(edge.url, office, "/proxy/anthropic/v1/messages", { body: JSON.stringify({ model: "c", stream: true }) });
    const text = await res.text();
    expect(text).toContain('data: {"type":"message_start"}');
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"upstream connection lost mid-stream"\}\}\n\n$/);
  });

  it("aborts a non-event body that breaks after the first byte, so the caller's read fails", async () => {
    up.once("/stream", async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"choices":[');
      await sleep(20);
      res.socket?.destroy();
    });
    const res = await signedFetch(edge.url, office, "/proxy/stream/v1/chat/completions", { body: JSON.stringify({ model: "m" }) });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("aborts the upstream request when the caller goes away mid-stream", async () => {
    const g = gate();
    const events = Array.from({ length: 50 }, (_, i) => `event-${i}`);
    up.once("/stream", behaviours.sse(["first", ...events], { gate: () => g.wait() }));
    const before = up.hits("/stream").length;
    const controller = new AbortController();
    const res = await signedFetch(edge.url, office, "/proxy/stream/v1/chat/completions", {
      body: JSON.stringify({ model: "m", stream: true }),
      signal: controller.signal,
    });
    const reader = textReader(res.body!);
    g.release();
    await reader.until("data: first");
    controller.abort();
    const rec = up.hits("/stream")[before]!;
    // workerd learns of the departure when it next writes to the caller, so let the upstream
    // go on sending; it must be cut off long before its 50 events are through.
    for (let i = 0; i < events.length && !rec.wasAborted; i++) {
      g.release();
      await Promise.race([rec.aborted, sleep(50)]);
    }
    expect(rec.wasAborted).toBe(true);
  });

  it("aborts the upstream request when the caller goes away before any answer", async () => {
    up.once("/stream", behaviours.hang());
    const before = up.hits("/stream").length;
    const controller = new AbortController();
    const pending = signedFetch(edge.url, office, "/proxy/stream/v1/chat/completions", {
      body: JSON.stringify({ model: "m" }),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    while (up.hits("/stream").length === before) await sleep(10);
    controller.abort();
    await pending;
    const rec = up.hits("/stream")[before]!;
    await rec.aborted;
    expect(rec.wasAborted).toBe(true);
  });
});

describe("least-failure selection and cool-downs", () => {
  it("skips a 429 member for its retry-after, serving from the other member", async () => {
    up.once("/a429", behaviours.json(429, { error: { message: "slow down" } }, { "retry-after": "30" }));
    up.on("/a429", behaviours.json(200, { from: "a" }));
    up.on("/b429", behaviours.json(200, { from: "b" }));
    const first = await call(office, "/proxy/ratelimit/v1/chat/completions");
    expect(first.status).toBe(200);
    expect(first.json()).toEqual({ from: "b" });
    expect(first.headers.get("x-ferry-attempts")).toBe("2");
    const aHits = up.hits("/a429").length;
    for (let i = 0; i < 5; i++) expect((await call(office, "/proxy/ratelimit/v1/chat/completions")).json()).toEqual({ from: "b" });
    expect(up.hits("/a429").length).toBe(aHits);
    const pools = await admin();
    expect(pools.ratelimit!.members.find((m) => m.id === "a429")!.state).toBe("cooling");
    // The cool-down is per model: another model may still use the member.
    const other = await call(office, "/proxy/ratelimit/v1/chat/completions", { model: "m-2" });
    expect(other.status).toBe(200);
  });

  it("answers a cooled pool at once with 429 and the earliest retry-after, then re-probes after it", async () => {
    up.once("/solo", behaviours.json(429, { error: { message: "slow down" } }, { "retry-after": "1" }));
    up.on("/solo", behaviours.json(200, { ok: true }));
    const first = await call(office, "/proxy/solo/v1/chat/completions");
    expect(first.status).toBe(429); // no other member: the upstream's own answer
    expect(first.headers.get("retry-after")).toBe("1");
    const hits = up.hits("/solo").length;
    const second = await call(office, "/proxy/solo/v1/chat/completions");
    expect(second.status).toBe(429);
    expect(second.headers.get("x-ferry-error")).toBe("rate_limited");
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(second.json().error.type).toBe("rate_limited");
    expect(up.hits("/solo").length).toBe(hits); // refused without touching the upstream
    await sleep(1_100);
    const third = await call(office, "/proxy/solo/v1/chat/completions");
    expect(third.status).toBe(200);
    expect(up.hits("/solo").length).toBe(hits + 1);
    expect((await admin()).solo!.members[0]!.state).toBe("healthy");
  });

  it("disables a 401 member and keeps it disabled across a Relay restart", async () => {
    up.on("/a401", behaviours.json(401, { error: { message: "invalid key" } }));
    up.on("/b401", behaviours.json(200, { from: "b" }));
    const first = await call(office, "/proxy/auth/v1/chat/completions");
    expect(first.status).toBe(200);
    expect(first.json()).toEqual({ from: "b" });
    expect((await admin()).auth!.members.find((m) => m.id === "a401")!.state).toBe("disabled");
    await edge.restartRelay("office");
    expect((await admin()).auth!.members.find((m) => m.id === "a401")!.state).toBe("disabled");
    const aHits = up.hits("/a401").length;
    for (let i = 0; i < 4; i++) expect((await call(office, "/proxy/auth/v1/chat/completions")).status).toBe(200);
    expect(up.hits("/a401").length).toBe(aHits);
  });

  it("hides a 500 followed by success on the next member from the caller", async () => {
    up.on("/a500", behaviours.json(500, { error: { message: "boom" } }));
    up.on("/b500", behaviours.json(200, { from: "b" }));
    // Whichever member round robin picks first, the caller sees only the success.
    for (let i = 0; i < 3; i++) {
      const res = await call(office, "/proxy/flaky/v1/chat/completions");
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ from: "b" });
    }
    expect(up.hits("/a500").length).toBe(1); // then cooling down: not asked again
  });

  it("bounds retries: four failing members, three attempts, the last answer returned", async () => {
    for (const m of ["/r1", "/r2", "/r3", "/r4"]) up.on(m, behaviours.json(503, { error: { message: "unavailable" } }));
    const res = await call(office, "/proxy/bounded/v1/chat/completions");
    expect(res.status).toBe(503);
    expect(res.headers.get("x-ferry-attempts")).toBe("3");
    const total = ["/r1", "/r2", "/r3", "/r4"].reduce((n, m) => n + up.hits(m).length, 0);
    expect(total).toBe(3);
  });

  it("moves on from a member that does not answer before the headers timeout", async () => {
    up.on("/hang", behaviours.hang());
    up.on("/fast", behaviours.json(200, { from: "fast" }));
    for (let i = 0; i < 2; i++) {
      const res = await call(office, "/proxy/slow/v1/chat/completions");
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ from: "fast" });
    }
    expect(up.hits("/hang").length).toBeLessThanOrEqual(1);
  });

  it("answers 503 with retry-after when every member is cooling down, without waiting", async () => {
    up.on("/cool1", behaviours.json(502, {}));
    up.on("/cool2", behaviours.json(502, {}));
    expect((await call(office, "/proxy/cooling/v1/chat/completions")).status).toBe(502);
    const hits = up.hits("/cool1").length + up.hits("/cool2").length;
    const res = await call(office, "/proxy/cooling/v1/chat/completions");
    expect(res.status).toBe(503);
    expect(res.headers.get("x-ferry-error")).toBe("pool_exhausted");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(up.hits("/cool1").length + up.hits("/cool2").length).toBe(hits);
    const view = (await admin()).cooling!.members;
    expect(view.map((m) => m.state)).toEqual(["cooling", "cooling"]);
  });
});

describe("providers", () => {
  it("sends Anthropic only allowlisted headers plus its key, and none of the office's identity", async () => {
    up.on("/ant", behaviours.json(200, { type: "message" }, { "anthropic-organization-id": "org-123", "request-id": "req_1" }));
    const res = await call(office, "/proxy/anthropic/v1/messages?beta=true", { model: "claude-x", max_tokens: 5 }, {
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "interleaved-thinking-2025-05-14",
      "user-agent": "claude-cli/2.1.330 (external, cli)",
      "x-stainless-os": "Linux",
      "x-app": "cli",
      "x-claude-code-session-id": "5b1c0e7a",
      cookie: "session=abc",
      "x-forwarded-for": "10.1.2.3",
      "x-api-key": "office-project-key-should-not-pass",
      authorization: "Bearer office-token",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("anthropic-organization-id")).toBeNull();
    const rec = up.hits("/ant").at(-1)!;
    expect(rec.url).toBe("/ant/v1/messages?beta=true");
    expect(rec.headers["x-api-key"]).toBe(keys.ant);
    expect(rec.headers["anthropic-version"]).toBe("2023-06-01");
    expect(rec.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14");
    expect(rec.headers["user-agent"]).toBe("ferry-edge/0.1");
    for (const name of ["x-stainless-os", "x-app", "x-claude-code-session-id", "cookie", "x-forwarded-for", "authorization"]) {
      expect(rec.headers[name], name).toBeUndefined();
    }
    expect(Object.keys(rec.headers).some((h) => h.startsWith("x-ferry-"))).toBe(false);
    expect(rec.body.toString()).toBe(JSON.stringify({ model: "claude-x", max_tokens: 5 }));
  });

  it("puts the Gemini key in x-goog-api-key, never in the URL, and keeps the query", async () => {
    up.on("/gem", behaviours.sse(['{"candidates":[]}']));
    const res = await call(office, "/proxy/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=office-key", {});
    expect(res.status).toBe(200);
    const rec = up.hits("/gem").at(-1)!;
    expect(rec.url).toBe("/gem/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    expect(rec.headers["x-goog-api-key"]).toBe(keys.gem);
  });

  it("speaks Azure OpenAI: api-key header, api-version added, deployment renamed per member", async () => {
    up.on("/az", behaviours.json(200, { ok: true }));
    const res = await call(office, "/proxy/azure/openai/deployments/gpt-4o/chat/completions", { messages: [] });
    expect(res.status).toBe(200);
    const rec = up.hits("/az").at(-1)!;
    expect(rec.url).toBe("/az/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21");
    expect(rec.headers["api-key"]).toBe(keys.az);
    expect(rec.headers.authorization).toBeUndefined();
  });
});

describe("authentication and paths", () => {
  const path = "/proxy/solo/v1/chat/completions";
  const refusals: Record<string, (h: Record<string, string>) => void> = {
    "a missing signature": (h) => delete h["x-ferry-signature"],
    "a wrong signature": (h) => (h["x-ferry-signature"] = h["x-ferry-signature"]!.replace(/^./, (c) => (c === "A" ? "B" : "A"))),
    "a stale timestamp": (h) => (h["x-ferry-timestamp"] = String(Date.now() - 301_000)),
    "an unknown companion": (h) => (h["x-ferry-companion"] = "nobody"),
    "no companion header": (h) => delete h["x-ferry-companion"],
  };
  for (const [name, tamper] of Object.entries(refusals)) {
    it(`refuses ${name} with a bare 401`, async () => {
      const hits = up.requests.length;
      const res = await signedFetch(edge.url, office, path, { body: "{}", tamper });
      const text = await res.text();
      seen.push(text);
      expect(res.status).toBe(401);
      expect(JSON.parse(text)).toEqual({ error: { message: "authentication failed", type: "unauthorized", code: "unauthorized", param: null } });
      expect(up.requests.length).toBe(hits);
    });
  }

  it("refuses a replayed request", async () => {
    up.on("/solo", behaviours.json(200, { ok: true }));
    let captured: Record<string, string> = {};
    const first = await signedFetch(edge.url, office, path, { body: "{}", tamper: (h) => (captured = { ...h }) });
    expect(first.status).toBe(200);
    const replay = await fetch(edge.url + path, { method: "POST", headers: captured, body: "{}" });
    expect(replay.status).toBe(401);
    // The replay is also refused after the Relay restarts: nonces are stored.
    await edge.restartRelay("office");
    const again = await fetch(edge.url + path, { method: "POST", headers: captured, body: "{}" });
    expect(again.status).toBe(401);
  });

  it("refuses a body that is not the signed one", async () => {
    let captured: Record<string, string> = {};
    await signedFetch(edge.url, office, "/admin/pools", { tamper: (h) => (captured = { ...h }) });
    const res = await signedFetch(edge.url, office, path, { body: '{"a":1}', tamper: (h) => (h["x-ferry-content-sha256"] = "0".repeat(64)) });
    expect(res.status).toBe(401);
  });

  it("limits a companion to its pools with 403, and shows it only those in /admin/pools", async () => {
    const res = await call(limited, "/proxy/anthropic/v1/messages");
    expect(res.status).toBe(403);
    const unknown = await call(limited, "/proxy/no-such-pool/v1/messages");
    expect(unknown.status).toBe(403);
    expect(unknown.text).toBe(res.text); // existence of a pool is not revealed
    expect(Object.keys(await admin(limited))).toEqual(["solo"]);
  });

  it("refuses /admin/pools without a signature", async () => {
    const res = await fetch(edge.url + "/admin/pools");
    expect(res.status).toBe(401);
  });

  for (const raw of [
    "/proxy/solo/v1/../../admin/pools",
    "/proxy/solo/v1/%2e%2e/%2e%2e/x",
    "/proxy/solo/v1/%2E%2e/x",
    "/proxy/solo/..%2fsolo/v1",
    "/proxy/solo/v1%5c..%5cx",
    "/proxy/solo/@evil.example/v1",
    "/proxy/solo/%40evil.example/v1",
    "/proxy/solo//evil.example/v1",
    "/proxy/solo/https://evil.example/v1",
    "/proxy/solo/v1/%00x",
    "/proxy/..%2f..%2fevil/v1",
  ]) {
    it(`refuses the path escape ${raw}`, async () => {
      const hits = up.requests.length;
      const res = await rawSignedRequest(edge.url, office, raw);
      seen.push(res.body);
      expect([400, 401, 404]).toContain(res.status);
      expect(up.requests.length).toBe(hits);
    });
  }
});

describe("secrets", () => {
  it("never shows an upstream key or a companion secret in a response or a log line", () => {
    expect(seen.length).toBeGreaterThan(20);
    const logs = edge.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const text of seen) expect(text.includes(secret)).toBe(false);
      expect(logs.includes(secret)).toBe(false);
    }
  });
});

/**
 * Edge configuration and lifecycle, each case on its own edge in local workerd: invalid
 * configuration, keys from referenced secrets, a full edge restart keeping a disabled key
 * disabled until the key changes, and the total retry budget.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeKey, randomSecret, signedFetch, startEdge, type Signer } from "../helpers/edge.ts";
import { gate, textReader } from "../helpers/streams.ts";
import { behaviours, startUpstream, type Upstream } from "../helpers/upstream.ts";

let up: Upstream;
beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  await up?.close();
});

const office: Signer = { companionId: "office", secret: randomSecret() };

describe("invalid configuration", () => {
  it("is explained on /health with JSON paths, refused on requests with 503, and never echoed", async () => {
    const key = fakeKey();
    const edge = await startEdge({
      pools: {
        openai: { type: "openai", members: [{ key, weight: 0 }] },
        azure: { type: "azure-openai", members: [{ key }] },
      },
      companions: [{ id: "office", secret: office.secret, pools: ["openai", "missing"] }],
    });
    try {
      const health = await fetch(edge.url + "/health");
      const text = await health.text();
      expect(health.status).toBe(503);
      const body = JSON.parse(text);
      expect(body.status).toBe("error");
      const paths = body.config.errors.map((e: { path: string }) => e.path).sort();
      expect(paths).toEqual(["companions[0].pools[1]", "pools.azure.members[0].baseUrl", "pools.openai.members[0].weight"]);
      expect(text).not.toContain(key);
      expect(text).not.toContain(office.secret);

      const res = await signedFetch(edge.url, office, "/proxy/openai/v1/chat/completions", { body: "{}" });
      const refusal = await res.text();
      expect(res.status).toBe(503);
      expect(res.headers.get("x-ferry-error")).toBe("config_invalid");
      expect(refusal).toContain("pools.openai.members[0].weight");
      expect(refusal).not.toContain(key);
    } finally {
      await edge.close();
    }
  });

  it("says the secret is not JSON without quoting it", async () => {
    const secretish = "sk-test-" + "x".repeat(40);
    const edge = await startEdge(`{"pools": {"openai": {"key": "${secretish}" oops`);
    try {
      const res = await fetch(edge.url + "/health");
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(text).config.errors).toEqual([{ path: "FERRY_CONFIG", message: "is not valid JSON" }]);
      expect(text).not.toContain(secretish);
    } finally {
      await edge.close();
    }
  });

  it("names a referenced secret that is not set", async () => {
    const edge = await startEdge({
      pools: { openai: { type: "openai", members: [{ key: { env: "OPENAI_KEY_1" } }] } },
      companions: [{ id: "office", secret: { env: "OFFICE_SECRET" }, pools: ["*"] }],
    }, { secrets: { OFFICE_SECRET: office.secret } });
    try {
      const body = await (await fetch(edge.url + "/health")).json();
      expect(body.config.errors).toEqual([{ path: "pools.openai.members[0].key", message: "refers to secret OPENAI_KEY_1, which is not set" }]);
    } finally {
      await edge.close();
    }
  });

  it("reports a valid configuration as ok, without naming any pool", async () => {
    const edge = await startEdge({
      pools: { openai: { type: "openai", members: [{ key: fakeKey() }] } },
      companions: [{ id: "office", secret: office.secret, pools: ["*"] }],
    });
    try {
      const res = await fetch(edge.url + "/health");
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ status: "ok", config: { valid: true } });
    } finally {
      await edge.close();
    }
  });
});

describe("lifecycle", () => {
  it("keeps a 401 member disabled across a whole edge restart, until its key changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ferry-edge-restart-"));
    const config = {
      pools: { openai: { type: "openai", members: [{ id: "k1", key: { env: "KEY_1" }, baseUrl: `${up.url}/rot` }] } },
      companions: [{ id: "office", secret: office.secret, pools: ["*"] }],
    };
    const state = async (url: string) => {
      const res = await signedFetch(url, office, "/admin/pools");
      return (await res.json()).pools.openai.members[0].state as string;
    };
    const revoked = fakeKey();
    try {
      up.on("/rot", behaviours.json(401, { error: { message: "revoked" } }));
      let edge = await startEdge(config, { persistDir: dir, secrets: { KEY_1: revoked } });
      expect((await signedFetch(edge.url, office, "/proxy/openai/v1/models")).status).toBe(401);
      expect(await state(edge.url)).toBe("disabled");
      await edge.close();

      edge = await startEdge(config, { persistDir: dir, secrets: { KEY_1: revoked } });
      expect(await state(edge.url)).toBe("disabled");
      const hits = up.hits("/rot").length;
      const refused = await signedFetch(edge.url, office, "/proxy/openai/v1/models");
      expect(refused.status).toBe(503);
      expect(up.hits("/rot").length).toBe(hits);
      await edge.close();

      // A rotated key gets its chance at once.
      up.on("/rot", behaviours.json(200, { data: [] }));
      edge = await startEdge(config, { persistDir: dir, secrets: { KEY_1: fakeKey() } });
      expect(await state(edge.url)).toBe("healthy");
      expect((await signedFetch(edge.url, office, "/proxy/openai/v1/models")).status).toBe(200);
      await edge.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bounds retries by total time as well as by attempts", async () => {
    for (const m of ["/t1", "/t2", "/t3", "/t4", "/t5"]) up.on(m, behaviours.hang());
    const edge = await startEdge({
      pools: { slow: { type: "openai", members: ["t1", "t2", "t3", "t4", "t5"].map((id) => ({ id, key: fakeKey(), baseUrl: `${up.url}/${id}` })) } },
      companions: [{ id: "office", secret: office.secret, pools: ["*"] }],
      settings: { maxAttempts: 5, headersTimeoutMs: 600, retryBudgetMs: 1000 },
    });
    try {
      const res = await signedFetch(edge.url, office, "/proxy/slow/v1/chat/completions", { body: "{}" });
      expect(res.status).toBe(504);
      expect((await res.json()).error.code).toBe("upstream_timeout");
      const total = ["/t1", "/t2", "/t3", "/t4", "/t5"].reduce((n, m) => n + up.hits(m).length, 0);
      expect(total).toBe(2); // the budget, not the five attempts, ended it
    } finally {
      await edge.close();
    }
  });

  it("passes NDJSON through line by line", async () => {
    const g = gate();
    up.on("/nd", async (_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"n":1}\n');
      for (const n of [2, 3]) {
        await g.wait();
        res.write(`{"n":${n}}\n`);
      }
      res.end();
    });
    const edge = await startEdge({
      pools: { local: { type: "openai-compatible", baseUrl: `${up.url}/nd`, members: [{ key: fakeKey() }] } },
      companions: [{ id: "office", secret: office.secret, pools: ["*"] }],
    });
    try {
      const res = await signedFetch(edge.url, office, "/proxy/local/api/chat", { body: "{}" });
      const reader = textReader(res.body!);
      expect(await reader.until('{"n":1}\n')).toBe('{"n":1}\n');
      g.release();
      expect(await reader.until('{"n":2}\n')).toBe('{"n":1}\n{"n":2}\n');
      g.release();
      expect(await reader.rest()).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    } finally {
      await edge.close();
    }
  });
});

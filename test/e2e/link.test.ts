/**
 * The companion's link (real `createLink`) against the real worker in local workerd, over a
 * real WebSocket, in front of a stand-in upstream on 127.0.0.1.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLink, type EdgeLink } from "../../companion/link/link.ts";
import { LinkError, type LinkRequest } from "../../companion/link/types.ts";
import { encodeFrame, INITIAL_WINDOW_BYTES, MAX_DATA_BYTES } from "../../shared/frames.ts";
import { signRequest } from "../../shared/signing.ts";
import { startConnectProxy } from "../helpers/connect-proxy.ts";
import { fakeKey, randomSecret, signedFetch, startEdge, type Edge, type Signer } from "../helpers/edge.ts";
import { gate, textReader } from "../helpers/streams.ts";
import { behaviours, sleep, startUpstream, type Upstream } from "../helpers/upstream.ts";

const office: Signer = { companionId: "office", secret: randomSecret() };
let up: Upstream;
let edge: Edge;
const links: EdgeLink[] = [];

function link(overrides: Record<string, unknown> = {}): EdgeLink {
  const l = createLink(
    { edges: [edge.url], companionId: office.companionId, secret: office.secret, transport: "tunnel", heartbeatIntervalMs: 1000, ...overrides },
    { env: {}, log: process.env.DEBUG_LINK ? (f) => console.log("link", JSON.stringify(f)) : undefined },
  );
  links.push(l);
  return l;
}

function req(pool: string, path: string, body: unknown = {}, extra: Partial<LinkRequest> = {}): LinkRequest {
  return {
    requestId: randomUUID().replaceAll("-", ""),
    method: "POST",
    pool,
    path,
    query: "",
    headers: [["content-type", "application/json"]],
    body: body === null ? null : new TextEncoder().encode(JSON.stringify(body)),
    ...extra,
  };
}

async function text(res: { body: ReadableStream<Uint8Array> | null }): Promise<string> {
  return res.body ? new Response(res.body).text() : "";
}

/** Deterministic bytes, so a 10 MiB body can be checked without keeping a copy. */
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  up = await startUpstream();
  // Echo: the request's marker back, as several SSE events, so mixed-up streams would show.
  up.on("/echo", async (_req, res, rec) => {
    const { marker } = JSON.parse(rec.body.toString() || "{}");
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (let i = 0; i < 5; i++) {
      res.write(`data: ${marker}:${i}\n\n`);
      await sleep(1);
    }
    res.end();
  });
  up.on("/big", async (_req, res, rec) => {
    const { size, seed } = JSON.parse(rec.body.toString());
    res.writeHead(200, { "content-type": "application/octet-stream" });
    const data = pattern(size, seed);
    for (let off = 0; off < size; off += 256 * 1024) {
      if (!res.write(data.subarray(off, off + 256 * 1024))) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  });
  up.on("/hash", (_req, res, rec) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ bytes: rec.body.length, sha256: sha256(rec.body) }));
  });
  edge = await startEdge({
    pools: {
      echo: { type: "openai-compatible", baseUrl: `${up.url}/echo`, members: [{ key: fakeKey() }] },
      big: { type: "openai-compatible", baseUrl: `${up.url}/big`, members: [{ key: fakeKey() }] },
      hash: { type: "openai-compatible", baseUrl: `${up.url}/hash`, members: [{ key: fakeKey() }] },
      held: { type: "openai-compatible", baseUrl: `${up.url}/held`, members: [{ key: fakeKey() }] },
    },
    companions: [{ id: "office", secret: office.secret, pools: ["*"] }],
    settings: { headersTimeoutMs: 20_000 },
  });
});

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  await edge?.close();
  await up?.close();
});

describe("tunnel", () => {
  it("carries 200 concurrent streams over one tunnel, each intact and unmixed", async () => {
    const l = link();
    const before = up.hits("/echo").length;
    const markers = Array.from({ length: 200 }, (_, i) => `m${i}-${randomBytes(4).toString("hex")}`);
    const results = await Promise.all(
      markers.map(async (marker) => {
        const res = await l.send(req("echo", "/v1/chat/completions", { marker }));
        return { res, body: await text(res) };
      }),
    );
    for (const [i, { res, body }] of results.entries()) {
      expect(res.transport).toBe("tunnel");
      expect(res.status).toBe(200);
      expect(body).toBe([0, 1, 2, 3, 4].map((n) => `data: ${markers[i]}:${n}\n\n`).join(""));
    }
    expect(l.tunnel!.connects).toBe(1);
    expect(up.hits("/echo").length - before).toBe(200);
  });

  it("moves a 10 MiB request body and a 10 MiB streamed response byte for byte", async () => {
    const l = link();
    const upload = pattern(10 * 1024 * 1024, 7);
    const hashed = await l.send({ ...req("hash", "/v1/x", null), body: upload });
    expect(JSON.parse(await text(hashed))).toEqual({ bytes: upload.length, sha256: sha256(upload) });

    const size = 10 * 1024 * 1024;
    const res = await l.send(req("big", "/v1/x", { size, seed: 11 }));
    const received = new Uint8Array(await new Response(res.body).arrayBuffer());
    expect(received.length).toBe(size);
    expect(sha256(received)).toBe(sha256(pattern(size, 11)));
  });

  it("bounds what a slow reader makes either side hold", async () => {
    const l = link();
    const size = 2 * 1024 * 1024;
    const res = await l.send(req("big", "/v1/x", { size, seed: 3 }));
    const reader = res.body!.getReader();
    let got = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
      await sleep(1); // a slow consumer: the edge must wait for credit, not pile bytes up
    }
    expect(got).toBe(size);
    const conn = l.tunnel!.connection!;
    // The companion never holds more than the window it granted.
    expect(conn.stats.maxStreamBufferedBytes).toBeGreaterThan(0);
    expect(conn.stats.maxStreamBufferedBytes).toBeLessThanOrEqual(INITIAL_WINDOW_BYTES);
    // The edge holds at most what one upstream read returned while it waits for credit.
    const tunnels = (await (await signedFetch(edge.url, office, "/admin/tunnels")).json()).tunnels as { maxStreamBufferedBytes?: number }[];
    const worst = Math.max(...tunnels.map((t) => t.maxStreamBufferedBytes ?? 0));
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1024 * 1024);
  });

  it("aborts the upstream request when the caller cancels (RESET)", async () => {
    const g = gate();
    up.once("/held", behaviours.sse(["one", ...Array.from({ length: 40 }, (_, i) => `more-${i}`)], { gate: () => g.wait() }));
    const before = up.hits("/held").length;
    const controller = new AbortController();
    const l = link();
    g.release();
    const res = await l.send(req("held", "/v1/x", {}, { signal: controller.signal }));
    const reader = textReader(res.body!);
    await reader.until("data: one");
    await reader.cancel();
    const rec = up.hits("/held")[before]!;
    for (let i = 0; i < 40 && !rec.wasAborted; i++) {
      g.release();
      await Promise.race([rec.aborted, sleep(50)]);
    }
    expect(rec.wasAborted).toBe(true);
  });

  it("gives in-flight callers a clean error when the tunnel dies, re-sends what had not started, and sends nothing twice", async () => {
    const l = link({ reconnectBaseMs: 10 });
    const g = gate();
    up.on("/held", behaviours.sse(["start", "rest"], { gate: () => g.wait(), gateFrom: 1 }));
    const before = up.hits("/held").length;
    const streaming = await Promise.all([0, 1].map(() => l.send(req("held", "/v1/x", { n: 1 }))));
    const readers = streaming.map((r) => textReader(r.body!));
    await Promise.all(readers.map((r) => r.until("data: start")));

    const conn = l.tunnel!.connection!;
    conn.terminate();
    // Sent before the socket's close is noticed: it cannot have been accepted, so it is re-sent.
    const late = l.send(req("echo", "/v1/chat/completions", { marker: "late" }));
    for (const r of readers) {
      const error = await r.rest().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(LinkError);
      expect((error as LinkError).code).toBe("interrupted");
    }
    const lateRes = await late;
    expect(await text(lateRes)).toContain("data: late:4");
    expect(l.tunnel!.connects).toBe(2);
    // New requests work on the new tunnel.
    const after = await l.send(req("echo", "/v1/chat/completions", { marker: "after" }));
    expect(after.transport).toBe("tunnel");
    expect(await text(after)).toContain("after:4");
    // Nothing reached the upstream twice.
    expect(up.hits("/held").length - before).toBe(2);
    expect(up.hits("/echo").filter((r) => r.body.toString().includes('"late"')).length).toBe(1);
    for (let i = 0; i < 4; i++) g.release();
    up.on("/held", behaviours.json(200, {}));
  });

  it("refuses to start a request id twice, whichever transport re-sends it", async () => {
    const l = link();
    const first = req("echo", "/v1/chat/completions", { marker: "once" });
    expect(await text(await l.send(first))).toContain("once:4");
    const hits = up.hits("/echo").length;
    const again = await l.send(first).then(() => null, (e: unknown) => e);
    expect((again as LinkError).code).toBe("interrupted");
    const https = link({ transport: "https" });
    const third = await https.send(first).then(() => null, (e: unknown) => e);
    expect((third as LinkError).code).toBe("interrupted");
    expect(up.hits("/echo").length).toBe(hits);
  });

  it("moves new streams to a fresh tunnel on GOAWAY while the old stream finishes", async () => {
    const l = link();
    const g = gate();
    up.once("/held", behaviours.sse(["a", "b"], { gate: () => g.wait() }));
    g.release();
    const old = await l.send(req("held", "/v1/x"));
    const oldReader = textReader(old.body!);
    await oldReader.until("data: a");
    const drained = await signedFetch(edge.url, office, "/admin/drain", { method: "POST", body: "" });
    expect(drained.status).toBe(200);
    for (let i = 0; i < 100 && l.tunnel!.connects < 2; i++) await sleep(20);
    expect(l.tunnel!.connects).toBe(2);
    const fresh = await l.send(req("echo", "/v1/chat/completions", { marker: "fresh" }));
    expect(await text(fresh)).toContain("fresh:4");
    g.release();
    expect(await oldReader.rest()).toBe("data: a\n\ndata: b\n\n");
  });

  it("resets only the stream a garbage frame names; the others continue", async () => {
    const l = link();
    const g = gate();
    up.on("/held", behaviours.sse(["x", "y"], { gate: () => g.wait(), gateFrom: 1 }));
    const [victim, bystander] = await Promise.all([l.send(req("held", "/v1/x")), l.send(req("held", "/v1/x"))]);
    const victimReader = textReader(victim.body!);
    const bystanderReader = textReader(bystander.body!);
    await Promise.all([victimReader.until("data: x"), bystanderReader.until("data: x")]);
    const conn = l.tunnel!.connection!;
    // CREDIT with a 0 increment is invalid: the edge must reset that stream and only that one.
    const victimId = conn.stats.streamsOpened - 1;
    const garbage = encodeFrame({ type: "CREDIT", streamId: victimId, increment: 1 });
    garbage[garbage.length - 1] = 0;
    conn.sendRaw(garbage);
    const error = await victimReader.rest().then(() => null, (e: unknown) => e);
    expect((error as LinkError).code).toBe("refused");
    g.release();
    g.release();
    expect(await bystanderReader.rest()).toBe("data: x\n\ndata: y\n\n");
    expect(l.tunnel!.connection).toBe(conn); // the tunnel itself stayed up
    up.on("/held", behaviours.json(200, {}));
  });

  it("closes the tunnel on a frame too large to skip, and comes back", async () => {
    const l = link({ reconnectBaseMs: 10 });
    expect(await l.tunnel!.ready(5000)).toBe(true);
    const conn = l.tunnel!.connection!;
    const huge = new Uint8Array(9);
    huge[0] = 0x03;
    new DataView(huge.buffer).setUint32(1, 99);
    new DataView(huge.buffer).setUint32(5, 10 * 1024 * 1024);
    conn.sendRaw(huge);
    for (let i = 0; i < 200 && l.tunnel!.connects < 2; i++) await sleep(20);
    expect(l.tunnel!.connects).toBe(2);
    expect(await text(await l.send(req("echo", "/v1/chat/completions", { marker: "back" })))).toContain("back:4");
  });
});

describe("authentication at the upgrade", () => {
  async function upgrade(headers: Record<string, string>): Promise<number> {
    const ws = new WebSocket(edge.url.replace(/^http/, "ws") + "/tunnel", { headers });
    return new Promise<number>((resolve) => {
      ws.once("open", () => {
        ws.terminate();
        resolve(101);
      });
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      ws.once("error", () => resolve(-1));
    });
  }
  const sign = () => signRequest({ companionId: office.companionId, secret: office.secret, method: "GET", pathAndQuery: "/tunnel", body: null });

  it("accepts a correct signature", async () => {
    expect(await upgrade(await sign())).toBe(101);
  });
  it("refuses a bad signature", async () => {
    const h = await sign();
    h["x-ferry-signature"] = h["x-ferry-signature"]!.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    expect(await upgrade(h)).toBe(401);
  });
  it("refuses a replayed upgrade", async () => {
    const h = await sign();
    expect(await upgrade(h)).toBe(101);
    expect(await upgrade(h)).toBe(401);
  });
  it("refuses an unknown companion", async () => {
    const h = await signRequest({ companionId: "stranger", secret: randomSecret(), method: "GET", pathAndQuery: "/tunnel", body: null });
    expect(await upgrade(h)).toBe(401);
  });
  it("refuses a missing signature", async () => {
    expect(await upgrade({})).toBe(401);
  });
});

describe("transports", () => {
  it("serves over HTTPS alone", async () => {
    const l = link({ transport: "https" });
    const res = await l.send(req("echo", "/v1/chat/completions", { marker: "h" }));
    expect(res.transport).toBe("https");
    expect(await text(res)).toContain("h:4");
  });

  it("auto: uses HTTPS while the tunnel is down, and the tunnel again once it is back", async () => {
    const l = link({ transport: "auto" });
    expect(await l.tunnel!.ready(5000)).toBe(true);
    expect((await l.send(req("echo", "/v1/chat/completions", { marker: "t1" }))).transport).toBe("tunnel");
    await l.tunnel!.close();
    const fallback = await l.send(req("echo", "/v1/chat/completions", { marker: "f" }));
    expect(fallback.transport).toBe("https");
    expect(await text(fallback)).toContain("f:4");
    l.tunnel!.start();
    expect(await l.tunnel!.ready(5000)).toBe(true);
    expect((await l.send(req("echo", "/v1/chat/completions", { marker: "t2" }))).transport).toBe("tunnel");
  });

  it("skips a dead edge URL for the next one, on both transports", async () => {
    const dead = "http://127.0.0.1:9"; // discard port: nothing listens
    for (const transport of ["tunnel", "https"] as const) {
      const l = link({ transport, edges: [dead, edge.url] });
      const res = await l.send(req("echo", "/v1/chat/completions", { marker: transport }));
      expect(res.edge).toBe(edge.url);
      expect(await text(res)).toContain(`${transport}:4`);
      expect(l.state().edges[0]).toMatchObject({ url: dead, healthy: false });
    }
  });

  it("works through an HTTP CONNECT proxy, for the tunnel and for HTTPS", async () => {
    const proxy = await startConnectProxy();
    try {
      for (const transport of ["tunnel", "https"] as const) {
        const l = link({ transport, proxy: proxy.url });
        const res = await l.send(req("echo", "/v1/chat/completions", { marker: `p-${transport}` }));
        expect(await text(res)).toContain(`p-${transport}:4`);
      }
      const host = new URL(edge.url).host;
      expect(proxy.tunnels.filter((t) => t === host).length).toBeGreaterThanOrEqual(2);
      expect(proxy.plainRequests).toBe(0);
      // A no-proxy entry bypasses it.
      const count = proxy.tunnels.length;
      const direct = link({ transport: "https", proxy: proxy.url, noProxy: ["127.0.0.1"] });
      expect(await text(await direct.send(req("echo", "/v1/chat/completions", { marker: "np" })))).toContain("np:4");
      expect(proxy.tunnels.length).toBe(count);
    } finally {
      await proxy.close();
    }
  });

  it("takes HTTPS_PROXY and NO_PROXY from the environment", async () => {
    const proxy = await startConnectProxy();
    try {
      const l = createLink(
        { edges: [edge.url], companionId: office.companionId, secret: office.secret, transport: "https" },
        { env: { HTTPS_PROXY: proxy.url } },
      );
      links.push(l);
      expect(await text(await l.send(req("echo", "/v1/chat/completions", { marker: "env" })))).toContain("env:4");
      expect(proxy.tunnels.length).toBe(1);
      const bypass = createLink(
        { edges: [edge.url], companionId: office.companionId, secret: office.secret, transport: "https" },
        { env: { HTTPS_PROXY: proxy.url, NO_PROXY: "localhost,127.0.0.1" } },
      );
      links.push(bypass);
      await text(await bypass.send(req("echo", "/v1/chat/completions", { marker: "env2" })));
      expect(proxy.tunnels.length).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

void MAX_DATA_BYTES;

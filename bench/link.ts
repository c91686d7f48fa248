/**
 * Link benchmark: the companion's real link (companion/link/link.ts, `createLink`) to the real
 * worker in local workerd, over each transport (`https`: one signed request per call;
 * `tunnel`: the multiplexed WebSocket), against calling the upstream (bench/upstream.ts)
 * directly. Then the same link through bench/delay-proxy.ts, which adds a border-crossing
 * delay, to compare a warm tunnel, warm HTTPS (keep-alive) and cold HTTPS (a new connection
 * per request). See bench/README.md. Run: `npm run bench` (after bench/edge.ts) or
 * `node bench/link.ts`.
 *
 * Bounded: fixed request counts, a per-request timeout and an overall deadline; links, proxy,
 * edge and upstream are closed on every path out (success, error, deadline, SIGINT/SIGTERM).
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { Agent, fetch as undiciFetch } from "undici";
import { createLink, type EdgeLink } from "../companion/link/link.ts";
import type { LinkConfigInput } from "../companion/link/config.ts";
import type { LinkRequest } from "../companion/link/types.ts";
import { fakeKey, randomSecret, startEdge, type Edge } from "../test/helpers/edge.ts";
import { closedLoop, CLK_TCK, killLeftoverWorkerd, latencySummary, pad, percentile, round, sampleWorkerd, workerdCpuMs, workerdPids, type RunResult, type Sample } from "./common.ts";
import { startDelayProxy, type DelayProxy } from "./delay-proxy.ts";
import { jsonAnswer, SSE_EVENTS, sseEvents, startBenchUpstream, type BenchUpstream } from "./upstream.ts";

// Miniflare would otherwise try to download the `Request.cf` placeholder from the internet.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const SCALE = Math.max(0.05, Number(process.env.BENCH_SCALE ?? "1") || 1);
const n = (count: number) => Math.max(10, Math.round(count * SCALE));
const PLAN = {
  warmup: { requests: n(150), streams: n(24), concurrency: 8 },
  nonStreaming: [
    { concurrency: 1, requests: n(200) },
    { concurrency: 64, requests: n(1280) },
  ],
  streaming: [
    { concurrency: 1, requests: n(30) },
    { concurrency: 64, requests: n(320) },
  ],
  delayed: {
    delayMs: Number(process.env.BENCH_LINK_DELAY_MS ?? "75"),
    requests: n(20),
    warmupRequests: 3,
  },
  sseGapMs: Number(process.env.BENCH_SSE_GAP_MS ?? "5"),
  requestTimeoutMs: 15_000,
  deadlineMs: Number(process.env.BENCH_LINK_DEADLINE_MS ?? "100000"),
};
const COMPANION = "bench";
const POOL = "bench";
const PATH = "/v1/chat/completions";
const DIRECT_CLIENT = "undici fetch (the package the https transport uses) with its own keep-alive Agent";

// ---------------------------------------------------------------------------------------------
// load generation

const deadline = new AbortController();


/** What a call hands back: the link's response shape (a direct fetch is adapted to it). */
interface Answer {
  status: number;
  body: ReadableStream<Uint8Array> | null;
  transport: string;
  /** Run once the body is read, outside the timing (closing a per-request link). */
  after?: () => Promise<void>;
}
type Call = (signal: AbortSignal) => Promise<Answer>;

const pendingAfter: Promise<unknown>[] = [];

async function timed(call: Call, expectBytes: number, expectTransport: string): Promise<Sample> {
  const signal = AbortSignal.any([deadline.signal, AbortSignal.timeout(PLAN.requestTimeoutMs)]);
  const t0 = performance.now();
  const res = await call(signal);
  try {
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`status ${res.status}`);
    }
    if (res.transport !== expectTransport) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`carried by ${res.transport}, expected ${expectTransport}`);
    }
    let ttfbMs = NaN;
    let bytes = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (bytes === 0) ttfbMs = performance.now() - t0;
      bytes += value.byteLength;
    }
    const totalMs = performance.now() - t0;
    if (bytes !== expectBytes) throw new Error(`body was ${bytes} bytes, expected ${expectBytes}`);
    return { totalMs, ttfbMs };
  } finally {
    if (res.after) pendingAfter.push(res.after().catch(() => {}));
  }
}


/** `requests` calls, `concurrency` at a time (closed loop: each slot starts its next call when one ends). */
function run(requests: number, concurrency: number, call: Call, expectBytes: number, expectTransport: string): Promise<RunResult> {
  return closedLoop(requests, concurrency, deadline.signal, () => timed(call, expectBytes, expectTransport));
}

// ---------------------------------------------------------------------------------------------
// phases

type Target = "direct" | "https" | "tunnel";
type Kind = "non-streaming" | "streaming";

interface PhaseResult {
  kind: Kind;
  target: Target;
  concurrency: number;
  requests: number;
  ok: number;
  errors: number;
  firstError?: string;
  wallMs: number | null;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  ttfbP50Ms?: number | null;
  ttfbP99Ms?: number | null;
  workerdCpuMsPerReq: number | null;
  workerdCpuSampleLost?: boolean;
  /** This whole Node process: load generator + link + the upstream thread. */
  nodeCpuMsPerReq: number | null;
  /** The upstream's worker thread alone. */
  upstreamCpuMsPerReq: number | null;
  /** node − upstream: the load generator plus the client side (plain undici, or the link). */
  clientCpuMsPerReq: number | null;
}

const results: PhaseResult[] = [];
let upstream: BenchUpstream | undefined;

async function phase(kind: Kind, target: Target, concurrency: number, requests: number, call: Call, expectBytes: number) {
  const u0 = await upstream!.cpuUsage();
  const w0 = sampleWorkerd();
  const c0 = process.cpuUsage();
  const r = await run(requests, concurrency, call, expectBytes, target);
  const c1 = process.cpuUsage(c0);
  const w1 = sampleWorkerd();
  const u1 = await upstream!.cpuUsage();
  const cpu = workerdCpuMs(w0, w1);
  const done = Math.max(1, r.samples.length + r.errors);
  const nodeMs = (c1.user + c1.system) / 1000;
  const upstreamMs = u0 && u1 ? (u1.user + u1.system - u0.user - u0.system) / 1000 : NaN;
  const result: PhaseResult = {
    kind,
    target,
    concurrency,
    requests,
    ...latencySummary(r, kind === "streaming"),
    workerdCpuMsPerReq: round(cpu.ms / done, 3),
    ...(cpu.lost ? { workerdCpuSampleLost: true } : {}),
    nodeCpuMsPerReq: round(nodeMs / done, 3),
    upstreamCpuMsPerReq: round(upstreamMs / done, 3),
    clientCpuMsPerReq: round((nodeMs - upstreamMs) / done, 3),
  };
  results.push(result);
  const err = result.errors ? ` errors=${result.errors} (${result.firstError})` : "";
  console.log(`  done: ${kind} ${target} c=${concurrency} n=${requests} in ${result.wallMs} ms${err}`);
}

type DelayedMode = "tunnel warm" | "https warm" | "https cold";

interface DelayedResult {
  mode: DelayedMode;
  kind: Kind;
  requests: number;
  ok: number;
  errors: number;
  firstError?: string;
  /** TCP connections the proxy accepted during the phase. */
  newConnections: number;
  p50Ms: number | null;
  p99Ms: number | null;
  ttfbP50Ms: number | null;
  ttfbP99Ms: number | null;
}

const delayed: DelayedResult[] = [];

async function delayedPhase(mode: DelayedMode, kind: Kind, proxy: DelayProxy, call: Call, expectBytes: number, transport: string) {
  const conns = proxy.connections;
  const r = await run(PLAN.delayed.requests, 1, call, expectBytes, transport);
  const total = r.samples.map((s) => s.totalMs).sort((a, b) => a - b);
  const ttfb = r.samples.map((s) => s.ttfbMs).sort((a, b) => a - b);
  const result: DelayedResult = {
    mode,
    kind,
    requests: PLAN.delayed.requests,
    ok: r.samples.length,
    errors: r.errors,
    ...(r.firstError ? { firstError: r.firstError } : {}),
    newConnections: proxy.connections - conns,
    p50Ms: round(percentile(total, 50)),
    p99Ms: round(percentile(total, 99)),
    ttfbP50Ms: round(percentile(ttfb, 50)),
    ttfbP99Ms: round(percentile(ttfb, 99)),
  };
  delayed.push(result);
  const err = result.errors ? ` errors=${result.errors} (${result.firstError})` : "";
  console.log(`  done: delayed ${mode} ${kind} n=${result.requests} in ${round(r.wallMs, 0)} ms, ${result.newConnections} new connections${err}`);
}

// ---------------------------------------------------------------------------------------------
// output

const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? "-" : x.toFixed(d));

function printTable(rows: PhaseResult[]) {
  const head = ["scenario", "target", "c", "n", "err", "req/s", "p50 ms", "p99 ms", "ttfb p50", "ttfb p99", "wd cpu/req", "node cpu/req", "upstr cpu/req", "client cpu/req"];
  const widths = [14, 7, 3, 5, 4, 8, 8, 8, 9, 9, 11, 12, 13, 14];
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!, i >= 2)).join("  ");
  console.log(line(head));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) {
    console.log(
      line([
        r.kind,
        r.target,
        String(r.concurrency),
        String(r.requests),
        String(r.errors),
        f(r.rps, 1),
        f(r.p50Ms),
        f(r.p99Ms),
        f(r.ttfbP50Ms),
        f(r.ttfbP99Ms),
        f(r.workerdCpuMsPerReq, 3) + (r.workerdCpuSampleLost ? "*" : ""),
        f(r.nodeCpuMsPerReq, 3),
        f(r.upstreamCpuMsPerReq, 3),
        f(r.clientCpuMsPerReq, 3),
      ]),
    );
  }
}

function overhead(rows: PhaseResult[]) {
  const out: Record<string, unknown>[] = [];
  const d = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : round(a - b));
  for (const r of rows.filter((x) => x.target !== "direct")) {
    const direct = rows.find((x) => x.target === "direct" && x.kind === r.kind && x.concurrency === r.concurrency);
    if (!direct) continue;
    out.push({
      kind: r.kind,
      target: r.target,
      concurrency: r.concurrency,
      addedP50Ms: d(r.p50Ms, direct.p50Ms),
      addedP99Ms: d(r.p99Ms, direct.p99Ms),
      ...(r.kind === "streaming" ? { addedTtfbP50Ms: d(r.ttfbP50Ms, direct.ttfbP50Ms), addedTtfbP99Ms: d(r.ttfbP99Ms, direct.ttfbP99Ms) } : {}),
      rpsRatio: r.rps && direct.rps ? round(r.rps / direct.rps, 3) : null,
    });
  }
  return out;
}

function printDelayed(rows: DelayedResult[], delayMs: number) {
  const head = ["mode", "new conns", "json p50", "json p99", "sse ttfb p50", "sse ttfb p99", "sse total p50", "err"];
  const widths = [12, 9, 9, 9, 12, 12, 13, 4];
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!, i >= 1)).join("  ");
  console.log(line(head));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const mode of ["tunnel warm", "https warm", "https cold"] as const) {
    const json = rows.find((r) => r.mode === mode && r.kind === "non-streaming");
    const sse = rows.find((r) => r.mode === mode && r.kind === "streaming");
    if (!json && !sse) continue;
    console.log(
      line([
        mode,
        `${json?.newConnections ?? "-"}+${sse?.newConnections ?? "-"}`,
        f(json?.p50Ms, 1),
        f(json?.p99Ms, 1),
        f(sse?.ttfbP50Ms, 1),
        f(sse?.ttfbP99Ms, 1),
        f(sse?.p50Ms, 1),
        String((json?.errors ?? 0) + (sse?.errors ?? 0)),
      ]),
    );
  }
  console.log(`  floor: one RTT = ${2 * delayMs} ms on a reused connection; a new TCP connection adds one more RTT (${2 * delayMs} ms) here,`);
  console.log(`  real TLS would add 1 (TLS 1.3) or 2 (TLS 1.2) RTTs more on top of that for a cold connection.`);
}

// ---------------------------------------------------------------------------------------------
// main

let edge: Edge | undefined;
let proxy: DelayProxy | undefined;
let directAgent: Agent | undefined;
const links = new Set<EdgeLink>();
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    const started = workerdPids();
    await Promise.race([
      (async () => {
        await Promise.allSettled([...links].map((l) => l.close()));
        await Promise.allSettled([proxy?.close(), directAgent?.destroy()]);
        await Promise.allSettled([edge?.close(), upstream?.close()]);
      })(),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
    // Any workerd of ours that close() left behind: end it by pid.
    killLeftoverWorkerd(started);
  })());
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    deadline.abort(new Error(sig));
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<Record<string, unknown>> {
  const deadlineTimer = setTimeout(() => deadline.abort(new Error("deadline")), PLAN.deadlineMs);
  deadlineTimer.unref();
  const untilDeadline = new Promise<never>((_, reject) =>
    deadline.signal.addEventListener("abort", () => reject(new Error(`benchmark deadline (${PLAN.deadlineMs} ms) passed`)), { once: true }),
  );
  untilDeadline.catch(() => {});
  const beforeDeadline = <T>(p: Promise<T>) => Promise.race([p, untilDeadline]);

  upstream = await startBenchUpstream({ sseGapMs: PLAN.sseGapMs });
  const secret = randomSecret();
  const key = fakeKey();
  const edgeStart = performance.now();
  const starting = startEdge({
    pools: { [POOL]: { type: "openai-compatible", baseUrl: `${upstream.url}/prefix`, members: [{ key }] } },
    companions: [{ id: COMPANION, secret, pools: ["*"] }],
  });
  starting.then((e) => (edge = e)).catch(() => {}); // so cleanup closes it even if it arrives late
  const e = await beforeDeadline(starting);
  edge = e;
  const edgeStartupMs = performance.now() - edgeStart;
  console.log(`edge ${e.url} (workerd pids ${workerdPids().join(", ") || "none found"}), started in ${edgeStartupMs.toFixed(0)} ms`);
  console.log(`upstream ${upstream.url} (worker thread, CPU measured separately); direct client: ${DIRECT_CLIENT}`);
  console.log(`CLK_TCK=${CLK_TCK}, cpus=${os.availableParallelism()}, node ${process.version}, scale=${SCALE}\n`);

  const newLink = (overrides: Partial<LinkConfigInput>): EdgeLink => {
    const l = createLink({ edges: [e.url], companionId: COMPANION, secret, ...overrides }, { env: {} });
    links.add(l);
    return l;
  };
  const tunnelUp = async (l: EdgeLink, what: string): Promise<number> => {
    const t0 = performance.now();
    if (!(await beforeDeadline(l.tunnel!.ready(5_000)))) throw new Error(`the ${what} tunnel did not come up within 5 s`);
    return performance.now() - t0;
  };

  const body = (stream: boolean) =>
    new TextEncoder().encode(
      JSON.stringify({
        model: "gpt-bench",
        ...(stream ? { stream: true } : {}),
        messages: [
          { role: "system", content: "You are a terse assistant." },
          { role: "user", content: "Say something about ferries in one paragraph." },
        ],
      }),
    );
  const bodies = { json: body(false), sse: body(true) };
  const jsonBytes = Buffer.byteLength(jsonAnswer());
  const sseBytes = Buffer.byteLength(sseEvents().join(""));
  const runTag = randomBytes(4).toString("hex");
  let seq = 0;
  const linkRequest = (stream: boolean, signal: AbortSignal): LinkRequest => ({
    requestId: `bench-${runTag}-${++seq}`,
    method: "POST",
    pool: POOL,
    path: PATH,
    query: "",
    headers: [["content-type", "application/json"]],
    body: stream ? bodies.sse : bodies.json,
    signal,
  });
  const viaLink =
    (l: EdgeLink, stream: boolean): Call =>
    (signal) =>
      l.send(linkRequest(stream, signal));

  directAgent = new Agent();
  const directUrl = `${upstream.url}/prefix${PATH}`;
  const directHeaders = { "content-type": "application/json", authorization: `Bearer ${key}` };
  const direct =
    (stream: boolean): Call =>
    async (signal) => {
      const res = await undiciFetch(directUrl, { method: "POST", headers: directHeaders, body: stream ? bodies.sse : bodies.json, signal, dispatcher: directAgent });
      return { status: res.status, body: res.body as ReadableStream<Uint8Array> | null, transport: "direct" };
    };

  const httpsLink = newLink({ transport: "https" });
  const tunnelLink = newLink({ transport: "tunnel" });
  const tunnelConnectMs = await tunnelUp(tunnelLink, "loopback");
  const calls: Record<Target, (stream: boolean) => Call> = {
    direct,
    https: (stream) => viaLink(httpsLink, stream),
    tunnel: (stream) => viaLink(tunnelLink, stream),
  };
  const targets = ["direct", "https", "tunnel"] as const;

  // Warm-up: connections, JIT on both sides, the Relay object and its SQLite, config parse.
  console.log("warm-up");
  for (const target of targets) {
    const w1 = await run(PLAN.warmup.requests, PLAN.warmup.concurrency, calls[target](false), jsonBytes, target);
    const w2 = await run(PLAN.warmup.streams, PLAN.warmup.concurrency, calls[target](true), sseBytes, target);
    if (w1.errors || w2.errors) throw new Error(`warm-up over ${target} failed: ${w1.firstError ?? w2.firstError}`);
  }

  console.log("measuring (loopback)");
  for (const { concurrency, requests } of PLAN.nonStreaming) {
    for (const target of targets) await phase("non-streaming", target, concurrency, requests, calls[target](false), jsonBytes);
  }
  for (const { concurrency, requests } of PLAN.streaming) {
    for (const target of targets) await phase("streaming", target, concurrency, requests, calls[target](true), sseBytes);
  }
  const tunnelStats = tunnelLink.tunnel!.connection?.stats;

  // The delayed link: the same links, pointed at a proxy that adds the border's latency.
  const D = PLAN.delayed.delayMs;
  proxy = await startDelayProxy({ target: e.url, delayMs: D });
  const p = proxy;
  console.log(`\nmeasuring (delayed link: ${p.url} -> edge, +${D} ms each way, +${p.connectDelayMs} ms per new connection)`);
  const slowEdges = { edges: [p.url] };
  const slowTunnel = newLink({ transport: "tunnel", ...slowEdges });
  const slowTunnelConnectMs = await tunnelUp(slowTunnel, "delayed");
  const slowHttps = newLink({ transport: "https", ...slowEdges });
  // Cold: a fresh link (so a fresh undici Agent and TCP connection) per request, closed after
  // its body is read, outside the timing. Creating the link (config parse, Agent) is timed;
  // it is measured on its own below and is far under a millisecond.
  let createMsTotal = 0;
  let created = 0;
  const cold =
    (stream: boolean): Call =>
    async (signal) => {
      const t0 = performance.now();
      const l = createLink({ transport: "https", edges: [p.url], companionId: COMPANION, secret }, { env: {} });
      createMsTotal += performance.now() - t0;
      created++;
      links.add(l);
      const close = async () => {
        await l.close();
        links.delete(l);
      };
      try {
        const res = await l.send(linkRequest(stream, signal));
        return { ...res, after: close };
      } catch (error) {
        pendingAfter.push(close().catch(() => {}));
        throw error;
      }
    };
  const warm = async (call: Call, expectBytes: number, transport: string) => {
    const w = await run(PLAN.delayed.warmupRequests, 1, call, expectBytes, transport);
    if (w.errors) throw new Error(`delayed warm-up over ${transport} failed: ${w.firstError}`);
  };
  // Each mode's json and sse phases run back to back, right after its warm-up: undici closes a
  // keep-alive connection idle for 4 s (its default keepAliveTimeout), so a gap would make
  // "warm" HTTPS cold again. At c=1 undici may also hold two connections (it can open a second
  // one for a request sent as the previous body ends), hence a few warm-up requests.
  const modes = [
    { mode: "tunnel warm", transport: "tunnel", call: (stream: boolean) => viaLink(slowTunnel, stream), warmUp: true },
    { mode: "https warm", transport: "https", call: (stream: boolean) => viaLink(slowHttps, stream), warmUp: true },
    { mode: "https cold", transport: "https", call: cold, warmUp: false },
  ] as const;
  for (const m of modes) {
    if (m.warmUp) await warm(m.call(false), jsonBytes, m.transport);
    await delayedPhase(m.mode, "non-streaming", p, m.call(false), jsonBytes, m.transport);
    await delayedPhase(m.mode, "streaming", p, m.call(true), sseBytes, m.transport);
  }

  console.log("");
  printTable(results);
  console.log("");
  const over = overhead(results);
  console.log("link overhead vs direct (same scenario and concurrency):");
  const sgn = (x: unknown) => (typeof x === "number" && x >= 0 ? `+${x}` : String(x));
  for (const o of over) {
    const ttfb = o.kind === "streaming" ? `, ttfb p50 ${sgn(o.addedTtfbP50Ms)} ms, ttfb p99 ${sgn(o.addedTtfbP99Ms)} ms` : "";
    console.log(`  ${o.kind} ${o.target} c=${o.concurrency}: p50 ${sgn(o.addedP50Ms)} ms, p99 ${sgn(o.addedP99Ms)} ms${ttfb}, throughput x${o.rpsRatio}`);
  }
  if (results.some((r) => r.workerdCpuSampleLost)) console.log("  * a workerd process came or went during that phase: its CPU figure is incomplete");
  console.log(`tunnel: up in ${tunnelConnectMs.toFixed(1)} ms on loopback, ${slowTunnelConnectMs.toFixed(1)} ms over the delayed link; ` +
    `${tunnelLink.tunnel!.connects} connect(s), ${tunnelStats?.streamsOpened ?? "?"} streams, most buffered for one stream ${tunnelStats?.maxStreamBufferedBytes ?? "?"} B`);
  console.log("");
  console.log(`delayed link, c=1, n=${PLAN.delayed.requests} each (ms; "new conns" = TCP connections opened during the json + sse phases):`);
  printDelayed(delayed, D);
  const linkCreateMsMean = created ? createMsTotal / created : NaN;
  console.log(`  cold = a new createLink() per request (own undici Agent, so a new TCP connection); createLink itself took ${f(linkCreateMsMean, 3)} ms on average`);
  console.log("");
  clearTimeout(deadlineTimer);

  const ok = results.every((r) => r.errors === 0) && delayed.every((r) => r.errors === 0);
  return {
    bench: "ferry-link",
    ok,
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    clkTck: CLK_TCK,
    directClient: DIRECT_CLIENT,
    upstream: { where: "worker thread of the bench process (CPU measured separately)", jsonBytes, sseEvents: SSE_EVENTS, sseBytes, sseGapMs: PLAN.sseGapMs },
    plan: PLAN,
    edgeStartupMs: round(edgeStartupMs, 0),
    tunnelConnectMs: round(tunnelConnectMs, 1),
    results,
    overhead: over,
    delayedLink: {
      delayMs: D,
      connectDelayMs: p.connectDelayMs,
      coldMethod: "a fresh createLink() (own undici Agent) per request",
      linkCreateMsMean: round(linkCreateMsMean, 3),
      tunnelConnectMs: round(slowTunnelConnectMs, 1),
      results: delayed,
    },
  };
}

let exitCode = 0;
let summary: Record<string, unknown>;
try {
  summary = await main();
} catch (error) {
  exitCode = 1;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`benchmark failed: ${message}`);
  if (edge && !deadline.signal.aborted) console.error(`last worker logs:\n${edge.logs().split("\n").slice(-10).join("\n")}`);
  summary = { bench: "ferry-link", ok: false, error: message, results, delayedLink: { results: delayed } };
} finally {
  await cleanup();
}
console.log(JSON.stringify(summary));
process.exit(exitCode);

/**
 * Edge benchmark: the real worker in local workerd (test/helpers/edge.ts) in front of a fast
 * loopback upstream (bench/upstream.ts), against that upstream called directly.
 * See bench/README.md for what is measured and how to read it. Run: `npm run bench`.
 *
 * Bounded: fixed request counts, a per-request timeout and an overall deadline; the edge and
 * the upstream are closed on every path out (success, error, deadline, SIGINT/SIGTERM).
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fakeKey, randomSecret, signedFetch, startEdge, type Edge, type Signer } from "../test/helpers/edge.ts";
import { closedLoop, CLK_TCK, killLeftoverWorkerd, latencySummary, memory, pad, readStat, round, sampleWorkerd, workerdCpuMs, workerdPids, type RunResult, type Sample } from "./common.ts";
import { jsonAnswer, SSE_EVENTS, sseEvents, startBenchUpstream, type BenchUpstream } from "./upstream.ts";

// Miniflare would otherwise try to download the `Request.cf` placeholder from the internet.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const SCALE = Math.max(0.05, Number(process.env.BENCH_SCALE ?? "1") || 1);
const n = (count: number) => Math.max(10, Math.round(count * SCALE));
const PLAN = {
  warmup: { requests: n(200), concurrency: 8, streams: n(32) },
  nonStreaming: [
    { concurrency: 1, requests: n(300) },
    { concurrency: 32, requests: n(2000) },
  ],
  streaming: [
    { concurrency: 1, requests: n(40) },
    { concurrency: 16, requests: n(320) },
  ],
  sseGapMs: Number(process.env.BENCH_SSE_GAP_MS ?? "5"),
  idleSampleMs: 1_500,
  requestTimeoutMs: 15_000,
  deadlineMs: Number(process.env.BENCH_DEADLINE_MS ?? "85000"),
};
const PROXY_PATH = "/proxy/openai/v1/chat/completions";
const CLIENT = "Node global fetch (undici in Node core; keep-alive connection pool, no per-origin limit)";

// ---------------------------------------------------------------------------------------------
// load generation

const deadline = new AbortController();



/** One request: resolves with its timings, or throws. `expectBytes` checks the body arrived whole. */
type Call = (signal: AbortSignal) => Promise<Response>;

async function timed(call: Call, expectBytes: number): Promise<Sample> {
  const signal = AbortSignal.any([deadline.signal, AbortSignal.timeout(PLAN.requestTimeoutMs)]);
  const t0 = performance.now();
  const res = await call(signal);
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`status ${res.status}`);
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
}


/** `requests` calls, `concurrency` at a time (closed loop: each slot starts its next call when one ends). */
function run(requests: number, concurrency: number, call: Call, expectBytes: number): Promise<RunResult> {
  return closedLoop(requests, concurrency, deadline.signal, () => timed(call, expectBytes));
}

// ---------------------------------------------------------------------------------------------
// phases

type Target = "direct" | "edge";
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
  workerdCpuMs: number | null;
  workerdCpuMsByPid: Record<string, number>;
  workerdCpuMsPerReq: number | null;
  workerdCpuSampleLost?: boolean;
  benchCpuMsPerReq: number | null;
}

const results: PhaseResult[] = [];

async function phase(kind: Kind, target: Target, concurrency: number, requests: number, call: Call, expectBytes: number) {
  const w0 = sampleWorkerd();
  const c0 = process.cpuUsage();
  const r = await run(requests, concurrency, call, expectBytes);
  const c1 = process.cpuUsage(c0);
  const w1 = sampleWorkerd();
  const cpu = workerdCpuMs(w0, w1);
  const done = r.samples.length + r.errors;
  const result: PhaseResult = {
    kind,
    target,
    concurrency,
    requests,
    ...latencySummary(r, kind === "streaming"),
    workerdCpuMs: round(cpu.ms, 0),
    workerdCpuMsByPid: cpu.byPid,
    workerdCpuMsPerReq: round(cpu.ms / Math.max(1, done), 3),
    ...(cpu.lost ? { workerdCpuSampleLost: true } : {}),
    benchCpuMsPerReq: round((c1.user + c1.system) / 1000 / Math.max(1, done), 3),
  };
  results.push(result);
  const err = result.errors ? ` errors=${result.errors} (${result.firstError})` : "";
  console.log(`  done: ${kind} ${target} c=${concurrency} n=${requests} in ${result.wallMs} ms${err}`);
}

// ---------------------------------------------------------------------------------------------
// output

function printTable(rows: PhaseResult[]) {
  const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? "-" : x.toFixed(d));
  const head = ["scenario", "target", "c", "n", "err", "req/s", "p50 ms", "p99 ms", "ttfb p50", "ttfb p99", "wd cpu ms/req", "bench cpu ms/req"];
  const widths = [14, 7, 3, 5, 4, 9, 8, 8, 9, 9, 14, 17];
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
        f(r.benchCpuMsPerReq, 3),
      ]),
    );
  }
}

function overhead(rows: PhaseResult[]) {
  const out: Record<string, unknown>[] = [];
  for (const edge of rows.filter((r) => r.target === "edge")) {
    const direct = rows.find((r) => r.target === "direct" && r.kind === edge.kind && r.concurrency === edge.concurrency);
    if (!direct) continue;
    const d = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : round(a - b));
    out.push({
      kind: edge.kind,
      concurrency: edge.concurrency,
      addedP50Ms: d(edge.p50Ms, direct.p50Ms),
      addedP99Ms: d(edge.p99Ms, direct.p99Ms),
      ...(edge.kind === "streaming" ? { addedTtfbP50Ms: d(edge.ttfbP50Ms, direct.ttfbP50Ms), addedTtfbP99Ms: d(edge.ttfbP99Ms, direct.ttfbP99Ms) } : {}),
      rpsRatio: edge.rps && direct.rps ? round(edge.rps / direct.rps, 3) : null,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// main

let edge: Edge | undefined;
let upstream: BenchUpstream | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    const started = workerdPids();
    await Promise.race([
      Promise.allSettled([edge?.close(), upstream?.close()]),
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

  upstream = await startBenchUpstream({ sseGapMs: PLAN.sseGapMs });
  const signer: Signer = { companionId: "bench", secret: randomSecret() };
  const key = fakeKey();
  const edgeStart = performance.now();
  const starting = startEdge({
    pools: { openai: { type: "openai", baseUrl: `${upstream.url}/m1`, members: [{ id: "a", key }] } },
    companions: [{ id: "bench", secret: signer.secret, pools: ["openai"] }],
  });
  starting.then((e) => (edge = e)).catch(() => {}); // so cleanup closes it even if it arrives late
  const e = await Promise.race([starting, untilDeadline]);
  edge = e;
  const edgeStartupMs = performance.now() - edgeStart;
  const pidsAtStart = workerdPids();
  console.log(`edge ${e.url} (workerd pids ${pidsAtStart.join(", ") || "none found"}), started in ${edgeStartupMs.toFixed(0)} ms`);
  console.log(`upstream ${upstream.url} (worker thread); client: ${CLIENT}`);
  console.log(`CLK_TCK=${CLK_TCK}, cpus=${os.availableParallelism()}, node ${process.version}, scale=${SCALE}\n`);

  const body = (stream: boolean) =>
    JSON.stringify({
      model: "gpt-bench",
      ...(stream ? { stream: true } : {}),
      messages: [
        { role: "system", content: "You are a terse assistant." },
        { role: "user", content: "Say something about ferries in one paragraph." },
      ],
    });
  const bodies = { json: body(false), sse: body(true) };
  const directHeaders = { "content-type": "application/json", authorization: `Bearer ${key}` };
  const call = (target: Target, stream: boolean): Call => {
    const b = stream ? bodies.sse : bodies.json;
    if (target === "direct") {
      const url = `${upstream!.url}/m1/v1/chat/completions`;
      return (signal) => fetch(url, { method: "POST", headers: directHeaders, body: b, signal });
    }
    return (signal) => signedFetch(e.url, signer, PROXY_PATH, { body: b, signal });
  };
  const jsonBytes = Buffer.byteLength(jsonAnswer());
  const sseBytes = Buffer.byteLength(sseEvents().join(""));

  // Warm-up: connections, JIT on both sides, the Relay object and its SQLite, config parse.
  console.log("warm-up");
  for (const target of ["direct", "edge"] as const) {
    const w1 = await run(PLAN.warmup.requests, PLAN.warmup.concurrency, call(target, false), jsonBytes);
    const w2 = await run(PLAN.warmup.streams, PLAN.warmup.concurrency, call(target, true), sseBytes);
    if (w1.errors || w2.errors) throw new Error(`warm-up against ${target} failed: ${w1.firstError ?? w2.firstError}`);
  }

  // workerd's own background CPU with no traffic, to read the per-request figures against.
  const idle0 = sampleWorkerd();
  const idleT0 = performance.now();
  await new Promise((r) => setTimeout(r, PLAN.idleSampleMs));
  const idleMs = workerdCpuMs(idle0, sampleWorkerd()).ms;
  const idleCpuMsPerSec = round((idleMs * 1000) / (performance.now() - idleT0), 1);

  console.log("measuring");
  for (const { concurrency, requests } of PLAN.nonStreaming) {
    for (const target of ["direct", "edge"] as const) await phase("non-streaming", target, concurrency, requests, call(target, false), jsonBytes);
  }
  for (const { concurrency, requests } of PLAN.streaming) {
    for (const target of ["direct", "edge"] as const) await phase("streaming", target, concurrency, requests, call(target, true), sseBytes);
  }

  const pids = workerdPids();
  const processes = pids.map((pid) => ({ pid, cpuMsTotal: round(((readStat(pid)?.ticks ?? 0) * 1000) / CLK_TCK, 0), ...memory(pid) }));
  const sum = (k: "vmHWMKiB" | "vmRSSKiB") => processes.reduce((s, p) => s + (p[k] ?? 0), 0);

  console.log("");
  printTable(results);
  console.log("");
  const over = overhead(results);
  console.log("edge overhead vs direct (same scenario and concurrency):");
  const sgn = (x: unknown) => (typeof x === "number" && x >= 0 ? `+${x}` : String(x));
  for (const o of over) {
    const ttfb = o.kind === "streaming" ? `, ttfb p50 ${sgn(o.addedTtfbP50Ms)} ms, ttfb p99 ${sgn(o.addedTtfbP99Ms)} ms` : "";
    console.log(`  ${o.kind} c=${o.concurrency}: p50 ${sgn(o.addedP50Ms)} ms, p99 ${sgn(o.addedP99Ms)} ms${ttfb}, throughput x${o.rpsRatio}`);
  }
  console.log("");
  console.log("workerd processes (descendants of this process):");
  for (const p of processes) {
    console.log(`  pid ${p.pid}: cpu ${p.cpuMsTotal} ms since start, VmHWM ${((p.vmHWMKiB ?? 0) / 1024).toFixed(1)} MiB, VmRSS ${((p.vmRSSKiB ?? 0) / 1024).toFixed(1)} MiB`);
  }
  console.log(`  sum: VmHWM ${(sum("vmHWMKiB") / 1024).toFixed(1)} MiB, VmRSS ${(sum("vmRSSKiB") / 1024).toFixed(1)} MiB`);
  console.log(`  idle (no traffic, ${PLAN.idleSampleMs} ms after warm-up): ${idleCpuMsPerSec} ms CPU per second`);
  if (results.some((r) => r.workerdCpuSampleLost)) console.log("  * a workerd process came or went during that phase: its CPU figure is incomplete");
  console.log("");
  clearTimeout(deadlineTimer);

  return {
    bench: "ferry-edge",
    ok: results.every((r) => r.errors === 0),
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    clkTck: CLK_TCK,
    client: CLIENT,
    upstream: { where: "worker thread of the bench process", jsonBytes, sseEvents: SSE_EVENTS, sseBytes, sseGapMs: PLAN.sseGapMs },
    plan: PLAN,
    edgeStartupMs: round(edgeStartupMs, 0),
    results,
    overhead: over,
    workerd: { pids, processes, idleCpuMsPerSec, vmHWMKiBSum: sum("vmHWMKiB"), vmRSSKiBSum: sum("vmRSSKiB") },
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
  summary = { bench: "ferry-edge", ok: false, error: message, results };
} finally {
  await cleanup();
}
console.log(JSON.stringify(summary));
process.exit(exitCode);

/**
 * Chain benchmark: the whole path an office client takes, client → companion (its own
 * process, bench/companion-process.ts) → tunnel → worker in local workerd → upstream
 * (bench/upstream.ts), against calling that upstream directly. Besides latency and
 * throughput it measures the companion process's CPU per request and peak memory, and
 * workerd's CPU per request. See bench/README.md. Run: `npm run bench` (last) or
 * `node bench/chain.ts`.
 *
 * Bounded: fixed request counts, a per-request timeout and an overall deadline; the companion
 * (SIGTERM, then SIGKILL by pid), the edge, the upstream and the temporary data folder are
 * cleaned up on every path out (success, error, deadline, SIGINT/SIGTERM).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { CompanionConfigSchema, type CompanionConfigInput } from "../companion/config/schema.ts";
import { fakeKey, randomSecret, startEdge, type Edge } from "../test/helpers/edge.ts";
import { closedLoop, CLK_TCK, killLeftoverWorkerd, latencySummary, memory, pad, readStat, round, sampleWorkerd, workerdCpuMs, workerdPids, type RunResult, type Sample } from "./common.ts";
import { jsonAnswer, SSE_EVENTS, sseEvents, startBenchUpstream, type BenchUpstream } from "./upstream.ts";

// Miniflare would otherwise try to download the `Request.cf` placeholder from the internet.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const SCALE = Math.max(0.05, Number(process.env.BENCH_SCALE ?? "1") || 1);
const n = (count: number) => Math.max(10, Math.round(count * SCALE));
const PLAN = {
  warmup: { requests: n(200), streams: n(32), concurrency: 8 },
  nonStreaming: [
    { concurrency: 1, requests: n(400) },
    { concurrency: 64, requests: n(2560) },
  ],
  streaming: [
    { concurrency: 1, requests: n(40) },
    { concurrency: 64, requests: n(640) },
  ],
  sseGapMs: Number(process.env.BENCH_SSE_GAP_MS ?? "5"),
  idleSampleMs: 1_500,
  companionLogLevel: (process.env.BENCH_CHAIN_LOG_LEVEL ?? "info") as "debug" | "info" | "warn" | "error",
  /** Parent of the companion's temporary data folder (its SQLite files fsync on every commit). */
  dataParent: process.env.BENCH_CHAIN_DATA_PARENT || os.tmpdir(),
  requestTimeoutMs: 15_000,
  companionStartTimeoutMs: 20_000,
  deadlineMs: Number(process.env.BENCH_CHAIN_DEADLINE_MS ?? "90000"),
};
const EDGE_COMPANION = "bench";
const POOL = "bench";
const MODEL = "bench";
const CLIENT = "Node global fetch (undici in Node core; keep-alive connection pool, no per-origin limit)";
const COMPANION_SCRIPT = fileURLToPath(new URL("./companion-process.ts", import.meta.url));

// ---------------------------------------------------------------------------------------------
// load generation

const deadline = new AbortController();

type Call = (signal: AbortSignal) => Promise<Response>;

async function timed(call: Call, expectBytes: number, expectTarget: string | null): Promise<Sample> {
  const signal = AbortSignal.any([deadline.signal, AbortSignal.timeout(PLAN.requestTimeoutMs)]);
  const t0 = performance.now();
  const res = await call(signal);
  if (res.status !== 200) {
    const text = await res.text().catch(() => "");
    throw new Error(`status ${res.status} ${text.slice(0, 200)}`);
  }
  if (expectTarget !== null && res.headers.get("x-ferry-target") !== expectTarget) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`served by ${res.headers.get("x-ferry-target")}, expected ${expectTarget}`);
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
function run(requests: number, concurrency: number, call: Call, expectBytes: number, expectTarget: string | null): Promise<RunResult> {
  return closedLoop(requests, concurrency, deadline.signal, () => timed(call, expectBytes, expectTarget));
}

// ---------------------------------------------------------------------------------------------
// the companion process

interface CompanionProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  tunnel: string;
  startupMs: number;
  /** Log lines it wrote to stdout after the ready line. */
  logLines(): number;
  /** Its last lines of stdout and stderr, for a failure report. */
  tail(): string;
  exited(): { code: number | null; signal: string | null } | null;
  /** SIGTERM, then SIGKILL (by pid) if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** The companion's process from the moment it is spawned, so cleanup finds it even if it never got ready. */
let spawned: ChildProcess | undefined;
const running = (c: ChildProcess | undefined): c is ChildProcess => !!c && c.exitCode === null && c.signalCode === null;

function startCompanionProcess(config: CompanionConfigInput): Promise<CompanionProcess> {
  const child = spawn(process.execPath, [COMPANION_SCRIPT], {
    env: { ...process.env, FERRY_BENCH_COMPANION_CONFIG: JSON.stringify(config) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  spawned = child;
  // For a failure report: stderr and notable stdout lines (the last 20), and the last 2
  // routine log lines (one per request at level info, so not worth more).
  const tailLines: string[] = [];
  const routine: string[] = [];
  const keep = (line: string, ring = tailLines, max = 20) => {
    if (!line) return;
    ring.push(line.length > 400 ? line.slice(0, 400) + "…" : line);
    if (ring.length > max) ring.shift();
  };
  const tail = () => [...tailLines, ...routine].join("\n");
  let exit: { code: number | null; signal: string | null } | null = null;
  const exitedP = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  let logLines = 0;
  let ready = false;
  let partial = "";
  return new Promise<CompanionProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the companion did not report ready within ${PLAN.companionStartTimeoutMs} ms:\n${tail()}`));
    }, PLAN.companionStartTimeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`the companion exited before it was ready (code ${code}, signal ${signal}):\n${tail()}`));
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (s: string) => s.split("\n").forEach((line) => keep(line)));
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      // Cheap line split: after the ready line this only counts the companion's log lines.
      const lines = (partial + s).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!ready && line.includes('"ferryCompanion":"ready"')) {
          ready = true;
          clearTimeout(timer);
          const info = JSON.parse(line) as { url: string; pid: number; tunnel: string; startupMs: number };
          resolve({
            child,
            pid: child.pid!,
            url: info.url,
            tunnel: info.tunnel,
            startupMs: info.startupMs,
            logLines: () => logLines,
            tail,
            exited: () => exit,
            async stop(graceMs = 5_000) {
              if (exit) return;
              child.kill("SIGTERM");
              const killTimer = setTimeout(() => {
                try {
                  process.kill(child.pid!, "SIGKILL");
                } catch {
                  // gone already
                }
              }, graceMs);
              await exitedP;
              clearTimeout(killTimer);
            },
          });
          continue;
        }
        logLines++;
        if (line.startsWith('{"time"') && line.includes('"level":"info"')) keep(line, routine, 2);
        else keep(line);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// phases

type Target = "direct" | "chain";
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
  /** The companion process (all its threads), from /proc/<pid>/stat. */
  companionCpuMsPerReq: number | null;
  workerdCpuMsPerReq: number | null;
  workerdCpuSampleLost?: boolean;
  /** The upstream's worker thread alone. */
  upstreamCpuMsPerReq: number | null;
  /** This process minus the upstream thread: the load generator and its fetch client. */
  clientCpuMsPerReq: number | null;
}

const results: PhaseResult[] = [];
let upstream: BenchUpstream | undefined;
let companion: CompanionProcess | undefined;

const companionTicks = (): number => {
  const st = readStat(companion!.pid);
  if (!st) throw new Error("the companion process is gone");
  return st.ticks;
};

async function phase(kind: Kind, target: Target, concurrency: number, requests: number, call: Call, expectBytes: number, expectTarget: string | null) {
  const u0 = await upstream!.cpuUsage();
  const w0 = sampleWorkerd();
  const k0 = companionTicks();
  const c0 = process.cpuUsage();
  const r = await run(requests, concurrency, call, expectBytes, expectTarget);
  const c1 = process.cpuUsage(c0);
  const k1 = companionTicks();
  const w1 = sampleWorkerd();
  const u1 = await upstream!.cpuUsage();
  const wd = workerdCpuMs(w0, w1);
  const done = Math.max(1, r.samples.length + r.errors);
  const nodeMs = (c1.user + c1.system) / 1000;
  const upstreamMs = u0 && u1 ? (u1.user + u1.system - u0.user - u0.system) / 1000 : NaN;
  const result: PhaseResult = {
    kind,
    target,
    concurrency,
    requests,
    ...latencySummary(r, kind === "streaming"),
    companionCpuMsPerReq: round(((k1 - k0) * 1000) / CLK_TCK / done, 3),
    workerdCpuMsPerReq: round(wd.ms / done, 3),
    ...(wd.lost ? { workerdCpuSampleLost: true } : {}),
    upstreamCpuMsPerReq: round(upstreamMs / done, 3),
    clientCpuMsPerReq: round((nodeMs - upstreamMs) / done, 3),
  };
  results.push(result);
  const err = result.errors ? ` errors=${result.errors} (${result.firstError})` : "";
  console.log(`  done: ${kind} ${target} c=${concurrency} n=${requests} in ${result.wallMs} ms${err}`);
}

// ---------------------------------------------------------------------------------------------
// output

const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? "-" : x.toFixed(d));

function printTable(rows: PhaseResult[]) {
  const head = ["scenario", "target", "c", "n", "err", "req/s", "p50 ms", "p99 ms", "ttfb p50", "ttfb p99", "comp cpu/req", "wd cpu/req", "client cpu/req", "upstr cpu/req"];
  const widths = [14, 6, 3, 5, 4, 8, 8, 8, 9, 9, 12, 11, 14, 13];
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
        f(r.companionCpuMsPerReq, 3),
        f(r.workerdCpuMsPerReq, 3) + (r.workerdCpuSampleLost ? "*" : ""),
        f(r.clientCpuMsPerReq, 3),
        f(r.upstreamCpuMsPerReq, 3),
      ]),
    );
  }
}

function overhead(rows: PhaseResult[]) {
  const out: Record<string, unknown>[] = [];
  const d = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : round(a - b));
  for (const r of rows.filter((x) => x.target === "chain")) {
    const direct = rows.find((x) => x.target === "direct" && x.kind === r.kind && x.concurrency === r.concurrency);
    if (!direct) continue;
    out.push({
      kind: r.kind,
      concurrency: r.concurrency,
      addedP50Ms: d(r.p50Ms, direct.p50Ms),
      addedP99Ms: d(r.p99Ms, direct.p99Ms),
      ...(r.kind === "streaming" ? { addedTtfbP50Ms: d(r.ttfbP50Ms, direct.ttfbP50Ms), addedTtfbP99Ms: d(r.ttfbP99Ms, direct.ttfbP99Ms) } : {}),
      rpsRatio: r.rps && direct.rps ? round(r.rps / direct.rps, 3) : null,
      // What the relay itself cost per request: the companion plus workerd above its direct-row background.
      relayCpuMsPerReq:
        r.companionCpuMsPerReq == null || r.workerdCpuMsPerReq == null
          ? null
          : round(r.companionCpuMsPerReq - (direct.companionCpuMsPerReq ?? 0) + r.workerdCpuMsPerReq - (direct.workerdCpuMsPerReq ?? 0), 3),
    });
  }
  return out;
}

/** The file system type of a folder (SQLite there fsyncs on every commit). */
function fsType(path: string): string {
  const names: Record<number, string> = { 0x01021994: "tmpfs", 0xef53: "ext2/3/4", 0x794c7630: "overlayfs", 0x9123683e: "btrfs", 0x58465342: "xfs", 0x2fc12fc1: "zfs" };
  try {
    const t = statfsSync(path).type;
    return names[t] ?? `0x${t.toString(16)}`;
  } catch {
    return "unknown";
  }
}

// ---------------------------------------------------------------------------------------------
// main

let edge: Edge | undefined;
/** One temporary folder for everything on disk: the companion's SQLite files and the edge's storage. */
let tmpRoot: string | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    const started = workerdPids();
    await Promise.race([
      (async () => {
        await companion?.stop().catch(() => {});
        await Promise.allSettled([edge?.close(), upstream?.close()]);
      })(),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
    // Whatever close() left behind, ended by pid: workerd, and the companion if it still runs
    // (or was never ready).
    killLeftoverWorkerd(started);
    if (running(spawned)) spawned.kill("SIGKILL");
    if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
  })());
}

// On SIGINT/SIGTERM, Miniflare's own exit hook (registered when the edge starts, so after this
// one) kills workerd and calls process.exit() at once, before an async cleanup could finish.
// So the part that matters is synchronous: the companion is told to stop here, and the
// temporary folder goes in the 'exit' handler, which runs however this process exits.
let signalled = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (signalled) return;
    signalled = true;
    console.error(`\n${sig}: cleaning up`);
    if (running(spawned)) spawned.kill("SIGTERM");
    deadline.abort(new Error(sig));
    void cleanup().finally(() => process.exit(130));
  });
}
process.on("exit", () => {
  if (running(spawned)) spawned.kill("SIGTERM"); // it closes itself, or leaves when orphaned
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

async function main(): Promise<Record<string, unknown>> {
  const deadlineTimer = setTimeout(() => deadline.abort(new Error(`benchmark deadline (${PLAN.deadlineMs} ms) passed`)), PLAN.deadlineMs);
  deadlineTimer.unref();
  const untilDeadline = new Promise<never>((_, reject) => deadline.signal.addEventListener("abort", () => reject(deadline.signal.reason), { once: true }));
  untilDeadline.catch(() => {});
  const beforeDeadline = <T>(p: Promise<T>) => Promise.race([p, untilDeadline]);

  tmpRoot = mkdtempSync(join(PLAN.dataParent, "ferry-bench-chain-"));
  const dataDir = join(tmpRoot, "companion");
  const edgeDir = join(tmpRoot, "edge");
  mkdirSync(edgeDir);
  upstream = await startBenchUpstream({ sseGapMs: PLAN.sseGapMs });
  const secret = randomSecret();
  const upstreamKey = fakeKey();
  const edgeStart = performance.now();
  const starting = startEdge({
    pools: { [POOL]: { type: "openai-compatible", baseUrl: `${upstream.url}/prefix`, members: [{ key: upstreamKey }] } },
    companions: [{ id: EDGE_COMPANION, secret, pools: ["*"] }],
  }, { persistDir: edgeDir });
  starting.then((e) => (edge = e)).catch(() => {}); // so cleanup closes it even if it arrives late
  const e = await beforeDeadline(starting);
  edge = e;
  const edgeStartupMs = performance.now() - edgeStart;
  const wdPids = workerdPids();
  console.log(`edge ${e.url} (workerd pids ${wdPids.join(", ") || "none found"}), started in ${edgeStartupMs.toFixed(0)} ms`);

  // The companion, configured as test/helpers/companion.ts startChain configures it (tunnel
  // link, SQLite quota store and audit log in a temporary folder), minus Ollama (unused here).
  const projectKey = "fp-" + randomBytes(20).toString("hex");
  const many = 1_000_000_000;
  const config: CompanionConfigInput = {
    server: { host: "127.0.0.1", port: 0 },
    link: { edges: [e.url], companionId: EDGE_COMPANION, secret, transport: "tunnel" },
    edgePools: { [POOL]: { dialect: "openai" } },
    models: { [MODEL]: [`edge:${POOL}/bench-model`] },
    // Generous limits: every limit is checked and counted, none ever refuses.
    projects: [{ id: "bench", keys: [projectKey], limits: { requestsPerMinute: many, requestsPerDay: many, tokensPerDay: many * 1000, concurrent: 100_000 } }],
    store: { kind: "sqlite", path: join(dataDir, "ferry.db") },
    audit: { path: join(dataDir, "audit.db") },
    log: { level: PLAN.companionLogLevel },
  };
  CompanionConfigSchema.parse(config); // fail here, with zod's message, rather than in the child
  const companionStart = performance.now();
  const startingCompanion = startCompanionProcess(config);
  startingCompanion.then((c) => (companion = c)).catch(() => {});
  const comp = await beforeDeadline(startingCompanion);
  companion = comp;
  const companionStartupMs = performance.now() - companionStart;
  if (comp.tunnel !== "up") throw new Error(`the companion's tunnel is ${comp.tunnel}:\n${comp.tail()}`);
  comp.child.once("exit", (code, signal) => {
    if (!cleaning) deadline.abort(new Error(`the companion exited during the benchmark (code ${code}, signal ${signal}):\n${comp.tail()}`));
  });
  const memStart = memory(comp.pid);
  console.log(
    `companion ${comp.url} (pid ${comp.pid}, own process), ready with its tunnel up in ${companionStartupMs.toFixed(0)} ms ` +
      `(${comp.startupMs} ms inside it), RSS ${f((memStart?.vmRSSKiB ?? NaN) / 1024, 1)} MiB; data ${tmpRoot} (${fsType(tmpRoot)}), log level ${PLAN.companionLogLevel}`,
  );
  console.log(`upstream ${upstream.url} (worker thread of this process, CPU measured separately); client: ${CLIENT}`);
  console.log(`CLK_TCK=${CLK_TCK}, cpus=${os.availableParallelism()}, node ${process.version}, scale=${SCALE}\n`);

  const body = (stream: boolean) =>
    JSON.stringify({
      model: MODEL,
      ...(stream ? { stream: true } : {}),
      messages: [
        { role: "system", content: "You are a terse assistant." },
        { role: "user", content: "Say something about ferries in one paragraph." },
      ],
    });
  const bodies = { json: body(false), sse: body(true) };
  const jsonBytes = Buffer.byteLength(jsonAnswer());
  const sseBytes = Buffer.byteLength(sseEvents().join(""));
  const post = (url: string, key: string) => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${key}` };
    return (stream: boolean): Call =>
      (signal) =>
        fetch(url, { method: "POST", headers, body: stream ? bodies.sse : bodies.json, signal });
  };
  const calls: Record<Target, (stream: boolean) => Call> = {
    direct: post(`${upstream.url}/prefix/v1/chat/completions`, upstreamKey),
    chain: post(`${comp.url}/v1/chat/completions`, projectKey),
  };
  const expectTarget: Record<Target, string | null> = { direct: null, chain: `edge:${POOL}` };
  const targets = ["direct", "chain"] as const;

  // Warm-up: connections, JIT in every process, the Relay object and its SQLite, the quota and audit files.
  console.log("warm-up");
  for (const target of targets) {
    const w1 = await run(PLAN.warmup.requests, PLAN.warmup.concurrency, calls[target](false), jsonBytes, expectTarget[target]);
    const w2 = await run(PLAN.warmup.streams, PLAN.warmup.concurrency, calls[target](true), sseBytes, expectTarget[target]);
    if (w1.errors || w2.errors) throw new Error(`warm-up via ${target} failed: ${w1.firstError ?? w2.firstError}`);
  }
  const memWarm = memory(comp.pid);

  // Idle: the background CPU of the companion (tunnel heartbeats, timers) and of workerd.
  const idleW0 = sampleWorkerd();
  const idleK0 = companionTicks();
  const idleT0 = performance.now();
  await beforeDeadline(new Promise((r) => setTimeout(r, PLAN.idleSampleMs)));
  const idleSec = (performance.now() - idleT0) / 1000;
  const idle = {
    companionCpuMsPerSec: round(((companionTicks() - idleK0) * 1000) / CLK_TCK / idleSec, 1),
    workerdCpuMsPerSec: round(workerdCpuMs(idleW0, sampleWorkerd()).ms / idleSec, 1),
  };

  console.log("measuring");
  for (const { concurrency, requests } of PLAN.nonStreaming) {
    for (const target of targets) await phase("non-streaming", target, concurrency, requests, calls[target](false), jsonBytes, expectTarget[target]);
  }
  for (const { concurrency, requests } of PLAN.streaming) {
    for (const target of targets) await phase("streaming", target, concurrency, requests, calls[target](true), sseBytes, expectTarget[target]);
  }
  const memEnd = memory(comp.pid);
  const wdMem = workerdPids().map((pid) => ({ pid, ...memory(pid) }));
  const wdSum = (k: "vmHWMKiB" | "vmRSSKiB") => wdMem.reduce((s, p) => s + (p[k] ?? 0), 0);

  console.log("");
  printTable(results);
  console.log("");
  const over = overhead(results);
  console.log("chain overhead vs direct (same scenario and concurrency; relay cpu = companion + workerd, each above its direct-row background):");
  const sgn = (x: unknown) => (typeof x === "number" && x >= 0 ? `+${x}` : String(x));
  for (const o of over) {
    const ttfb = o.kind === "streaming" ? `, ttfb p50 ${sgn(o.addedTtfbP50Ms)} ms, ttfb p99 ${sgn(o.addedTtfbP99Ms)} ms` : "";
    console.log(`  ${o.kind} c=${o.concurrency}: p50 ${sgn(o.addedP50Ms)} ms, p99 ${sgn(o.addedP99Ms)} ms${ttfb}, throughput x${o.rpsRatio}, relay cpu ${o.relayCpuMsPerReq} ms/req`);
  }
  if (results.some((r) => r.workerdCpuSampleLost)) console.log("  * a workerd process came or went during that phase: its CPU figure is incomplete");
  const mib = (kib: number | undefined) => f((kib ?? NaN) / 1024, 1);
  console.log(
    `companion (pid ${comp.pid}): peak RSS (VmHWM) ${mib(memEnd?.vmHWMKiB)} MiB; RSS ${mib(memStart?.vmRSSKiB)} MiB at start, ` +
      `${mib(memWarm?.vmRSSKiB)} after warm-up, ${mib(memEnd?.vmRSSKiB)} at the end; idle ${idle.companionCpuMsPerSec} ms CPU/s; ${comp.logLines()} log lines`,
  );
  console.log(`workerd (${wdMem.length} processes): VmHWM ${mib(wdSum("vmHWMKiB"))} MiB, RSS ${mib(wdSum("vmRSSKiB"))} MiB at the end (sums); idle ${idle.workerdCpuMsPerSec} ms CPU/s`);
  console.log("");
  clearTimeout(deadlineTimer);

  return {
    bench: "ferry-chain",
    ok: results.every((r) => r.errors === 0),
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    clkTck: CLK_TCK,
    client: CLIENT,
    upstream: { where: "worker thread of the bench process (CPU measured separately)", jsonBytes, sseEvents: SSE_EVENTS, sseBytes, sseGapMs: PLAN.sseGapMs },
    plan: PLAN,
    edgeStartupMs: round(edgeStartupMs, 0),
    companion: {
      pid: comp.pid,
      transport: "tunnel",
      startupMs: round(companionStartupMs, 0),
      store: "sqlite",
      dataDir: tmpRoot,
      dataFs: fsType(tmpRoot),
      logLevel: PLAN.companionLogLevel,
      logLines: comp.logLines(),
      idleCpuMsPerSec: idle.companionCpuMsPerSec,
      vmHWMKiB: memEnd?.vmHWMKiB ?? null,
      vmRSSKiB: { start: memStart?.vmRSSKiB ?? null, afterWarmup: memWarm?.vmRSSKiB ?? null, end: memEnd?.vmRSSKiB ?? null },
    },
    workerd: { pids: wdMem.map((p) => p.pid), idleCpuMsPerSec: idle.workerdCpuMsPerSec, vmHWMKiBSum: wdSum("vmHWMKiB"), vmRSSKiBSum: wdSum("vmRSSKiB") },
    results,
    overhead: over,
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
  const companionTail = companion?.tail();
  if (companionTail && !message.includes(companionTail)) console.error(`companion's last output:\n${companionTail}`);
  const workerLogs = edge && !deadline.signal.aborted ? edge.logs().split("\n").slice(-10).join("\n").trim() : "";
  if (workerLogs) console.error(`last worker logs:\n${workerLogs}`);
  summary = { bench: "ferry-chain", ok: false, error: message, results };
} finally {
  await cleanup();
}
// How the companion ended: {"code":0} after SIGTERM is a clean stop; a signal means it was killed.
summary.companionExit = spawned ? { code: spawned.exitCode, signal: spawned.signalCode } : null;
console.log(JSON.stringify(summary));
process.exit(exitCode);

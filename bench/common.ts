/**
 * Helpers shared by the benchmarks (bench/edge.ts, bench/link.ts): CPU and memory of the
 * workerd processes this process started (from /proc), nearest-rank percentiles, formatting.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

// ---------------------------------------------------------------------------------------------
// workerd process accounting (/proc)

export const CLK_TCK = (() => {
  try {
    const v = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  ticks: number;
}

export function readStat(pid: number): ProcStat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name: state ppid ... utime(14) stime(15).
    const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** Every process named workerd (argv[0]) that descends from this process. */
export function workerdPids(): number[] {
  const parent = new Map<number, number>();
  const named: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const st = readStat(pid);
    if (!st) continue;
    parent.set(pid, st.ppid);
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
      if ((argv0.split("/").pop() ?? "").includes("workerd")) named.push(pid);
    } catch {
      // gone already
    }
  }
  return named
    .filter((pid) => {
      for (let p = parent.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
        if (p === process.pid) return true;
      }
      return false;
    })
    .sort((a, b) => a - b);
}

export type CpuSample = Map<number, number>;
export const sampleWorkerd = (): CpuSample => new Map(workerdPids().map((pid) => [pid, readStat(pid)?.ticks ?? 0]));

/** CPU ms spent by workerd between two samples; `lost` if a process came or went meanwhile. */
export function workerdCpuMs(before: CpuSample, after: CpuSample): { ms: number; byPid: Record<string, number>; lost: boolean } {
  let ticks = 0;
  let lost = before.size !== after.size;
  const byPid: Record<string, number> = {};
  for (const [pid, t] of after) {
    const b = before.get(pid);
    if (b === undefined) lost = true;
    ticks += t - (b ?? 0);
    byPid[pid] = ((t - (b ?? 0)) * 1000) / CLK_TCK;
  }
  return { ms: (ticks * 1000) / CLK_TCK, byPid, lost };
}

export function memory(pid: number): { vmHWMKiB: number; vmRSSKiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { vmHWMKiB: kib("VmHWM"), vmRSSKiB: kib("VmRSS") };
  } catch {
    return null;
  }
}

/** SIGKILLs the given workerd pids that are still ours (what a close() left behind). */
export function killLeftoverWorkerd(started: number[]): void {
  for (const pid of workerdPids().filter((p) => started.includes(p))) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------------------------
// statistics and formatting

export const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
export const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

export function pad(s: string, w: number, right = false) {
  return right ? s.padStart(w) : s.padEnd(w);
}

/** One timed request. */
export interface Sample {
  totalMs: number;
  ttfbMs: number;
}

export interface RunResult {
  samples: Sample[];
  errors: number;
  firstError?: string;
  wallMs: number;
}

/**
 * `requests` calls of `once`, `concurrency` at a time (closed loop: each slot starts its next
 * call when one ends). A failed call is counted; the deadline ends the whole run.
 */
export async function closedLoop(requests: number, concurrency: number, deadline: AbortSignal, once: () => Promise<Sample>): Promise<RunResult> {
  const samples: Sample[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let issued = 0;
  const t0 = performance.now();
  const stop = () => deadline.reason ?? new Error("benchmark deadline passed");
  const slot = async () => {
    while (issued < requests) {
      if (deadline.aborted) throw stop();
      issued++;
      try {
        samples.push(await once());
      } catch (e) {
        if (deadline.aborted) throw stop();
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  return { samples, errors, ...(firstError ? { firstError } : {}), wallMs: performance.now() - t0 };
}

/** Counts, throughput and latency percentiles of a run (TTFB for streams). */
export function latencySummary(r: RunResult, streaming: boolean) {
  const total = r.samples.map((s) => s.totalMs).sort((a, b) => a - b);
  const ttfb = r.samples.map((s) => s.ttfbMs).sort((a, b) => a - b);
  return {
    ok: r.samples.length,
    errors: r.errors,
    ...(r.firstError ? { firstError: r.firstError } : {}),
    wallMs: round(r.wallMs, 1),
    rps: round(r.samples.length / (r.wallMs / 1000), 1),
    p50Ms: round(percentile(total, 50)),
    p99Ms: round(percentile(total, 99)),
    ...(streaming ? { ttfbP50Ms: round(percentile(ttfb, 50)), ttfbP99Ms: round(percentile(ttfb, 99)) } : {}),
  };
}

/**
 * /health (liveness), /health/readiness (config loaded; each target reachable, with detail),
 * /metrics (Prometheus text).
 */
import type { Runtime } from "../runtime.ts";
import type { App, GetRuntime } from "./context.ts";
import { edgePools } from "./status.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: Record<string, unknown>;
}

export function opsRoutes(app: App, runtime: GetRuntime): void {
  app.get("/health", (c) => c.json({ status: "ok" }));

  app.get("/health/readiness", async (c) => {
    const rt = runtime();
    const checks: Check[] = [];
    if (rt.link) {
      const state = rt.link.state();
      const edges = await Promise.all(
        state.edges.map(async (edge) => {
          try {
            const res = await fetch(`${edge.url}/health`, { signal: AbortSignal.timeout(3000) });
            return { url: edge.url, ok: res.ok, status: res.status };
          } catch (error) {
            return { url: edge.url, ok: false, error: (error as Error).name };
          }
        }),
      );
      const tunnelOk = state.transport === "https" || state.tunnel.state === "up";
      checks.push({
        name: "edge",
        ok: edges.some((e) => e.ok) && (tunnelOk || state.transport === "auto"),
        detail: { transport: state.transport, tunnel: state.tunnel, edges },
      });
    }
    if (rt.ollama) {
      const reach = await rt.ollama.reachable();
      checks.push({ name: "ollama", ok: reach.ok, detail: reach });
    }
    const ready = checks.every((check) => check.ok);
    return c.json({ status: ready ? "ready" : "not_ready", config: "loaded", checks }, ready ? 200 : 503);
  });

  app.get("/metrics", async (c) => {
    const rt = runtime();
    if (rt.link) {
      const state = rt.link.state();
      rt.metrics.linkUp.set({ transport: "tunnel" }, state.tunnel.state === "up" ? 1 : 0);
      rt.metrics.linkUp.set({ transport: "https" }, state.transport === "tunnel" ? 0 : 1);
      if (state.tunnel.rttMs !== undefined) rt.metrics.linkRtt.set(state.tunnel.rttMs / 1000);
    }
    await Promise.all([quotaGauges(rt), poolGauges(rt)]);
    return c.text(await rt.metrics.registry.metrics(), 200, { "content-type": rt.metrics.registry.contentType });
  });
}

/** Quota use as a share of each configured limit, read from the store so replicas agree. */
async function quotaGauges(rt: Runtime): Promise<void> {
  await Promise.all(
    rt.config.projects.map(async (project) => {
      const usage = await rt.quota.usage(project.id);
      const { requestsPerDay, tokensPerDay, requestsPerMinute, concurrent } = project.limits;
      const set = (limit: string, used: number, max: number | undefined) => {
        if (max) rt.metrics.quotaUsed.set({ project: project.id, limit }, used / max);
      };
      set("requestsPerDay", usage.requestsToday, requestsPerDay);
      set("tokensPerDay", usage.tokensToday, tokensPerDay);
      set("requestsPerMinute", usage.requestsThisMinute, requestsPerMinute);
      set("concurrent", usage.concurrent, concurrent);
    }),
  );
}

const MEMBER_STATES = ["healthy", "probing", "cooling", "disabled"] as const;

/** Member counts per state for every pool the edge reports (zeros included, for alerting). */
async function poolGauges(rt: Runtime): Promise<void> {
  const pools = await edgePools(rt);
  if (!pools?.ok) return;
  for (const pool of pools.pools) {
    for (const state of MEMBER_STATES) {
      rt.metrics.poolMembers.set({ pool: pool.name, state }, pool.members.filter((m) => m.state === state).length);
    }
  }
}

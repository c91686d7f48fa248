/**
 * /health (liveness), /health/readiness (config loaded; each target reachable, with detail),
 * /metrics (Prometheus text).
 */
import type { App, GetRuntime } from "./context.ts";

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
    return c.text(await rt.metrics.registry.metrics(), 200, { "content-type": rt.metrics.registry.contentType });
  });
}

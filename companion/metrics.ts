/** Prometheus metrics (docs/metrics.md lists them). One registry per companion instance. */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  requests: Counter<"project" | "model" | "target" | "status" | "dialect">;
  duration: Histogram<"dialect" | "target">;
  ttfb: Histogram<"dialect" | "target">;
  tokens: Counter<"project" | "model" | "direction">;
  quotaRejections: Counter<"project" | "limit">;
  fallbacks: Counter<"from">;
  linkUp: Gauge<"transport">;
  linkRtt: Gauge;
  quotaUsed: Gauge<"project" | "limit">;
  poolMembers: Gauge<"pool" | "state">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const buckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
  return {
    registry,
    requests: new Counter({ name: "ferry_requests_total", help: "Requests by project, requested model, target, status", labelNames: ["project", "model", "target", "status", "dialect"], registers: [registry] }),
    duration: new Histogram({ name: "ferry_request_duration_seconds", help: "Whole request duration, to the last byte", labelNames: ["dialect", "target"], buckets, registers: [registry] }),
    ttfb: new Histogram({ name: "ferry_ttfb_seconds", help: "Time to the first response byte", labelNames: ["dialect", "target"], buckets, registers: [registry] }),
    tokens: new Counter({ name: "ferry_tokens_total", help: "Tokens by project, model and direction (input/output)", labelNames: ["project", "model", "direction"], registers: [registry] }),
    quotaRejections: new Counter({ name: "ferry_quota_rejections_total", help: "Requests refused by a project limit", labelNames: ["project", "limit"], registers: [registry] }),
    fallbacks: new Counter({ name: "ferry_target_fallbacks_total", help: "Targets skipped for the next one before the first byte", labelNames: ["from"], registers: [registry] }),
    linkUp: new Gauge({ name: "ferry_link_up", help: "1 when the link to the edge can carry requests (tunnel up, or https mode)", labelNames: ["transport"], registers: [registry] }),
    linkRtt: new Gauge({ name: "ferry_link_rtt_seconds", help: "Tunnel heartbeat round-trip time", registers: [registry] }),
    quotaUsed: new Gauge({ name: "ferry_quota_used_ratio", help: "Share of a project's limit used in its current window (read from the quota store at scrape time)", labelNames: ["project", "limit"], registers: [registry] }),
    poolMembers: new Gauge({ name: "ferry_edge_pool_members", help: "Edge pool members by state (healthy, probing, cooling, disabled), from the edge's /admin/pools", labelNames: ["pool", "state"], registers: [registry] }),
  };
}

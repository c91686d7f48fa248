/**
 * ops/alerts.yml: well-formed rules that read only metrics the companion exports (by name and
 * label, from companion/metrics.ts), or the gauges proposed for it below; every alert has a
 * case in ops/alerts.promtest.yml. Where promtool is installed, it checks and runs them too.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Histogram } from "prom-client";
import { parse } from "yaml";
import { createMetrics } from "../companion/metrics.ts";

const dir = new URL(".", import.meta.url);
const rulesFile = new URL("alerts.yml", dir);
const promtestFile = new URL("alerts.promtest.yml", dir);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const doc = parse(readFileSync(rulesFile, "utf8")) as { groups: { name: string; rules: Rule[] }[] };
const rules = doc.groups.flatMap((group) => group.rules);

/** Gauges the rules read that the companion does not export yet, with their labels. */
const PROPOSED: Record<string, readonly string[]> = {};
/** Series Prometheus itself makes for every scrape target. */
const PROMETHEUS: Record<string, readonly string[]> = { up: [] };
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ["job", "instance"];

function exportedMetrics(): Map<string, readonly string[]> {
  const names = new Map<string, readonly string[]>();
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    // prom-client keeps the declared label names on the instance; its typings do not list them.
    const labels = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    names.set(metric.name, labels);
    if (metric instanceof Histogram) {
      names.set(`${metric.name}_bucket`, [...labels, "le"]);
      names.set(`${metric.name}_sum`, labels);
      names.set(`${metric.name}_count`, labels);
    }
  }
  return names;
}

interface Selector {
  metric: string;
  labels: string[];
}

/** The series selectors of a PromQL expression: metric names and the labels they match on. */
function selectors(expr: string): Selector[] {
  const found: Selector[] = [];
  const withoutMatchers = expr.replace(/([A-Za-z_:][\w:]*)?\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}/g, (_all, metric: string | undefined, body: string) => {
    const labels = [...body.matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g)].map((m) => m[1] ?? "");
    if (metric) found.push({ metric, labels });
    return " ";
  });
  const bare = withoutMatchers
    .replace(/"(?:[^"\\]|\\.)*"/g, " ") // label_replace's string arguments
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ");
  for (const m of bare.matchAll(/\b([A-Za-z_:][\w:]*)\b(?!\s*\()/g)) {
    const word = m[1] ?? "";
    if (["and", "or", "unless", "bool", "offset"].includes(word) || /^\d/.test(word)) continue;
    found.push({ metric: word, labels: [] });
  }
  return found;
}

describe("ops/alerts.yml", () => {
  it("has named, described rules with a severity", () => {
    expect(rules.length).toBeGreaterThan(0);
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^Ferry[A-Z][A-Za-z]+$/);
      expect(typeof rule.expr, rule.alert).toBe("string");
      if (rule.for !== undefined) expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning", "info"], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it("reads only metrics and labels the companion exports, or a proposed gauge", () => {
    const exported = exportedMetrics();
    const known = new Map([...exported, ...Object.entries(PROPOSED), ...Object.entries(PROMETHEUS)]);
    for (const rule of rules) {
      const used = selectors(rule.expr);
      expect(used.length, rule.alert).toBeGreaterThan(0);
      for (const { metric, labels } of used) {
        const declared = known.get(metric);
        expect(declared, `${rule.alert} reads ${metric}, which the companion does not export`).toBeDefined();
        for (const label of labels) {
          expect([...(declared ?? []), ...TARGET_LABELS], `${rule.alert}: ${metric} has no label ${label}`).toContain(label);
        }
      }
    }
  });

  it("lists as proposed only gauges the companion does not export yet", () => {
    const exported = exportedMetrics();
    for (const name of Object.keys(PROPOSED)) {
      expect(exported.has(name), `companion/metrics.ts now exports ${name}: remove it from PROPOSED`).toBe(false);
    }
    const read = new Set(rules.flatMap((rule) => selectors(rule.expr).map((s) => s.metric)));
    for (const name of Object.keys(PROPOSED)) expect(read.has(name), name).toBe(true);
  });

  it("reads the metrics docs/metrics.md names", () => {
    const documented = readFileSync(new URL("../docs/metrics.md", dir), "utf8");
    for (const { metric } of rules.flatMap((rule) => selectors(rule.expr))) {
      if (metric in PROPOSED || metric in PROMETHEUS) continue;
      expect(documented, metric).toContain(`\`${metric.replace(/_(bucket|sum|count)$/, "")}\``);
    }
  });

  it("has a firing case for every alert in ops/alerts.promtest.yml", () => {
    const tests = parse(readFileSync(promtestFile, "utf8")) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname)));
    expect([...fired].sort()).toEqual(rules.map((rule) => rule.alert).sort());
  });

  const promtool = spawnSync("promtool", ["--version"]).status === 0;
  it.skipIf(!promtool)("passes promtool check rules and its unit tests", () => {
    for (const args of [
      ["check", "rules", fileURLToPath(rulesFile)],
      ["test", "rules", fileURLToPath(promtestFile)],
    ]) {
      const run = spawnSync("promtool", args, { encoding: "utf8" });
      expect(run.status, `promtool ${args.join(" ")}\n${run.stdout}${run.stderr}`).toBe(0);
    }
  });
});

describe("selectors", () => {
  it("finds metrics with and without matchers, and skips functions, groupings and strings", () => {
    expect(
      selectors(
        'sum by (job, pool) (label_replace(rate(a_total{from=~"edge:.*", x!="}"}[5m]), "pool", "$1", "from", "edge:(x)")) > 0 and b offset 5m == bool c',
      ),
    ).toEqual([
      { metric: "a_total", labels: ["from", "x"] },
      { metric: "b", labels: [] },
      { metric: "c", labels: [] },
    ]);
  });
});

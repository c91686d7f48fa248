/**
 * `ferry validate`: checks the companion's YAML config (with its `.env`) and the edge's config
 * JSON (with the secrets it references) exactly as the companion and the worker will read
 * them, and the two against each other. Prints every issue as `path: reason` — never a value —
 * and exits 1 if there is any; warnings (e.g. placeholder keys left by `ferry init`) alone
 * exit 0.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { loadConfigFile } from "../companion/config/load.ts";
import type { CompanionConfig } from "../companion/config/schema.ts";
import type { ConfigIssue } from "../shared/config-issue.ts";
import { loadConfig, type EdgeConfig } from "../worker/config.ts";
import { companionEnv, formatIssue, isPlaceholder, UsageError } from "./shared.ts";

export const VALIDATE_USAGE = `ferry validate [--config ferry.yaml] [--env-file FILE] [--edge-config edge.json] [--secrets secrets.json]
  Checks the companion config (with the .env beside it, or --env-file) and/or the edge config
  (with the secrets it references, from a \`wrangler secret bulk\` file). Issues are printed as
  path: reason, never with values. Exit 1 on any problem.`;

export interface Report {
  /** What was checked, e.g. "ferry.yaml (companion config, with .env)". */
  title: string;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export interface CompanionCheck extends Report {
  config: CompanionConfig | null;
}

export function checkCompanion(path: string, envFile?: string): CompanionCheck {
  const { env, envFile: used } = companionEnv(path, envFile);
  const loaded = loadConfigFile(path, env);
  return {
    title: `${path} (companion config${used ? `, with ${used}` : ""})`,
    errors: loaded.ok ? [] : loaded.error,
    warnings: [],
    config: loaded.ok ? loaded.value : null,
  };
}

export interface EdgeCheck extends Report {
  config: EdgeConfig | null;
  /** Whether secret values were given (so companion secrets can be compared). */
  secretsGiven: boolean;
}

function readJson(path: string, issues: ConfigIssue[]): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    issues.push({ path: "(file)", message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}` });
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error, which may be a key.
    issues.push({ path: "(file)", message: "is not valid JSON" });
    return undefined;
  }
}

/** The edge config as the worker reads it: FERRY_CONFIG from edge.json (or secrets.json), the rest from secrets.json. */
export async function checkEdge(edgeConfigPath: string | undefined, secretsPath: string | undefined): Promise<EdgeCheck> {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const title = [edgeConfigPath, secretsPath].filter(Boolean).join(" + ") + " (edge config" + (secretsPath ? ", with its secrets)" : ")");
  const env: Record<string, unknown> = {};
  const secretsName = secretsPath ? basename(secretsPath) : "";

  if (secretsPath) {
    const secrets = readJson(secretsPath, errors);
    if (secrets !== undefined && (typeof secrets !== "object" || secrets === null || Array.isArray(secrets))) {
      errors.push({ path: secretsName, message: "must be a JSON object of secret name → string" });
    } else if (secrets) {
      for (const [name, value] of Object.entries(secrets)) {
        if (typeof value !== "string") errors.push({ path: `${secretsName} ${name}`, message: "must be a string" });
        else env[name] = value;
        if (isPlaceholder(value)) {
          warnings.push({ path: `${secretsName} ${name}`, message: "is still the placeholder ferry init wrote: put the real key in before deploying" });
        }
      }
    }
    if (errors.length) return { title, errors: errors.map((e) => (e.path === "(file)" ? { ...e, path: secretsName } : e)), warnings, config: null, secretsGiven: true };
  }

  if (edgeConfigPath) {
    try {
      const text = readFileSync(edgeConfigPath, "utf8");
      if (typeof env.FERRY_CONFIG === "string") {
        let same = false;
        try {
          same = JSON.stringify(JSON.parse(env.FERRY_CONFIG)) === JSON.stringify(JSON.parse(text));
        } catch {
          // Invalid JSON on either side is reported below.
        }
        if (!same) warnings.push({ path: `${secretsName} FERRY_CONFIG`, message: `differs from ${basename(edgeConfigPath)} (this check uses ${basename(edgeConfigPath)}; wrangler secret bulk would upload the other)` });
      }
      env.FERRY_CONFIG = text;
    } catch (error) {
      return { title, errors: [{ path: basename(edgeConfigPath), message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}` }], warnings, config: null, secretsGiven: !!secretsPath };
    }
  }

  if (!secretsPath && typeof env.FERRY_CONFIG === "string") {
    // Without the secrets, check the structure: stand-ins for every referenced secret.
    const refs = [...env.FERRY_CONFIG.matchAll(/"env"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)"/g)].map((m) => m[1]!);
    for (const name of refs) env[name] ??= "x".repeat(64);
    if (refs.length) warnings.push({ path: "--secrets", message: `not given, so the ${refs.length} secret reference(s) were not checked` });
  }

  const loaded = await loadConfig(env);
  return { title, errors: loaded.ok ? [] : loaded.error, warnings, config: loaded.ok ? loaded.value : null, secretsGiven: !!secretsPath };
}

/** The companion's link and pools against what the edge config grants it. */
export function crossCheck(companion: CompanionConfig, edge: EdgeCheck): Report {
  const errors: ConfigIssue[] = [];
  const link = companion.link;
  if (link && edge.config) {
    const entry = edge.config.companions.get(link.companionId);
    if (!entry) {
      errors.push({ path: "link.companionId", message: "names no companion in the edge config" });
    } else {
      if (edge.secretsGiven && entry.secret !== link.secret) {
        errors.push({ path: "link.secret", message: `does not match the edge's secret for companion ${link.companionId} (the edge would answer 401)` });
      }
      for (const pool of Object.keys(companion.edgePools)) {
        if (!edge.config.pools.has(pool)) errors.push({ path: `edgePools.${pool}`, message: "is not a pool in the edge config" });
        else if (entry.pools !== "*" && !entry.pools.has(pool)) errors.push({ path: `edgePools.${pool}`, message: `the edge does not let companion ${link.companionId} use this pool` });
      }
    }
  }
  return { title: "companion config against edge config", errors, warnings: [] };
}

function print(report: Report): void {
  const problems = report.errors.length ? `${report.errors.length} problem${report.errors.length > 1 ? "s" : ""}` : "OK";
  const warnings = report.warnings.length ? `, ${report.warnings.length} warning${report.warnings.length > 1 ? "s" : ""}` : "";
  console.log(`${report.title}: ${problems}${warnings}`);
  for (const issue of report.errors) console.log(`  ${formatIssue(issue)}`);
  for (const issue of report.warnings) console.log(`  warning: ${formatIssue(issue)}`);
}

export async function validate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      "env-file": { type: "string" },
      "edge-config": { type: "string" },
      secrets: { type: "string" },
    },
  });
  const edgeWanted = values["edge-config"] !== undefined || values.secrets !== undefined;
  const companionPath = values.config ?? (edgeWanted ? undefined : "ferry.yaml");
  if (values["env-file"] && !companionPath) throw new UsageError("--env-file goes with --config");

  const reports: Report[] = [];
  const companion = companionPath ? checkCompanion(companionPath, values["env-file"]) : null;
  if (companion) reports.push(companion);
  const edge = edgeWanted ? await checkEdge(values["edge-config"], values.secrets) : null;
  if (edge) reports.push(edge);
  if (companion?.config && edge?.config) reports.push(crossCheck(companion.config, edge));
  for (const report of reports) print(report);
  return reports.some((r) => r.errors.length) ? 1 : 0;
}

/**
 * Reads the companion's YAML config: `${NAME}` (and `${NAME:-default}`) references are
 * replaced from the environment in every string, then zod validates the whole and the
 * cross-references (targets name configured pools, keys are unique, the time zone exists).
 * Every problem comes back with its path; no value is ever echoed.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { formatPath, type ConfigIssue } from "../../shared/config-issue.ts";
import { err, ok, type Result } from "../../shared/result.ts";

export type { ConfigIssue };
export { formatPath };
import { CompanionConfigSchema, type CompanionConfig } from "./schema.ts";

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${NAME}` in every string of a parsed document; unknown names are issues. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[] = [], issues: ConfigIssue[] = []): unknown {
  if (typeof value === "string") {
    return value.replace(REF, (_all, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      issues.push({ path: formatPath(path), message: `refers to environment variable ${name}, which is not set` });
      return "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, i], issues));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k], issues)]));
  }
  return value;
}

function crossCheck(config: CompanionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [model, targets] of Object.entries(config.models)) {
    targets.forEach((target, i) => {
      const path = `models.${model}[${i}]`;
      if (target.startsWith("edge:")) {
        const pool = target.slice(5, target.indexOf("/"));
        if (!config.link) issues.push({ path, message: "edge targets need a link: section" });
        if (!(pool in config.edgePools)) issues.push({ path, message: `edge pool ${pool} is not listed under edgePools` });
      } else if (!config.ollama) {
        issues.push({ path, message: "ollama targets need an ollama: section" });
      }
    });
  }
  for (const [name, pool] of Object.entries(config.edgePools)) {
    const path = `edgePools.${name}`;
    if (pool.dialect !== "openai") continue;
    if (!pool.chatApi && !pool.responsesApi) issues.push({ path: `${path}.chatApi`, message: "an OpenAI pool must serve chat or responses (chatApi or responsesApi)" });
    if (pool.translateVia === "chat" && !pool.chatApi) issues.push({ path: `${path}.translateVia`, message: "is chat, but chatApi is false" });
    if (pool.translateVia === "responses" && !pool.responsesApi) issues.push({ path: `${path}.translateVia`, message: "is responses, but responsesApi is false" });
  }
  const keys = new Map<string, string>();
  const ids = new Set<string>();
  config.projects.forEach((project, i) => {
    if (ids.has(project.id)) issues.push({ path: `projects[${i}].id`, message: "duplicate project id" });
    ids.add(project.id);
    project.keys.forEach((key, j) => {
      const owner = keys.get(key);
      if (owner !== undefined) issues.push({ path: `projects[${i}].keys[${j}]`, message: `same key as project ${owner}` });
      keys.set(key, project.id);
    });
  });
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: config.timeZone });
  } catch {
    issues.push({ path: "timeZone", message: "is not an IANA time zone (e.g. Asia/Shanghai)" });
  }
  return issues;
}

export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): Result<CompanionConfig, ConfigIssue[]> {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false });
  } catch (error) {
    // yaml's messages give line and column, not the text: safe to repeat.
    const where = error instanceof Error && "linePos" in error ? (error as { linePos?: { line: number; col: number }[] }).linePos?.[0] : undefined;
    return err([{ path: "(file)", message: `is not valid YAML${where ? ` (line ${where.line}, column ${where.col})` : ""}` }]);
  }
  const envIssues: ConfigIssue[] = [];
  const substituted = substituteEnv(doc ?? {}, env, [], envIssues);
  const parsed = CompanionConfigSchema.safeParse(substituted);
  if (!parsed.success) {
    return err([...envIssues, ...parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }))]);
  }
  const issues = [...envIssues, ...crossCheck(parsed.data)];
  return issues.length ? err(issues) : ok(parsed.data);
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Result<CompanionConfig, ConfigIssue[]> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return err([{ path: "(file)", message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}` }]);
  }
  return parseConfig(text, env);
}

/** The JSON Schema editors use (committed as ferry.schema.json; a test keeps it current). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(CompanionConfigSchema, { io: "input", unrepresentable: "any" });
}

/**
 * `ferry init`: writes a working starting point for one office — the companion's YAML config,
 * its `.env` (the companion secret and project keys, mode 0600), the edge's config JSON and a
 * `secrets.json` for `wrangler secret bulk` — then prints how to point Claude Code, Codex CLI
 * and Gemini CLI at the companion (/work/shared/CLIENTS.md). Interactive, with defaults;
 * every question is also a flag, and `--yes` takes the defaults for the rest.
 *
 * Secrets never appear in the configs themselves: the YAML has `${NAME}` references, the edge
 * config `{"env": NAME}` references. Upstream keys are not known here, so secrets.json holds
 * placeholders that are plainly not keys (`ferry validate` warns while one is left).
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { newCompanionSecret, newProjectKey } from "./keys.ts";
import { companionSecretName, placeholderKey, projectKeyName, providerKeyName, UsageError } from "./shared.ts";

/** The upstreams init knows: the edge pool it writes and the companion's view of it. */
export interface ProviderPreset {
  type: "openai" | "anthropic" | "gemini" | "openai-compatible";
  baseUrl?: string;
  dialect: "openai" | "anthropic" | "gemini";
  /** The pool serves OpenAI's Responses API natively (Codex needs no translation). */
  responsesApi?: boolean;
  /** Model globs routed to this pool (`*` keeps the requested name). */
  models: string[];
}

export const PROVIDERS: Record<string, ProviderPreset> = {
  anthropic: { type: "anthropic", dialect: "anthropic", models: ["claude-*"] },
  openai: { type: "openai", dialect: "openai", responsesApi: true, models: ["gpt-*", "o1*", "o3*", "o4*", "codex-*"] },
  gemini: { type: "gemini", dialect: "gemini", models: ["gemini-*"] },
  deepseek: { type: "openai-compatible", baseUrl: "https://api.deepseek.com", dialect: "openai", models: ["deepseek-*"] },
  nvidia: { type: "openai-compatible", baseUrl: "https://integrate.api.nvidia.com", dialect: "openai", models: [] },
  dashscope: { type: "openai-compatible", baseUrl: "https://dashscope.aliyuncs.com/compatible-mode", dialect: "openai", models: ["qwen*"] },
  moonshot: { type: "openai-compatible", baseUrl: "https://api.moonshot.ai", dialect: "openai", models: ["kimi-*", "moonshot-*"] },
  mistral: { type: "openai-compatible", baseUrl: "https://api.mistral.ai", dialect: "openai", models: ["mistral-*", "codestral-*"] },
  xai: { type: "openai-compatible", baseUrl: "https://api.x.ai", dialect: "openai", models: ["grok-*"] },
  groq: { type: "openai-compatible", baseUrl: "https://api.groq.com/openai", dialect: "openai", models: [] },
  openrouter: { type: "openai-compatible", baseUrl: "https://openrouter.ai/api", dialect: "openai", models: [] },
};

export const INIT_USAGE = `ferry init [--yes] [--dir DIR] [--edge-url URL]... [--companion-id ID]
           [--project NAME]... [--provider NAME|NAME=URL]... [--ollama-url URL]
           [--time-zone ZONE] [--listen HOST:PORT] [--force]
  Writes ferry.yaml, .env, edge.json and secrets.json into DIR (default: .) and prints the
  client set-up. Asks for what the flags leave out; --yes takes the defaults instead.
  Providers: ${Object.keys(PROVIDERS).join(", ")}, or NAME=URL (OpenAI-compatible).`;

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const DEFAULTS = {
  dir: ".",
  edgeUrl: "http://127.0.0.1:8787",
  companionId: "office",
  providers: ["anthropic", "openai", "gemini"],
  projects: ["default"],
  listen: "127.0.0.1:8080",
};

export interface InitAnswers {
  dir: string;
  edgeUrls: string[];
  companionId: string;
  /** Pool name → preset (custom NAME=URL entries become openai-compatible presets). */
  providers: Record<string, ProviderPreset>;
  projects: string[];
  ollamaUrl: string | null;
  timeZone: string;
  host: string;
  port: number;
}

export interface InitSecrets {
  companionSecret: string;
  /** Project id → key. */
  projectKeys: Record<string, string>;
}

export interface InitFiles {
  "ferry.yaml": string;
  ".env": string;
  "edge.json": string;
  "secrets.json": string;
}

/** Files holding secrets: written with mode 0600. */
const PRIVATE: readonly (keyof InitFiles)[] = [".env", "secrets.json"];

// ---- answers: parsing and checking ----------------------------------------------------

const systemTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function checkUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what} must be a URL, e.g. https://ferry-edge.example.workers.dev`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`${what} must be an http(s) URL`);
  return value.replace(/\/+$/, "");
}

function checkName(value: string, what: string): string {
  if (!NAME.test(value)) throw new UsageError(`${what} ${JSON.stringify(value)} must be lowercase letters, digits, . _ - (at most 64)`);
  return value;
}

function checkTimeZone(value: string): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
  } catch {
    throw new UsageError(`time zone ${JSON.stringify(value)} is not an IANA time zone (e.g. Asia/Shanghai)`);
  }
  return value;
}

function checkListen(value: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new UsageError(`--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

/** `openai`, or `name=https://host` for an OpenAI-compatible host init has no preset for. */
function parseProviders(list: string[]): Record<string, ProviderPreset> {
  const out: Record<string, ProviderPreset> = {};
  for (const entry of list) {
    const eq = entry.indexOf("=");
    if (eq > 0) {
      const name = checkName(entry.slice(0, eq).trim(), "provider name");
      out[name] = { type: "openai-compatible", baseUrl: checkUrl(entry.slice(eq + 1).trim(), `--provider ${name}=URL`), dialect: "openai", models: [] };
      continue;
    }
    const name = entry.trim().toLowerCase();
    const preset = PROVIDERS[name];
    if (!preset) throw new UsageError(`unknown provider ${JSON.stringify(entry)}: one of ${Object.keys(PROVIDERS).join(", ")}, or NAME=URL for an OpenAI-compatible host`);
    out[name] = preset;
  }
  if (Object.keys(out).length === 0) throw new UsageError("choose at least one provider");
  return out;
}

const splitList = (values: string[]) =>
  values
    .flatMap((v) => v.split(/[,\s]+/))
    .map((v) => v.trim())
    .filter(Boolean);

function parseProjects(list: string[]): string[] {
  const projects = [...new Set(splitList(list))].map((p) => checkName(p, "project"));
  if (projects.length === 0) throw new UsageError("give at least one project");
  return projects;
}

// ---- what gets written -----------------------------------------------------------------

const q = (s: string) => JSON.stringify(s);

function companionYaml(a: InitAnswers): string {
  const secretRef = `\${${companionSecretName(a.companionId)}}`;
  const pools = Object.entries(a.providers);
  const models = pools.flatMap(([pool, p]) => p.models.map((glob) => `  ${q(glob)}: [${q(`edge:${pool}/*`)}]`));
  const lines = [
    "# Ferry companion configuration, written by `ferry init` (docs/companion-config.md).",
    "# Secrets are ${NAME} references, set in .env beside this file. Run the companion with",
    "#   node --env-file=.env companion/main.ts --config ferry.yaml",
    "# and check it with `ferry validate --config ferry.yaml` and `ferry doctor --config ferry.yaml`.",
    "server:",
    `  host: ${q(a.host)}`,
    `  port: ${a.port}`,
    "",
    "# The edge (Cloudflare Worker): primary first, more for backup.",
    "link:",
    "  transport: auto                     # tunnel, https, or auto (tunnel; HTTPS while it is down)",
    `  edges: [${a.edgeUrls.map(q).join(", ")}]`,
    `  companionId: ${q(a.companionId)}`,
    `  secret: ${q(secretRef)}`,
    "  # proxy: http://proxy.example:3128   # egress proxy (CONNECT); HTTPS_PROXY is used when absent",
    "  # caFile: /etc/ssl/corp-ca.pem        # extra CAs for a TLS-inspecting proxy",
    "",
  ];
  if (a.ollamaUrl) {
    lines.push("# Local models: Ollama's native API, never through the edge.", "ollama:", `  baseUrl: ${q(a.ollamaUrl)}`, "");
  }
  lines.push(
    "# The pools the edge offers this companion (edge.json), and the dialect each speaks.",
    "edgePools:",
    ...pools.map(([pool, p]) => `  ${pool}: { dialect: ${p.dialect}${p.responsesApi ? ", responsesApi: true" : ""} }`),
    "",
    "# Model (or glob) → targets, tried in order; `*` keeps the requested name. A model asked",
    "# for as <pool>/<model> (e.g. " + (pools[0]?.[0] ?? "pool") + "/some-model) goes straight to that pool.",
    models.length ? "models:" : "models: {}",
    ...models,
    ...(a.ollamaUrl ? ['  # "qwen2.5-coder:*": ["ollama:*"]      # a local model by name'] : []),
    "",
    "timeZone: " + q(a.timeZone) + "   # daily quotas reset at midnight here",
    "",
    "projects:",
    ...a.projects.flatMap((p) => [
      `  - id: ${q(p)}`,
      `    keys: [${q(`\${${projectKeyName(p)}}`)}]`,
      '    allowedModels: ["*"]',
      "    # limits: { requestsPerMinute: 60, requestsPerDay: 2000, tokensPerDay: 5000000, concurrent: 8 }",
    ]),
    "",
    "store: { kind: sqlite, path: data/ferry.db }   # or { kind: redis, url: redis://127.0.0.1:6379 }",
    "audit: { path: data/audit.db, recordContent: false }",
    "",
  );
  return lines.join("\n");
}

function edgeConfig(a: InitAnswers): unknown {
  return {
    pools: Object.fromEntries(
      Object.entries(a.providers).map(([pool, p]) => [
        pool,
        { type: p.type, ...(p.baseUrl ? { baseUrl: p.baseUrl } : {}), members: [{ id: "k1", key: { env: providerKeyName(pool) } }] },
      ]),
    ),
    companions: [{ id: a.companionId, secret: { env: companionSecretName(a.companionId) }, pools: Object.keys(a.providers) }],
    settings: { maxAttempts: 3, retryBudgetMs: 30000 },
  };
}

/** Everything init writes, from the answers and freshly generated secrets. Pure. */
export function buildFiles(a: InitAnswers, s: InitSecrets): InitFiles {
  const edge = edgeConfig(a);
  const env = [
    "# Secrets of the Ferry companion, written by `ferry init`. Keep this file private (mode 0600)",
    "# and out of version control. Use with `node --env-file=.env ...` or Docker's env_file.",
    `${companionSecretName(a.companionId)}=${s.companionSecret}`,
    ...a.projects.map((p) => `${projectKeyName(p)}=${s.projectKeys[p]}`),
    "",
  ].join("\n");
  const secrets: Record<string, string> = {
    FERRY_CONFIG: JSON.stringify(edge),
    [companionSecretName(a.companionId)]: s.companionSecret,
    ...Object.fromEntries(Object.keys(a.providers).map((pool) => [providerKeyName(pool), placeholderKey(pool)])),
  };
  return {
    "ferry.yaml": companionYaml(a),
    ".env": env,
    "edge.json": JSON.stringify(edge, null, 2) + "\n",
    "secrets.json": JSON.stringify(secrets, null, 2) + "\n",
  };
}

/** How each client is pointed at the companion (/work/shared/CLIENTS.md). */
export function clientSetup(companionUrl: string, envPath: string, projectId: string): string {
  const keyVar = projectKeyName(projectId);
  return `Point clients at the companion (${companionUrl}) with project ${projectId}'s key:
  export FERRY_KEY="$(sed -n 's/^${keyVar}=//p' ${envPath})"

Claude Code:
  export ANTHROPIC_BASE_URL=${companionUrl}
  export ANTHROPIC_AUTH_TOKEN="$FERRY_KEY"
  export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1   # else it also calls api.anthropic.com

Codex CLI ($CODEX_HOME/config.toml, default ~/.codex/config.toml; the key stays in $FERRY_KEY):
  model_provider = "ferry"

  [model_providers.ferry]
  name = "Ferry"
  base_url = "${companionUrl}/v1"
  env_key = "FERRY_KEY"
  wire_api = "responses"

  [analytics]
  enabled = false

  [features]
  plugins = false

Gemini CLI:
  export GOOGLE_GEMINI_BASE_URL=${companionUrl}
  export GEMINI_API_KEY="$FERRY_KEY"
  and in ~/.gemini/settings.json:
  { "security": { "auth": { "selectedType": "gemini-api-key" } }, "privacy": { "usageStatisticsEnabled": false } }

OpenAI SDKs: OPENAI_BASE_URL=${companionUrl}/v1 OPENAI_API_KEY="$FERRY_KEY"
`;
}

// ---- the wizard -------------------------------------------------------------------------

type Ask = (question: string, fallback: string, check: (answer: string) => unknown) => Promise<string>;

/**
 * Asks on the terminal (or reads piped answers, one a line); re-asks after a bad answer. The
 * end of input takes the default. Lines come through readline's async iterator, which keeps
 * lines that arrive before their question (piped input) instead of dropping them.
 */
function terminalAsk(rl: Interface): Ask {
  const lines = rl[Symbol.asyncIterator]();
  let ended = false;
  return async (question, fallback, check) => {
    for (;;) {
      const prompt = `${question}${fallback ? ` [${fallback}]` : ""}: `;
      if (process.stdin.isTTY) {
        rl.setPrompt(prompt); // readline redraws the prompt with the line while editing
        rl.prompt();
      } else {
        process.stdout.write(prompt);
      }
      const next = ended ? null : await lines.next();
      if (!next || next.done) {
        ended = true;
        process.stdout.write("\n");
      } else if (!process.stdin.isTTY) {
        process.stdout.write(`${next.value}\n`); // echo piped answers, so the transcript reads well
      }
      const value = (next && !next.done ? String(next.value) : "").trim() || fallback;
      try {
        check(value);
        return value;
      } catch (error) {
        if (ended) throw error;
        console.log(`  ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
}

export async function init(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      yes: { type: "boolean", short: "y", default: false },
      dir: { type: "string" },
      "edge-url": { type: "string", multiple: true },
      "companion-id": { type: "string" },
      project: { type: "string", multiple: true },
      provider: { type: "string", multiple: true },
      "ollama-url": { type: "string" },
      "time-zone": { type: "string" },
      listen: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });

  const rl = values.yes ? null : createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true });
  const ask: Ask = rl
    ? terminalAsk(rl)
    : async (_q, fallback, check) => {
        check(fallback);
        return fallback;
      };
  let answers: InitAnswers;
  try {
    if (rl) console.log("Ferry set-up. Enter takes the [default].\n");
    const dir = values.dir ?? (await ask("Directory to write the files into", DEFAULTS.dir, () => {}));
    const edgeUrls = values["edge-url"]?.length
      ? splitList(values["edge-url"]).map((u) => checkUrl(u, "--edge-url"))
      : splitList([await ask("Edge URL (wrangler deploy prints it; more than one, comma-separated, for backup)", DEFAULTS.edgeUrl, (v) => splitList([v]).forEach((u) => checkUrl(u, "the edge URL")))]).map((u) =>
          checkUrl(u, "the edge URL"),
        );
    const companionId = checkName(values["companion-id"] ?? (await ask("Companion id (names this office at the edge)", DEFAULTS.companionId, (v) => checkName(v, "companion id"))), "--companion-id");
    const providers = parseProviders(
      values.provider?.length
        ? splitList(values.provider)
        : splitList([await ask(`Providers (${Object.keys(PROVIDERS).join(", ")}, or name=URL)`, DEFAULTS.providers.join(","), (v) => parseProviders(splitList([v])))]),
    );
    const projects = parseProjects(
      values.project?.length ? values.project : [await ask("Projects (one key each; comma-separated)", DEFAULTS.projects.join(","), (v) => parseProjects([v]))],
    );
    const ollamaRaw = values["ollama-url"] ?? (await ask("Ollama URL (empty: no local models)", "", (v) => v && checkUrl(String(v), "the Ollama URL")));
    const ollamaUrl = ollamaRaw ? checkUrl(ollamaRaw, "--ollama-url") : null;
    const timeZone = checkTimeZone(values["time-zone"] ?? (await ask("Time zone of the daily quota boundary", systemTimeZone(), checkTimeZone)));
    const { host, port } = checkListen(values.listen ?? (await ask("Companion listens on (0.0.0.0:8080 to serve the office network)", DEFAULTS.listen, checkListen)));
    answers = { dir: resolve(dir), edgeUrls, companionId, providers, projects, ollamaUrl, timeZone, host, port };
  } finally {
    rl?.close();
  }

  const files = buildFiles(answers, {
    companionSecret: newCompanionSecret(),
    projectKeys: Object.fromEntries(answers.projects.map((p) => [p, newProjectKey()])),
  });
  const names = Object.keys(files) as (keyof InitFiles)[];
  const existing = names.filter((name) => existsSync(join(answers.dir, name)));
  if (existing.length && !values.force) {
    console.error(`ferry init: ${existing.join(", ")} already exist in ${answers.dir}; nothing written (--force overwrites)`);
    return 1;
  }
  mkdirSync(answers.dir, { recursive: true });
  for (const name of names) {
    const path = join(answers.dir, name);
    const mode = PRIVATE.includes(name) ? 0o600 : 0o644;
    writeFileSync(path, files[name], { mode });
    chmodSync(path, mode); // an existing file (--force) keeps its old mode otherwise
  }

  const at = (name: string) => join(answers.dir, name);
  const placeholders = Object.keys(answers.providers).map((pool) => providerKeyName(pool));
  const clientHost = answers.host === "0.0.0.0" || answers.host === "::" ? hostname() : answers.host.includes(":") ? `[${answers.host}]` : answers.host;
  console.log(`Wrote
  ${at("ferry.yaml")}     companion config (secrets as \${NAME} references)
  ${at(".env")}           companion secret and project keys (mode 0600; keep out of git)
  ${at("edge.json")}      edge config (keys as {"env": NAME} references)
  ${at("secrets.json")}   for \`wrangler secret bulk\` (mode 0600; keep out of git)

Before deploying, put the real upstream keys into secrets.json: ${placeholders.join(", ")}
hold placeholders (${"FERRY-PLACEHOLDER-NOT-A-KEY-…"}) that no provider will accept.
  ferry validate --config ${at("ferry.yaml")} --edge-config ${at("edge.json")} --secrets ${at("secrets.json")}
  npx wrangler secret bulk ${at("secrets.json")} && npx wrangler deploy
Then start the companion and check the whole link:
  node --env-file=${at(".env")} companion/main.ts --config ${at("ferry.yaml")}
  ferry doctor --config ${at("ferry.yaml")}
`);
  console.log(clientSetup(`http://${clientHost}:${answers.port}`, at(".env"), answers.projects[0]!));
  const globs = Object.values(answers.providers).flatMap((p) => p.models);
  const first = Object.keys(answers.providers)[0]!;
  for (const [client, family] of [["Claude Code", "claude-*"], ["Codex CLI", "gpt-*"], ["Gemini CLI", "gemini-*"]] as const) {
    if (!globs.includes(family)) {
      console.log(`Note: ${client} asks for ${family} models, which no chosen provider serves: route them in ferry.yaml's models:, e.g. "${family}": ["edge:${first}/<model>"]`);
    }
  }
  return 0;
}

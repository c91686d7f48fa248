/**
 * The real coding CLIs end to end (`npm run test:clients`, not `npm test`): Claude Code, Codex
 * CLI and Gemini CLI, installed on demand into .cache/clients by the global setup, each run
 * once in one-shot mode through
 *
 *   CLI → (recording front) → companion → link (tunnel) → worker in workerd → stand-in upstream
 *
 * in its own dialect (Codex: an OpenAI pool with `responsesApi: true`, so Codex's Responses
 * body reaches the stand-in as the companion scrubbed it, without the hub), and once against a
 * local model (every model it asks for routed to `ollama:…`, answered by FakeOllama through the
 * hub). Set-up follows docs/clients.md: fully offline, an isolated HOME under a temp dir, only
 * the environment each CLI needs, the project key generated here, a hard time limit.
 *
 * Checks: exit code 0, the stand-in's text on stdout, and that what reached the stand-in (or
 * FakeOllama) carries no identity: no x-stainless-* or client session/installation headers (the
 * edge pools let those names through, so this sees the companion's own scrubbing), the
 * gateway's user agent, no project key, no metadata.user_id / client_metadata / billing block,
 * none of the id values the CLI sent or keeps in its HOME, the HOME's user name replaced. Every
 * CLI runs behind a refusing, recording HTTPS/HTTP proxy (NO_PROXY for the loopback): it must
 * have been asked for nothing.
 *
 * Each run's stdout, stderr and every request (inbound and outbound) are written to
 * test-artifacts/clients/<run>.json.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ClientName } from "../../scripts/install-clients.ts";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { defaultChatReply, textStream, type FakeOllama } from "../helpers/ollama.ts";
import { mocks, splitDeltas } from "../helpers/provider-mocks.ts";
import { startRecordingFront, type FrontRecord, type RecordingFront } from "../helpers/recording-front.ts";
import { startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy.ts";
import type { Behaviour } from "../helpers/upstream.ts";

const clients = inject("ferryClients");
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ARTIFACTS = join(ROOT, "test-artifacts", "clients");

/** Hard limit per CLI run; the process group is killed at the limit and after every run. */
const RUN_TIMEOUT_MS = 90_000;
const GATEWAY_UA = "ferry-clients-test/1.0";
const OLLAMA_MODEL = "qwen2.5-coder:7b";
const KEY = projectKey();

/** Headers CLIENTS.md lists as identifying (exact names; x-stainless-* and x-openai-internal-* are checked by prefix). */
const STAINLESS = ["os", "arch", "runtime", "runtime-version", "lang", "package-version", "retry-count", "timeout", "helper-method"].map((s) => `x-stainless-${s}`);
const IDENTITY_HEADERS = [
  "x-app",
  "x-claude-code-session-id",
  "anthropic-dangerous-direct-browser-access",
  "originator",
  "version",
  "session-id",
  "session_id",
  "thread-id",
  "thread_id",
  "conversation_id",
  "x-client-request-id",
  "x-codex-window-id",
  "x-codex-turn-metadata",
  "x-codex-beta-features",
  "x-openai-internal-codex-responses-lite",
  "x-goog-api-client",
  "x-gemini-api-privileged-user-id",
  "cookie",
  "x-forwarded-for",
];
/** The edge passes these through (edge header names are [a-z0-9-] only), so the stand-in sees what the companion let go. */
const PERMISSIVE = ["user-agent", ...STAINLESS, ...IDENTITY_HEADERS.filter((h) => /^[a-z0-9-]+$/.test(h)), "x-api-key", "x-goog-api-key", "authorization"];

const EDGE_MODELS = { "claude-*": ["edge:anthropic/*"], "gpt-*": ["edge:openai/*"], "*codex*": ["edge:openai/*"], "gemini-*": ["edge:gemini/*"] };
const OLLAMA_MODELS = Object.fromEntries(Object.keys(EDGE_MODELS).map((glob) => [glob, [`ollama:${OLLAMA_MODEL}`]]));

// ---------------------------------------------------------------------------------------------
// Stand-ins that answer whatever the CLIs ask

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** A minimal value matching a JSON schema (or Gemini's OpenAPI subset: upper-case types). */
function sampleOf(schema: unknown): unknown {
  if (!isObject(schema)) return {};
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if ("const" in schema) return schema.const;
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const list = schema[key];
    if (Array.isArray(list) && list.length) return sampleOf(list[0]);
  }
  const type = String((Array.isArray(schema.type) ? schema.type[0] : schema.type) ?? (isObject(schema.properties) ? "object" : "")).toLowerCase();
  switch (type) {
    case "object": {
      const out: Json = {};
      for (const [k, v] of Object.entries(isObject(schema.properties) ? schema.properties : {})) out[k] = sampleOf(v);
      return out;
    }
    case "array":
      return Array.from({ length: typeof schema.minItems === "number" ? schema.minItems : 0 }, () => sampleOf(schema.items));
    case "string":
      return "ok";
    case "number":
    case "integer":
      return typeof schema.minimum === "number" ? schema.minimum : 0;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return {};
  }
}

/** Gemini: JSON-mode calls (`responseMimeType: application/json`) get JSON matching their schema; the rest, `text`. */
function geminiStandIn(text: string): Behaviour {
  return (req, res, rec) => {
    const body = parse(rec.body.toString("utf8"));
    const config = isObject(body) && isObject(body.generationConfig) ? body.generationConfig : {};
    if (config.responseMimeType === "application/json") {
      const json = JSON.stringify(sampleOf(config.responseJsonSchema ?? config.responseSchema));
      return mocks.geminiGenerate({ text: json })(req, res, rec);
    }
    return mocks.geminiGenerate({ text })(req, res, rec);
  };
}

/** FakeOllama answers each chat by the request it is serving: JSON for a `format`, `text` otherwise. */
function answerOllama(ollama: FakeOllama, text: string) {
  const content = () => {
    const body = ollama.requests.at(-1)?.body;
    const format = isObject(body) ? body.format : undefined;
    if (format === "json") return "{}";
    return format ? JSON.stringify(sampleOf(format)) : text;
  };
  Object.defineProperty(ollama, "chatStream", { configurable: true, get: () => textStream(OLLAMA_MODEL, splitDeltas(content())), set: () => {} });
  Object.defineProperty(ollama, "chatReply", {
    configurable: true,
    get: () => ({ ...defaultChatReply(OLLAMA_MODEL), message: { role: "assistant", content: content() } }),
    set: () => {},
  });
}

// ---------------------------------------------------------------------------------------------
// Running a CLI

interface Home {
  root: string;
  home: string;
  user: string;
  cwd: string;
}

/**
 * `<tmp>/ferry-clients-XXXX/_/Users/<user>`: a Mac-style home (`/Users/<user>` is redacted
 * wherever it appears in a path), so the random user name must not reach the stand-in. The
 * working directory is a small project under it, as a person's usually is.
 *
 * The `_` segment keeps Claude Code's project slug (the cwd with every non-alphanumeric turned
 * into "-") shaped as for a home at the top of the file system, `…--Users-<user>-projects-…`:
 * the scrubber takes `-Users-<user>` in a slug only when no letter or digit is glued to its
 * front, and a temp dir name ends in one (`…-AhQjy6-Users-<user>`), which no real home has.
 */
function makeHome(): Home {
  const root = mkdtempSync(join(tmpdir(), "ferry-clients-"));
  const user = "dana" + randomBytes(4).toString("hex");
  const home = join(root, "_", "Users", user);
  const cwd = join(home, "projects", "billing-app");
  for (const dir of [cwd, join(home, ".config"), join(home, ".cache"), join(home, ".local", "share"), join(home, ".local", "state"), join(home, ".tmp")]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(cwd, "README.md"), "# billing-app\n\nInvoices for the office.\n");
  writeFileSync(join(cwd, "main.py"), "print('hello')\n");
  return { root, home, user, cwd };
}

function baseEnv(h: Home, proxy: RecordingProxy): Record<string, string> {
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: h.home,
    XDG_CONFIG_HOME: join(h.home, ".config"),
    XDG_CACHE_HOME: join(h.home, ".cache"),
    XDG_DATA_HOME: join(h.home, ".local", "share"),
    XDG_STATE_HOME: join(h.home, ".local", "state"),
    TMPDIR: join(h.home, ".tmp"),
    LANG: "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    HTTPS_PROXY: proxy.url,
    HTTP_PROXY: proxy.url,
    ALL_PROXY: proxy.url,
    https_proxy: proxy.url,
    http_proxy: proxy.url,
    all_proxy: proxy.url,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
}

interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

function run(command: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, RUN_TIMEOUT_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      // Whatever the CLI left running in its process group goes too; wait briefly for the pipes.
      killGroup();
      const done = () => resolve({ code, signal, stdout, stderr, ms, timedOut });
      const grace = setTimeout(done, 2_000);
      child.on("close", () => {
        clearTimeout(grace);
        done();
      });
    });
  });
}

interface CliSpec {
  name: ClientName;
  /** Writes the CLI's config under HOME; returns the command, args and extra environment. */
  prepare(h: Home, baseUrl: string, prompt: string): { command: string; args: string[]; env: Record<string, string> };
  /** Stand-in prefix (edge pool) in the upstream. */
  prefix: string;
}

const CLIS: CliSpec[] = [
  {
    name: "claude",
    prefix: "/ant",
    prepare: (_h, baseUrl, prompt) => ({
      command: clients.bins.claude,
      args: ["-p", prompt],
      env: {
        ANTHROPIC_BASE_URL: baseUrl,
        ANTHROPIC_AUTH_TOKEN: KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        CLAUDE_CODE_MAX_RETRIES: "0",
      },
    }),
  },
  {
    name: "codex",
    prefix: "/oai",
    prepare: (h, baseUrl, prompt) => {
      const codexHome = join(h.home, ".codex");
      mkdirSync(codexHome, { recursive: true });
      writeFileSync(
        join(codexHome, "config.toml"),
        [
          `model_provider = "ferry"`,
          ``,
          `[model_providers.ferry]`,
          `name = "Ferry"`,
          `base_url = "${baseUrl}/v1"`,
          `env_key = "FERRY_API_KEY"`,
          `wire_api = "responses"`,
          ``,
          `[analytics]`,
          `enabled = false`,
          ``,
          `[features]`,
          `plugins = false`,
          ``,
        ].join("\n"),
      );
      return {
        command: process.execPath,
        args: [clients.bins.codex, "exec", "--skip-git-repo-check", prompt],
        env: { CODEX_HOME: codexHome, FERRY_API_KEY: KEY },
      };
    },
  },
  {
    name: "gemini",
    prefix: "/gem",
    prepare: (h, baseUrl, prompt) => {
      mkdirSync(join(h.home, ".gemini"), { recursive: true });
      writeFileSync(
        join(h.home, ".gemini", "settings.json"),
        JSON.stringify(
          {
            security: { auth: { selectedType: "gemini-api-key" } },
            privacy: { usageStatisticsEnabled: false },
            model: { name: "gemini-2.5-flash" },
          },
          null,
          2,
        ),
      );
      return {
        command: process.execPath,
        args: [clients.bins.gemini, "-p", prompt],
        env: { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: baseUrl, GEMINI_CLI_TRUST_WORKSPACE: "true" },
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// What identifies: values the CLI sent or keeps, to be found nowhere upstream

const ID_HEADER_VALUES = ["x-claude-code-session-id", "session-id", "session_id", "thread-id", "thread_id", "conversation_id", "x-client-request-id", "x-codex-window-id", "x-gemini-api-privileged-user-id"];
const ID_KEY = /(^|_|-)(user|device|installation|session|thread|turn|window|account|organization|conversation)(_|-)?(id|uuid)$|^userID$/i;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** String values under id-like keys, anywhere in a JSON value (strings holding JSON are opened). */
function idValues(value: unknown, into: Set<string>, key = ""): void {
  if (typeof value === "string") {
    if (ID_KEY.test(key) && value.length >= 8) into.add(value);
    const inner = value.startsWith("{") ? parse(value) : undefined;
    if (inner !== undefined) idValues(inner, into);
    return;
  }
  if (Array.isArray(value)) for (const v of value) idValues(v, into);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) idValues(v, into, k);
}

/** Identifying values in what the CLI sent the companion. */
function sentIdentity(records: FrontRecord[]): Set<string> {
  const ids = new Set<string>();
  for (const rec of records) {
    for (const name of ID_HEADER_VALUES) {
      const v = rec.headers[name];
      if (typeof v === "string" && v.length >= 8) ids.add(v);
    }
    const turn = rec.headers["x-codex-turn-metadata"];
    if (typeof turn === "string") idValues(parse(turn), ids);
    const body = parse(rec.body.toString("utf8"));
    if (isObject(body)) {
      if (isObject(body.metadata) && typeof body.metadata.user_id === "string") {
        ids.add(body.metadata.user_id);
        idValues(parse(body.metadata.user_id), ids);
      }
      if (isObject(body.client_metadata)) for (const v of Object.values(body.client_metadata)) if (typeof v === "string" && v.length >= 8) ids.add(v);
      if (typeof body.prompt_cache_key === "string" && body.prompt_cache_key.length >= 8) ids.add(body.prompt_cache_key);
    }
  }
  return ids;
}

/** Ids the CLI keeps in its HOME: values under id-like keys in small JSON files, id files, UUIDs in file names. */
function storedIdentity(home: string): Set<string> {
  const ids = new Set<string>();
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      for (const m of entry.name.matchAll(UUID)) ids.add(m[0]);
      if (entry.isDirectory()) {
        walk(path, depth + 1);
        continue;
      }
      if (!entry.isFile() || statSync(path).size > 256 * 1024) continue;
      const text = readFileSync(path, "utf8");
      if (/(^|[_.-])(installation|user|device)[_-]?id$/i.test(entry.name) && text.trim().length >= 8) ids.add(text.trim());
      if (entry.name.endsWith(".json")) idValues(parse(text), ids);
      if (entry.name.endsWith(".jsonl")) for (const line of text.split("\n")) idValues(parse(line), ids);
    }
  };
  walk(home, 0);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// The chain

let chain: Chain;
let proxy: RecordingProxy;
let front: RecordingFront;
const timings: { run: string; ms: number; upstreamCalls: string[]; clientCalls: string[] }[] = [];

describe.skipIf(!clients)("real CLIs through the chain", () => {
  beforeAll(async () => {
    chain = await startChain({
      pools: {
        anthropic: { type: "anthropic", prefix: "/ant", requestHeaders: PERMISSIVE },
        openai: { type: "openai", prefix: "/oai", requestHeaders: PERMISSIVE },
        gemini: { type: "gemini", prefix: "/gem", requestHeaders: PERMISSIVE },
      },
      companion: () => ({
        edgePools: { anthropic: { dialect: "anthropic" }, openai: { dialect: "openai", responsesApi: true }, gemini: { dialect: "gemini" } },
        models: EDGE_MODELS,
        projects: [{ id: "office", keys: [KEY] }],
        server: { gatewayUserAgent: GATEWAY_UA },
      }),
    });
    proxy = await startRecordingProxy();
    front = await startRecordingFront(() => chain.url);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await front?.close();
    await proxy?.close();
    await chain?.close();
    if (clients) {
      console.log(
        [`install/check of the CLIs: ${(clients.installMs / 1000).toFixed(1)} s (${clients.installed ? "installed" : "already there"})`]
          .concat(timings.map((t) => `${t.run}: ${(t.ms / 1000).toFixed(1)} s; client → companion: ${t.clientCalls.join(", ")}; → upstream: ${t.upstreamCalls.join(", ") || "none"}`))
          .join("\n"),
      );
    }
  });

  for (const cli of CLIS) {
    for (const via of ["edge", "ollama"] as const) {
      it(`${cli.name} via ${via === "edge" ? `the edge (${cli.prefix} stand-in)` : "the Ollama adapter"}`, async () => {
        const runName = `${cli.name}-${via}`;
        const text = `Ferry stand-in answer ${randomBytes(3).toString("hex")} for ${cli.name}`;
        chain.companion.swap({ ...chain.config, models: via === "edge" ? EDGE_MODELS : OLLAMA_MODELS });
        chain.up.reset();
        chain.up.on("/ant", mocks.anthropicMessages({ text }));
        chain.up.on("/oai", mocks.openai({ text }));
        chain.up.on("/gem", geminiStandIn(text));
        chain.ollama.reset();
        answerOllama(chain.ollama, text);
        const fromFront = front.records.length;
        const fromProxy = proxy.attempts.length;

        const h = makeHome();
        try {
          const spec = cli.prepare(h, front.url, "Say hello in one short sentence.");
          const result = await run(spec.command, spec.args, { cwd: h.cwd, env: { ...baseEnv(h, proxy), ...spec.env } });

          const inbound = front.records.slice(fromFront);
          const attempts = proxy.attempts.slice(fromProxy);
          const upstream =
            via === "edge"
              ? chain.up.requests.map((r) => ({ method: r.method, url: r.url, headers: r.headers, text: r.body.toString("utf8") }))
              : chain.ollama.requests.map((r) => ({ method: r.method, url: r.path, headers: r.headers, text: r.body === undefined ? "" : typeof r.body === "string" ? r.body : JSON.stringify(r.body) }));
          const stored = storedIdentity(h.home);
          const sent = sentIdentity(inbound);
          timings.push({
            run: runName,
            ms: result.ms,
            clientCalls: inbound.map((r) => `${r.method} ${r.url.split("?")[0]} ${r.status}`),
            upstreamCalls: upstream.map((r) => `${r.method} ${r.url.split("?")[0]}`),
          });
          writeFileSync(
            join(ARTIFACTS, `${runName}.json`),
            JSON.stringify(
              {
                result,
                home: h.home,
                proxyAttempts: attempts,
                storedIds: [...stored],
                sentIds: [...sent],
                inbound: inbound.map((r) => ({ method: r.method, url: r.url, status: r.status, headers: r.headers, body: parse(r.body.toString("utf8")) ?? r.body.toString("utf8") })),
                upstream: upstream.map((r) => ({ ...r, text: undefined, body: parse(r.text) ?? r.text })),
                files: listFiles(h.home),
              },
              null,
              2,
            ),
          );

          // The CLI answered with the stand-in's text, in time, and exited cleanly.
          expect(result.timedOut, `${runName} hit the ${RUN_TIMEOUT_MS} ms limit\n${result.stderr}`).toBe(false);
          expect(result.code, `${runName} exit code\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
          expect(result.stdout).toContain(text);

          // Nothing was asked of the outside.
          expect(attempts, "connections the CLI tried to open through the proxy").toEqual([]);

          // The requests went through the chain and arrived scrubbed.
          expect(upstream.length, "requests that reached the stand-in").toBeGreaterThan(0);
          if (via === "ollama") expect(chain.up.requests, "edge stand-in calls in a local-model run").toEqual([]);
          // What is checked below was there to remove: the CLI sent its HOME's user name.
          expect(inbound.some((r) => r.body.toString("utf8").includes(h.user)), "the CLI sent the HOME user name").toBe(true);
          const forbidden = new Set([...sent, ...stored, KEY, h.user]);
          const problems: string[] = [];
          for (const rec of upstream) {
            const where = `${rec.method} ${rec.url}`;
            for (const name of Object.keys(rec.headers)) {
              if (name.startsWith("x-stainless-") || name.startsWith("x-openai-internal-") || IDENTITY_HEADERS.includes(name)) problems.push(`${where}: header ${name}`);
            }
            const beta = rec.headers["anthropic-beta"];
            if (typeof beta === "string" && /claude-code-/.test(beta)) problems.push(`${where}: anthropic-beta ${beta}`);
            // The edge sends the gateway's user agent. The companion's Ollama client sets none, so
            // FakeOllama sees fetch's default (`node`): not the client's, which is what matters here.
            const ua = rec.headers["user-agent"];
            if (via === "edge" ? ua !== GATEWAY_UA : typeof ua === "string" && ua !== GATEWAY_UA && /claude|codex|gemini|google|anthropic|openai|stainless/i.test(ua)) {
              problems.push(`${where}: user-agent ${String(ua)}`);
            }
            const body = parse(rec.text);
            if (isObject(body)) {
              if (isObject(body.metadata) && "user_id" in body.metadata) problems.push(`${where}: metadata.user_id`);
              if ("client_metadata" in body) problems.push(`${where}: client_metadata`);
              if (typeof body.prompt_cache_key === "string" && !body.prompt_cache_key.startsWith("pc_")) problems.push(`${where}: prompt_cache_key not hashed`);
            }
            if (rec.text.includes("x-anthropic-billing-header")) problems.push(`${where}: billing header block`);
            const all = rec.url + "\n" + JSON.stringify(rec.headers) + "\n" + rec.text;
            for (const value of forbidden) {
              if (all.includes(value)) problems.push(`${where}: contains ${value === KEY ? "the project key" : value === h.user ? `the HOME user name ${value}` : `the id ${value}`}`);
            }
          }
          expect(problems).toEqual([]);
        } finally {
          rmSync(h.root, { recursive: true, force: true });
        }
      });
    }
  }
});

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

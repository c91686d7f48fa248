/**
 * The `ferry` command, run as the operator runs it: a child process (`node bin/ferry.ts …`).
 * init writes files that both the companion's parseConfig and the worker's loadConfig accept;
 * validate prints paths and reasons, never values; doctor checks a real local edge (workerd).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../companion/config/load.ts";
import { loadConfig } from "../worker/config.ts";
import { main } from "../bin/ferry.ts";
import { FakeOllama } from "../test/helpers/ollama.ts";
import { randomSecret, startEdge, type Edge } from "../test/helpers/edge.ts";
import { buildFiles, PROVIDERS } from "./init.ts";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "bin", "ferry.ts");

/** The child's environment: no proxy or CA settings from the machine running the tests. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS"]) delete env[name];
  for (const name of Object.keys(env)) if (/^(COMPANION_|FERRY_)/.test(name)) delete env[name];
  return { ...env, ...extra };
}

function ferry(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { env: cleanEnv(opts.env), cwd: opts.cwd ?? root, timeout: 15_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-cli-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `ferry init --yes` into a fresh folder; the folder. */
async function initInto(extra: string[] = []): Promise<string> {
  const dir = tempDir();
  const res = await ferry([
    "init", "--yes", "--dir", dir,
    "--edge-url", "https://ferry-edge.example.workers.dev",
    "--companion-id", "shanghai-office",
    "--project", "web", "--project", "ml",
    "--provider", "openai", "--provider", "anthropic,gemini", "--provider", "deepseek",
    "--ollama-url", "http://127.0.0.1:11434",
    "--time-zone", "Asia/Shanghai",
    ...extra,
  ]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return dir;
}

/** A port on 127.0.0.1 that nothing listens on (taken and released). */
function closedPort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, string>;

describe("ferry keys", () => {
  it("prints a project key (fp- and 32 random bytes in base64url) or a companion secret", async () => {
    const [a, b, c] = await Promise.all([ferry(["keys"]), ferry(["keys", "--kind", "project"]), ferry(["keys", "--kind", "companion"])]);
    for (const res of [a, b]) {
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^fp-[A-Za-z0-9_-]{43}\n$/);
    }
    expect(a.stdout).not.toBe(b.stdout);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(Buffer.from(c.stdout.trim(), "base64url")).toHaveLength(32);

    const bad = await ferry(["keys", "--kind", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--kind must be project or companion");
  });

  it("unknown commands and options are usage errors (exit 2)", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["frobnicate"])).toBe(2);
      expect(String(stderr.mock.calls[0]?.[0])).toContain('unknown command "frobnicate"');
    } finally {
      stderr.mockRestore();
    }
    const res = await ferry(["validate", "--no-such-option"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("ferry validate [--config");
  });
});

describe("ferry init", () => {
  it("--yes with flags writes configs that the companion and the worker accept, and a private .env", async () => {
    const dir = await initInto();
    const env = parseEnv(readFileSync(join(dir, ".env"), "utf8")) as Record<string, string>;
    expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "secrets.json")).mode & 0o777).toBe(0o600);
    expect(Object.keys(env).sort()).toEqual(["COMPANION_SHANGHAI_OFFICE_SECRET", "FERRY_PROJECT_ML_KEY", "FERRY_PROJECT_WEB_KEY"]);
    expect(env.FERRY_PROJECT_WEB_KEY).toMatch(/^fp-[A-Za-z0-9_-]{43}$/);

    // Companion: secrets only as ${ENV} references; valid with the .env.
    const yaml = readFileSync(join(dir, "ferry.yaml"), "utf8");
    for (const value of Object.values(env)) expect(yaml).not.toContain(value);
    const companion = parseConfig(yaml, env);
    expect(companion.ok ? [] : companion.error).toEqual([]);
    if (!companion.ok) return;
    expect(companion.value.link?.edges).toEqual(["https://ferry-edge.example.workers.dev"]);
    expect(companion.value.link?.secret).toBe(env.COMPANION_SHANGHAI_OFFICE_SECRET);
    expect(companion.value.projects.map((p) => [p.id, p.keys])).toEqual([["web", [env.FERRY_PROJECT_WEB_KEY]], ["ml", [env.FERRY_PROJECT_ML_KEY]]]);
    expect(Object.keys(companion.value.edgePools)).toEqual(["openai", "anthropic", "gemini", "deepseek"]);
    expect(companion.value.edgePools.openai?.responsesApi).toBe(true);
    expect(companion.value.ollama?.baseUrl).toBe("http://127.0.0.1:11434");
    expect(companion.value.timeZone).toBe("Asia/Shanghai");

    // Edge: references in edge.json; the worker's loadConfig accepts it with secrets.json.
    const edgeJson = readFileSync(join(dir, "edge.json"), "utf8");
    const secrets = readJson(join(dir, "secrets.json"));
    expect(JSON.parse(secrets.FERRY_CONFIG!)).toEqual(JSON.parse(edgeJson));
    expect(JSON.parse(edgeJson).pools.openai.members[0].key).toEqual({ env: "OPENAI_KEY_1" });
    expect(JSON.parse(edgeJson).companions[0].secret).toEqual({ env: "COMPANION_SHANGHAI_OFFICE_SECRET" });
    expect(secrets.COMPANION_SHANGHAI_OFFICE_SECRET).toBe(env.COMPANION_SHANGHAI_OFFICE_SECRET);
    for (const name of ["OPENAI_KEY_1", "ANTHROPIC_KEY_1", "GEMINI_KEY_1", "DEEPSEEK_KEY_1"]) expect(secrets[name]).toMatch(/^FERRY-PLACEHOLDER-NOT-A-KEY-/);
    const edge = await loadConfig({ ...secrets, FERRY_CONFIG: edgeJson });
    expect(edge.ok ? [] : edge.error).toEqual([]);
    if (!edge.ok) return;
    expect([...edge.value.pools.keys()]).toEqual(["openai", "anthropic", "gemini", "deepseek"]);
    expect(edge.value.pools.get("deepseek")?.members[0]?.baseUrl.href).toBe("https://api.deepseek.com/");
    expect(edge.value.companions.get("shanghai-office")?.secret).toBe(env.COMPANION_SHANGHAI_OFFICE_SECRET);

    // ferry validate agrees: valid, with warnings for the placeholder keys.
    const res = await ferry(["validate", "--config", join(dir, "ferry.yaml"), "--edge-config", join(dir, "edge.json"), "--secrets", join(dir, "secrets.json")]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("secrets.json OPENAI_KEY_1: is still the placeholder");
    expect(res.stdout).toContain("companion config against edge config: OK");
    for (const value of Object.values(secrets)) expect(res.stdout).not.toContain(value);
  });

  it("prints the client set-up and refuses to overwrite without --force", async () => {
    const dir = tempDir();
    const args = ["init", "--yes", "--dir", dir, "--provider", "anthropic", "--time-zone", "UTC", "--listen", "127.0.0.1:9090"];
    const res = await ferry(args);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("export ANTHROPIC_BASE_URL=http://127.0.0.1:9090");
    expect(res.stdout).toContain('export ANTHROPIC_AUTH_TOKEN="$FERRY_KEY"');
    expect(res.stdout).toContain("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1");
    expect(res.stdout).toContain('[model_providers.ferry]\n  name = "Ferry"\n  base_url = "http://127.0.0.1:9090/v1"\n  env_key = "FERRY_KEY"\n  wire_api = "responses"');
    expect(res.stdout).toContain("export GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:9090");
    expect(res.stdout).toContain('export GEMINI_API_KEY="$FERRY_KEY"');
    expect(res.stdout).toContain('"selectedType": "gemini-api-key"');
    // The key itself is not printed: it is read from .env.
    const env = parseEnv(readFileSync(join(dir, ".env"), "utf8")) as Record<string, string>;
    for (const value of Object.values(env)) expect(res.stdout).not.toContain(value);

    const again = await ferry(args);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exist");
    expect((await ferry([...args, "--force"])).code).toBe(0);
    expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
  });

  it("refuses unknown providers and bad names; builds a valid edge config for every preset", async () => {
    const res = await ferry(["init", "--yes", "--dir", tempDir(), "--provider", "nosuch"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown provider");
    expect((await ferry(["init", "--yes", "--dir", tempDir(), "--companion-id", "Bad Id"])).code).toBe(2);

    const files = buildFiles(
      { dir: "/x", edgeUrls: ["https://e.example"], companionId: "office", providers: PROVIDERS, projects: ["p"], ollamaUrl: null, timeZone: "UTC", host: "0.0.0.0", port: 8080 },
      { companionSecret: randomSecret(), projectKeys: { p: "fp-" + randomSecret() } },
    );
    const secrets = JSON.parse(files["secrets.json"]) as Record<string, string>;
    const edge = await loadConfig(secrets);
    expect(edge.ok ? [] : edge.error).toEqual([]);
    const companion = parseConfig(files["ferry.yaml"], parseEnv(files[".env"]) as NodeJS.ProcessEnv);
    expect(companion.ok ? [] : companion.error).toEqual([]);
  });
});

describe("ferry validate", () => {
  it("exits 1 on a broken companion config, printing paths and reasons but no value", async () => {
    const dir = tempDir();
    const secret = "short-secret-" + randomSecret().slice(0, 8);
    const envSecret = randomSecret();
    writeFileSync(join(dir, ".env"), `MY_KEY=${envSecret}\n`);
    writeFileSync(
      join(dir, "ferry.yaml"),
      [
        "link:",
        '  edges: ["not a url"]',
        "  companionId: office",
        `  secret: ${secret}`,
        "edgePools: { openai: { dialect: openai } }",
        'models: { "gpt-*": ["edge:nopool/*"] }',
        "timeZone: Mars/Olympus",
        "projects:",
        "  - id: p",
        '    keys: ["${MY_KEY}", "${MISSING_KEY}"]',
        "",
      ].join("\n"),
    );
    const res = await ferry(["validate", "--config", join(dir, "ferry.yaml")]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("link.edges[0]: ");
    expect(res.stdout).toContain("link.secret: ");
    expect(res.stdout).toContain("projects[0].keys[1]: refers to environment variable MISSING_KEY, which is not set");
    expect(res.stdout).not.toContain(secret);
    expect(res.stdout).not.toContain(envSecret);
    expect(res.stdout).not.toContain("not a url");

    // Fixed, it passes (the .env beside the config supplies MY_KEY; MISSING_KEY from the environment).
    writeFileSync(join(dir, "ferry.yaml"), `projects:\n  - id: p\n    keys: ["\${MY_KEY}", "\${MISSING_KEY}"]\n`);
    const ok = await ferry(["validate", "--config", join(dir, "ferry.yaml")], { env: { MISSING_KEY: "fp-" + randomSecret() } });
    expect(ok.stdout).toContain(": OK");
    expect(ok.code).toBe(0);
  });

  it("checks the edge config with its secrets and against the companion; never echoes a value", async () => {
    const dir = await initInto();
    const secrets = readJson(join(dir, "secrets.json"));
    const realKey = "sk-" + randomSecret();
    const edited: Record<string, string> = { ...secrets, OPENAI_KEY_1: realKey };
    delete edited.GEMINI_KEY_1;
    writeFileSync(join(dir, "secrets.json"), JSON.stringify(edited));
    const res = await ferry(["validate", "--edge-config", join(dir, "edge.json"), "--secrets", join(dir, "secrets.json")]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("pools.gemini.members[0].key: refers to secret GEMINI_KEY_1, which is not set");
    expect(res.stdout).not.toContain(realKey);

    // A companion whose secret differs from the edge's: the cross-check says which field.
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ ...secrets, COMPANION_SHANGHAI_OFFICE_SECRET: randomSecret() }));
    const mismatch = await ferry(["validate", "--config", join(dir, "ferry.yaml"), "--edge-config", join(dir, "edge.json"), "--secrets", join(dir, "secrets.json")]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain("link.secret: does not match the edge's secret for companion shanghai-office");

    writeFileSync(join(dir, "edge.json"), '{"pools": {"x": ');
    const broken = await ferry(["validate", "--edge-config", join(dir, "edge.json")]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("FERRY_CONFIG: is not valid JSON");
  });
});

describe("ferry doctor", () => {
  let edge: Edge;
  let ollama: FakeOllama;
  let dir: string;
  let secrets: Record<string, string>;

  beforeAll(async () => {
    ollama = await FakeOllama.start();
    dir = tempDir();
    const res = await ferry(["init", "--yes", "--dir", dir, "--edge-url", "http://127.0.0.1:9", "--provider", "openai,anthropic", "--ollama-url", ollama.url, "--time-zone", "UTC"]);
    expect(res.code).toBe(0);
    secrets = readJson(join(dir, "secrets.json"));
    edge = await startEdge(secrets.FERRY_CONFIG, { secrets });
    const path = join(dir, "ferry.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace("http://127.0.0.1:9", edge.url));
  });
  afterAll(async () => {
    await edge?.close();
    await ollama?.close();
  });

  it("passes every check against a real local edge", async () => {
    const res = await ferry(["doctor", "--config", join(dir, "ferry.yaml")]);
    const lines = res.stdout.trim().split("\n");
    expect(lines.filter((l) => !l.startsWith("PASS"))).toEqual([]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^PASS {2}config .* valid/m);
    expect(res.stdout).toContain(`PASS  edge ${edge.url} reachable`);
    expect(res.stdout).toContain(`PASS  edge ${edge.url} config valid`);
    expect(res.stdout).toContain(`PASS  signature accepted by ${edge.url} (companion office; pools: openai, anthropic)`);
    expect(res.stdout).toMatch(new RegExp(`PASS {2}tunnel to ${edge.url.replace(/\./g, "\\.")} opens \\(\\d+ ms\\), RTT \\d+ ms`));
    expect(res.stdout).toMatch(/PASS {2}Ollama at .* reachable, \d+ model/);
    expect(res.stdout).toContain("PASS  egress proxy: none");
    expect(res.stdout).toContain("PASS  CA: the system roots only");
    for (const value of Object.values(secrets)) expect(res.stdout).not.toContain(value);
  });

  it("FAILs the signature with its fix when the companion secret is wrong", async () => {
    const wrong = randomSecret();
    // The process environment wins over the .env file.
    const res = await ferry(["doctor", "--config", join(dir, "ferry.yaml")], { env: { COMPANION_OFFICE_SECRET: wrong, HTTPS_PROXY: "http://user:hunter2@127.0.0.1:9", NO_PROXY: "127.0.0.1" } });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`FAIL  signature refused by ${edge.url} (401)`);
    expect(res.stdout).toMatch(/fix: link\.secret \(COMPANION_OFFICE_SECRET in \.env\) must equal the edge's secret for companion "office"/);
    expect(res.stdout).toContain(`PASS  edge ${edge.url} reachable`);
    // The proxy is shown without its password, and NO_PROXY keeps the edge direct.
    expect(res.stdout).toContain("egress proxy http://***@127.0.0.1:9 (from HTTPS_PROXY)");
    expect(res.stdout).not.toContain("hunter2");
    expect(res.stdout).not.toContain(wrong);
  });

  it("FAILs an unreachable edge and an invalid config with fixes", async () => {
    const other = tempDir();
    const path = join(other, "ferry.yaml");
    writeFileSync(join(other, ".env"), readFileSync(join(dir, ".env")));
    const closed = `http://127.0.0.1:${await closedPort()}`;
    writeFileSync(path, readFileSync(join(dir, "ferry.yaml"), "utf8").replace(edge.url, closed));
    const down = await ferry(["doctor", "--config", path, "--timeout-ms", "2000"]);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(`FAIL  edge ${closed} cannot be reached (GET /health: ECONNREFUSED)`);
    expect(down.stdout).toContain("fix: nothing listens there");

    writeFileSync(path, "projects: []\n");
    const invalid = await ferry(["doctor", "--config", path]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^FAIL {2}config .*projects: /m);
  });
});

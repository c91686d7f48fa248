/**
 * examples/java (the JDK-only client for Java services, seed 004) compiled with the real
 * `javac` and run with `java` against the real companion → tunnel → worker in workerd →
 * stand-in OpenAI upstream: its answers, plain and streamed, through `/v1` and through
 * `/proxy/{pool}`, the JSON it wrote, and its retries on a 429 with retry-after and a 503.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { mocks } from "../helpers/provider-mocks.ts";
import { behaviours } from "../helpers/upstream.ts";

const SOURCES = fileURLToPath(new URL("../../examples/java/", import.meta.url));
const KEY = projectKey();
/** Quotes, a backslash, a newline, a tab, a control character, accents, CJK and an astral emoji: every escape the JSON reader must get right. */
const ANSWER = 'Grüße "Ferry" \\ 你好 😀\n\tdone\u0001';
const PROMPT = 'Say "hi" to Zoë \\ 👋\nthen\tstop\u0002';

let chain: Chain;
let classes: string;

beforeAll(async () => {
  classes = mkdtempSync(join(tmpdir(), "ferry-java-"));
  try {
    await promisify(execFile)("javac", ["-Xlint:all", "-Werror", "-d", classes, join(SOURCES, "FerryClient.java"), join(SOURCES, "Main.java")]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error("javac not found on PATH: this test needs a JDK 17 (apt-get install -y openjdk-17-jdk-headless; .ci/run installs it)");
    throw new Error(`javac failed:\n${e.stderr ?? e.message}`);
  }
  chain = await startChain({
    pools: { openai: { type: "openai", prefix: "/oai" } },
    companion: () => ({
      edgePools: { openai: { dialect: "openai" } },
      models: { "gpt-4o-mini": ["edge:openai/*"] },
      projects: [{ id: "java-service", keys: [KEY] }],
    }),
  });
  chain.up.on("/oai", mocks.openai({ text: ANSWER }));
}, 120_000);

afterAll(async () => {
  await chain?.close();
  if (classes) rmSync(classes, { recursive: true, force: true });
});

/** Runs Main; C.UTF-8 so the JVM decodes a non-ASCII argument (its stdout is UTF-8 whatever the locale). */
function runJava(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("java", ["-cp", classes, "Main", ...args], {
      env: { ...process.env, LC_ALL: "C.UTF-8", FERRY_BASE_URL: "", FERRY_API_KEY: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const sentBodies = (from: number) => chain.up.hits("/oai").slice(from).map((r) => JSON.parse(r.body.toString("utf8")));

describe("examples/java against the companion", () => {
  it("prints the answer of a plain and of a streamed call, base URL and key from the environment", async () => {
    const before = chain.up.hits("/oai").length;
    const run = await runJava([PROMPT], { FERRY_BASE_URL: chain.url, FERRY_API_KEY: KEY });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`plain: ${ANSWER}\nstream: ${ANSWER}\n`);
    const hits = chain.up.hits("/oai").slice(before);
    expect(hits.map((h) => h.url)).toEqual(["/oai/v1/chat/completions", "/oai/v1/chat/completions"]);
    // What the hand-written JSON writer sent, read back by a real parser.
    expect(sentBodies(before)).toEqual([
      { model: "gpt-4o-mini", messages: [{ role: "user", content: PROMPT }], stream: false },
      { model: "gpt-4o-mini", messages: [{ role: "user", content: PROMPT }], stream: true },
    ]);
    for (const hit of hits) {
      expect(hit.headers["user-agent"]).not.toMatch(/java/i);
      expect(JSON.stringify(hit.headers)).not.toContain(KEY);
    }
  });

  it("speaks seed 004's /proxy/{pool}/... contract, base URL and key from the arguments", async () => {
    const before = chain.up.hits("/oai").length;
    const run = await runJava(["--base-url", `${chain.url}/`, "--api-key", KEY, "--proxy", "openai", PROMPT]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(`plain: ${ANSWER}\nstream: ${ANSWER}\n`);
    expect(sentBodies(before).map((b) => [b.messages[0].content, b.stream])).toEqual([
      [PROMPT, false],
      [PROMPT, true],
    ]);
  });

  it("retries a 429 after its retry-after and a 503 with backoff, then succeeds", async () => {
    const before = chain.up.hits("/oai").length;
    // A single-member pool: the edge has no other member to try, so the upstream's own answer
    // (429 with retry-after: 1, then a 503 for the stream) reaches the companion, which has no
    // other target either, and the Java client sees it.
    chain.up.once(
      "/oai",
      behaviours.json(429, { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }, { "retry-after": "1" }),
      mocks.openai({ text: ANSWER }),
      behaviours.json(503, { error: { message: "The server is overloaded", type: "server_error" } }),
    );
    const run = await runJava([PROMPT], { FERRY_BASE_URL: chain.url, FERRY_API_KEY: KEY });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`plain: ${ANSWER}\nstream: ${ANSWER}\n`);
    const notices = run.stderr.split("\n").filter((l) => l.startsWith("ferry: "));
    const first429 = /^ferry: attempt 1 got 429 \(retry-after 1 s\), retrying in (\d+) ms$/.exec(notices[0] ?? "");
    expect(first429, run.stderr).not.toBeNull();
    expect(Number(first429![1])).toBeGreaterThanOrEqual(1000);
    expect(notices.some((l) => /^ferry: attempt 1 got 503, retrying in \d+ ms$/.test(l)), run.stderr).toBe(true);
    // Whatever the edge answered itself while its member cooled down, the upstream saw each
    // call once refused and once served, in order.
    expect(sentBodies(before).map((b) => b.stream)).toEqual([false, false, true, true]);
  });

  it("gives up at once on a 401, with the companion's message", async () => {
    const run = await runJava(["--base-url", chain.url, "--api-key", "fp-not-a-key", PROMPT]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim()).toBe("ferry: HTTP 401: invalid API key");
  });
});

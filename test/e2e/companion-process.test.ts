/**
 * The companion as a process: hot reload of its YAML file, and two companion processes
 * sharing one Redis under concurrent load never letting a project past its limit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCompanion } from "../../companion/main.ts";
import { FakeOllama, textStream } from "../helpers/ollama.ts";
import { projectKey } from "../helpers/companion.ts";
import { sleep } from "../helpers/upstream.ts";

let ollama: FakeOllama;
let dir: string;
beforeAll(async () => {
  ollama = await FakeOllama.start();
  ollama.chatReply = { model: "m", created_at: new Date().toISOString(), message: { role: "assistant", content: "ok" }, done: true, done_reason: "stop", prompt_eval_count: 1, eval_count: 1 };
  dir = mkdtempSync(join(tmpdir(), "ferry-proc-"));
});
afterAll(async () => {
  await ollama?.close();
  rmSync(dir, { recursive: true, force: true });
});

const yaml = (key: string, models: string, extra = "") => `
server: { host: 127.0.0.1, port: 0 }
ollama: { baseUrl: "${ollama.url}" }
models:
${models}
projects:
  - id: team
    keys: ["${key}"]
${extra}
audit: { path: "${join(dir, "audit-" + randomBytes(4).toString("hex") + ".db")}" }
store: { kind: sqlite, path: "${join(dir, "q-" + randomBytes(4).toString("hex") + ".db")}" }
`;

const chat = (url: string, key: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  }).then(async (r) => (await r.text(), r.status));

describe("hot reload", () => {
  it("serves a route added to the file, and keeps serving when the next edit is invalid", async () => {
    const key = projectKey();
    const file = join(dir, "reload.yaml");
    writeFileSync(file, yaml(key, `  first: ["ollama:m"]`));
    const running = await startCompanion(file);
    try {
      expect(await chat(running.url, key, "first")).toBe(200);
      expect(await chat(running.url, key, "second")).toBe(404);
      writeFileSync(file, yaml(key, `  first: ["ollama:m"]\n  second: ["ollama:m"]`));
      for (let i = 0; i < 100 && (await chat(running.url, key, "second")) !== 200; i++) await sleep(50);
      expect(await chat(running.url, key, "second")).toBe(200);
      writeFileSync(file, yaml(key, `  first: ["nowhere:m"]`));
      await sleep(400); // the watcher's debounce is 100 ms: give a refused reload time to happen
      expect(await chat(running.url, key, "first")).toBe(200);
      expect(await chat(running.url, key, "second")).toBe(200);
    } finally {
      await running.stop();
    }
  });
});

describe("two companion processes on one Redis", () => {
  const prefix = `ferry-test:${randomBytes(6).toString("hex")}:`;
  const procs: ChildProcess[] = [];
  afterAll(async () => {
    for (const p of procs) p.kill("SIGTERM");
    const redis = new Redis("redis://127.0.0.1:6379");
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  async function startProcess(file: string): Promise<string> {
    const child = spawn(process.execPath, ["companion/main.ts", "--config", file], { stdio: ["ignore", "pipe", "pipe"] });
    procs.push(child);
    return new Promise<string>((resolve, reject) => {
      let out = "";
      child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /"msg":"companion listening","url":"([^"]+)"/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`companion exited with ${code}: ${out}`)));
    });
  }

  it("admits exactly the limit from 2 × 200 concurrent requests", async () => {
    const key = projectKey();
    ollama.chatStream = textStream("m", ["ok"]);
    const file = join(dir, "redis.yaml");
    writeFileSync(
      file,
      yaml(key, `  shared: ["ollama:m"]`, `    limits: { requestsPerDay: 100 }`).replace(/store: .*\n/, `store: { kind: redis, url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}" }\n`),
    );
    const [a, b] = await Promise.all([startProcess(file), startProcess(file)]);
    const statuses = await Promise.all([...Array.from({ length: 200 }, () => chat(a, key, "shared")), ...Array.from({ length: 200 }, () => chat(b, key, "shared"))]);
    expect(statuses.filter((s) => s === 200).length).toBe(100);
    expect(statuses.filter((s) => s === 429).length).toBe(300);
  });
});

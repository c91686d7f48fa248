import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../log.ts";
import { configJsonSchema, parseConfig } from "./load.ts";
import { watchConfig } from "./watch.ts";

const KEY = "proj-key-0123456789abcdef-XYZ";
const SECRET = "s".repeat(40);
const base = (extra = "") => `
link: { edges: ["http://127.0.0.1:1"], companionId: office, secret: "\${SECRET}" }
edgePools: { anthropic: { dialect: anthropic } }
models:
  claude-sonnet-4-5: ["edge:anthropic/*", "ollama:qwen2.5-coder:32b"]
ollama: {}
projects:
  - id: payments
    keys: ["\${PAYMENTS_KEY}"]
${extra}`;
const env = { SECRET, PAYMENTS_KEY: KEY };

describe("parseConfig", () => {
  it("substitutes ${ENV} references and applies defaults", () => {
    const result = parseConfig(base(), env);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value.projects[0]!.keys).toEqual([KEY]);
    expect(result.value.link!.secret).toBe(SECRET);
    expect(result.value.link!.transport).toBe("auto");
    expect(result.value.store).toEqual({ kind: "sqlite", path: "data/ferry.db" });
    expect(result.value.scrub.metadataUserId).toBe("drop");
    expect(result.value.server.port).toBe(8080);
  });

  it("names a missing environment variable at its path, without any value", () => {
    const result = parseConfig(base(), { SECRET });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContainEqual({ path: "projects[0].keys[0]", message: "refers to environment variable PAYMENTS_KEY, which is not set" });
    expect(JSON.stringify(result.error)).not.toContain(SECRET);
  });

  it("reports cross-reference errors with paths", () => {
    const text = `
edgePools: {}
models: { m: ["edge:nowhere/x", "ollama:y"] }
timeZone: Mars/Olympus
projects:
  - { id: a, keys: ["${KEY}"] }
  - { id: a, keys: ["${KEY}"] }
`;
    const result = parseConfig(text, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.error.map((i) => i.path).sort();
    expect(paths).toEqual(["models.m[0]", "models.m[0]", "models.m[1]", "projects[1].id", "projects[1].keys[0]", "timeZone"]);
    expect(JSON.stringify(result.error)).not.toContain(KEY);
  });

  it("refuses an OpenAI pool that serves no API, or translates via one it does not serve", () => {
    const text = `
edgePools:
  none: { dialect: openai, chatApi: false }
  via: { dialect: openai, translateVia: responses }
  ok: { dialect: openai, chatApi: false, responsesApi: true }
projects:
  - { id: a, keys: ["${KEY}"] }
`;
    const result = parseConfig(text, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.map((i) => i.path).sort()).toEqual(["edgePools.none.chatApi", "edgePools.via.translateVia"]);
  });

  it("refuses YAML that does not parse, giving the line but not the text", () => {
    const result = parseConfig(`projects:\n  - id: a\n    keys: [${KEY}\n`, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error[0]!.message).toMatch(/^is not valid YAML/);
    expect(JSON.stringify(result.error)).not.toContain(KEY);
  });

  it("refuses unknown keys (typos) by name", () => {
    const result = parseConfig(base("serverr: {}"), env);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error[0]!.message).toContain("serverr");
  });

  it("accepts the example config in the repository", () => {
    const text = readFileSync(new URL("../../examples/companion.yaml", import.meta.url), "utf8");
    const result = parseConfig(text, { FERRY_EDGE_URL: "http://127.0.0.1:8787", FERRY_COMPANION_SECRET: SECRET, FERRY_DEMO_PROJECT_KEY: KEY });
    expect(result.ok ? "ok" : JSON.stringify(result.error)).toBe("ok");
  });
});

describe("the committed JSON Schema", () => {
  it("matches the zod schema (run `npm run schema` after changing it)", () => {
    const committed = JSON.parse(readFileSync(new URL("./ferry.schema.json", import.meta.url), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});

describe("hot reload", () => {
  it("swaps in a valid change and keeps the running config when the new file is invalid", () => {
    const dir = mkdtempSync(join(tmpdir(), "ferry-config-"));
    const file = join(dir, "ferry.yaml");
    const lines: string[] = [];
    const log = createLogger("info", (line) => lines.push(line));
    try {
      writeFileSync(file, base());
      const applied: number[] = [];
      const reloader = watchConfig(file, (config) => applied.push(config.projects.length), log, env);
      writeFileSync(file, base(`  - id: second\n    keys: ["another-key-0123456789abcdef"]`));
      expect(reloader.reload()).toBe(true);
      expect(applied).toEqual([2]);
      writeFileSync(file, base(`  - id: third\n    keys: ["short"]`));
      expect(reloader.reload()).toBe(false);
      expect(applied).toEqual([2]);
      const refused = lines.map((l) => JSON.parse(l)).find((l) => l.msg.startsWith("config reload refused"));
      expect(refused.issues).toEqual([{ path: "projects[1].keys[0]", message: "project keys must be at least 24 characters" }]);
      expect(lines.join("\n")).not.toContain("short\"");
      reloader.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Embeddings across dialects end to end: the OpenAI SDK (`embeddings.create`, float and its
 * default base64) and the genai SDK (`models.embedContent`, which calls `:batchEmbedContents`
 * on the Gemini API) against OpenAI, Gemini and Ollama targets, through the companion, the
 * tunnel and the worker in workerd (or the stand-in Ollama). Vectors must arrive exact and each
 * stand-in must have been spoken to in its own dialect.
 */
import { ApiError, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteAuditLog } from "../../companion/audit/sqlite-audit.ts";
import { geminiEmbed, geminiVector, recordAnswers, type RecordedAnswers } from "../helpers/embedding-mocks.ts";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { DEFAULT_INPUT_TOKENS, mocks } from "../helpers/provider-mocks.ts";
import { behaviours } from "../helpers/upstream.ts";

const KEY = projectKey();
let chain: Chain;
let openaiAnswers: RecordedAnswers;

/** The stand-in Ollama's default answer: [i + 0.5, -(i + 0.25), 0.125] per input. */
const ollamaVector = (i: number) => [i + 0.5, -(i + 0.25), 0.125];

beforeAll(async () => {
  chain = await startChain({
    pools: {
      openai: { type: "openai", prefix: "/oai" },
      gemini: { type: "gemini", prefix: "/gem" },
      anthropic: { type: "anthropic", prefix: "/ant" },
    },
    companion: () => ({
      edgePools: { openai: { dialect: "openai" }, gemini: { dialect: "gemini" }, anthropic: { dialect: "anthropic" } },
      models: {
        "embed-openai": ["edge:openai/text-embedding-3-small"],
        "embed-gemini": ["edge:gemini/gemini-embedding-001"],
        "embed-ollama": ["ollama:nomic-embed-text"],
        "embed-anthropic": ["edge:anthropic/claude-target"],
      },
      projects: [{ id: "emb", keys: [KEY] }],
    }),
  });
  openaiAnswers = recordAnswers(mocks.openai());
  chain.up.on("/oai", openaiAnswers.behaviour);
  chain.up.on("/gem", geminiEmbed({ dims: 16 }));
  chain.up.on("/ant", mocks.anthropicMessages());
});

afterAll(async () => {
  await chain?.close();
});

const openai = () => new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
const genai = () => new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: chain.url } });
const lastHit = (prefix: string) => {
  const rec = chain.up.hits(prefix).at(-1)!;
  return { url: rec.url, body: JSON.parse(rec.body.toString()) };
};
const lastOllama = () => chain.ollama.requests.filter((r) => r.path === "/api/embed").at(-1)!;

/** The vectors mocks.openai last answered (float: the hub asks for the default encoding). */
const openaiSent = () => {
  const vectors = (openaiAnswers.last() as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);
  expect(vectors.length).toBeGreaterThan(0);
  for (const v of vectors) expect(v.every((x) => typeof x === "number")).toBe(true);
  return vectors;
};

describe("OpenAI client → Gemini target", () => {
  it("float: the vectors arrive exact; Gemini got batchEmbedContents with the routed model", async () => {
    const res = await openai().embeddings.create({ model: "embed-gemini", input: ["alpha", "beta"], encoding_format: "float", dimensions: 8 });
    expect(res.data.map((d) => d.embedding)).toEqual([geminiVector("alpha", 8), geminiVector("beta", 8)]);
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    expect(res.model).toBe("embed-gemini");
    const hit = lastHit("/gem");
    expect(hit.url).toBe("/gem/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(hit.body).toEqual({
      requests: [
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "alpha" }] }, outputDimensionality: 8 },
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "beta" }] }, outputDimensionality: 8 },
      ],
    });
  });

  it("the SDK's default (base64) decodes to the same float32 vectors", async () => {
    const res = await openai().embeddings.create({ model: "embed-gemini", input: "gamma" });
    expect(res.data.map((d) => d.embedding)).toEqual([geminiVector("gamma", 16)]);
    expect(lastHit("/gem").body.requests).toEqual([{ model: "models/gemini-embedding-001", content: { parts: [{ text: "gamma" }] } }]);
  });

  it("base64 on the wire is little-endian float32, as OpenAI sends it", async () => {
    const res = await fetch(`${chain.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "embed-gemini", input: "delta", encoding_format: "base64", user: "someone" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ferry-dropped")).toBe("embeddings.user");
    const body = await res.json();
    expect(body).toMatchObject({ object: "list", model: "embed-gemini", data: [{ object: "embedding", index: 0 }] });
    const bytes = Buffer.from(body.data[0].embedding, "base64");
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).toEqual(geminiVector("delta", 16));
  });

  it("a Gemini error comes back in OpenAI's shape with its status", async () => {
    chain.up.once("/gem", behaviours.json(400, { error: { code: 400, message: "Request contains an invalid argument.", status: "INVALID_ARGUMENT" } }));
    const error = await openai()
      .embeddings.create({ model: "embed-gemini", input: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
    expect((error as Error).message).toContain("Request contains an invalid argument.");
  });
});

describe("OpenAI client → Ollama target", () => {
  it("float and base64 both arrive exact; Ollama got /api/embed", async () => {
    const float = await openai().embeddings.create({ model: "embed-ollama", input: ["a", "b"], encoding_format: "float" });
    expect(float.data.map((d) => d.embedding)).toEqual([ollamaVector(0), ollamaVector(1)]);
    expect(lastOllama().body).toMatchObject({ model: "nomic-embed-text", input: ["a", "b"] });
    const base64 = await openai().embeddings.create({ model: "embed-ollama", input: ["c", "d", "e"] });
    expect(base64.data.map((d) => d.embedding)).toEqual([ollamaVector(0), ollamaVector(1), ollamaVector(2)]);
    expect(lastOllama().body).toMatchObject({ model: "nomic-embed-text", input: ["c", "d", "e"] });
  });
});

describe("Gemini client → OpenAI target", () => {
  it("models.embedContent (batchEmbedContents): the vectors arrive exact; OpenAI got /v1/embeddings", async () => {
    const res = await genai().models.embedContent({ model: "embed-openai", contents: ["What is the meaning of life?", "How does the brain work?"], config: { outputDimensionality: 8, taskType: "RETRIEVAL_DOCUMENT" } });
    expect(res.embeddings?.map((e) => e.values)).toEqual(openaiSent());
    expect(res.embeddings).toHaveLength(2);
    expect(res.embeddings?.[0]?.values).toHaveLength(8);
    const hit = lastHit("/oai");
    expect(hit.url).toBe("/oai/v1/embeddings");
    expect(hit.body).toEqual({ model: "text-embedding-3-small", input: ["What is the meaning of life?", "How does the brain work?"], dimensions: 8 });
  });

  it("usage reaches the answer and the audit record (quotas settle on it)", async () => {
    const res = await fetch(`${chain.url}/v1beta/models/embed-openai:batchEmbedContents`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify({ requests: [{ model: "models/embed-openai", content: { parts: [{ text: "one" }] } }] }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.embeddings).toHaveLength(1);
    expect(body.embeddings.map((e: { values: number[] }) => e.values)).toEqual(openaiSent());
    expect(body.usageMetadata).toEqual({ promptTokenCount: DEFAULT_INPUT_TOKENS, totalTokenCount: DEFAULT_INPUT_TOKENS });
    const audit = new SqliteAuditLog(chain.config.audit.path);
    try {
      const record = audit.byId(res.headers.get("x-ferry-request-id")!)!;
      expect(record).toMatchObject({ endpoint: "gemini.batch_embed", target: "edge:openai", servedModel: "text-embedding-3-small", inputTokens: DEFAULT_INPUT_TOKENS, status: 200 });
    } finally {
      audit.close();
    }
  });

  it(":embedContent answers one embedding", async () => {
    const res = await fetch(`${chain.url}/v1beta/models/embed-openai:embedContent`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify({ model: "models/embed-openai", content: { parts: [{ text: "single" }] }, taskType: "RETRIEVAL_QUERY" }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.embedding.values).toEqual(openaiSent()[0]);
    expect(body.embeddings).toBeUndefined();
    expect(lastHit("/oai").body).toEqual({ model: "text-embedding-3-small", input: ["single"] });
  });

  it("an OpenAI error comes back in Gemini's shape with its status", async () => {
    chain.up.once("/oai", behaviours.json(400, { error: { message: "This model's maximum context length is 8192 tokens", type: "invalid_request_error", param: null, code: null } }));
    const error = await genai()
      .models.embedContent({ model: "embed-openai", contents: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain("maximum context length");
  });
});

describe("Gemini client → Ollama target", () => {
  it("models.embedContent: the vectors arrive exact; Ollama got /api/embed", async () => {
    const res = await genai().models.embedContent({ model: "embed-ollama", contents: ["x", "y"], config: { outputDimensionality: 3 } });
    expect(res.embeddings?.map((e) => e.values)).toEqual([ollamaVector(0), ollamaVector(1)]);
    expect(lastOllama().body).toEqual({ model: "nomic-embed-text", input: ["x", "y"], dimensions: 3 });
  });
});

describe("Gemini client → Gemini target (same dialect)", () => {
  it("passes through to the same action, with the models in the body renamed to the target's", async () => {
    const res = await genai().models.embedContent({ model: "embed-gemini", contents: ["p", "q"], config: { taskType: "SEMANTIC_SIMILARITY" } });
    expect(res.embeddings?.map((e) => e.values)).toEqual([geminiVector("p", 16), geminiVector("q", 16)]);
    const hit = lastHit("/gem");
    expect(hit.url).toBe("/gem/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(hit.body.requests.map((r: { model: string; taskType: string }) => [r.model, r.taskType])).toEqual([
      ["models/gemini-embedding-001", "SEMANTIC_SIMILARITY"],
      ["models/gemini-embedding-001", "SEMANTIC_SIMILARITY"],
    ]);
  });
});

describe("what cannot be translated", () => {
  it("token arrays: 400 unsupported, in OpenAI's shape, nothing sent", async () => {
    const before = chain.up.hits("/gem").length;
    const error = await openai()
      .embeddings.create({ model: "embed-gemini", input: [[1, 2, 3]], encoding_format: "float" })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("unsupported");
    expect(chain.up.hits("/gem").length).toBe(before);
  });

  it("an Anthropic target (no embeddings): 400 unsupported", async () => {
    const res = await fetch(`${chain.url}/v1beta/models/embed-anthropic:batchEmbedContents`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify({ requests: [{ content: { parts: [{ text: "x" }] } }] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain("cannot be translated");
    expect(chain.up.hits("/ant").length).toBe(0);
  });
});

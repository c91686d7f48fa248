import { describe, expect, it } from "vitest";
import { codec } from "./index.ts";
import { fixture, unwrap } from "./test-helpers.ts";

const CTX = { model: "alias", id: "x", now: 0 };

describe("embeddings (/api/embed)", () => {
  it("request: list or single text; dimensions kept; truncate and keep_alive recorded", () => {
    expect(unwrap(codec.decodeEmbeddings!(fixture("embed-request.json"), {}))).toEqual({
      model: "all-minilm",
      inputs: ["Why is the sky blue?", "Why is the grass green?"],
      dropped: [],
    });
    const single = unwrap(codec.decodeEmbeddings!({ model: "all-minilm", input: "hello", dimensions: 256, truncate: false, keep_alive: "5m" }, { model: "target" }));
    expect(single).toMatchObject({ model: "target", inputs: ["hello"], dimensions: 256 });
    expect(single.dropped.map((d) => d.feature)).toEqual(["embeddings.truncate", "embeddings.keep_alive"]);
    for (const body of [null, { model: "m" }, { model: "m", input: [1, 2] }, { model: "m", input: "x", dimensions: -3 }, { input: "x" }]) {
      expect(codec.decodeEmbeddings!(body, {}).ok, JSON.stringify(body)).toBe(false);
    }
  });

  it("request encode", () => {
    const ir = unwrap(codec.decodeEmbeddings!(fixture("embed-request.json"), {}));
    expect(unwrap(codec.encodeEmbeddings!({ ...ir, dimensions: 384 }, { model: "nomic-embed-text" }))).toEqual({
      body: { model: "nomic-embed-text", input: ["Why is the sky blue?", "Why is the grass green?"], dimensions: 384 },
      dropped: [],
    });
  });

  it("response ⇄ IR with usage", () => {
    const body = fixture("embed-response.json");
    const ir = unwrap(codec.decodeEmbeddingsResponse!(body));
    expect(ir).toEqual({ model: "all-minilm", vectors: body.embeddings, usage: { inputTokens: 8 } });
    expect(codec.encodeEmbeddingsResponse!(ir, CTX)).toEqual({ model: "alias", embeddings: body.embeddings, prompt_eval_count: 8 });
    expect(codec.decodeEmbeddingsResponse!({ error: "model not found" }).ok).toBe(false);
    expect(codec.decodeEmbeddingsResponse!({ embeddings: [["x"]] }).ok).toBe(false);
  });
});

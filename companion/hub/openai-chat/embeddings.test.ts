import { readFileSync } from "node:fs";
import fc from "fast-check";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { IrEmbeddingsRequest, IrEmbeddingsResponse } from "../ir.ts";
import { base64ToFloats, floatsToBase64 } from "./embeddings.ts";
import { codec, encodingFormatOf } from "./index.ts";

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
const ctx = { model: "ferry-embed", id: "x", now: 0 };

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const V0 = [0.0023064255, -0.009327292, 0.015797347, -0.0077780345, -0.0028842222];
const V1 = [-0.011635053, 0.0021568318, -0.02098013, 0.0059912964, 0.013391748];

describe("OpenAI embeddings request ⇄ IR", () => {
  it("golden: a list of texts, dimensions kept, encoding_format no drop, user dropped", () => {
    expect(unwrap(codec.decodeEmbeddings!(fixture("embeddings-request.json"), {}))).toEqual({
      model: "text-embedding-3-small",
      inputs: ["The food was delicious and the waiter...", "The service was slow."],
      dimensions: 5,
      dropped: [{ feature: "embeddings.user", reason: "the end-user id is not passed to another dialect" }],
    });
    expect(encodingFormatOf(fixture("embeddings-request.json"))).toBe("float");
  });

  it("a single string; the routed model wins; unknown fields are recorded", () => {
    const ir = unwrap(codec.decodeEmbeddings!({ model: "alias", input: "hello", encoding_format: "base64", extra: 1 }, { model: "target" }));
    expect(ir).toEqual({ model: "target", inputs: ["hello"], dropped: [{ feature: "embeddings.extra", reason: "not an embeddings field the hub knows" }] });
    expect(encodingFormatOf({ input: "x", encoding_format: "base64" })).toBe("base64");
    expect(encodingFormatOf({ input: "x" })).toBe("float");
  });

  it("token arrays are unsupported; malformed input is a bad request", () => {
    for (const input of [[1, 2, 3], [[1, 2], [3]]]) {
      const r = codec.decodeEmbeddings!({ model: "m", input }, {});
      expect(r.ok ? null : r.error.code).toBe("unsupported");
    }
    for (const body of [null, [], { input: "x" }, { model: "m" }, { model: "m", input: [] }, { model: "m", input: ["a", 1] }, { model: "m", input: "x", dimensions: 0 }, { model: "m", input: "x", dimensions: 1.5 }, { model: "m", input: "x", encoding_format: "int8" }]) {
      const r = codec.decodeEmbeddings!(body, {});
      expect(r.ok ? null : r.error.code, JSON.stringify(body)).toBe("bad_request");
    }
  });

  it("encode: the target's model, inputs as a list, dimensions; no encoding_format (float is the default)", () => {
    const ir: IrEmbeddingsRequest = { model: "x", inputs: ["a", "b"], dimensions: 256, dropped: [] };
    expect(unwrap(codec.encodeEmbeddings!(ir, { model: "text-embedding-3-large" }))).toEqual({
      body: { model: "text-embedding-3-large", input: ["a", "b"], dimensions: 256 },
      dropped: [],
    });
    expect(unwrap(codec.encodeEmbeddings!({ model: "x", inputs: ["a"], dropped: [] }, { model: "m" })).body).toEqual({ model: "m", input: ["a"] });
  });

  it("round trip: decode(encode(ir)) keeps inputs and dimensions", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }), (inputs, dimensions) => {
        const ir: IrEmbeddingsRequest = { model: "m", inputs, dropped: [], ...(dimensions === undefined ? {} : { dimensions }) };
        const body = unwrap(codec.encodeEmbeddings!(ir, { model: "m" })).body;
        expect(unwrap(codec.decodeEmbeddings!(JSON.parse(JSON.stringify(body)), {}))).toEqual(ir);
      }),
    );
  });
});

describe("OpenAI embeddings answer ⇄ IR", () => {
  it("golden: float vectors and usage", () => {
    expect(unwrap(codec.decodeEmbeddingsResponse!(fixture("embeddings-response.json")))).toEqual({
      model: "text-embedding-3-small",
      vectors: [V0, V1],
      usage: { inputTokens: 13 },
    });
  });

  it("golden: base64 vectors decode to the same float32 values", () => {
    expect(unwrap(codec.decodeEmbeddingsResponse!(fixture("embeddings-response.base64.json")))).toEqual({
      model: "text-embedding-3-small",
      vectors: [V0.map(Math.fround), V1.map(Math.fround)],
      usage: { inputTokens: 13 },
    });
  });

  it("encode: the client's model, float by default, base64 when asked (the fixture's exact bytes)", () => {
    const ir: IrEmbeddingsResponse = { model: "upstream", vectors: [V0, V1], usage: { inputTokens: 13 } };
    expect(codec.encodeEmbeddingsResponse!(ir, ctx)).toEqual({ ...fixture("embeddings-response.json"), model: "ferry-embed" });
    expect(codec.encodeEmbeddingsResponse!(ir, { ...ctx, encodingFormat: "base64" } as never)).toEqual({ ...fixture("embeddings-response.base64.json"), model: "ferry-embed" });
    expect(codec.encodeEmbeddingsResponse!({ model: "", vectors: [[1]], usage: {} }, ctx)).toMatchObject({ usage: { prompt_tokens: 0, total_tokens: 0 } });
  });

  it("the SDK reads the base64 answer back to the same vectors", async () => {
    const ir: IrEmbeddingsResponse = { model: "upstream", vectors: [V0.map(Math.fround), V1.map(Math.fround)], usage: { inputTokens: 13 } };
    const body = JSON.stringify(codec.encodeEmbeddingsResponse!(ir, { ...ctx, encodingFormat: "base64" } as never));
    const client = new OpenAI({ apiKey: "k", baseURL: "http://127.0.0.1:9/v1", maxRetries: 0, fetch: async () => new Response(body, { headers: { "content-type": "application/json" } }) });
    const res = await client.embeddings.create({ model: "ferry-embed", input: ["a", "b"] });
    expect(res.data.map((d) => d.embedding)).toEqual(ir.vectors);
    expect(res.usage.prompt_tokens).toBe(13);
  });

  it("data out of order is put back by index; errors and malformed answers are refused", () => {
    const ir = unwrap(codec.decodeEmbeddingsResponse!({ object: "list", data: [{ index: 1, embedding: [2] }, { index: 0, embedding: [1] }], model: "m" }));
    expect(ir).toEqual({ model: "m", vectors: [[1], [2]], usage: {} });
    for (const body of [
      null,
      { error: { message: "Invalid API key", type: "invalid_request_error" } },
      { object: "list" },
      { data: [{ index: 0, embedding: ["x"] }] },
      { data: [{ index: 0, embedding: "abc" }] },
      { data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [2] }] },
      { data: [{ index: 1, embedding: [1] }] },
    ]) {
      expect(codec.decodeEmbeddingsResponse!(body).ok, JSON.stringify(body)).toBe(false);
    }
  });

  it("round trip through both encodings: float32 vectors come back exact", () => {
    const float32 = fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v)); // JSON has no -0
    fc.assert(
      fc.property(fc.array(fc.array(float32, { minLength: 1, maxLength: 16 }), { minLength: 1, maxLength: 4 }), fc.nat(), (vectors, tokens) => {
        const ir: IrEmbeddingsResponse = { model: "ferry-embed", vectors, usage: { inputTokens: tokens } };
        for (const encodingFormat of ["float", "base64"] as const) {
          const wire = JSON.parse(JSON.stringify(codec.encodeEmbeddingsResponse!(ir, { ...ctx, encodingFormat } as never)));
          expect(unwrap(codec.decodeEmbeddingsResponse!(wire))).toEqual(ir);
        }
      }),
    );
  });

  it("base64 helpers: little-endian float32, long vectors, bad input", () => {
    expect(floatsToBase64([1])).toBe(Buffer.from([0, 0, 0x80, 0x3f]).toString("base64"));
    const long = Array.from({ length: 20_000 }, (_, i) => Math.fround(Math.sin(i)));
    expect(base64ToFloats(floatsToBase64(long))).toEqual(long);
    expect(base64ToFloats("AAA=")).toBeNull();
    expect(base64ToFloats("not base64!")).toBeNull();
  });
});

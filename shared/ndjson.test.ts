import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ndjsonDecoderStream, NdjsonParser, type NdjsonItem } from "./ndjson.ts";

function parseChunks(chunks: string[], parser = new NdjsonParser()): NdjsonItem[] {
  const out: NdjsonItem[] = [];
  for (const chunk of chunks) out.push(...parser.push(chunk));
  out.push(...parser.end());
  return out;
}

async function parseBytes(chunks: Uint8Array[]): Promise<NdjsonItem[]> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const out: NdjsonItem[] = [];
  for await (const item of source.pipeThrough(ndjsonDecoderStream())) out.push(item);
  return out;
}

const ok = (value: unknown): NdjsonItem => ({ ok: true, value });

describe("NdjsonParser", () => {
  it("yields one value per line, at every split position", () => {
    const text = '{"a":1}\n[2,3]\n"four"\n5\nnull\n{"nested":{"x":"line\\nbreak"}}\n';
    const expected = [ok({ a: 1 }), ok([2, 3]), ok("four"), ok(5), ok(null), ok({ nested: { x: "line\nbreak" } })];
    expect(parseChunks([text])).toEqual(expected);
    for (let i = 0; i <= text.length; i++) expect(parseChunks([text.slice(0, i), text.slice(i)]), `split at ${i}`).toEqual(expected);
    expect(parseChunks([...text])).toEqual(expected);
  });

  it("tolerates CRLF", () => {
    expect(parseChunks(['{"a":1}\r\n{"b":2}\r', "\n"])).toEqual([ok({ a: 1 }), ok({ b: 2 })]);
  });

  it("skips blank and whitespace-only lines", () => {
    expect(parseChunks(['\n\n  \n\t\r\n{"a":1}\n\n \n{"b":2}\n\n'])).toEqual([ok({ a: 1 }), ok({ b: 2 })]);
  });

  it("reports a line that is not JSON and goes on", () => {
    const items = parseChunks(['{"a":1}\n{"broken":\n{"b":2}\r\n']);
    expect(items[0]).toEqual(ok({ a: 1 }));
    expect(items[1]).toMatchObject({ ok: false, line: '{"broken":' });
    expect(items[1]!.ok === false && items[1]!.error.length > 0).toBe(true);
    expect(items[2]).toEqual(ok({ b: 2 }));
  });

  it("parses a last line without LF at end()", () => {
    const parser = new NdjsonParser();
    expect(parser.push('{"a":1}\n{"b":')).toEqual([ok({ a: 1 })]);
    expect(parser.push("2}")).toEqual([]);
    expect(parser.end()).toEqual([ok({ b: 2 })]);
    expect(parser.end()).toEqual([]);
  });

  it("reports a cut-off last line as an error at end()", () => {
    expect(parseChunks(['{"a":1}\n{"b":'])).toEqual([ok({ a: 1 }), expect.objectContaining({ ok: false, line: '{"b":' })]);
  });

  it("drops one BOM at the start", () => {
    expect(parseChunks(["\uFEFF", '{"a":1}\n'])).toEqual([ok({ a: 1 })]);
  });

  it("is linear: a large input fed one character at a time", () => {
    const line = `${JSON.stringify({ text: "x".repeat(500) })}\n`;
    const text = line.repeat(10_000); // ~5 MB
    const parser = new NdjsonParser();
    let count = 0;
    const started = performance.now();
    for (let i = 0; i < text.length; i++) count += parser.push(text[i]!).length;
    expect(count).toBe(10_000);
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it("property: any values, serialized one a line, split anywhere, come back", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (values, points, crlf) => {
        const text = values.map((v) => JSON.stringify(v) + (crlf ? "\r\n" : "\n")).join("");
        const cuts = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let at = 0;
        for (const c of cuts) {
          chunks.push(text.slice(at, c));
          at = c;
        }
        chunks.push(text.slice(at));
        // JSON.parse(JSON.stringify(v)) is the reference (it turns -0 into 0).
        expect(parseChunks(chunks)).toEqual(values.map((v) => ok(JSON.parse(JSON.stringify(v)))));
      }),
      { numRuns: 300 },
    );
  });
});

describe("ndjsonDecoderStream", () => {
  it("decodes characters split across byte chunks, at every byte position", async () => {
    const bytes = new TextEncoder().encode('{"t":"héllo 😀 中文"}\n{"u":"✓"}');
    const expected = [ok({ t: "héllo 😀 中文" }), ok({ u: "✓" })];
    for (let i = 0; i <= bytes.length; i++) {
      expect(await parseBytes([bytes.subarray(0, i), bytes.subarray(i)]), `split at byte ${i}`).toEqual(expected);
    }
  });
});

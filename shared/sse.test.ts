import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeSse, SseParser, sseDecoderStream, type SseEvent, type SseEventInit } from "./sse.ts";

/** Parses `text` given as these chunks, end() included. */
function parseChunks(chunks: string[], parser = new SseParser()): SseEvent[] {
  const out: SseEvent[] = [];
  for (const chunk of chunks) out.push(...parser.push(chunk));
  out.push(...parser.end());
  return out;
}

function parse(text: string): SseEvent[] {
  return parseChunks([text]);
}

/** Every way of cutting `text` in two, and in one-character pieces: all must agree with parsing it whole. */
function expectSplitInvariant(text: string, expected: SseEvent[]): void {
  expect(parse(text)).toEqual(expected);
  for (let i = 0; i <= text.length; i++) {
    expect(parseChunks([text.slice(0, i), text.slice(i)]), `split at ${i}`).toEqual(expected);
  }
  expect(parseChunks([...text])).toEqual(expected);
}

async function parseBytes(chunks: Uint8Array[]): Promise<SseEvent[]> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const out: SseEvent[] = [];
  for await (const event of source.pipeThrough(sseDecoderStream())) out.push(event);
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("SseParser: line endings", () => {
  const expected = [
    { event: "message", data: "a\nb" },
    { event: "ping", data: "c" },
  ];

  for (const [name, eol] of [["LF", "\n"], ["CR", "\r"], ["CRLF", "\r\n"]] as const) {
    it(`reads ${name} line endings, split at every position`, () => {
      const text = ["data: a", "data: b", "", "event: ping", "data: c", "", ""].join(eol);
      expectSplitInvariant(text, expected);
    });
  }

  it("reads a mix of line endings in one stream", () => {
    expectSplitInvariant("data: a\r\ndata: b\r\revent: ping\ndata: c\r\n\n", expected);
  });

  it("takes a CR ending one chunk and a LF starting the next as one line ending", () => {
    // Were they two endings, the LF would make a blank line and dispatch "a" alone.
    expect(parseChunks(["data: a\r", "\ndata: b\r", "\n\r", "\n"])).toEqual([{ event: "message", data: "a\nb" }]);
    // Also with an empty chunk between the CR and the LF.
    expect(parseChunks(["data: a\r", "", "\ndata: b\r\n\r\n"])).toEqual([{ event: "message", data: "a\nb" }]);
  });

  it("takes CR CR as a line ending and a blank line", () => {
    expect(parseChunks(["data: a\r", "\r"])).toEqual([{ event: "message", data: "a" }]);
    expect(parse("data: a\r\rdata: b\r\r")).toEqual([
      { event: "message", data: "a" },
      { event: "message", data: "b" },
    ]);
  });

  it("keeps a LF right after CR from making a blank line only once (CR LF LF dispatches)", () => {
    expect(parse("data: a\r\n\n")).toEqual([{ event: "message", data: "a" }]);
    expect(parse("data: a\n\r\n")).toEqual([{ event: "message", data: "a" }]);
  });
});

describe("SseParser: fields", () => {
  it("joins data lines with LF (the spec's YHOO example)", () => {
    expect(parse("data: YHOO\ndata: +2\ndata: 10\n\n")).toEqual([{ event: "message", data: "YHOO\n+2\n10" }]);
  });

  it("ignores comment lines, with or without text, anywhere in an event", () => {
    expectSplitInvariant(": test stream\n\n:\ndata: a\n: keep-alive\ndata: b\n:\n\n", [{ event: "message", data: "a\nb" }]);
  });

  it("does not dispatch a block of comments only", () => {
    expect(parse(": one\n: two\n\n")).toEqual([]);
  });

  it("removes exactly one space after the colon", () => {
    expect(parse("data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\ndata: \n\n")).toEqual([
      { event: "message", data: "x" },
      { event: "message", data: "x" },
      { event: "message", data: " x" },
      { event: "message", data: "\tx" },
      { event: "message", data: "" },
    ]);
  });

  it("splits at the first colon only", () => {
    expect(parse('data: {"a": "b:c"}\nid: x:y\n\n')).toEqual([{ event: "message", data: '{"a": "b:c"}', id: "x:y" }]);
  });

  it("reads a line without a colon as a field with an empty value (the spec's example)", () => {
    // "data" alone appends an empty line; the last block has no blank line after it and is discarded.
    expect(parse("data\n\ndata\ndata\n\ndata:")).toEqual([
      { event: "message", data: "" },
      { event: "message", data: "\n" },
    ]);
    // "event" alone sets an empty type, which means "message".
    expect(parse("event: x\nevent\ndata: d\n\n")).toEqual([{ event: "message", data: "d" }]);
  });

  it("dispatches an event whose data is empty when a data field was there", () => {
    expect(parse("data:\n\n")).toEqual([{ event: "message", data: "" }]);
    expect(parse("data:\ndata:\n\n")).toEqual([{ event: "message", data: "\n" }]);
  });

  it("does not dispatch a block without data, and resets its type", () => {
    expect(parse("event: foo\n\ndata: x\n\n")).toEqual([{ event: "message", data: "x" }]);
    expect(parse("event: foo\nid: 3\nretry: 10\n\n")).toEqual([]);
  });

  it("takes the last event field of a block as the type, and resets it after dispatch", () => {
    expect(parse("event: a\nevent: b\ndata: 1\n\ndata: 2\n\n")).toEqual([
      { event: "b", data: "1" },
      { event: "message", data: "2" },
    ]);
  });

  it("keeps an event type as sent, spaces and all", () => {
    expect(parse("event:  padded \ndata: 1\n\n")).toEqual([{ event: " padded ", data: "1" }]);
  });

  it("ignores unknown fields, field names in another case, and names with leading space", () => {
    expect(parse("foo: bar\nData: no\n data: no\nEVENT: no\ndata: yes\n\n")).toEqual([{ event: "message", data: "yes" }]);
  });

  it("keeps data that looks like field syntax", () => {
    expect(parse("data: event: x\ndata: : y\ndata: data:\n\n")).toEqual([{ event: "message", data: "event: x\n: y\ndata:" }]);
  });
});

describe("SseParser: id", () => {
  it("carries the last event ID to later events until changed, as the spec's lastEventId", () => {
    const parser = new SseParser();
    expect(parseChunks(["id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"], parser)).toEqual([
      { event: "message", data: "a", id: "1" },
      { event: "message", data: "b", id: "1" },
      { event: "message", data: "c", id: "2" },
    ]);
    expect(parser.lastEventId).toBe("2");
  });

  it("resets the ID with an empty id field (the spec's test-stream example)", () => {
    expect(parse(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n")).toEqual([
      { event: "message", data: "first event", id: "1" },
      { event: "message", data: "second event" },
      { event: "message", data: " third event" },
    ]);
    expect(parse("id: 1\ndata: a\n\nid:\ndata: b\n\n")).toEqual([
      { event: "message", data: "a", id: "1" },
      { event: "message", data: "b" },
    ]);
  });

  it("ignores an id containing NUL", () => {
    const parser = new SseParser();
    expect(parseChunks(["id: 7\ndata: a\n\nid: 8\u00009\ndata: b\n\n"], parser)).toEqual([
      { event: "message", data: "a", id: "7" },
      { event: "message", data: "b", id: "7" },
    ]);
    expect(parser.lastEventId).toBe("7");
  });

  it("sets the last event ID from a block that dispatches nothing", () => {
    const parser = new SseParser();
    expect(parseChunks(["id: 5\n\ndata: a\n\n"], parser)).toEqual([{ event: "message", data: "a", id: "5" }]);
  });

  it("does not set the last event ID from an event cut off by the end of the stream", () => {
    const parser = new SseParser();
    parseChunks(["id: 1\ndata: a\n\nid: 2\ndata: b\n"], parser);
    expect(parser.lastEventId).toBe("1");
  });

  it("keeps an id with spaces and unicode as sent", () => {
    expect(parse("id:  a b ✓\ndata: x\n\n")).toEqual([{ event: "message", data: "x", id: " a b ✓" }]);
  });
});

describe("SseParser: retry", () => {
  it("takes ASCII digits only", () => {
    const parser = new SseParser();
    const events = parseChunks(
      [
        "retry: 3000\ndata: a\n\n",
        "retry: 30a\ndata: b\n\n",
        "retry: -1\ndata: c\n\n",
        "retry:\ndata: d\n\n",
        "retry:  100\ndata: e\n\n",
        "retry: 1.5\ndata: f\n\n",
        "retry: 0\ndata: g\n\n",
        "retry: ５\ndata: h\n\n",
      ],
      parser,
    );
    expect(events.map((e) => [e.data, e.retry])).toEqual([
      ["a", 3000],
      ["b", undefined],
      ["c", undefined],
      ["d", undefined],
      ["e", undefined],
      ["f", undefined],
      ["g", 0],
      ["h", undefined],
    ]);
    expect(parser.reconnectionTime).toBe(0);
  });

  it("sets the reconnection time even when the block dispatches nothing, without tagging the next event", () => {
    const parser = new SseParser();
    expect(parseChunks(["retry: 2500\n\ndata: a\n\n"], parser)).toEqual([{ event: "message", data: "a" }]);
    expect(parser.reconnectionTime).toBe(2500);
  });

  it("ignores digits too many for an exact integer", () => {
    const parser = new SseParser();
    expect(parseChunks(["retry: 99999999999999999999\ndata: a\n\n"], parser)).toEqual([{ event: "message", data: "a" }]);
    expect(parser.reconnectionTime).toBeUndefined();
  });
});

describe("SseParser: byte order mark", () => {
  it("removes one BOM at the start of the stream", () => {
    expectSplitInvariant("\uFEFFdata: x\n\n", [{ event: "message", data: "x" }]);
  });

  it("removes only one: a second BOM is part of the first field name", () => {
    expect(parse("\uFEFF\uFEFFdata: x\n\ndata: y\n\n")).toEqual([{ event: "message", data: "y" }]);
  });

  it("keeps a BOM that is not at the start of the stream", () => {
    expect(parse("data: a\n\n\uFEFFdata: b\n\n")).toEqual([{ event: "message", data: "a" }]);
    expect(parse("data: \uFEFFb\n\n")).toEqual([{ event: "message", data: "\uFEFFb" }]);
  });

  it("removes a BOM arriving alone, after empty chunks", () => {
    expect(parseChunks(["", "\uFEFF", "data: x\n\n"])).toEqual([{ event: "message", data: "x" }]);
  });

  it("removes a UTF-8 BOM split across byte chunks, once", async () => {
    const bytes = utf8("\uFEFFdata: x\n\n");
    expect(bytes[0]).toBe(0xef);
    expect(await parseBytes([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)])).toEqual([{ event: "message", data: "x" }]);
    expect(await parseBytes([utf8("\uFEFF\uFEFFdata: x\n\ndata: y\n\n")])).toEqual([{ event: "message", data: "y" }]);
  });
});

describe("SseParser: end of stream", () => {
  it("does not dispatch an event without its blank line", () => {
    expect(parse("data: x\n")).toEqual([]);
    expect(parse("data: x\r\n")).toEqual([]);
    expect(parse("data: x")).toEqual([]);
    expect(parse("data: a\n\ndata: b\n")).toEqual([{ event: "message", data: "a" }]);
  });

  it("does not treat a CR at the very end as completing a blank line", () => {
    expect(parseChunks(["data: x\r"])).toEqual([]);
    expect(parseChunks(["data: x\n\r"])).toEqual([{ event: "message", data: "x" }]);
  });

  it("is ready for a new stream after end()", () => {
    const parser = new SseParser();
    expect(parseChunks(["data: half"], parser)).toEqual([]);
    expect(parseChunks(["\uFEFFdata: new\n\n"], parser)).toEqual([{ event: "message", data: "new" }]);
  });
});

describe("SseParser: limits", () => {
  it("drops events over maxEventLength and goes on", () => {
    const parser = new SseParser({ maxEventLength: 16 });
    const events = parseChunks(
      [
        "data: short\n\n", // line 11, data 6: kept
        "data: 0123456789abc\n\n", // one line of 19
        "data: 01234\ndata: 56789\ndata: abcde\n\n", // data of 18
        "data: ", "0123456789", "0123", "\n\n", // a line of 20 over three chunks
        "data: ok\n\n",
      ],
      parser,
    );
    expect(events).toEqual([
      { event: "message", data: "short" },
      { event: "message", data: "ok" },
    ]);
    expect(parser.dropped).toBe(3);
  });

  it("is linear: a 10 MB stream fed one character at a time", () => {
    const text = `data: ${"x".repeat(1000)}\n\n`.repeat(10_000);
    const parser = new SseParser();
    let count = 0;
    const started = performance.now();
    for (let i = 0; i < text.length; i++) count += parser.push(text[i]!).length;
    expect(count).toBe(10_000);
    // Quadratic work on 10^7 characters would take hours; linear takes well under a second here.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it("is linear: one 10 MB line fed one character at a time", () => {
    const text = `data: ${"y".repeat(10_000_000)}\r\n\r\n`;
    const parser = new SseParser();
    const events: SseEvent[] = [];
    const started = performance.now();
    for (let i = 0; i < text.length; i++) events.push(...parser.push(text[i]!));
    expect(events).toHaveLength(1);
    expect(events[0]!.data.length).toBe(10_000_000);
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});

describe("sseDecoderStream", () => {
  it("decodes characters split across byte chunks, at every byte position", async () => {
    const text = "event: é\ndata: héllo 😀 中文\r\ndata: ✓\n\n";
    const expected = [{ event: "é", data: "héllo 😀 中文\n✓" }];
    const bytes = utf8(text);
    for (let i = 0; i <= bytes.length; i++) {
      expect(await parseBytes([bytes.subarray(0, i), bytes.subarray(i)]), `split at byte ${i}`).toEqual(expected);
    }
    expect(await parseBytes([...bytes].map((b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it("replaces invalid UTF-8 with U+FFFD", async () => {
    expect(await parseBytes([Uint8Array.of(0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a)])).toEqual([{ event: "message", data: "\uFFFD" }]);
  });

  it("does not dispatch an unterminated event at the end", async () => {
    expect(await parseBytes([utf8("data: a\n\ndata: b")])).toEqual([{ event: "message", data: "a" }]);
  });
});

describe("encodeSse", () => {
  it("writes one data line per line of data", () => {
    expect(encodeSse({ data: "a\nb\r\nc\rd" })).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
    expect(encodeSse({ data: "" })).toBe("data:\n\n");
    expect(encodeSse({ data: "x\n" })).toBe("data: x\ndata:\n\n");
  });

  it("writes event, id and retry before the data", () => {
    expect(encodeSse({ event: "ping", id: "7", retry: 1000, data: "{}" })).toBe("event: ping\nid: 7\nretry: 1000\ndata: {}\n\n");
    expect(encodeSse({ event: "", id: "", data: "x" })).toBe("id:\ndata: x\n\n");
  });

  it("refuses what the format cannot carry", () => {
    expect(() => encodeSse({ event: "a\nb", data: "" })).toThrow(TypeError);
    expect(() => encodeSse({ event: "a\rb", data: "" })).toThrow(TypeError);
    expect(() => encodeSse({ id: "a\nb", data: "" })).toThrow(TypeError);
    expect(() => encodeSse({ id: "a\u0000b", data: "" })).toThrow(TypeError);
    expect(() => encodeSse({ retry: -1, data: "" })).toThrow(TypeError);
    expect(() => encodeSse({ retry: 1.5, data: "" })).toThrow(TypeError);
  });

  it("round-trips leading spaces, colons and empty lines in data", () => {
    const data = " lead\n\n: not a comment\ndata: inner\n  ";
    expect(parse(encodeSse({ data }))).toEqual([{ event: "message", data }]);
  });
});

describe("property: encodeSse then parse, split anywhere", () => {
  const noBreak = (s: string) => !s.includes("\n") && !s.includes("\r");
  const eventArb: fc.Arbitrary<SseEventInit> = fc.record(
    {
      event: fc.string({ unit: "binary", maxLength: 12 }).filter(noBreak),
      data: fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.array(fc.constantFrom("a", " ", ":", "\n", "\r", "\r\n", "é", "😀", "\uFEFF"), { maxLength: 12 }).map((a) => a.join(""))),
      id: fc.string({ unit: "binary", maxLength: 8 }).filter((s) => noBreak(s) && !s.includes("\u0000")),
      retry: fc.nat({ max: 100_000 }),
    },
    { requiredKeys: ["data"] },
  );

  /** What the spec says the events parse to: CR and CRLF read as LF, "" as "message", the ID carried over. */
  function expectedOf(events: SseEventInit[]): SseEvent[] {
    let lastId = "";
    return events.map((e) => {
      if (e.id !== undefined) lastId = e.id;
      const out: SseEvent = { event: e.event || "message", data: e.data.replace(/\r\n|\r/g, "\n") };
      if (lastId !== "") out.id = lastId;
      if (e.retry !== undefined) out.retry = e.retry;
      return out;
    });
  }

  function cut<T extends { length: number; slice(a: number, b?: number): T }>(whole: T, points: number[]): T[] {
    const sorted = [...new Set(points.map((p) => p % (whole.length + 1)))].sort((a, b) => a - b);
    const pieces: T[] = [];
    let at = 0;
    for (const p of sorted) {
      pieces.push(whole.slice(at, p));
      at = p;
    }
    pieces.push(whole.slice(at));
    return pieces;
  }

  it("text chunks", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (events, points) => {
        const wire = events.map(encodeSse).join("");
        expect(parseChunks(cut(wire, points))).toEqual(expectedOf(events));
      }),
      { numRuns: 500 },
    );
  });

  it("byte chunks through sseDecoderStream, with an optional BOM", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), fc.boolean(), async (events, points, bom) => {
        const wire = utf8((bom ? "\uFEFF" : "") + events.map(encodeSse).join(""));
        expect(await parseBytes(cut(wire, points))).toEqual(expectedOf(events));
      }),
      { numRuns: 200 },
    );
  });
});

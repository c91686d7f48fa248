import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  MAX_DATA_BYTES,
  MAX_PAYLOAD_BYTES,
  RESET_CODES,
  type Decoded,
  type Frame,
  type FrameError,
  type FrameTypeName,
  type RequestHead,
} from "./frames.ts";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** "04 00000007 00000000" -> bytes. Whitespace is ignored; anything else must be hex pairs. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex literal: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** A frame header built by hand: type, stream id and announced length. */
function header(type: number, streamId: number, length: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint8(0, type);
  view.setUint32(1, streamId);
  view.setUint32(5, length);
  return out;
}

/** A raw frame built by hand (no encodeFrame), so invalid frames can be expressed. */
function rawFrame(type: number, streamId: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  return concat([header(type, streamId, body.byteLength), body]);
}

/** Seeded PRNG (mulberry32): deterministic, so a failing seed can be replayed. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max], inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }
  /** Up to `max` UTF-16 code units drawn from an alphabet that stresses JSON and UTF-8. */
  text(max: number): string {
    const alphabet = ["a", "Z", "0", " ", '"', "\\", "/", "\n", "\t", "\u0000", "\u001f", "é", "漢", "🚀", "\ud800", "\udfff", "\u2028", "<"];
    let out = "";
    const n = this.int(0, max);
    while (out.length < n) {
      const c = this.pick(alphabet);
      if (out.length + c.length > max) break;
      out += c;
    }
    return out;
  }
  token(alphabet: string, min: number, max: number): string {
    let out = "";
    const n = this.int(min, max);
    for (let i = 0; i < n; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }
}

/** Splits `bytes` into consecutive views (not copies, so byteOffset != 0 is exercised), some empty. */
function randomChunks(bytes: Uint8Array, rng: Rng, maxChunk: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const size = rng.chance(0.05) ? 0 : rng.int(1, maxChunk);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

interface Collected {
  frames: Frame[];
  errors: FrameError[];
  fatals: FrameError[];
}

function feed(decoder: FrameDecoder, chunks: Iterable<Uint8Array>): Collected {
  const all: Collected = { frames: [], errors: [], fatals: [] };
  for (const chunk of chunks) {
    const out: Decoded = decoder.push(chunk);
    all.frames.push(...out.frames);
    all.errors.push(...out.errors);
    if (out.fatal) all.fatals.push(out.fatal);
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// Golden bytes, computed by hand from the header comment of frames.ts
// ---------------------------------------------------------------------------------------------

const SMALL_HEAD: RequestHead = {
  requestId: "req_0001",
  method: "GET",
  pool: "p",
  path: "/v1/x",
  query: "",
  headers: [["a", "b"]],
};

interface Golden {
  name: string;
  frame: Frame;
  bytes: string;
}

const GOLDEN: Golden[] = [
  {
    // {"requestId":"req_0001","method":"GET","pool":"p","path":"/v1/x","query":"","headers":[["a","b"]]} = 98 bytes
    name: "OPEN on stream 1 with a small head",
    frame: { type: "OPEN", streamId: 1, head: SMALL_HEAD },
    bytes:
      "01 00000001 00000062" +
      "7b22726571756573744964223a227265715f30303031222c226d6574686f64223a22474554222c" +
      "22706f6f6c223a2270222c2270617468223a222f76312f78222c227175657279223a22222c" +
      "2268656164657273223a5b5b2261222c2262225d5d7d",
  },
  {
    // {"status":200,"headers":[["x","y"]]} = 36 bytes
    name: "HEAD on stream 1 with status 200",
    frame: { type: "HEAD", streamId: 1, head: { status: 200, headers: [["x", "y"]] } },
    bytes: "02 00000001 00000024 7b22737461747573223a3230302c2268656164657273223a5b5b2278222c2279225d5d7d",
  },
  {
    name: "DATA on stream 2 with bytes 00 ff 10 80",
    frame: { type: "DATA", streamId: 2, data: hex("00 ff 10 80") },
    bytes: "03 00000002 00000004 00ff1080",
  },
  {
    name: "empty DATA on stream 2",
    frame: { type: "DATA", streamId: 2, data: new Uint8Array(0) },
    bytes: "03 00000002 00000000",
  },
  {
    name: "END on stream 7",
    frame: { type: "END", streamId: 7 },
    bytes: "04 00000007 00000000",
  },
  {
    // The stream id is unsigned: the high bit must not turn it negative.
    name: "END on stream 0xfffffffe",
    frame: { type: "END", streamId: 0xfffffffe },
    bytes: "04 fffffffe 00000000",
  },
  {
    // {"code":"cancelled","message":"x"} = 34 bytes, key order as encoded
    name: "RESET cancelled on stream 9",
    frame: { type: "RESET", streamId: 9, reset: { code: "cancelled", message: "x" } },
    bytes: "05 00000009 00000022 7b22636f6465223a2263616e63656c6c6564222c226d657373616765223a2278227d",
  },
  {
    name: "CREDIT on stream 3 of 65536",
    frame: { type: "CREDIT", streamId: 3, increment: 65536 },
    bytes: "06 00000003 00000004 00010000",
  },
  {
    name: "CREDIT on stream 3 of 0xffffffff",
    frame: { type: "CREDIT", streamId: 3, increment: 0xffffffff },
    bytes: "06 00000003 00000004 ffffffff",
  },
  {
    name: "PING 0x0102030405060708",
    frame: { type: "PING", streamId: 0, timestamp: 0x0102030405060708n },
    bytes: "07 00000000 00000008 0102030405060708",
  },
  {
    // The timestamp is an unsigned u64.
    name: "PONG 0xfffffffffffffffe",
    frame: { type: "PONG", streamId: 0, timestamp: 0xfffffffffffffffen },
    bytes: "08 00000000 00000008 fffffffffffffffe",
  },
  {
    // {"reason":"drain"} = 18 bytes
    name: "GOAWAY drain",
    frame: { type: "GOAWAY", streamId: 0, reason: "drain" },
    bytes: "09 00000000 00000012 7b22726561736f6e223a22647261696e227d",
  },
];

describe("golden bytes", () => {
  it("covers every frame type", () => {
    const types = new Set(GOLDEN.map((g) => g.frame.type));
    expect([...types].sort()).toEqual(["CREDIT", "DATA", "END", "GOAWAY", "HEAD", "OPEN", "PING", "PONG", "RESET"]);
  });

  it.each(GOLDEN)("encodes $name to its golden bytes", ({ frame, bytes }) => {
    expect(toHex(encodeFrame(frame))).toBe(toHex(hex(bytes)));
  });

  it.each(GOLDEN)("decodes the golden bytes of $name back to the frame", ({ frame, bytes }) => {
    expect(decodeFrame(hex(bytes))).toEqual({ ok: true, value: frame });
  });

  it("encodes only the viewed bytes of a DATA payload that is a subarray", () => {
    const backing = hex("aa bb cc dd ee");
    const frame: Frame = { type: "DATA", streamId: 1, data: backing.subarray(1, 3) };
    expect(toHex(encodeFrame(frame))).toBe("03" + "00000001" + "00000002" + "bbcc");
  });
});

// ---------------------------------------------------------------------------------------------
// FrameDecoder
// ---------------------------------------------------------------------------------------------

describe("FrameDecoder", () => {
  const frames = GOLDEN.map((g) => g.frame);
  const stream = concat(GOLDEN.map((g) => hex(g.bytes)));
  /** Offset just past the end of each frame in `stream`. */
  const ends = GOLDEN.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) ?? 0) + hex(g.bytes).byteLength], []);

  it("yields each frame exactly when its last byte arrives when fed one byte at a time", () => {
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    const emittedAt: number[] = [];
    for (let i = 0; i < stream.byteLength; i++) {
      const out = decoder.push(stream.subarray(i, i + 1));
      expect(out.errors).toEqual([]);
      expect(out.fatal).toBeNull();
      for (const f of out.frames) {
        got.push(f);
        emittedAt.push(i + 1);
      }
    }
    expect(got).toEqual(frames);
    expect(emittedAt).toEqual(ends);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("yields the same frames, in order, when the stream is split in two at every byte boundary", () => {
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      const decoder = new FrameDecoder();
      const first = decoder.push(stream.subarray(0, cut));
      // Only the frames wholly inside the first part may come out of it.
      expect(first.frames, `cut at ${cut}`).toEqual(frames.slice(0, ends.filter((e) => e <= cut).length));
      const second = decoder.push(stream.subarray(cut));
      expect([...first.frames, ...second.frames], `cut at ${cut}`).toEqual(frames);
      expect([...first.errors, ...second.errors]).toEqual([]);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it("yields the same frames, in order, under random splits from a seeded PRNG", () => {
    const rng = new Rng(0xf3e77);
    for (let trial = 0; trial < 300; trial++) {
      const decoder = new FrameDecoder();
      const got = feed(decoder, randomChunks(stream, rng, rng.pick([1, 3, 9, 20, 64, 400])));
      expect(got.frames, `trial ${trial}`).toEqual(frames);
      expect(got.errors).toEqual([]);
      expect(got.fatals).toEqual([]);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it("yields several frames pushed in one chunk, in order", () => {
    const out = new FrameDecoder().push(stream);
    expect(out).toEqual({ frames, errors: [], fatal: null });
  });

  it("accepts a chunk that is a view at a non-zero offset of a larger buffer", () => {
    const backing = concat([hex("ee ee ee"), hex("06 00000003 00000004 00010000"), hex("ee")]);
    const out = new FrameDecoder().push(backing.subarray(3, 3 + 13));
    expect(out.frames).toEqual([{ type: "CREDIT", streamId: 3, increment: 65536 }]);
  });

  it("reports buffered partial data in bufferedBytes", () => {
    const decoder = new FrameDecoder();
    const data = hex("03 00000002 00000004 00ff1080");
    const end = hex("04 00000007 00000000");
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(data.subarray(0, 4)).frames).toEqual([]);
    expect(decoder.bufferedBytes).toBe(4);
    expect(decoder.push(data.subarray(4, 9)).frames).toEqual([]);
    expect(decoder.bufferedBytes).toBe(9);
    expect(decoder.push(data.subarray(9, 11)).frames).toEqual([]);
    expect(decoder.bufferedBytes).toBe(11);
    // The rest of DATA, all of END and three bytes of the next frame.
    const out = decoder.push(concat([data.subarray(11), end, end.subarray(0, 3)]));
    expect(out.frames.map((f) => f.type)).toEqual(["DATA", "END"]);
    expect(decoder.bufferedBytes).toBe(3);
    expect(decoder.push(end.subarray(3)).frames).toEqual([{ type: "END", streamId: 7 }]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("is not confused by an empty chunk", () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(new Uint8Array(0))).toEqual({ frames: [], errors: [], fatal: null });
    decoder.push(hex("04 00000007"));
    expect(decoder.push(new Uint8Array(0)).frames).toEqual([]);
    expect(decoder.bufferedBytes).toBe(5);
    expect(decoder.push(hex("00000000")).frames).toEqual([{ type: "END", streamId: 7 }]);
  });

  describe("oversized frames", () => {
    it("reports a fatal too_large as soon as the header announces more than maxPayloadBytes, before the payload", () => {
      const decoder = new FrameDecoder({ maxPayloadBytes: 16 });
      expect(decoder.push(header(0x03, 5, 17).subarray(0, 8)).fatal).toBeNull();
      const out = decoder.push(header(0x03, 5, 17).subarray(8));
      expect(out.frames).toEqual([]);
      expect(out.fatal).toMatchObject({ reason: "too_large", streamId: 5 });
      expect(out.fatal?.message).toEqual(expect.any(String));
      expect(decoder.bufferedBytes).toBe(0);
    });

    it("accepts a payload of exactly maxPayloadBytes", () => {
      const decoder = new FrameDecoder({ maxPayloadBytes: 16 });
      const out = decoder.push(rawFrame(0x03, 5, new Uint8Array(16).fill(7)));
      expect(out.fatal).toBeNull();
      expect(out.frames).toEqual([{ type: "DATA", streamId: 5, data: new Uint8Array(16).fill(7) }]);
    });

    it("defaults maxPayloadBytes to MAX_PAYLOAD_BYTES", () => {
      const atLimit = new FrameDecoder().push(header(0x01, 1, MAX_PAYLOAD_BYTES));
      expect(atLimit.fatal).toBeNull();
      const overLimit = new FrameDecoder().push(header(0x01, 1, MAX_PAYLOAD_BYTES + 1));
      expect(overLimit.fatal).toMatchObject({ reason: "too_large", streamId: 1 });
    });

    it("checks the announced length even for an unknown frame type", () => {
      const out = new FrameDecoder({ maxPayloadBytes: 16 }).push(header(0x7f, 5, 0xffffffff));
      expect(out.fatal).toMatchObject({ reason: "too_large", streamId: 5 });
    });

    it("still delivers the frames before the oversized header in the same chunk", () => {
      const decoder = new FrameDecoder({ maxPayloadBytes: 16 });
      const out = decoder.push(concat([hex("04 00000007 00000000"), header(0x03, 5, 17)]));
      expect(out.frames).toEqual([{ type: "END", streamId: 7 }]);
      expect(out.fatal).toMatchObject({ reason: "too_large", streamId: 5 });
    });

    it("stays broken after a fatal error: later valid frames are refused", () => {
      const decoder = new FrameDecoder({ maxPayloadBytes: 16 });
      expect(decoder.push(header(0x03, 5, 17)).fatal).not.toBeNull();
      for (let i = 0; i < 3; i++) {
        const out = decoder.push(hex("04 00000007 00000000"));
        expect(out.frames).toEqual([]);
        expect(out.fatal).toMatchObject({ reason: "too_large" });
      }
      expect(decoder.push(new Uint8Array(0)).fatal).toMatchObject({ reason: "too_large" });
    });
  });

  describe("invalid frames", () => {
    const validHead = JSON.stringify(SMALL_HEAD);
    const INVALID: { name: string; bytes: Uint8Array; reason: FrameError["reason"]; streamId: number }[] = [
      { name: "unknown type 0x7f on stream 5", bytes: rawFrame(0x7f, 5, hex("abcd")), reason: "unknown_type", streamId: 5 },
      { name: "unknown type 0x00 on stream 5", bytes: rawFrame(0x00, 5), reason: "unknown_type", streamId: 5 },
      { name: "unknown type 0x0a on stream 0", bytes: rawFrame(0x0a, 0), reason: "unknown_type", streamId: 0 },
      { name: "malformed OPEN JSON", bytes: rawFrame(0x01, 9, '{"requestId":'), reason: "bad_payload", streamId: 9 },
      { name: "empty OPEN payload", bytes: rawFrame(0x01, 9), reason: "bad_payload", streamId: 9 },
      { name: "OPEN with JSON null", bytes: rawFrame(0x01, 9, "null"), reason: "bad_payload", streamId: 9 },
      { name: "OPEN with a too-short requestId", bytes: rawFrame(0x01, 9, JSON.stringify({ ...SMALL_HEAD, requestId: "short" })), reason: "bad_payload", streamId: 9 },
      { name: "OPEN with a requestId containing '.'", bytes: rawFrame(0x01, 9, JSON.stringify({ ...SMALL_HEAD, requestId: "req.0001" })), reason: "bad_payload", streamId: 9 },
      { name: "OPEN with a lowercase method", bytes: rawFrame(0x01, 9, JSON.stringify({ ...SMALL_HEAD, method: "get" })), reason: "bad_payload", streamId: 9 },
      { name: "OPEN with a path not starting with /", bytes: rawFrame(0x01, 9, JSON.stringify({ ...SMALL_HEAD, path: "v1/x" })), reason: "bad_payload", streamId: 9 },
      { name: "OPEN with an extra key", bytes: rawFrame(0x01, 9, JSON.stringify({ ...SMALL_HEAD, extra: 1 })), reason: "bad_payload", streamId: 9 },
      { name: "OPEN missing headers", bytes: rawFrame(0x01, 9, JSON.stringify({ ...SMALL_HEAD, headers: undefined })), reason: "bad_payload", streamId: 9 },
      { name: "HEAD with status 99", bytes: rawFrame(0x02, 4, '{"status":99,"headers":[]}'), reason: "bad_payload", streamId: 4 },
      { name: "HEAD with status 200.5", bytes: rawFrame(0x02, 4, '{"status":200.5,"headers":[]}'), reason: "bad_payload", streamId: 4 },
      { name: "HEAD with a 3-element header", bytes: rawFrame(0x02, 4, '{"status":200,"headers":[["a","b","c"]]}'), reason: "bad_payload", streamId: 4 },
      { name: "RESET with an unknown code", bytes: rawFrame(0x05, 6, '{"code":"bogus","message":""}'), reason: "bad_payload", streamId: 6 },
      { name: "RESET without a message", bytes: rawFrame(0x05, 6, '{"code":"cancelled"}'), reason: "bad_payload", streamId: 6 },
      { name: "GOAWAY with a numeric reason", bytes: rawFrame(0x09, 0, '{"reason":1}'), reason: "bad_payload", streamId: 0 },
      { name: "END with a payload", bytes: rawFrame(0x04, 7, hex("00")), reason: "bad_payload", streamId: 7 },
      { name: "CREDIT of 0", bytes: rawFrame(0x06, 3, hex("00000000")), reason: "bad_payload", streamId: 3 },
      { name: "CREDIT of 3 bytes", bytes: rawFrame(0x06, 3, hex("000100")), reason: "bad_payload", streamId: 3 },
      { name: "CREDIT of 5 bytes", bytes: rawFrame(0x06, 3, hex("0000000100")), reason: "bad_payload", streamId: 3 },
      { name: "CREDIT with no payload", bytes: rawFrame(0x06, 3), reason: "bad_payload", streamId: 3 },
      { name: "PING of 7 bytes", bytes: rawFrame(0x07, 0, hex("01020304050607")), reason: "bad_payload", streamId: 0 },
      { name: "PONG of 9 bytes", bytes: rawFrame(0x08, 0, hex("010203040506070809")), reason: "bad_payload", streamId: 0 },
      // Only PING, PONG and GOAWAY may use stream 0, and they must.
      { name: "PING on stream 3", bytes: rawFrame(0x07, 3, hex("0102030405060708")), reason: "bad_stream", streamId: 3 },
      { name: "PONG on stream 3", bytes: rawFrame(0x08, 3, hex("0102030405060708")), reason: "bad_stream", streamId: 3 },
      { name: "GOAWAY on stream 3", bytes: rawFrame(0x09, 3, '{"reason":"x"}'), reason: "bad_stream", streamId: 3 },
      { name: "DATA on stream 0", bytes: rawFrame(0x03, 0, hex("01")), reason: "bad_stream", streamId: 0 },
      { name: "OPEN on stream 0", bytes: rawFrame(0x01, 0, validHead), reason: "bad_stream", streamId: 0 },
      { name: "HEAD on stream 0", bytes: rawFrame(0x02, 0, '{"status":200,"headers":[]}'), reason: "bad_stream", streamId: 0 },
      { name: "END on stream 0", bytes: rawFrame(0x04, 0), reason: "bad_stream", streamId: 0 },
      { name: "RESET on stream 0", bytes: rawFrame(0x05, 0, '{"code":"cancelled","message":""}'), reason: "bad_stream", streamId: 0 },
      { name: "CREDIT on stream 0", bytes: rawFrame(0x06, 0, hex("00000001")), reason: "bad_stream", streamId: 0 },
    ];

    const before = hex("04 00000001 00000000"); // END(1)
    const after = hex("06 00000002 00000004 00000010"); // CREDIT(2, 16)

    it.each(INVALID)("reports $name in errors with its stream and still delivers the frames around it", ({ bytes, reason, streamId }) => {
      const decoder = new FrameDecoder();
      const out = decoder.push(concat([before, bytes, after]));
      expect(out.fatal).toBeNull();
      expect(out.errors).toEqual([{ reason, streamId, message: expect.any(String) }]);
      expect(out.frames).toEqual([
        { type: "END", streamId: 1 },
        { type: "CREDIT", streamId: 2, increment: 16 },
      ]);
      expect(decoder.bufferedBytes).toBe(0);
    });

    it.each(INVALID)("decodeFrame returns $name as an error naming its stream", ({ bytes, reason, streamId }) => {
      expect(decodeFrame(bytes)).toEqual({ ok: false, error: { reason, streamId, message: expect.any(String) } });
    });

    it("the same frame content is valid on the stream the rule requires (controls for the bad_stream cases)", () => {
      const out = new FrameDecoder().push(
        concat([rawFrame(0x03, 1, hex("01")), rawFrame(0x07, 0, hex("0102030405060708")), rawFrame(0x09, 0, '{"reason":"x"}'), rawFrame(0x01, 1, validHead)]),
      );
      expect(out.errors).toEqual([]);
      expect(out.frames.map((f) => [f.type, f.streamId])).toEqual([
        ["DATA", 1],
        ["PING", 0],
        ["GOAWAY", 0],
        ["OPEN", 1],
      ]);
    });

    it("keeps decoding after several invalid frames in a row", () => {
      const out = new FrameDecoder().push(concat([rawFrame(0x7f, 5, hex("abcd")), rawFrame(0x04, 7, hex("00")), before, rawFrame(0x06, 3, hex("00000000")), after]));
      expect(out.errors.map((e) => [e.reason, e.streamId])).toEqual([
        ["unknown_type", 5],
        ["bad_payload", 7],
        ["bad_payload", 3],
      ]);
      expect(out.frames.map((f) => f.type)).toEqual(["END", "CREDIT"]);
    });

    it("refuses DATA larger than MAX_DATA_BYTES as non-fatal too_large with its stream, though maxPayloadBytes allows it", () => {
      expect(MAX_DATA_BYTES + 1).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      const decoder = new FrameDecoder();
      const out = decoder.push(concat([before, rawFrame(0x03, 11, new Uint8Array(MAX_DATA_BYTES + 1)), after]));
      expect(out.fatal).toBeNull();
      expect(out.errors).toEqual([{ reason: "too_large", streamId: 11, message: expect.any(String) }]);
      expect(out.frames.map((f) => f.type)).toEqual(["END", "CREDIT"]);
      // The decoder is not broken.
      expect(decoder.push(before).frames).toEqual([{ type: "END", streamId: 1 }]);
    });

    it("accepts DATA of exactly MAX_DATA_BYTES", () => {
      const payload = new Uint8Array(MAX_DATA_BYTES).fill(0xab);
      const out = new FrameDecoder().push(rawFrame(0x03, 11, payload));
      expect(out.errors).toEqual([]);
      expect(out.frames).toEqual([{ type: "DATA", streamId: 11, data: payload }]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// decodeFrame
// ---------------------------------------------------------------------------------------------

describe("decodeFrame", () => {
  const credit = hex("06 00000003 00000004 00010000");

  it("returns truncated for every proper prefix of a frame, including the empty input", () => {
    for (let n = 0; n < credit.byteLength; n++) {
      const result = decodeFrame(credit.subarray(0, n));
      expect(result.ok, `prefix of ${n} bytes`).toBe(false);
      if (!result.ok) expect(result.error.reason, `prefix of ${n} bytes`).toBe("truncated");
    }
  });

  it("returns truncated for one trailing byte after the frame", () => {
    expect(decodeFrame(concat([credit, hex("00")]))).toMatchObject({ ok: false, error: { reason: "truncated" } });
  });

  it("returns truncated for a partial header after the frame", () => {
    expect(decodeFrame(concat([credit, credit.subarray(0, 8)]))).toMatchObject({ ok: false, error: { reason: "truncated" } });
  });

  it("returns truncated for a second whole frame after the first", () => {
    expect(decodeFrame(concat([credit, hex("04 00000007 00000000")]))).toMatchObject({ ok: false, error: { reason: "truncated" } });
  });

  it("returns too_large for a header announcing more than the given maxPayloadBytes", () => {
    expect(decodeFrame(credit, 3)).toMatchObject({ ok: false, error: { reason: "too_large", streamId: 3 } });
    expect(decodeFrame(credit, 4)).toEqual({ ok: true, value: { type: "CREDIT", streamId: 3, increment: 65536 } });
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip property
// ---------------------------------------------------------------------------------------------

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const FRAME_TYPE_NAMES: readonly FrameTypeName[] = ["OPEN", "HEAD", "DATA", "END", "RESET", "CREDIT", "PING", "PONG", "GOAWAY"];

function randomStreamId(rng: Rng): number {
  return rng.chance(0.5) ? rng.int(1, 100) : rng.int(1, 0xffffffff);
}

function randomHeaders(rng: Rng): [string, string][] {
  const out: [string, string][] = [];
  const n = rng.int(0, 6);
  for (let i = 0; i < n; i++) out.push([rng.text(20), rng.text(rng.chance(0.1) ? 2000 : 40)]);
  return out;
}

function randomFrame(rng: Rng): Frame {
  const type = rng.pick(FRAME_TYPE_NAMES);
  switch (type) {
    case "OPEN":
      return {
        type,
        streamId: randomStreamId(rng),
        head: {
          requestId: rng.token(ID_CHARS, 8, 64),
          method: rng.token("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1, 16),
          pool: rng.token(ID_CHARS, 1, 1) + rng.text(60),
          path: "/" + rng.text(200),
          query: rng.chance(0.3) ? "" : "?" + rng.text(200),
          headers: randomHeaders(rng),
        },
      };
    case "HEAD":
      return { type, streamId: randomStreamId(rng), head: { status: rng.int(100, 599), headers: randomHeaders(rng) } };
    case "DATA": {
      const size = rng.chance(0.02) ? rng.pick([MAX_DATA_BYTES, rng.int(1024, MAX_DATA_BYTES)]) : rng.int(0, 300);
      return { type, streamId: randomStreamId(rng), data: rng.bytes(size) };
    }
    case "END":
      return { type, streamId: randomStreamId(rng) };
    case "RESET":
      return { type, streamId: randomStreamId(rng), reset: { code: rng.pick(RESET_CODES), message: rng.text(rng.chance(0.1) ? 1024 : 50) } };
    case "CREDIT":
      return { type, streamId: randomStreamId(rng), increment: rng.chance(0.1) ? rng.pick([1, 0xffffffff]) : rng.int(1, 0xffffffff) };
    case "PING":
    case "PONG":
      return { type, streamId: 0, timestamp: rng.chance(0.1) ? rng.pick([0n, 0xffffffffffffffffn]) : rng.u64() };
    case "GOAWAY":
      return { type, streamId: 0, reason: rng.text(rng.chance(0.1) ? 1024 : 50) };
  }
}

describe("round trip", () => {
  it.each([1, 2, 3])("encodes 500 random frames, concatenates them and decodes them under random chunking (seed %i)", (seed) => {
    const rng = new Rng(seed * 7919);
    const frames = Array.from({ length: 500 }, () => randomFrame(rng));
    // The generator really produces every type (otherwise the property proves little).
    expect(new Set(frames.map((f) => f.type)).size).toBe(FRAME_TYPE_NAMES.length);

    const bytes = concat(frames.map(encodeFrame));
    const decoder = new FrameDecoder();
    const got = feed(decoder, randomChunks(bytes, rng, rng.pick([7, 100, 5000])));
    expect(got.errors).toEqual([]);
    expect(got.fatals).toEqual([]);
    expect(got.frames).toEqual(frames);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("decodes each of 500 random frames on its own with decodeFrame", () => {
    const rng = new Rng(0xc0ffee);
    for (let i = 0; i < 500; i++) {
      const frame = randomFrame(rng);
      expect(decodeFrame(encodeFrame(frame)), `frame ${i} (${frame.type})`).toEqual({ ok: true, value: frame });
    }
  });

  it("keeps lone surrogates and other awkward characters in JSON strings intact", () => {
    const reason = 'a\ud800b\udfff"\\\u0000\u2028🚀漢';
    const frame: Frame = { type: "GOAWAY", streamId: 0, reason };
    const decoded = decodeFrame(encodeFrame(frame));
    expect(decoded).toEqual({ ok: true, value: frame });
    if (decoded.ok && decoded.value.type === "GOAWAY") expect(decoded.value.reason).toBe(reason);
  });
});

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8
// ---------------------------------------------------------------------------------------------

describe("invalid UTF-8 in JSON payloads", () => {
  /** A schema-valid OPEN whose pool holds `bad` bytes: a lenient (replacing) decoder would accept it. */
  function openWithPoolBytes(bad: Uint8Array): Uint8Array {
    const [pre, post] = JSON.stringify({ ...SMALL_HEAD, pool: "@" }).split("@") as [string, string];
    const enc = new TextEncoder();
    return rawFrame(0x01, 13, concat([enc.encode(pre), bad, enc.encode(post)]));
  }

  it("control: the same OPEN with valid UTF-8 in the pool is accepted", () => {
    const result = decodeFrame(openWithPoolBytes(hex("c3a9"))); // "é"
    expect(result).toEqual({ ok: true, value: { type: "OPEN", streamId: 13, head: { ...SMALL_HEAD, pool: "é" } } });
  });

  it.each([
    ["a lone continuation byte", "80"],
    ["0xff", "ff"],
    ["a truncated two-byte sequence", "c3"],
    ["an overlong encoding of '/'", "c0af"],
    ["an encoded surrogate", "eda080"],
  ])("returns bad_payload, without throwing, for %s in an OPEN payload", (_name, bytes) => {
    const frame = openWithPoolBytes(hex(bytes));
    let result: ReturnType<typeof decodeFrame> | undefined;
    expect(() => {
      result = decodeFrame(frame);
    }).not.toThrow();
    expect(result).toEqual({ ok: false, error: { reason: "bad_payload", streamId: 13, message: expect.any(String) } });
  });

  it("reports invalid UTF-8 through FrameDecoder as a per-stream error and keeps going", () => {
    const decoder = new FrameDecoder();
    const out = decoder.push(concat([openWithPoolBytes(hex("ff")), hex("04 00000007 00000000")]));
    expect(out.errors).toEqual([{ reason: "bad_payload", streamId: 13, message: expect.any(String) }]);
    expect(out.frames).toEqual([{ type: "END", streamId: 7 }]);
    expect(out.fatal).toBeNull();
  });

  it("returns bad_payload for invalid UTF-8 in HEAD, RESET and GOAWAY payloads too", () => {
    expect(decodeFrame(rawFrame(0x02, 4, concat([new TextEncoder().encode('{"status":200,"headers":[["'), hex("ff"), new TextEncoder().encode('","y"]]}')]))))
      .toMatchObject({ ok: false, error: { reason: "bad_payload", streamId: 4 } });
    expect(decodeFrame(rawFrame(0x05, 6, concat([new TextEncoder().encode('{"code":"cancelled","message":"'), hex("ff"), new TextEncoder().encode('"}')]))))
      .toMatchObject({ ok: false, error: { reason: "bad_payload", streamId: 6 } });
    expect(decodeFrame(rawFrame(0x09, 0, concat([new TextEncoder().encode('{"reason":"'), hex("ff"), new TextEncoder().encode('"}')]))))
      .toMatchObject({ ok: false, error: { reason: "bad_payload", streamId: 0 } });
  });
});

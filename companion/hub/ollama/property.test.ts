import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IrEvent, IrMessage, IrPart, IrRequest, IrResponse } from "../ir.ts";
import { codec } from "./index.ts";

const CTX = { model: "m", id: "x", now: 1_700_000_000_000 };
const RUNS = { numRuns: 150 };

const text = fc.string({ unit: "grapheme", maxLength: 40 });
const nonEmpty = fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 });
const argsJson = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((o) => JSON.stringify(o));
// Few names, so parallel calls often share one: results must still find their own call.
const call = fc.record({ id: nonEmpty, name: fc.oneof(fc.constantFrom("get_weather", "search"), nonEmpty), arguments: argsJson });
const calls = fc.uniqueArray(call, { maxLength: 3, selector: (c) => c.id });

/** A request-shaped value, to reach past the first checks of the decoder. */
const requestLike = fc.record(
  {
    model: fc.oneof(fc.string(), fc.jsonValue()),
    messages: fc.oneof(
      fc.jsonValue(),
      fc.array(fc.record({ role: fc.oneof(fc.constantFrom("system", "user", "assistant", "tool", "TOOL"), fc.jsonValue()), content: fc.jsonValue(), images: fc.jsonValue(), thinking: fc.jsonValue(), tool_calls: fc.oneof(fc.jsonValue(), fc.array(fc.record({ id: fc.jsonValue(), function: fc.jsonValue() }, { requiredKeys: [] }))), tool_name: fc.jsonValue(), tool_call_id: fc.jsonValue() }, { requiredKeys: [] }), { maxLength: 4 }),
    ),
    tools: fc.jsonValue(),
    format: fc.jsonValue(),
    options: fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom("temperature", "top_p", "top_k", "num_predict", "stop", "seed", "num_ctx"), fc.jsonValue())),
    think: fc.jsonValue(),
    stream: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

describe("decoders never throw", () => {
  it("on arbitrary JSON and request-shaped values", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), requestLike), (value) => {
        codec.decodeRequest(value, {});
        codec.decodeResponse(value);
        codec.decodeEmbeddings!(value, {});
        codec.decodeEmbeddingsResponse!(value);
      }),
      { numRuns: 400 },
    );
  });

  it("stream decoder on arbitrary lines and text", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) + "\n"), fc.string(), requestLike.map((v) => JSON.stringify({ message: v.messages, done: v.stream, done_reason: v.format, error: v.think }) + "\n"))), (chunks) => {
        const decoder = codec.streamDecoder();
        const events = [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
        // Always ends: with finish or error, exactly once.
        expect(events.filter((e) => e.type === "finish" || e.type === "error")).toHaveLength(1);
      }),
      RUNS,
    );
  });
});

// ───────────────────────────── requests ─────────────────────────────

interface Item {
  kind: string;
  [key: string]: unknown;
}

/** Order-preserving digest of a conversation: joined texts per message run, calls, results. */
function digest(messages: IrMessage[]): Item[] {
  const items: Item[] = [];
  for (const message of messages) {
    let texts: string[] | null = null;
    const flush = () => {
      // Ollama joins a user's text parts with newlines and an assistant's as they were said.
      const joined = texts?.join(message.role === "assistant" ? "" : "\n") ?? "";
      if (joined !== "") items.push({ kind: "text", role: message.role, text: joined });
      texts = null;
    };
    for (const part of message.content) {
      if (part.type === "text") (texts ??= []).push(part.text);
      else {
        flush();
        if (part.type === "tool_call") items.push({ kind: "call", id: part.id, name: part.name, args: JSON.parse(part.arguments) });
        if (part.type === "tool_result") items.push({ kind: "result", id: part.toolCallId, text: part.content.map((c) => (c.type === "text" ? c.text : "")).join("\n") });
        if (part.type === "reasoning" && part.text !== "") items.push({ kind: "reasoning", text: part.text });
      }
    }
    flush();
  }
  return items;
}

const turn = fc.record({
  user: fc.array(text, { maxLength: 3 }),
  thinking: fc.option(nonEmpty, { nil: undefined }),
  reply: fc.array(text, { maxLength: 2 }),
  calls,
  results: fc.array(text, { maxLength: 3 }),
  reversed: fc.boolean(),
  after: fc.array(text, { maxLength: 2 }),
});

type Turn = typeof turn extends fc.Arbitrary<infer T> ? T : never;

function conversation(turns: Turn[]): IrMessage[] {
  const messages: IrMessage[] = [];
  for (const t of turns) {
    messages.push({ role: "user", content: t.user.map((s): IrPart => ({ type: "text", text: s })) });
    const assistant: IrPart[] = [];
    if (t.thinking) assistant.push({ type: "reasoning", text: t.thinking });
    for (const s of t.reply) assistant.push({ type: "text", text: s });
    for (const c of t.calls) assistant.push({ type: "tool_call", ...c });
    messages.push({ role: "assistant", content: assistant });
    if (t.calls.length) {
      const results: IrPart[] = t.calls.map((c, i) => ({ type: "tool_result", toolCallId: c.id, ...(i % 2 ? { name: c.name } : {}), content: (t.results[i] ?? "") === "" ? [] : [{ type: "text", text: t.results[i]! }] }));
      if (t.reversed) results.reverse();
      for (const s of t.after) results.push({ type: "text", text: s });
      messages.push({ role: "user", content: results });
    }
  }
  return messages;
}

describe("encodeRequest → decodeRequest", () => {
  it("keeps system, texts, reasoning, tool calls (id, name, arguments) and tool results", () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 2 }), fc.array(turn, { minLength: 1, maxLength: 3 }), fc.boolean(), (system, turns, stream) => {
        const ir: IrRequest = { model: "m", system: system.map((s) => ({ text: s })), messages: conversation(turns), tools: [], stream, dropped: [] };
        const encoded = codec.encodeRequest(ir, { model: "llama3.2" });
        if (!encoded.ok) throw new Error(encoded.error.message);
        expect(encoded.value.dropped).toEqual([]);
        const back = codec.decodeRequest(JSON.parse(JSON.stringify(encoded.value.body)), {});
        if (!back.ok) throw new Error(back.error.message);
        expect(back.value.system).toEqual(ir.system.filter((s) => s.text !== ""));
        expect(back.value.stream).toBe(stream);
        expect(back.value.dropped).toEqual([]);
        expect(digest(back.value.messages)).toEqual(digest(ir.messages));
      }),
      RUNS,
    );
  });
});

// ───────────────────────────── responses and streams ─────────────────────────────

const answer = fc.record({
  thinking: fc.option(nonEmpty, { nil: undefined }),
  texts: fc.array(text, { maxLength: 3 }),
  calls,
  stop: fc.constantFrom<IrResponse["stopReason"]>("end_turn", "max_tokens"),
  input: fc.option(fc.nat(), { nil: undefined }),
  output: fc.option(fc.nat(), { nil: undefined }),
});

type Answer = typeof answer extends fc.Arbitrary<infer T> ? T : never;

function responseOf(a: Answer): IrResponse {
  const content: IrPart[] = [];
  if (a.thinking) content.push({ type: "reasoning", text: a.thinking });
  for (const s of a.texts) content.push({ type: "text", text: s });
  for (const c of a.calls) content.push({ type: "tool_call", ...c });
  const usage: IrResponse["usage"] = {};
  if (a.input !== undefined) usage.inputTokens = a.input;
  if (a.output !== undefined) usage.outputTokens = a.output;
  return { id: "r", model: "m", content, stopReason: a.calls.length ? "tool_use" : a.stop, usage };
}

/** What must survive: concatenated text and reasoning, tool calls with parsed arguments. */
function essence(parts: IrPart[]) {
  return {
    text: parts.map((p) => (p.type === "text" ? p.text : "")).join(""),
    reasoning: parts.map((p) => (p.type === "reasoning" ? p.text : "")).join(""),
    calls: parts.flatMap((p) => (p.type === "tool_call" ? [{ id: p.id, name: p.name, args: JSON.parse(p.arguments) }] : [])),
  };
}

describe("encodeResponse → decodeResponse", () => {
  it("keeps text, reasoning, tool calls, stop reason and usage", () => {
    fc.assert(
      fc.property(answer, (a) => {
        const ir = responseOf(a);
        const back = codec.decodeResponse(JSON.parse(JSON.stringify(codec.encodeResponse(ir, CTX))));
        if (!back.ok) throw new Error(back.error.message);
        expect(essence(back.value.content)).toEqual(essence(ir.content));
        expect(back.value.stopReason).toBe(ir.stopReason);
        expect(back.value.usage).toEqual(ir.usage);
      }),
      RUNS,
    );
  });
});

/** IR events for a response, text split into the given pieces, arguments into fragments. */
function eventsOf(ir: IrResponse, cuts: number[]): IrEvent[] {
  const events: IrEvent[] = [{ type: "start", id: ir.id, model: ir.model }];
  let cut = 0;
  const pieces = (s: string): string[] => {
    const n = cuts.length ? (cuts[cut++ % cuts.length]! % 4) + 1 : 1;
    const size = Math.max(1, Math.ceil(s.length / n));
    const out: string[] = [];
    for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
    return out;
  };
  ir.content.forEach((part, index) => {
    if (part.type === "tool_call") {
      events.push({ type: "block_start", index, part: { ...part, arguments: "" } });
      for (const json of pieces(part.arguments)) events.push({ type: "tool_arguments_delta", index, json });
    } else if (part.type === "text" || part.type === "reasoning") {
      events.push({ type: "block_start", index, part: { ...part, text: "" } });
      for (const t of pieces(part.text)) events.push(part.type === "text" ? { type: "text_delta", index, text: t } : { type: "reasoning_delta", index, text: t });
    }
    events.push({ type: "block_stop", index });
  });
  events.push({ type: "finish", stopReason: ir.stopReason, usage: ir.usage });
  return events;
}

/** Folds IR events back into parts (text and reasoning per block, tool calls with their arguments). */
function partsOf(events: IrEvent[]): IrPart[] {
  const parts = new Map<number, IrPart>();
  for (const e of events) {
    if (e.type === "block_start") parts.set(e.index, { ...e.part });
    const p = "index" in e ? parts.get(e.index) : undefined;
    if (e.type === "text_delta" && p?.type === "text") p.text += e.text;
    if (e.type === "reasoning_delta" && p?.type === "reasoning") p.text += e.text ?? "";
    if (e.type === "tool_arguments_delta" && p?.type === "tool_call") p.arguments += e.json;
  }
  return [...parts.values()];
}

describe("stream encoder → stream decoder", () => {
  it("keeps text, reasoning, tool calls, stop reason and usage whatever the chunking", () => {
    fc.assert(
      fc.property(answer, fc.array(fc.nat(), { maxLength: 6 }), (a, cuts) => {
        const ir = responseOf(a);
        const encoder = codec.streamEncoder(CTX);
        const wire = eventsOf(ir, cuts).map((e) => encoder.push(e)).join("") + encoder.end();
        const decoder = codec.streamDecoder();
        const chunks: string[] = [];
        let at = 0;
        for (const c of cuts) {
          const next = Math.min(wire.length, at + (c % 50));
          chunks.push(wire.slice(at, next));
          at = next;
        }
        chunks.push(wire.slice(at));
        const events = [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
        expect(essence(partsOf(events))).toEqual(essence(ir.content));
        const finish = events.at(-1);
        expect(finish).toEqual({ type: "finish", stopReason: ir.stopReason, usage: ir.usage });
      }),
      RUNS,
    );
  });
});

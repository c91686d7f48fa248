import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IrEvent, IrMessage, IrPart, IrRequest, IrResponse, IrStopReason } from "../ir.ts";
import { codec } from "./index.ts";

const RUNS = { numRuns: 150 };

const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/);
const args = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((o) => JSON.stringify(o));
const text = fc.string({ maxLength: 40 });
const nonEmpty = fc.string({ minLength: 1, maxLength: 40 });

type Call = Extract<IrPart, { type: "tool_call" }>;

/** A conversation: a user text, then turns that are either plain or a round of tool calls and their results. */
const conversation = fc
  .tuple(
    nonEmpty,
    fc.array(
      fc.record({
        reasoning: fc.option(nonEmpty, { nil: undefined }),
        text: fc.option(text, { nil: undefined }),
        calls: fc.array(fc.record({ name, arguments: args }), { maxLength: 3 }),
        results: fc.array(fc.array(text, { maxLength: 2 }), { minLength: 3, maxLength: 3 }),
        after: fc.option(nonEmpty, { nil: undefined }),
      }),
      { maxLength: 4 },
    ),
  )
  .map(([first, turns]) => {
    const messages: IrMessage[] = [{ role: "user", content: [{ type: "text", text: first }] }];
    let n = 0;
    for (const t of turns) {
      const calls: Call[] = t.calls.map((c) => ({ type: "tool_call", id: `call_${n++}`, name: c.name, arguments: c.arguments }));
      const assistant: IrPart[] = [];
      if (t.reasoning !== undefined) assistant.push({ type: "reasoning", text: t.reasoning });
      if (t.text !== undefined && (t.text !== "" || calls.length === 0)) assistant.push({ type: "text", text: t.text === "" ? "x" : t.text });
      if (calls.length === 0 && !assistant.some((p) => p.type === "text")) assistant.push({ type: "text", text: "ok" });
      assistant.push(...calls);
      messages.push({ role: "assistant", content: assistant });
      const user: IrPart[] = calls.map((c, i) => ({ type: "tool_result", toolCallId: c.id, content: (t.results[i] ?? []).map((s) => ({ type: "text" as const, text: s })) }));
      if (t.after !== undefined || user.length === 0) user.push({ type: "text", text: t.after ?? "next" });
      messages.push({ role: "user", content: user });
    }
    return messages;
  });

/** What must survive a round trip: per message its text, reasoning, calls and results. */
function normalize(messages: IrMessage[]) {
  return messages.map((m) => ({
    role: m.role,
    text: m.content
      .filter((p) => p.type === "text")
      .map((p) => p.text)
      .join(m.role === "user" ? "\n\n" : ""),
    reasoning: m.content
      .filter((p) => p.type === "reasoning")
      .map((p) => p.text)
      .join(""),
    calls: m.content.filter((p) => p.type === "tool_call").map((p) => ({ id: p.id, name: p.name, arguments: JSON.parse(p.arguments) as unknown })),
    results: m.content.filter((p) => p.type === "tool_result").map((p) => ({ id: p.toolCallId, text: p.content.map((c) => (c.type === "text" ? c.text : "")).join("\n\n") })),
  }));
}

describe("property: decoders never throw", () => {
  it("decodeRequest and decodeResponse on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(() => codec.decodeRequest(v, {})).not.toThrow();
        expect(() => codec.decodeResponse(v)).not.toThrow();
      }),
      RUNS,
    );
  });

  it("decodeRequest on request-shaped JSON with arbitrary messages and parameters", () => {
    const anyMessage = fc.record({ role: fc.constantFrom("system", "developer", "user", "assistant", "tool", "function", "x"), content: fc.jsonValue(), tool_calls: fc.jsonValue(), tool_call_id: fc.jsonValue(), name: fc.jsonValue() }, { requiredKeys: ["role"] });
    const body = fc.record(
      { model: fc.string(), messages: fc.array(anyMessage, { maxLength: 5 }), tools: fc.jsonValue(), tool_choice: fc.jsonValue(), response_format: fc.jsonValue(), stop: fc.jsonValue(), n: fc.jsonValue(), reasoning_effort: fc.jsonValue(), max_tokens: fc.jsonValue() },
      { requiredKeys: ["model", "messages"] },
    );
    fc.assert(
      fc.property(body, (b) => {
        const r = codec.decodeRequest(b, {});
        if (r.ok) expect(() => codec.encodeRequest(r.value, { model: "m" })).not.toThrow();
      }),
      RUNS,
    );
  });

  it("the stream decoder on arbitrary text and arbitrary JSON chunks", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.jsonValue(), { maxLength: 6 }), (raw, values) => {
        const d = codec.streamDecoder();
        expect(() => {
          for (const s of raw) d.push(s);
          for (const v of values) d.push(`data: ${JSON.stringify(v)}\n\n`);
          d.end();
        }).not.toThrow();
      }),
      RUNS,
    );
  });
});

describe("property: round trips", () => {
  it("encodeRequest → decodeRequest keeps text, reasoning, tool calls and tool results", () => {
    fc.assert(
      fc.property(conversation, fc.option(nonEmpty, { nil: undefined }), (messages, system) => {
        const ir: IrRequest = { model: "m", system: system === undefined ? [] : [{ text: system }], messages, tools: [{ name: "f", parameters: { type: "object" } }], stream: false, dropped: [] };
        const encoded = codec.encodeRequest(ir, { model: "deepseek-chat" });
        if (!encoded.ok) throw new Error(encoded.error.message);
        const decoded = codec.decodeRequest(JSON.parse(JSON.stringify(encoded.value.body)), {});
        if (!decoded.ok) throw new Error(decoded.error.message);
        expect(normalize(decoded.value.messages)).toEqual(normalize(messages));
        expect(decoded.value.system.map((s) => s.text).join("\n\n")).toBe(system ?? "");
        expect(decoded.value.dropped).toEqual([]);
      }),
      RUNS,
    );
  });

  const response = fc.record({
    reasoning: fc.option(nonEmpty, { nil: undefined }),
    texts: fc.array(text, { maxLength: 3 }),
    calls: fc.array(fc.record({ id: fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/), name, arguments: args }), { maxLength: 3 }),
    stopReason: fc.constantFrom<IrStopReason>("end_turn", "max_tokens", "tool_use", "content_filter", "error"),
    input: fc.nat(),
    output: fc.nat(),
    cached: fc.option(fc.nat(), { nil: undefined }),
    reasoningTokens: fc.option(fc.nat(), { nil: undefined }),
  });

  function toIr(r: typeof response extends fc.Arbitrary<infer T> ? T : never): IrResponse {
    const content: IrPart[] = [];
    if (r.reasoning !== undefined) content.push({ type: "reasoning", text: r.reasoning });
    for (const t of r.texts) content.push({ type: "text", text: t });
    for (const c of r.calls) content.push({ type: "tool_call", ...c });
    const usage: IrResponse["usage"] = { inputTokens: r.input, outputTokens: r.output };
    if (r.cached !== undefined) usage.cachedInputTokens = r.cached;
    if (r.reasoningTokens !== undefined) usage.reasoningTokens = r.reasoningTokens;
    return { id: "r", model: "m", content, stopReason: r.stopReason, usage };
  }

  /** The stop reason as it reads back: "stop" after tool calls means tool use. */
  const expectedStop = (r: IrResponse): IrStopReason => (r.stopReason === "end_turn" && r.content.some((p) => p.type === "tool_call") ? "tool_use" : r.stopReason);

  it("encodeResponse → decodeResponse keeps text, reasoning, tool calls, stop reason and usage", () => {
    fc.assert(
      fc.property(response, (r) => {
        const ir = toIr(r);
        const back = codec.decodeResponse(JSON.parse(JSON.stringify(codec.encodeResponse(ir, { model: "m", id: "i", now: 0 }))));
        if (!back.ok) throw new Error(back.error.message);
        expect(normalize([{ role: "assistant", content: back.value.content }])).toEqual(normalize([{ role: "assistant", content: ir.content.map((p) => (p.type === "tool_call" && p.arguments === "" ? { ...p, arguments: "{}" } : p)) }]));
        expect(back.value.stopReason).toBe(expectedStop(ir));
        expect(back.value.usage).toEqual(ir.usage);
      }),
      RUNS,
    );
  });

  /** IR events for an answer, its deltas cut into pieces, parallel calls possibly interleaved. */
  function events(ir: IrResponse, cuts: number[], interleave: boolean): IrEvent[] {
    const out: IrEvent[] = [{ type: "start", id: "s", model: "m" }];
    const pieces = (s: string): string[] => {
      const res: string[] = [];
      let at = 0;
      for (const c of cuts) {
        const to = Math.min(s.length, at + c);
        if (to > at) res.push(s.slice(at, to));
        at = to;
      }
      if (at < s.length) res.push(s.slice(at));
      return res;
    };
    const calls: { index: number; args: string[] }[] = [];
    ir.content.forEach((p, index) => {
      if (p.type === "tool_call") {
        out.push({ type: "block_start", index, part: { ...p, arguments: "" } });
        calls.push({ index, args: pieces(p.arguments) });
        if (!interleave) {
          for (const json of calls.at(-1)!.args) out.push({ type: "tool_arguments_delta", index, json });
          out.push({ type: "block_stop", index });
        }
        return;
      }
      out.push({ type: "block_start", index, part: p.type === "reasoning" ? { type: "reasoning", text: "" } : { type: "text", text: "" } });
      for (const t of pieces(p.type === "text" || p.type === "reasoning" ? p.text : "")) out.push(p.type === "reasoning" ? { type: "reasoning_delta", index, text: t } : { type: "text_delta", index, text: t });
      out.push({ type: "block_stop", index });
    });
    if (interleave) {
      for (let round = 0; calls.some((c) => c.args.length > round); round++) {
        for (const c of calls) if (c.args[round] !== undefined) out.push({ type: "tool_arguments_delta", index: c.index, json: c.args[round]! });
      }
      for (const c of calls) out.push({ type: "block_stop", index: c.index });
    }
    out.push({ type: "finish", stopReason: ir.stopReason, usage: ir.usage });
    return out;
  }

  it("stream encoder → stream decoder keeps text, reasoning and tool calls, whatever the chunking", () => {
    fc.assert(
      fc.property(response, fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 8 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 10 }), (r, cuts, interleave, wireCuts) => {
        const ir = toIr(r);
        const enc = codec.streamEncoder({ model: "m", id: "i", now: 0, includeUsage: true });
        let wire = "";
        for (const e of events(ir, cuts, interleave)) wire += enc.push(e);
        wire += enc.end();

        const dec = codec.streamDecoder();
        const got: IrEvent[] = [];
        let at = 0;
        for (const c of wireCuts) {
          got.push(...dec.push(wire.slice(at, at + c)));
          at += c;
        }
        got.push(...dec.push(wire.slice(at)), ...dec.end());

        // Rebuild the answer from the decoded events.
        const parts = new Map<number, IrPart>();
        for (const e of got) {
          if (e.type === "block_start") parts.set(e.index, { ...e.part });
          else if (e.type === "text_delta") (parts.get(e.index) as { text: string }).text += e.text;
          else if (e.type === "reasoning_delta") (parts.get(e.index) as { text: string }).text += e.text ?? "";
          else if (e.type === "tool_arguments_delta") (parts.get(e.index) as { arguments: string }).arguments += e.json;
        }
        const content = [...parts.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
        const expected = ir.content.filter((p) => !(p.type === "text" && p.text === "")).map((p) => (p.type === "tool_call" && p.arguments === "" ? { ...p, arguments: "{}" } : p));
        const merged = normalize([{ role: "assistant", content: expected }])[0]!;
        expect(normalize([{ role: "assistant", content }])[0]).toEqual(merged);
        const finish = got.at(-1);
        expect(finish).toMatchObject({ type: "finish", stopReason: expectedStop(ir), usage: ir.usage });
      }),
      RUNS,
    );
  });
});

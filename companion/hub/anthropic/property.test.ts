import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IrEvent, IrMessage, IrPart, IrRequest, IrResponse } from "../ir.ts";
import { codec } from "./index.ts";

const RUNS = { numRuns: 200 };

// ---------------------------------------------------------------------------------------------
// Generators

const text = fc.string({ minLength: 1, maxLength: 40 });
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,20}$/);
/** Tool-call arguments: a JSON object as text (Anthropic `input` is an object). */
const args = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((o) => JSON.stringify(o));

const textPart = text.map((t): IrPart => ({ type: "text", text: t }));
const toolCall = fc.record({ id, name, arguments: args }).map((c): IrPart => ({ type: "tool_call", ...c }));
const toolResult = fc
  .record({ toolCallId: id, content: fc.array(text.map((t) => ({ type: "text" as const, text: t })), { maxLength: 3 }), isError: fc.boolean() })
  .map((r): IrPart => (r.isError ? { type: "tool_result", ...r } : { type: "tool_result", toolCallId: r.toolCallId, content: r.content }));

/** A user turn: tool results first, then text (the order the wire requires). */
const userTurn = fc
  .tuple(fc.array(toolResult, { maxLength: 3 }), fc.array(textPart, { maxLength: 3 }))
  .filter(([r, t]) => r.length + t.length > 0)
  .map(([r, t]): IrMessage => ({ role: "user", content: [...r, ...t] }));
const assistantTurn = fc.array(fc.oneof(textPart, toolCall), { minLength: 1, maxLength: 4 }).map((content): IrMessage => ({ role: "assistant", content }));

/** Alternating turns, starting with the user. */
const conversation = fc.array(fc.tuple(userTurn, assistantTurn), { minLength: 1, maxLength: 4 }).map((pairs) => pairs.flat());

const irRequest = fc.record({ messages: conversation, system: fc.array(text.map((t) => ({ text: t })), { maxLength: 2 }) }).map(
  ({ messages, system }): IrRequest => ({ model: "claude-sonnet-4-5", system, messages, tools: [], stream: false, dropped: [] }),
);

const answerPart = fc.oneof(
  fc.string({ maxLength: 40 }).map((t): IrPart => ({ type: "text", text: t })),
  toolCall,
  fc.record({ text: fc.string({ maxLength: 40 }), signature: fc.string({ minLength: 1, maxLength: 20 }) }).map((r): IrPart => ({ type: "reasoning", ...r })),
);

const usage = fc.record({ cached: fc.nat(5000), creation: fc.nat(5000), fresh: fc.nat(5000), output: fc.nat(5000) }).map((u) => ({
  inputTokens: u.cached + u.creation + u.fresh,
  cachedInputTokens: u.cached,
  cacheCreationInputTokens: u.creation,
  outputTokens: u.output,
}));
const stopReason = fc.constantFrom("end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal") satisfies fc.Arbitrary<IrResponse["stopReason"]>;

// ---------------------------------------------------------------------------------------------
// Normalisation for comparisons: argument JSON compared as values, tool-result names ignored
// (the decoder adds them from the matching tool call).

function norm(part: IrPart): unknown {
  if (part.type === "tool_call") return { ...part, arguments: JSON.parse(part.arguments) as unknown };
  if (part.type === "tool_result") {
    const { name: _name, ...rest } = part;
    return rest;
  }
  return part;
}

/** Splits `s` at the given fractions. */
function split(s: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * s.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const i of at) {
    out.push(s.slice(from, i));
    from = i;
  }
  out.push(s.slice(from));
  return out;
}

// ---------------------------------------------------------------------------------------------

describe("decoders never throw", () => {
  it("decodeRequest and decodeResponse on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(typeof codec.decodeRequest(v, {}).ok).toBe("boolean");
        expect(typeof codec.decodeResponse(v).ok).toBe("boolean");
      }),
      RUNS,
    );
  });

  it("decodeRequest on request-shaped JSON with arbitrary blocks", () => {
    const block = fc.record(
      { type: fc.constantFrom("text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "server_tool_use", "x"), text: fc.jsonValue(), source: fc.jsonValue(), id: fc.jsonValue(), name: fc.jsonValue(), input: fc.jsonValue(), content: fc.jsonValue(), tool_use_id: fc.jsonValue(), cache_control: fc.jsonValue() },
      { requiredKeys: ["type"] },
    );
    const body = fc.record(
      {
        model: fc.string(),
        messages: fc.array(fc.record({ role: fc.constantFrom("user", "assistant", "system", "x"), content: fc.oneof(fc.string(), fc.array(block, { maxLength: 4 }), fc.jsonValue()) }), { maxLength: 4 }),
        system: fc.oneof(fc.string(), fc.jsonValue()),
        tools: fc.oneof(fc.array(fc.record({ name: fc.jsonValue(), type: fc.jsonValue(), input_schema: fc.jsonValue() }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue()),
        tool_choice: fc.jsonValue(),
        thinking: fc.jsonValue(),
        output_config: fc.jsonValue(),
        cache_control: fc.jsonValue(),
      },
      { requiredKeys: ["model", "messages"] },
    );
    fc.assert(
      fc.property(body, (b) => {
        const r = codec.decodeRequest(b, {});
        if (r.ok) expect(codec.encodeRequest(r.value, { model: "claude-sonnet-4-5" }).ok).toBe(true);
      }),
      RUNS,
    );
  });

  it("the stream decoder on arbitrary text and arbitrary events", () => {
    const event = fc.record({
      type: fc.constantFrom("message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error", "x"),
      index: fc.oneof(fc.nat(3), fc.jsonValue()),
      message: fc.jsonValue(),
      content_block: fc.oneof(fc.record({ type: fc.constantFrom("text", "thinking", "tool_use", "redacted_thinking", "x"), name: fc.jsonValue(), input: fc.jsonValue() }), fc.jsonValue()),
      delta: fc.oneof(fc.record({ type: fc.constantFrom("text_delta", "input_json_delta", "thinking_delta", "signature_delta", "x"), text: fc.jsonValue(), partial_json: fc.jsonValue(), stop_reason: fc.jsonValue() }), fc.jsonValue()),
      usage: fc.jsonValue(),
      error: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), event.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)), { maxLength: 12 }), (chunks) => {
        const d = codec.streamDecoder();
        for (const c of chunks) d.push(c);
        d.end();
      }),
      RUNS,
    );
  });

  it("the stream encoder on arbitrary event sequences", () => {
    const event: fc.Arbitrary<IrEvent> = fc.oneof(
      fc.record({ type: fc.constant("start" as const), id: fc.string(), model: fc.string() }),
      fc.record({ type: fc.constant("block_start" as const), index: fc.nat(3), part: answerPart }),
      fc.record({ type: fc.constant("text_delta" as const), index: fc.nat(3), text: fc.string() }),
      fc.record({ type: fc.constant("tool_arguments_delta" as const), index: fc.nat(3), json: fc.string() }),
      fc.record({ type: fc.constant("reasoning_delta" as const), index: fc.nat(3), text: fc.string() }),
      fc.record({ type: fc.constant("block_stop" as const), index: fc.nat(3) }),
      fc.record({ type: fc.constant("usage" as const), usage }),
      fc.record({ type: fc.constant("finish" as const), stopReason }),
      fc.record({ type: fc.constant("error" as const), status: fc.nat(600), code: fc.string(), message: fc.string() }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 15 }), (events) => {
        const e = codec.streamEncoder({ id: "msg_1", model: "m", now: 0 });
        let out = "";
        for (const ev of events) out += e.push(ev);
        out += e.end();
        // Whatever came in, the output is a readable Anthropic stream.
        const back = codec.streamDecoder();
        back.push(out);
        back.end();
      }),
      RUNS,
    );
  });
});

describe("round trips", () => {
  it("requests: encodeRequest → decodeRequest keeps system, text, tool calls and tool results", () => {
    fc.assert(
      fc.property(irRequest, (ir) => {
        const enc = codec.encodeRequest(ir, { model: ir.model });
        expect(enc.ok).toBe(true);
        if (!enc.ok) return;
        expect(enc.value.dropped).toEqual([]);
        const dec = codec.decodeRequest(JSON.parse(JSON.stringify(enc.value.body)), {});
        expect(dec.ok).toBe(true);
        if (!dec.ok) return;
        expect(dec.value.system).toEqual(ir.system);
        expect(dec.value.messages.map((m) => ({ role: m.role, content: m.content.map(norm) }))).toEqual(ir.messages.map((m) => ({ role: m.role, content: m.content.map(norm) })));
      }),
      RUNS,
    );
  });

  it("responses: encodeResponse → decodeResponse keeps content, stop reason and usage", () => {
    fc.assert(
      fc.property(fc.array(answerPart, { maxLength: 5 }), stopReason, usage, (content, stop, u) => {
        const ir: IrResponse = { id: "msg_1", model: "claude-sonnet-4-5", content, stopReason: stop, usage: u };
        const dec = codec.decodeResponse(JSON.parse(JSON.stringify(codec.encodeResponse(ir, { id: "msg_1", model: "claude-sonnet-4-5", now: 0 }))));
        expect(dec.ok).toBe(true);
        if (!dec.ok) return;
        expect(dec.value.content.map(norm)).toEqual(content.map(norm));
        expect(dec.value.stopReason).toBe(stop);
        expect(dec.value.usage).toEqual(u);
      }),
      RUNS,
    );
  });

  it("streams: IR events → wire (split anywhere) → IR events keep text, reasoning and tool calls", () => {
    const fragments = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(fc.tuple(answerPart, fragments), { maxLength: 5 }), stopReason, usage, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), (parts, stop, u, cuts) => {
        const events: IrEvent[] = [{ type: "start", id: "x", model: "y", usage: { inputTokens: u.inputTokens } }];
        parts.forEach(([part, frag], index) => {
          if (part.type === "tool_call") {
            events.push({ type: "block_start", index, part: { ...part, arguments: "" } });
            for (const json of split(part.arguments, frag)) events.push({ type: "tool_arguments_delta", index, json });
          } else if (part.type === "reasoning") {
            events.push({ type: "block_start", index, part: { type: "reasoning", text: "" } });
            for (const t of split(part.text, frag)) events.push({ type: "reasoning_delta", index, text: t });
            events.push({ type: "reasoning_delta", index, signature: part.signature! });
          } else if (part.type === "text") {
            events.push({ type: "block_start", index, part: { type: "text", text: "" } });
            for (const t of split(part.text, frag)) events.push({ type: "text_delta", index, text: t });
          }
          events.push({ type: "block_stop", index });
        });
        events.push({ type: "finish", stopReason: stop, usage: u });

        const encoder = codec.streamEncoder({ id: "msg_1", model: "claude-sonnet-4-5", now: 0 });
        let wire = "";
        for (const e of events) wire += encoder.push(e);
        wire += encoder.end();
        const decoder = codec.streamDecoder();
        const back: IrEvent[] = [];
        for (const chunk of split(wire, cuts)) back.push(...decoder.push(chunk));
        back.push(...decoder.end());

        // Rebuild the parts from the decoded events.
        const rebuilt: IrPart[] = [];
        for (const e of back) {
          if (e.type === "block_start") rebuilt[e.index] = { ...e.part };
          const p = "index" in e ? rebuilt[e.index] : undefined;
          if (e.type === "text_delta" && p?.type === "text") p.text += e.text;
          if (e.type === "tool_arguments_delta" && p?.type === "tool_call") p.arguments += e.json;
          if (e.type === "reasoning_delta" && p?.type === "reasoning") {
            if (e.text) p.text += e.text;
            if (e.signature) p.signature = (p.signature ?? "") + e.signature;
          }
        }
        expect(rebuilt.map(norm)).toEqual(parts.map(([p]) => norm(p)));
        expect(back.at(-1)).toEqual({ type: "finish", stopReason: stop, usage: u });
      }),
      RUNS,
    );
  });
});

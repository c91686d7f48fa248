import fc from "fast-check";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { IrEvent, IrMessage, IrPart, IrRequest, IrResponse } from "../ir.ts";
import { codec } from "./index.ts";

const ctx = { id: "resp_prop", model: "gpt-5", now: 1_700_000_000_000 };

// --- generators --------------------------------------------------------------------------

const text = fc.string({ maxLength: 40 });
const id = fc.string({ minLength: 1, maxLength: 24 });
const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,20}$/);
const argsJson = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v));

const userPart: fc.Arbitrary<IrPart> = fc.oneof(
  text.map((t) => ({ type: "text" as const, text: t })),
  fc.record({ toolCallId: id, content: fc.array(text.map((t) => ({ type: "text" as const, text: t })), { minLength: 1, maxLength: 3 }) }).map((r) => ({ type: "tool_result" as const, ...r })),
);
const assistantPart: fc.Arbitrary<IrPart> = fc.oneof(
  text.map((t) => ({ type: "text" as const, text: t })),
  fc.record({ id, name, arguments: argsJson }).map((r) => ({ type: "tool_call" as const, ...r })),
);
const message: fc.Arbitrary<IrMessage> = fc.oneof(
  fc.array(userPart, { minLength: 1, maxLength: 4 }).map((content) => ({ role: "user" as const, content })),
  fc.array(assistantPart, { minLength: 1, maxLength: 4 }).map((content) => ({ role: "assistant" as const, content })),
);
const request: fc.Arbitrary<IrRequest> = fc.record({
  system: fc.array(text.map((t) => ({ text: t })), { maxLength: 2 }),
  messages: fc.array(message, { maxLength: 6 }),
  stream: fc.boolean(),
}).map((r) => ({ model: "m", tools: [], dropped: [], ...r }));

/** Consecutive messages of one role are one message on the wire; tool results' optional name aside. */
function normalize(messages: IrMessage[]): IrMessage[] {
  const out: IrMessage[] = [];
  for (const m of messages) {
    const parts = m.content.map((p) => (p.type === "tool_result" ? { type: p.type, toolCallId: p.toolCallId, content: p.content } : p));
    const last = out.at(-1);
    if (last?.role === m.role) last.content.push(...parts);
    else out.push({ role: m.role, content: parts });
  }
  return out;
}

/** An answer as IR blocks: what a block carries and how its text arrives. */
type Block = { kind: "text" | "reasoning"; pieces: string[] } | { kind: "tool"; id: string; name: string; pieces: string[] };
const block: fc.Arbitrary<Block> = fc.oneof(
  fc.record({ kind: fc.constantFrom("text" as const, "reasoning" as const), pieces: fc.array(text, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant("tool" as const), id, name, pieces: fc.array(text, { maxLength: 4 }) }),
);

/** Each block's own events in order; blocks interleaved as `picks` says (parallel tool calls do this). */
function answerEvents(blocks: Block[], picks: number[], stopReason: "end_turn" | "tool_use" | "max_tokens"): IrEvent[] {
  const queues = blocks.map((b, index): IrEvent[] => {
    const start: IrEvent =
      b.kind === "tool" ? { type: "block_start", index, part: { type: "tool_call", id: b.id, name: b.name, arguments: "" } } : { type: "block_start", index, part: b.kind === "text" ? { type: "text", text: "" } : { type: "reasoning", text: "" } };
    const deltas = b.pieces.map((p): IrEvent => (b.kind === "tool" ? { type: "tool_arguments_delta", index, json: p } : b.kind === "text" ? { type: "text_delta", index, text: p } : { type: "reasoning_delta", index, text: p }));
    return [start, ...deltas, { type: "block_stop", index }];
  });
  const events: IrEvent[] = [{ type: "start", id: "up", model: "m" }];
  let pick = 0;
  while (queues.some((q) => q.length > 0)) {
    const open = queues.filter((q) => q.length > 0);
    events.push(open[(picks[pick++ % Math.max(picks.length, 1)] ?? 0) % open.length]!.shift()!);
  }
  events.push({ type: "finish", stopReason, usage: { inputTokens: 7, outputTokens: 3 } });
  return events;
}

/** What a stream says, per block in start order: kind, id/name and the joined text. */
function summarize(events: IrEvent[]): unknown[] {
  const blocks = new Map<number, { kind: string; id?: string; name?: string; text: string }>();
  for (const e of events) {
    if (e.type === "block_start") blocks.set(e.index, e.part.type === "tool_call" ? { kind: "tool", id: e.part.id, name: e.part.name, text: "" } : { kind: e.part.type, text: "" });
    else if (e.type === "text_delta") blocks.get(e.index)!.text += e.text;
    else if (e.type === "reasoning_delta") blocks.get(e.index)!.text += e.text ?? "";
    else if (e.type === "tool_arguments_delta") blocks.get(e.index)!.text += e.json;
  }
  return [...blocks.values()];
}

function encode(events: IrEvent[]): string {
  const e = codec.streamEncoder(ctx);
  return events.map((ev) => e.push(ev)).join("") + e.end();
}

function decode(chunks: string[]): IrEvent[] {
  const d = codec.streamDecoder();
  return [...chunks.flatMap((c) => d.push(c)), ...d.end()];
}

/** Cuts a string at the given fractions of its length. */
function cut(s: string, at: number[]): string[] {
  const points = [...new Set(at.map((f) => Math.floor(f * s.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(s.slice(from, p));
    from = p;
  }
  out.push(s.slice(from));
  return out;
}

// --- properties ----------------------------------------------------------------------------

describe("properties", () => {
  it("decoders never throw, whatever JSON or text they get", () => {
    const itemish = fc.record({ type: fc.constantFrom("message", "function_call", "function_call_output", "reasoning", "other"), role: fc.constantFrom("user", "assistant", "developer", 3), content: fc.jsonValue(), call_id: fc.jsonValue(), name: fc.jsonValue(), output: fc.jsonValue(), summary: fc.jsonValue(), encrypted_content: fc.jsonValue() }, { requiredKeys: [] });
    const bodyish = fc.oneof(fc.jsonValue(), fc.record({ model: fc.jsonValue(), input: fc.oneof(fc.jsonValue(), fc.array(itemish)), tools: fc.jsonValue(), tool_choice: fc.jsonValue(), text: fc.jsonValue(), reasoning: fc.jsonValue(), output: fc.oneof(fc.jsonValue(), fc.array(itemish)), usage: fc.jsonValue() }, { requiredKeys: [] }));
    fc.assert(
      fc.property(bodyish, (body) => {
        const r = codec.decodeRequest(body, {});
        if (!r.ok) expect(["bad_request", "unsupported"]).toContain(r.error.code);
        codec.decodeResponse(body);
      }),
      { numRuns: 400 },
    );
    const eventish = fc.record({ type: fc.constantFrom("response.created", "response.output_item.added", "response.output_item.done", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.function_call_arguments.delta", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.completed", "response.failed", "error"), output_index: fc.jsonValue(), content_index: fc.jsonValue(), item: fc.jsonValue(), part: fc.jsonValue(), delta: fc.jsonValue(), response: fc.jsonValue(), code: fc.jsonValue() }, { requiredKeys: ["type"] });
    fc.assert(
      fc.property(fc.array(fc.oneof(eventish.map((e) => `event: x\ndata: ${JSON.stringify(e)}\n\n`), fc.string())), (chunks) => {
        decode(chunks);
      }),
      { numRuns: 300 },
    );
  });

  it("encodeRequest → decodeRequest keeps text, tool calls and tool results", () => {
    fc.assert(
      fc.property(request, (ir) => {
        const encoded = codec.encodeRequest(ir, { model: "gpt-5" });
        if (!encoded.ok) throw new Error(encoded.error.message);
        const back = codec.decodeRequest(encoded.value.body, {});
        if (!back.ok) throw new Error(back.error.message);
        expect(normalize(back.value.messages)).toEqual(normalize(ir.messages));
        const system = ir.system.map((s) => s.text).join("\n\n");
        expect(back.value.system).toEqual(system === "" ? [] : [{ text: system }]);
        expect(back.value.stream).toBe(ir.stream);
      }),
      { numRuns: 300 },
    );
  });

  it("encodeResponse → decodeResponse keeps text, tool calls and usage", () => {
    const answer = fc.record({ content: fc.array(assistantPart, { maxLength: 6 }), input: fc.nat(), output: fc.nat() });
    fc.assert(
      fc.property(answer, ({ content, input, output }) => {
        const ir: IrResponse = { id: "x", model: "m", content, stopReason: content.some((p) => p.type === "tool_call") ? "tool_use" : "end_turn", usage: { inputTokens: input, outputTokens: output } };
        const back = codec.decodeResponse(codec.encodeResponse(ir, ctx));
        if (!back.ok) throw new Error(back.error.message);
        expect(back.value.content).toEqual(content);
        expect(back.value.stopReason).toBe(ir.stopReason);
        expect(back.value.usage).toMatchObject({ inputTokens: input, outputTokens: output });
      }),
      { numRuns: 300 },
    );
  });

  it("stream events → encoder → decoder (any chunking) keeps every block's text and tool calls", () => {
    fc.assert(
      fc.property(fc.array(block, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), (blocks, picks, at) => {
        const events = answerEvents(blocks, picks, "end_turn");
        const wire = encode(events);
        const back = decode(cut(wire, at));
        expect(summarize(back)).toEqual(summarize(events));
        expect(back.at(-1)).toMatchObject({ type: "finish", usage: { inputTokens: 7, outputTokens: 3 } });
      }),
      { numRuns: 300 },
    );
  });

  it("the openai SDK's ResponseStream accepts any encoded answer and rebuilds the same output", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(block, { maxLength: 4 }), fc.array(fc.nat(), { maxLength: 20 }), fc.constantFrom("end_turn" as const, "max_tokens" as const), async (blocks, picks, stop) => {
        const wire = encode(answerEvents(blocks, picks, stop));
        const client = new OpenAI({ apiKey: "k", baseURL: "http://ferry.invalid/v1", maxRetries: 0, fetch: async () => new Response(wire, { headers: { "content-type": "text/event-stream" } }) });
        const final = await client.responses.stream({ model: "m", input: "x" }).finalResponse();
        expect(final.status).toBe(stop === "end_turn" ? "completed" : "incomplete");
        const rebuilt = final.output.map((o) => {
          if (o.type === "function_call") return { kind: "tool", id: o.call_id, name: o.name, text: o.arguments };
          if (o.type === "message") return { kind: "text", text: o.content.map((c) => (c.type === "output_text" ? c.text : "")).join("") };
          if (o.type === "reasoning") return { kind: "reasoning", text: o.summary.map((s) => s.text).join("") };
          return { kind: o.type };
        });
        // Output items are ordered by when their block started.
        const started = blocks.map((b, i) => ({ b, i })).sort((x, y) => firstStart(blocks, picks, x.i) - firstStart(blocks, picks, y.i));
        expect(rebuilt).toEqual(started.map(({ b }) => (b.kind === "tool" ? { kind: "tool", id: b.id, name: b.name, text: b.pieces.join("") } : { kind: b.kind, text: b.pieces.join("") })));
      }),
      { numRuns: 60 },
    );
  });
});

/** Position of a block's block_start among the interleaved events. */
function firstStart(blocks: Block[], picks: number[], index: number): number {
  return answerEvents(blocks, picks, "end_turn").findIndex((e) => e.type === "block_start" && e.index === index);
}

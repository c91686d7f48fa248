import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IrAccumulator } from "../accumulate.ts";
import type { IrEvent, IrMessage, IrPart, IrRequest, IrResponse } from "../ir.ts";
import { codec } from "./index.ts";

const RUNS = { numRuns: 150 };
const text = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" });
const key = fc.string({ maxLength: 8 }).filter((k) => k !== "__proto__");
/** Tool-call arguments: JSON text of an object, as the IR carries them. */
const args = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((o) => JSON.stringify(o));
const id = fc.string({ minLength: 1, maxLength: 12 });
const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/);

const toolCall = fc.record({ type: fc.constant("tool_call" as const), id, name, arguments: args });
const toolResult = fc.record({
  type: fc.constant("tool_result" as const),
  toolCallId: id,
  name,
  content: text.map((t) => [{ type: "text" as const, text: t }]),
  isError: fc.boolean(),
});
const userPart: fc.Arbitrary<IrPart> = fc.oneof(text.map((t): IrPart => ({ type: "text", text: t })), toolResult);
const assistantPart: fc.Arbitrary<IrPart> = fc.oneof(text.map((t): IrPart => ({ type: "text", text: t })), toolCall);
const message: fc.Arbitrary<IrMessage> = fc.oneof(
  fc.record({ role: fc.constant("user" as const), content: fc.array(userPart, { minLength: 1, maxLength: 4 }) }),
  fc.record({ role: fc.constant("assistant" as const), content: fc.array(assistantPart, { minLength: 1, maxLength: 4 }) }),
);

/** What the properties compare: text, tool calls (arguments as values) and tool results. */
function essence(parts: IrPart[]): unknown[] {
  return parts.flatMap((p): unknown[] => {
    switch (p.type) {
      case "text":
        return [{ text: p.text }];
      case "tool_call":
        return [{ call: p.id, name: p.name, args: JSON.parse(p.arguments) as unknown }];
      case "tool_result":
        return [{ result: p.toolCallId, content: p.content, isError: p.isError === true }];
      default:
        return [];
    }
  });
}

describe("gemini codec properties", () => {
  it("decoders never throw, whatever the JSON", () => {
    const partish = fc.oneof(
      fc.record({ text: fc.anything(), thought: fc.anything(), thoughtSignature: fc.anything() }, { requiredKeys: [] }),
      fc.record({ functionCall: fc.oneof(fc.anything(), fc.record({ id: fc.anything(), name: fc.anything(), args: fc.anything() }, { requiredKeys: [] })) }),
      fc.record({ functionResponse: fc.oneof(fc.anything(), fc.record({ id: fc.anything(), name: fc.anything(), response: fc.anything(), parts: fc.anything() }, { requiredKeys: [] })) }),
      fc.record({ inlineData: fc.anything(), fileData: fc.anything() }, { requiredKeys: [] }),
      fc.anything(),
    );
    const content = fc.record({ role: fc.oneof(fc.constantFrom("user", "model", "function"), fc.anything()), parts: fc.oneof(fc.array(partish, { maxLength: 4 }), fc.anything()) }, { requiredKeys: [] });
    const geminiish = fc.record(
      {
        contents: fc.oneof(fc.array(content, { maxLength: 3 }), fc.anything()),
        systemInstruction: fc.anything(),
        tools: fc.oneof(fc.array(fc.record({ functionDeclarations: fc.anything(), googleSearch: fc.anything() }, { requiredKeys: [] })), fc.anything()),
        toolConfig: fc.record({ functionCallingConfig: fc.record({ mode: fc.constantFrom("AUTO", "ANY", "NONE", "VALIDATED"), allowedFunctionNames: fc.anything() }, { requiredKeys: [] }) }, { requiredKeys: [] }),
        generationConfig: fc.oneof(fc.record({ thinkingConfig: fc.anything(), responseSchema: fc.anything(), responseMimeType: fc.anything(), candidateCount: fc.anything() }, { requiredKeys: [] }), fc.anything()),
        candidates: fc.array(fc.record({ content, finishReason: fc.anything(), index: fc.anything() }, { requiredKeys: [] }), { maxLength: 2 }),
        usageMetadata: fc.anything(),
        requests: fc.anything(),
        content: fc.anything(),
        embeddings: fc.anything(),
        error: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), geminiish), (body) => {
        for (const r of [codec.decodeRequest(body, {}), codec.decodeResponse(body), codec.decodeEmbeddings!(body, {}), codec.decodeEmbeddingsResponse!(body)]) expect(typeof r.ok).toBe("boolean");
        const json = JSON.stringify(body) ?? "null";
        for (const wire of [`data: ${json}\n\n`, `[${json}]`, json]) {
          const d = codec.streamDecoder();
          const events = [...d.push(wire), ...d.end()];
          expect(Array.isArray(events)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const d = codec.streamDecoder();
        expect(Array.isArray([...d.push(s), ...d.end()])).toBe(true);
      }),
    );
  });

  it("requests: encode → decode keeps text, tool calls and tool results", () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.array(text, { maxLength: 2 }), (messages, system) => {
        const ir: IrRequest = { model: "gemini-2.5-flash", system: system.map((t) => ({ text: t })), messages, tools: [], stream: false, dropped: [] };
        const encoded = codec.encodeRequest(ir, { model: "gemini-2.5-flash" });
        if (!encoded.ok) throw new Error(encoded.error.message);
        const decoded = codec.decodeRequest(JSON.parse(JSON.stringify(encoded.value.body)), { model: "gemini-2.5-flash" });
        if (!decoded.ok) throw new Error(decoded.error.message);
        expect(decoded.value.system).toEqual(ir.system);
        expect(decoded.value.messages.map((m) => ({ role: m.role, parts: essence(m.content) }))).toEqual(messages.map((m) => ({ role: m.role, parts: essence(m.content) })));
      }),
      RUNS,
    );
  });

  it("responses: encode → decode keeps text, tool calls and usage", () => {
    fc.assert(
      fc.property(fc.array(assistantPart, { maxLength: 5 }), fc.nat(10_000), fc.nat(10_000), (content, input, output) => {
        const hasCalls = content.some((p) => p.type === "tool_call");
        const ir: IrResponse = { id: "r", model: "m", content, stopReason: hasCalls ? "tool_use" : "end_turn", usage: { inputTokens: input, outputTokens: output } };
        const decoded = codec.decodeResponse(JSON.parse(JSON.stringify(codec.encodeResponse(ir, { model: "m", id: "r", now: 0 }))));
        if (!decoded.ok) throw new Error(decoded.error.message);
        expect(essence(decoded.value.content)).toEqual(essence(content));
        expect(decoded.value.stopReason).toBe(ir.stopReason);
        expect(decoded.value.usage).toEqual(ir.usage);
      }),
      RUNS,
    );
  });

  it("streams: encode events → decode (split anywhere, both forms) → the same text and tool calls", () => {
    /** An answer as IR events: text in delta pieces, tool-call arguments in fragments. */
    const streamed = fc.array(fc.oneof(fc.array(text, { minLength: 1, maxLength: 3 }).map((pieces) => ({ kind: "text" as const, pieces })), fc.tuple(toolCall, fc.nat(20)).map(([call, cut]) => ({ kind: "call" as const, call, cut }))), { maxLength: 5 });
    fc.assert(
      fc.property(streamed, fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), (blocks, sse, cuts) => {
        const events: IrEvent[] = [{ type: "start", id: "x", model: "m" }];
        blocks.forEach((b, index) => {
          if (b.kind === "text") {
            events.push({ type: "block_start", index, part: { type: "text", text: "" } });
            for (const t of b.pieces) events.push({ type: "text_delta", index, text: t });
          } else {
            const a = b.call.arguments;
            const at = Math.min(b.cut, a.length);
            events.push({ type: "block_start", index, part: { ...b.call, arguments: "" } }, { type: "tool_arguments_delta", index, json: a.slice(0, at) }, { type: "tool_arguments_delta", index, json: a.slice(at) });
          }
          events.push({ type: "block_stop", index });
        });
        const hasCalls = blocks.some((b) => b.kind === "call");
        events.push({ type: "finish", stopReason: hasCalls ? "tool_use" : "end_turn", usage: { inputTokens: 3, outputTokens: 4 } });

        const enc = codec.streamEncoder({ model: "m", id: "x", now: 0, sse } as never);
        const wire = events.map((e) => enc.push(e)).join("") + enc.end();
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const dec = codec.streamDecoder();
        const out: IrEvent[] = [];
        let from = 0;
        for (const p of [...points, wire.length]) {
          out.push(...dec.push(wire.slice(from, p)));
          from = p;
        }
        out.push(...dec.end());
        const acc = new IrAccumulator();
        out.forEach((e) => acc.push(e));
        const result = acc.result();
        const joined = (parts: IrPart[]): string => parts.map((p) => (p.type === "text" ? p.text : "")).join("");
        expect(joined(result.content)).toBe(blocks.map((b) => (b.kind === "text" ? b.pieces.join("") : "")).join(""));
        expect(essence(result.content.filter((p) => p.type === "tool_call"))).toEqual(essence(blocks.flatMap((b) => (b.kind === "call" ? [b.call] : []))));
        expect(result.stopReason).toBe(hasCalls ? "tool_use" : "end_turn");
        expect(result.usage).toEqual({ inputTokens: 3, outputTokens: 4 });
      }),
      RUNS,
    );
  });
});

import { describe, expect, it } from "vitest";
import { IrAccumulator } from "./accumulate.ts";
import type { IrRequest, IrResponse } from "./ir.ts";
import { ReasoningCache } from "./reasoning-cache.ts";

const answer: IrResponse = {
  id: "a",
  model: "m",
  stopReason: "tool_use",
  usage: {},
  content: [
    { type: "reasoning", text: "I should look it up", signature: "sig-1" },
    { type: "tool_call", id: "call_1", name: "lookup", arguments: '{"q":"x"}', thoughtSignature: "ts-1" },
  ],
};

const nextTurn = (): IrRequest => ({
  model: "m",
  system: [],
  tools: [],
  stream: false,
  dropped: [],
  messages: [
    { role: "user", content: [{ type: "text", text: "find x" }] },
    // The client's dialect could not carry reasoning or the signature: only the call came back.
    { role: "assistant", content: [{ type: "tool_call", id: "call_1", name: "lookup", arguments: '{"q":"x"}' }] },
    { role: "user", content: [{ type: "tool_result", toolCallId: "call_1", content: [{ type: "text", text: "42" }] }] },
  ],
});

describe("ReasoningCache", () => {
  it("puts reasoning and the thought signature back before the tool call they preceded", () => {
    const cache = new ReasoningCache();
    cache.remember(answer);
    const request = nextTurn();
    expect(cache.restore(request)).toBe(2);
    expect(request.messages[1]!.content).toEqual([
      { type: "reasoning", text: "I should look it up", signature: "sig-1" },
      { type: "tool_call", id: "call_1", name: "lookup", arguments: '{"q":"x"}', thoughtSignature: "ts-1" },
    ]);
  });

  it("leaves turns alone that still carry their reasoning, and unknown calls", () => {
    const cache = new ReasoningCache();
    cache.remember(answer);
    const request = nextTurn();
    request.messages[1]!.content.unshift({ type: "reasoning", text: "kept by the client", signature: "own" });
    request.messages[1]!.content[1] = { type: "tool_call", id: "call_1", name: "lookup", arguments: "{}", thoughtSignature: "own-ts" };
    expect(cache.restore(request)).toBe(0);
    const other = nextTurn();
    (other.messages[1]!.content[0] as { id: string }).id = "call_unknown";
    expect(cache.restore(other)).toBe(0);
  });

  it("stays within its bound, forgetting the oldest first", () => {
    const cache = new ReasoningCache(2);
    for (const id of ["c1", "c2", "c3"]) {
      cache.remember({ ...answer, content: [answer.content[0]!, { type: "tool_call", id, name: "t", arguments: "{}" }] });
    }
    expect(cache.size).toBe(2);
    const request = nextTurn();
    (request.messages[1]!.content[0] as { id: string }).id = "c1";
    expect(cache.restore(request)).toBe(0);
  });

  it("learns from a stream through the accumulator", () => {
    const acc = new IrAccumulator();
    acc.push({ type: "start", id: "s", model: "m" });
    acc.push({ type: "block_start", index: 0, part: { type: "reasoning", text: "" } });
    acc.push({ type: "reasoning_delta", index: 0, text: "I should " });
    acc.push({ type: "reasoning_delta", index: 0, text: "look it up" });
    acc.push({ type: "reasoning_delta", index: 0, signature: "sig-1" });
    acc.push({ type: "block_stop", index: 0 });
    acc.push({ type: "block_start", index: 1, part: { type: "tool_call", id: "call_1", name: "lookup", arguments: "" } });
    acc.push({ type: "tool_arguments_delta", index: 1, json: '{"q":' });
    acc.push({ type: "tool_arguments_delta", index: 1, json: '"x"}' });
    acc.push({ type: "block_stop", index: 1 });
    acc.push({ type: "finish", stopReason: "tool_use", usage: { outputTokens: 5 } });
    const cache = new ReasoningCache();
    cache.remember(acc.result());
    const request = nextTurn();
    cache.restore(request);
    expect(request.messages[1]!.content[0]).toEqual({ type: "reasoning", text: "I should look it up", signature: "sig-1" });
  });
});

/**
 * Reasoning a target needs back on the next turn — Anthropic thinking signatures, Gemini
 * thoughtSignature, DeepSeek reasoning_content after tool calls — survives a round trip
 * through a client whose dialect cannot carry it: it is remembered, keyed by the tool call it
 * preceded, and put back when that tool call returns in the conversation. Bounded (LRU).
 */
import type { IrPart, IrRequest, IrResponse } from "./ir.ts";

interface Remembered {
  reasoning: Extract<IrPart, { type: "reasoning" }>[];
  thoughtSignature?: string;
}

export class ReasoningCache {
  private readonly entries = new Map<string, Remembered>();
  private readonly max: number;

  constructor(maxEntries = 10_000) {
    this.max = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Remembers the reasoning before each tool call of an answer. */
  remember(answer: IrResponse): void {
    let reasoning: Extract<IrPart, { type: "reasoning" }>[] = [];
    for (const part of answer.content) {
      if (part.type === "reasoning") reasoning.push(part);
      else if (part.type === "tool_call") {
        if (reasoning.length || part.thoughtSignature) {
          this.set(part.id, { reasoning, ...(part.thoughtSignature ? { thoughtSignature: part.thoughtSignature } : {}) });
        }
        reasoning = [];
      }
    }
  }

  /** Puts remembered reasoning back into assistant turns that lost it. Returns how many. */
  restore(request: IrRequest): number {
    let restored = 0;
    for (const message of request.messages) {
      if (message.role !== "assistant") continue;
      const hasReasoning = message.content.some((p) => p.type === "reasoning");
      const out: IrPart[] = [];
      for (const part of message.content) {
        if (part.type === "tool_call") {
          const hit = this.entries.get(part.id);
          if (hit) {
            if (!hasReasoning && hit.reasoning.length) {
              out.push(...hit.reasoning);
              restored++;
            }
            if (!part.thoughtSignature && hit.thoughtSignature) {
              out.push({ ...part, thoughtSignature: hit.thoughtSignature });
              restored++;
              continue;
            }
          }
        }
        out.push(part);
      }
      message.content = out;
    }
    return restored;
  }

  private set(key: string, value: Remembered): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}

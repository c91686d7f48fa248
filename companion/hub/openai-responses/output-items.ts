/**
 * Output items and the response object as the client sees them, shared by the whole-answer
 * and streaming encoders. Shapes: openai-node 7.x `ResponseOutputMessage`,
 * `ResponseFunctionToolCall`, `ResponseReasoningItem`, `Response`; the API reference's own
 * examples (e.g. the streamed "Hi there! How can I assist you today?" transcript) show
 * `annotations: []` on every output_text part.
 */
import type { IrUsage } from "../ir.ts";
import { STATE_TAG } from "./reasoning-state.ts";
import { usageToWire, type WireOutcome } from "./usage-status.ts";
import type { Json } from "./wire.ts";

type ItemStatus = "in_progress" | "completed" | "incomplete";

export function textPart(text: string): Json {
  return { type: "output_text", annotations: [], text };
}

export function messageItem(id: string, status: ItemStatus, texts: string[]): Json {
  return { id, type: "message", status, role: "assistant", content: texts.map(textPart) };
}

export function functionCallItem(id: string, status: ItemStatus, call: { callId: string; name: string; arguments: string }): Json {
  return { id, type: "function_call", status, arguments: call.arguments, call_id: call.callId, name: call.name };
}

export function summaryPart(text: string): Json {
  return { type: "summary_text", text };
}

export function reasoningItem(id: string, summary: string, encrypted: string | undefined): Json {
  return { id, type: "reasoning", summary: summary === "" ? [] : [summaryPart(summary)], ...(encrypted !== undefined ? { encrypted_content: encrypted } : {}) };
}

/** The item that carries a function call's Gemini thought signature (see reasoning-state.ts). */
export function callThoughtItem(id: string, signature: string): Json {
  return reasoningItem(id, "", STATE_TAG.callThought + signature);
}

/**
 * A response object. Fields the client set (tools, temperature, …) are not known to an
 * encoder that sees only the answer, so they carry their neutral values.
 */
export function responseObject(o: { id: string; createdAt: number; model: string; status: WireOutcome["status"] | "in_progress"; outcome?: WireOutcome; output: Json[]; usage?: IrUsage }): Json {
  return {
    id: o.id,
    object: "response",
    created_at: o.createdAt,
    status: o.status,
    error: o.outcome?.error ?? null,
    incomplete_details: o.outcome?.incomplete_details ?? null,
    instructions: null,
    metadata: null,
    model: o.model,
    output: o.output,
    parallel_tool_calls: true,
    temperature: null,
    tool_choice: "auto",
    tools: [],
    top_p: null,
    usage: o.usage ? usageToWire(o.usage) : null,
  };
}

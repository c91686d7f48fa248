/**
 * Opaque reasoning state in a reasoning item's `encrypted_content`.
 *
 * The Responses API hands back reasoning as an item whose `encrypted_content` the client must
 * return unchanged on the next turn (with `store: false`, "use the completed reasoning item and
 * its encrypted_content from the response.output_item.done event in subsequent requests" —
 * openai-node ResponseReasoningItem.encrypted_content). Codex CLI does exactly that.
 *
 * Choice: `encrypted_content` ↔ IR `signature`. A signature is the one opaque value the IR
 * can deliver at the end of a streamed block (`reasoning_delta.signature`), which is when the
 * Responses stream completes `encrypted_content` (the value in `output_item.added` "may be
 * incomplete"). So an OpenAI target's encrypted reasoning survives a round trip, and an
 * Anthropic thinking signature rides through Codex the same way.
 *
 * Towards a client, the other opaque IR values travel in `encrypted_content` too, tagged so
 * they come back as what they were (the client stores and returns the string verbatim):
 * - `ferry:redacted:<data>` — Anthropic redacted_thinking data (`redactedData`);
 * - `ferry:thought:<sig>` — a Gemini thought signature on a reasoning part;
 * - `ferry:call-thought:<sig>` — a Gemini thought signature on a function call. The function
 *   call item has no opaque field, so an item of its own, with an empty summary, goes right
 *   before the call and its signature is put back on that call when the client returns it.
 * Towards OpenAI itself only untagged values are sent: it accepts nothing but its own.
 */
import type { IrPart } from "../ir.ts";

export const STATE_TAG = {
  redacted: "ferry:redacted:",
  thought: "ferry:thought:",
  callThought: "ferry:call-thought:",
} as const;

export type ReasoningState =
  | { kind: "signature"; value: string }
  | { kind: "redacted"; value: string }
  | { kind: "thought"; value: string }
  | { kind: "call-thought"; value: string };

export function readState(encrypted: string): ReasoningState {
  if (encrypted.startsWith(STATE_TAG.redacted)) return { kind: "redacted", value: encrypted.slice(STATE_TAG.redacted.length) };
  if (encrypted.startsWith(STATE_TAG.thought)) return { kind: "thought", value: encrypted.slice(STATE_TAG.thought.length) };
  if (encrypted.startsWith(STATE_TAG.callThought)) return { kind: "call-thought", value: encrypted.slice(STATE_TAG.callThought.length) };
  return { kind: "signature", value: encrypted };
}

type ReasoningPart = Extract<IrPart, { type: "reasoning" }>;

/** The client-facing `encrypted_content` of a reasoning part, if it carries opaque state. */
export function stateOf(part: Pick<ReasoningPart, "signature" | "redactedData" | "thoughtSignature">): string | undefined {
  if (part.signature) return part.signature;
  if (part.redactedData) return STATE_TAG.redacted + part.redactedData;
  if (part.thoughtSignature) return STATE_TAG.thought + part.thoughtSignature;
  return undefined;
}

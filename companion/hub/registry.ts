/** The codecs, by hub dialect, and which codec serves each client endpoint and target. */
import type { Dialect, EdgePool } from "../config/schema.ts";
import type { Endpoint } from "../pipeline.ts";
import type { Target } from "../routing.ts";
import { codec as anthropic } from "./anthropic/index.ts";
import type { DialectCodec, HubDialect } from "./codec.ts";
import { codec as gemini } from "./gemini/index.ts";
import { codec as ollama } from "./ollama/index.ts";
import { codec as openaiChat } from "./openai-chat/index.ts";
import { codec as openaiResponses } from "./openai-responses/index.ts";

export const CODECS: Record<HubDialect, DialectCodec> = {
  anthropic,
  "openai-chat": openaiChat,
  "openai-responses": openaiResponses,
  gemini,
  ollama,
};

/** The codec that speaks a client's endpoint, or null when the hub does not translate it. */
export function clientCodec(endpoint: Endpoint): DialectCodec | null {
  switch (endpoint) {
    case "anthropic.messages":
      return anthropic;
    case "openai.chat":
      return openaiChat;
    case "openai.responses":
      return openaiResponses;
    case "gemini.generate":
    case "gemini.stream":
      return gemini;
    case "ollama.chat":
      return ollama;
    default:
      return null;
  }
}

/**
 * The hub dialect a conversation call is spoken to a target in. OpenAI pools serve Chat
 * Completions, the Responses API or both (edgePools.<pool>.chatApi / responsesApi): a client of
 * either OpenAI API keeps its own when the pool serves it; every other client gets the pool's
 * `translateVia` (default chat when served: every OpenAI-compatible host speaks it).
 */
export function conversationDialect(endpoint: Endpoint, target: Target, pool: EdgePool | undefined): HubDialect {
  if (target.kind === "ollama") return "ollama";
  if (target.dialect !== "openai") return target.dialect;
  const chat = pool?.chatApi ?? true;
  const responses = pool?.responsesApi ?? false;
  if (endpoint === "openai.chat" && chat) return "openai-chat";
  if (endpoint === "openai.responses" && responses) return "openai-responses";
  if (endpoint === "openai.chat" || endpoint === "openai.responses") return responses && !chat ? "openai-responses" : "openai-chat";
  const via = pool?.translateVia ?? (chat ? "chat" : "responses");
  return via === "responses" ? "openai-responses" : "openai-chat";
}

/**
 * The codec a target's embeddings (and other non-conversation calls) are spoken with: OpenAI's
 * embeddings belong to the Chat codec.
 */
export function targetCodec(target: Dialect | "ollama"): DialectCodec {
  switch (target) {
    case "anthropic":
      return anthropic;
    case "openai":
      return openaiChat;
    case "gemini":
      return gemini;
    case "ollama":
      return ollama;
  }
}

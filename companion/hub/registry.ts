/** The codecs, by hub dialect, and which codec serves each client endpoint and target. */
import type { Dialect } from "../config/schema.ts";
import type { Endpoint } from "../pipeline.ts";
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
 * The codec a target is spoken to with. OpenAI-dialect pools get Chat Completions: every
 * OpenAI-compatible host (DeepSeek, NVIDIA, DashScope, OpenRouter…) serves it.
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

/**
 * The chain the dialect-hub matrices run on: one edge pool per target dialect — Anthropic
 * (`/ant`), OpenAI Chat (`/oai`), an OpenAI pool that serves only the Responses API (`/rsp`,
 * so every client is translated to it), Gemini (`/gem`) — and the stand-in Ollama. Each
 * requested model in `models` routes to its dialect's target model, named in TARGET_MODELS.
 */
import type { HubDialect } from "../../companion/hub/codec.ts";
import { startChain, type Chain } from "./companion.ts";

export const TARGET_MODELS: Record<HubDialect, string> = {
  anthropic: "claude-target",
  "openai-chat": "gpt-target",
  "openai-responses": "gpt-resp-target",
  gemini: "gemini-target",
  ollama: "qwen-target",
};

export function startHubChain(key: string, models: Record<HubDialect, string>, project: string): Promise<Chain> {
  return startChain({
    pools: {
      anthropic: { type: "anthropic", prefix: "/ant" },
      openai: { type: "openai", prefix: "/oai" },
      responses: { type: "openai", prefix: "/rsp" },
      gemini: { type: "gemini", prefix: "/gem" },
    },
    companion: () => ({
      edgePools: {
        anthropic: { dialect: "anthropic" },
        openai: { dialect: "openai" },
        responses: { dialect: "openai", responsesApi: true, chatApi: false },
        gemini: { dialect: "gemini" },
      },
      models: {
        [models.anthropic]: [`edge:anthropic/${TARGET_MODELS.anthropic}`],
        [models["openai-chat"]]: [`edge:openai/${TARGET_MODELS["openai-chat"]}`],
        [models["openai-responses"]]: [`edge:responses/${TARGET_MODELS["openai-responses"]}`],
        [models.gemini]: [`edge:gemini/${TARGET_MODELS.gemini}`],
        [models.ollama]: [`ollama:${TARGET_MODELS.ollama}`],
      },
      projects: [{ id: project, keys: [key] }],
    }),
  });
}

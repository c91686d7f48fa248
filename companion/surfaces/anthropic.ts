/** Anthropic Messages surface: /v1/messages, /v1/messages/count_tokens (and /v1/models, see openai.ts). */
import type { App, GetRuntime } from "./context.ts";
import { jsonCall } from "./request.ts";

export function anthropicRoutes(app: App, runtime: GetRuntime): void {
  app.post("/v1/messages", jsonCall(runtime, "anthropic", "anthropic.messages"));
  app.post("/v1/messages/count_tokens", jsonCall(runtime, "anthropic", "anthropic.count_tokens"));
}

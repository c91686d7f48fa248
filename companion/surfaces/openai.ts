/**
 * OpenAI surface: chat completions, responses, completions, embeddings, models; also without
 * the /v1 prefix, which some clients omit. `GET /v1/responses` asking for a WebSocket (Codex's
 * built-in provider) gets 426 at once so the client falls back to POST.
 */
import { clientError } from "../dialects/errors.ts";
import type { Endpoint } from "../pipeline.ts";
import type { App, GetRuntime } from "./context.ts";
import { anthropicModels, openaiModels, visibleModels } from "./models.ts";
import { jsonCall, projectOf } from "./request.ts";

const ROUTES: [string, Endpoint][] = [
  ["chat/completions", "openai.chat"],
  ["responses", "openai.responses"],
  ["completions", "openai.completions"],
  ["embeddings", "openai.embeddings"],
];

export function openaiRoutes(app: App, runtime: GetRuntime): void {
  for (const [suffix, endpoint] of ROUTES) {
    for (const path of [`/v1/${suffix}`, `/${suffix}`]) app.post(path, jsonCall(runtime, "openai", endpoint));
  }

  for (const path of ["/v1/responses", "/responses"]) {
    app.get(path, (c) => {
      const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
      return clientError("openai", upgrade ? "upgrade_required" : "not_found", upgrade ? "WebSocket mode is not served here; use POST /v1/responses" : "use POST /v1/responses", upgrade ? { upgrade: "HTTP/1.1" } : {});
    });
  }

  for (const path of ["/v1/models", "/models"]) {
    app.get(path, (c) => {
      const rt = runtime();
      const anthropic = c.req.header("anthropic-version") !== undefined;
      const dialect = anthropic ? "anthropic" : "openai";
      const project = projectOf(c, rt, dialect);
      if (project instanceof Response) return project;
      const models = visibleModels(rt, project);
      return c.json(anthropic ? anthropicModels(models) : openaiModels(models));
    });
  }
}

/**
 * OpenAI surface: chat completions, responses, completions, embeddings, models; also without
 * the /v1 prefix, which some clients omit. `GET /v1/responses` asking for a WebSocket (Codex's
 * built-in provider) gets 426 at once so the client falls back to POST.
 */
import { clientError } from "../dialects/errors.ts";
import { handleCall, projectKey, type Endpoint } from "../pipeline.ts";
import { keyHash } from "../runtime.ts";
import type { App, GetRuntime } from "./context.ts";
import { anthropicModels, openaiModels, visibleModels } from "./models.ts";
import { splitQuery, clientIp, readJson } from "./request.ts";

const ROUTES: [string, Endpoint][] = [
  ["chat/completions", "openai.chat"],
  ["responses", "openai.responses"],
  ["completions", "openai.completions"],
  ["embeddings", "openai.embeddings"],
];

export function openaiRoutes(app: App, runtime: GetRuntime): void {
  for (const [suffix, endpoint] of ROUTES) {
    for (const path of [`/v1/${suffix}`, `/${suffix}`]) {
      app.post(path, async (c) => {
        const rt = runtime();
        const body = await readJson(c, "openai", rt.config.server.maxBodyBytes);
        if (body instanceof Response) return body;
        return handleCall(rt, {
          dialect: "openai",
          endpoint,
          model: typeof body.json.model === "string" ? body.json.model : null,
          stream: body.json.stream === true,
          body: body.json,
          ...splitQuery(c.req.url),
          headers: c.req.raw.headers,
          clientIp: clientIp(c, rt.config.server.trustForwardedFor),
          signal: c.req.raw.signal,
        });
      });
    }
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
      const key = projectKey(c.req.raw.headers, splitQuery(c.req.url).queryKey);
      const project = key ? rt.projectsByKeyHash.get(keyHash(key)) : undefined;
      if (!project) return clientError(dialect, "unauthorized", key ? "invalid API key" : "missing API key");
      const models = visibleModels(rt, project);
      return c.json(anthropic ? anthropicModels(models) : openaiModels(models));
    });
  }
}

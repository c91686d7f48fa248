/**
 * Gemini surface: /v1beta/models/{model}:generateContent, :streamGenerateContent (SSE with
 * ?alt=sse, the JSON-array stream without), :countTokens, :embedContent, :batchEmbedContents,
 * and the model list.
 */
import { clientError } from "../dialects/errors.ts";
import { handleCall, type Endpoint } from "../pipeline.ts";
import type { App, GetRuntime } from "./context.ts";
import { geminiModels, visibleModels } from "./models.ts";
import { clientIp, projectOf, readJson, splitQuery } from "./request.ts";

const ACTIONS: Record<string, Endpoint> = {
  generateContent: "gemini.generate",
  streamGenerateContent: "gemini.stream",
  countTokens: "gemini.count_tokens",
  embedContent: "gemini.embed",
  batchEmbedContents: "gemini.batch_embed",
};

export function geminiRoutes(app: App, runtime: GetRuntime): void {
  for (const version of ["v1beta", "v1"]) {
    app.post(`/${version}/models/:call{.+}`, async (c) => {
      const rt = runtime();
      const call = decodeURIComponent(c.req.param("call"));
      const colon = call.lastIndexOf(":");
      const action = call.slice(colon + 1);
      const endpoint = colon > 0 && Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      if (!endpoint) return clientError("gemini", "not_found", `unknown method ${call.slice(colon + 1) || call}`);
      const body = await readJson(c, "gemini", rt.config.server.maxBodyBytes);
      if (body instanceof Response) return body;
      return handleCall(rt, {
        dialect: "gemini",
        endpoint,
        model: call.slice(0, colon),
        stream: endpoint === "gemini.stream",
        body: body.json,
        ...splitQuery(c.req.url),
        headers: c.req.raw.headers,
        clientIp: clientIp(c, rt.config.server.trustForwardedFor),
        signal: c.req.raw.signal,
      });
    });
    app.get(`/${version}/models`, (c) => {
      const rt = runtime();
      const project = projectOf(c, rt, "gemini");
      if (project instanceof Response) return project;
      return c.json(geminiModels(visibleModels(rt, project)));
    });
  }
}

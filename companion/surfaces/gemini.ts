/**
 * Gemini surface: /v1beta/models/{model}:generateContent, :streamGenerateContent (SSE with
 * ?alt=sse, the JSON-array stream without), :countTokens, and the model list.
 */
import { clientError } from "../dialects/errors.ts";
import { handleCall, projectKey, type Endpoint } from "../pipeline.ts";
import { keyHash } from "../runtime.ts";
import type { App, GetRuntime } from "./context.ts";
import { geminiModels, visibleModels } from "./models.ts";
import { splitQuery, clientIp, readJson } from "./request.ts";

const ACTIONS: Record<string, Endpoint> = {
  generateContent: "gemini.generate",
  streamGenerateContent: "gemini.stream",
  countTokens: "gemini.count_tokens",
};

export function geminiRoutes(app: App, runtime: GetRuntime): void {
  for (const version of ["v1beta", "v1"]) {
    app.post(`/${version}/models/:call{.+}`, async (c) => {
      const rt = runtime();
      const call = decodeURIComponent(c.req.param("call"));
      const colon = call.lastIndexOf(":");
      const endpoint = colon > 0 ? ACTIONS[call.slice(colon + 1)] : undefined;
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
      const key = projectKey(c.req.raw.headers, splitQuery(c.req.url).queryKey);
      const project = key ? rt.projectsByKeyHash.get(keyHash(key)) : undefined;
      if (!project) return clientError("gemini", "unauthorized", key ? "invalid API key" : "missing API key");
      return c.json(geminiModels(visibleModels(rt, project)));
    });
  }
}

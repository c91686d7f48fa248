/**
 * Ollama's native API as a client surface (`/api/chat`, `/api/tags`): tools written for a
 * local Ollama can point at the companion instead and reach any target through the hub.
 */
import { clientError } from "../dialects/errors.ts";
import { handleCall, projectKey } from "../pipeline.ts";
import { keyHash } from "../runtime.ts";
import type { App, GetRuntime } from "./context.ts";
import { visibleModels } from "./models.ts";
import { clientIp, readJson, splitQuery } from "./request.ts";

export function ollamaRoutes(app: App, runtime: GetRuntime): void {
  app.post("/api/chat", async (c) => {
    const rt = runtime();
    const body = await readJson(c, "ollama", rt.config.server.maxBodyBytes);
    if (body instanceof Response) return body;
    return handleCall(rt, {
      dialect: "ollama",
      endpoint: "ollama.chat",
      model: typeof body.json.model === "string" ? body.json.model : null,
      // Ollama streams unless told not to.
      stream: body.json.stream !== false,
      body: body.json,
      ...splitQuery(c.req.url),
      headers: c.req.raw.headers,
      clientIp: clientIp(c, rt.config.server.trustForwardedFor),
      signal: c.req.raw.signal,
    });
  });

  app.get("/api/tags", (c) => {
    const rt = runtime();
    const key = projectKey(c.req.raw.headers, splitQuery(c.req.url).queryKey);
    const project = key ? rt.projectsByKeyHash.get(keyHash(key)) : undefined;
    if (!project) return clientError("ollama", "unauthorized", key ? "invalid API key" : "missing API key");
    const now = new Date().toISOString();
    return c.json({ models: visibleModels(rt, project).map((name) => ({ name, model: name, modified_at: now, size: 0, digest: "", details: { family: "ferry" } })) });
  });
}

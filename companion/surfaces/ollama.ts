/**
 * Ollama's native API as a client surface (`/api/chat`, `/api/tags`): tools written for a
 * local Ollama can point at the companion instead and reach any target through the hub.
 */
import type { App, GetRuntime } from "./context.ts";
import { visibleModels } from "./models.ts";
import { jsonCall, projectOf } from "./request.ts";

export function ollamaRoutes(app: App, runtime: GetRuntime): void {
  // Ollama streams unless told not to.
  app.post("/api/chat", jsonCall(runtime, "ollama", "ollama.chat", { stream: (json) => json.stream !== false }));

  app.get("/api/tags", (c) => {
    const rt = runtime();
    const project = projectOf(c, rt, "ollama");
    if (project instanceof Response) return project;
    const now = new Date().toISOString();
    return c.json({ models: visibleModels(rt, project).map((name) => ({ name, model: name, modified_at: now, size: 0, digest: "", details: { family: "ferry" } })) });
  });
}

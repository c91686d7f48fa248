/** Model lists in each dialect's shape: the routed names the project may use. */
import type { Project } from "../config/schema.ts";
import { matchesAny } from "../glob.ts";
import { listedModels } from "../routing.ts";
import type { Runtime } from "../runtime.ts";

const CREATED = Math.floor(Date.parse("2026-01-01T00:00:00Z") / 1000);

export function visibleModels(rt: Runtime, project: Project): string[] {
  return listedModels(rt.config).filter((m) => matchesAny(m, project.allowedModels));
}

export function openaiModels(models: string[]) {
  return { object: "list", data: models.map((id) => ({ id, object: "model", created: CREATED, owned_by: "ferry" })) };
}

export function anthropicModels(models: string[]) {
  const data = models.map((id) => ({ type: "model", id, display_name: id, created_at: new Date(CREATED * 1000).toISOString() }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

export function geminiModels(models: string[]) {
  return {
    models: models.map((id) => ({
      name: `models/${id}`,
      baseModelId: id,
      version: "ferry",
      displayName: id,
      supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
    })),
  };
}

/**
 * Model routing: a requested model (or alias) resolves to an ordered list of targets.
 * Exact names first, then globs in the order written; a model written `pool/model` whose
 * pool is configured goes straight to that edge pool (seed 003's `upstream:model`).
 */
import type { CompanionConfig, Dialect } from "./config/schema.ts";
import { matchesGlob } from "./glob.ts";

export type Target =
  | { kind: "edge"; pool: string; model: string; dialect: Dialect; azureApiVersion?: string }
  | { kind: "ollama"; model: string };

export function describeTarget(t: Target): string {
  return t.kind === "edge" ? `edge:${t.pool}/${t.model}` : `ollama:${t.model}`;
}

export function parseTarget(spec: string, requested: string, config: CompanionConfig): Target | null {
  if (spec.startsWith("ollama:")) {
    const model = spec.slice("ollama:".length);
    return { kind: "ollama", model: model === "*" ? requested : model };
  }
  const slash = spec.indexOf("/");
  const pool = spec.slice("edge:".length, slash);
  const model = spec.slice(slash + 1);
  const info = config.edgePools[pool];
  if (!info) return null;
  return {
    kind: "edge",
    pool,
    model: model === "*" ? requested : model,
    dialect: info.dialect,
    ...(info.azureApiVersion ? { azureApiVersion: info.azureApiVersion } : {}),
  };
}

export function resolveTargets(requested: string, config: CompanionConfig): Target[] {
  const exact = config.models[requested];
  const specs =
    exact ?? Object.entries(config.models).find(([pattern]) => /[*?]/.test(pattern) && matchesGlob(requested, pattern))?.[1];
  if (specs) return specs.map((s) => parseTarget(s, requested, config)).filter((t): t is Target => t !== null);
  const slash = requested.indexOf("/");
  if (slash > 0 && requested.slice(0, slash) in config.edgePools) {
    const direct = parseTarget(`edge:${requested}`, requested.slice(slash + 1), config);
    return direct ? [direct] : [];
  }
  return [];
}

/** Model names a client may see in /v1/models: the configured names that are not globs. */
export function listedModels(config: CompanionConfig): string[] {
  return Object.keys(config.models).filter((m) => !/[*?]/.test(m));
}

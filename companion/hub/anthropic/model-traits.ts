/**
 * What a target model accepts, read from its id, where Claude generations differ in ways that
 * turn a translated request into a 400:
 *
 * - Thinking form. "Older models (Claude Sonnet 4.5, Claude Opus 4.5, etc.) do not support
 *   adaptive thinking and require thinking.type: "enabled" with budget_tokens"; 4.6 takes both
 *   (the budget form is deprecated there); Opus 4.7, the Claude 5 family and Mythos Preview "only
 *   support adaptive thinking … thinking.type: "enabled" … and disabled thinking … will return a
 *   400 error" (AWS Bedrock, "Adaptive thinking",
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html;
 *   https://platform.claude.com/docs/en/build-with-claude/adaptive-thinking).
 * - Sampling. From 4.7 on, a non-default temperature / top_p / top_k is a 400 on every request
 *   (the SDK 1.x MessageCreateParams no longer has these fields at all); from the 4.x
 *   generation on, "`temperature` and `top_p` cannot both be specified for this model"
 *   (an invalid_request_error seen on Sonnet 4.5, Haiku 4.5, Opus 4.1 and later: e.g.
 *   github.com/BerriAI/litellm/issues/15097, cloud-apim/otoroshi-llm-extension#140).
 *
 * A model id that names no Claude version (an Anthropic-compatible host's own model, say) gets
 * the classic API: budget thinking, every sampling parameter passed through.
 */

export interface ModelTraits {
  /** Takes `thinking: {type: "adaptive"}` (+ `output_config.effort`). */
  adaptive: boolean;
  /** Rejects `thinking.type` "enabled" and "disabled": adaptive is the only form. */
  adaptiveOnly: boolean;
  /** Rejects temperature, top_p and top_k. */
  rejectsSampling: boolean;
  /** Rejects temperature and top_p together. */
  singleSampling: boolean;
}

const CLASSIC: ModelTraits = { adaptive: false, adaptiveOnly: false, rejectsSampling: false, singleSampling: false };

/**
 * The Claude version in a model id: the first one- or two-digit number after "claude" is the
 * major version, a number right after it the minor (an 8-digit date is not a version):
 * claude-3-7-sonnet-20250219 → 3.7, claude-sonnet-4-20250514 → 4.0, claude-haiku-4-5@20251001
 * → 4.5, anthropic.claude-opus-4-6-v1 → 4.6.
 */
export function claudeVersion(model: string): { major: number; minor: number } | undefined {
  const lower = model.toLowerCase();
  const at = lower.indexOf("claude");
  if (at === -1) return undefined;
  const tokens = lower.slice(at + "claude".length).split(/[-._@:/]/);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!/^\d{1,2}$/.test(t)) continue;
    const next = tokens[i + 1];
    const minor = next !== undefined && /^\d{1,2}$/.test(next) ? Number(next) : 0;
    return { major: Number(t), minor };
  }
  return undefined;
}

export function modelTraits(model: string): ModelTraits {
  const lower = model.toLowerCase();
  if (!lower.includes("claude")) return CLASSIC;
  const v = claudeVersion(model);
  // Unversioned Claude names of the adaptive generation (claude-mythos-preview).
  if (!v) return lower.includes("mythos") ? { adaptive: true, adaptiveOnly: true, rejectsSampling: true, singleSampling: true } : CLASSIC;
  const at = (major: number, minor: number) => v.major > major || (v.major === major && v.minor >= minor);
  const latest = at(4, 7);
  return { adaptive: at(4, 6), adaptiveOnly: latest, rejectsSampling: latest, singleSampling: at(4, 0) };
}

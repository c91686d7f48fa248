export { scrubHeaders } from "./headers.ts";
export { hashPromptCacheKey, redactHomePaths, scrubBody, type BodyDialect } from "./body.ts";
export type { ScrubContext, ScrubbedBody, ScrubbedHeaders, TargetDialect } from "./types.ts";

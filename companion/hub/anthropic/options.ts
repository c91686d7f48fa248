/**
 * The request's options, both ways: tools, tool choice, thinking / effort, output format and
 * sampling parameters. Decoding reads the wire's shapes (Messages API reference, SDK 1.x
 * `MessageCreateParamsBase`); encoding follows the API's rules quoted in request-encode.ts and
 * the per-model ones of model-traits.ts.
 */
import type { IrReasoningConfig, IrRequest, IrResponseFormat, IrTool, IrToolChoice } from "../ir.ts";
import type { ModelTraits } from "./model-traits.ts";
import { Drops, isObj, num, readCacheControl, Refusal, writeCacheControl, type Json } from "./wire.ts";

const DEFAULT_MAX_TOKENS = 4096;
/** Anthropic's smallest thinking budget (SDK ThinkingConfigEnabled: "Must be ≥1024"). */
const MIN_BUDGET = 1024;
/** Budget for an effort level, on models that take a budget rather than an effort. */
const EFFORT_BUDGET = { minimal: 1024, low: 2048, medium: 8192, high: 16384 } as const;

// ---------------------------------------------------------------------------------------------
// Decoding

export function decodeTools(v: unknown, drops: Drops): IrTool[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Refusal("tools must be an array");
  const tools: IrTool[] = [];
  v.forEach((t, i) => {
    if (!isObj(t)) throw new Refusal(`tools.${i} must be an object`);
    if (t.type !== undefined && t.type !== null && t.type !== "custom") {
      if (typeof t.type !== "string") throw new Refusal(`tools.${i}.type must be a string`);
      drops.add(`tool.${t.type}`, "server and Anthropic-defined tools have no IR equivalent");
      return;
    }
    if (typeof t.name !== "string") throw new Refusal(`tools.${i}.name must be a string`);
    if (!isObj(t.input_schema)) throw new Refusal(`tools.${i}.input_schema must be an object`);
    const tool: IrTool = { name: t.name, parameters: t.input_schema };
    if (typeof t.description === "string") tool.description = t.description;
    const cache = readCacheControl(t.cache_control, "tool", drops);
    if (cache) tool.cacheControl = cache;
    if (t.strict === true) drops.add("tool.strict", "the IR has no strict-schema flag on tools");
    if (t.defer_loading === true) drops.add("tool.defer_loading", "the IR has no deferred tools: the tool is offered up front");
    if (t.input_examples !== undefined) drops.add("tool.input_examples", "the IR has no tool input examples");
    if (t.allowed_callers !== undefined) drops.add("tool.allowed_callers", "the IR has no programmatic tool callers");
    if (t.eager_input_streaming !== undefined && t.eager_input_streaming !== null) drops.add("tool.eager_input_streaming", "a streaming hint the IR does not carry");
    tools.push(tool);
  });
  return tools;
}

export function decodeToolChoice(v: unknown): { choice: IrToolChoice; disableParallel: boolean } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new Refusal("tool_choice must be an object");
  const disableParallel = v.disable_parallel_tool_use === true;
  switch (v.type) {
    case "auto":
      return { choice: { type: "auto" }, disableParallel };
    case "any":
      return { choice: { type: "required" }, disableParallel };
    case "none":
      return { choice: { type: "none" }, disableParallel };
    case "tool":
      if (typeof v.name !== "string") throw new Refusal("tool_choice.name must be a string");
      return { choice: { type: "tool", name: v.name }, disableParallel };
    default:
      throw new Refusal('tool_choice.type must be "auto", "any", "tool" or "none"');
  }
}

/** `thinking`: enabled (budget_tokens) / adaptive / disabled, with `display` summarized | omitted. */
export function decodeThinking(v: unknown, drops: Drops): IrReasoningConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new Refusal("thinking must be an object");
  let r: IrReasoningConfig;
  switch (v.type) {
    case "enabled": {
      const budget = num(v.budget_tokens);
      if (budget === undefined || budget < 0) throw new Refusal("thinking.budget_tokens must be a non-negative number");
      r = { enabled: true, budgetTokens: budget };
      break;
    }
    case "adaptive":
      r = { enabled: true };
      break;
    case "disabled":
      return { enabled: false };
    case "between_tools":
      drops.add("thinking.between_tools", "the IR has no between-tools thinking mode: thinking is simply on");
      r = { enabled: true };
      break;
    default:
      throw new Refusal('thinking.type must be "enabled", "adaptive" or "disabled"');
  }
  if (v.display === "omitted") r.includeThoughts = false;
  else if (v.display === "summarized") r.includeThoughts = true;
  return r;
}

/** `output_config`: effort (low | medium | high | xhigh | max) and format (JSON schema output). */
export function decodeOutputConfig(v: unknown, ir: IrRequest, drops: Drops): void {
  if (v === undefined || v === null) return;
  if (!isObj(v)) throw new Refusal("output_config must be an object");
  for (const key of Object.keys(v)) {
    if (key !== "effort" && key !== "format") drops.add(`output_config.${key}`, "not carried by the IR");
  }
  const effort = v.effort;
  if (typeof effort === "string") {
    let level: "low" | "medium" | "high" | undefined;
    if (effort === "low" || effort === "medium" || effort === "high") level = effort;
    else if (effort === "xhigh" || effort === "max") {
      level = "high";
      drops.add("output_config.effort", `effort "${effort}" is above the IR's highest level and was carried as "high"`);
    } else drops.add("output_config.effort", `unknown effort "${effort}"`);
    if (level) ir.reasoning = { ...(ir.reasoning ?? { enabled: true }), effort: level };
  }
  const format: unknown = v.format;
  if (isObj(format)) {
    const f: Json = format;
    if (f.type === "json_schema" && isObj(f.schema)) ir.responseFormat = { type: "json_schema", schema: f.schema } satisfies IrResponseFormat;
    else drops.add("output_config.format", "only json_schema output formats are known");
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

export function encodeTool(t: IrTool): Json {
  const tool: Json = { name: t.name };
  if (t.description !== undefined) tool.description = t.description;
  // input_schema is an object schema (SDK Tool.InputSchema: `type: 'object'`); OpenAI-style
  // parameter-less functions send {} or leave the type out.
  tool.input_schema = t.parameters.type === undefined ? { type: "object", ...t.parameters } : t.parameters;
  return { ...tool, ...writeCacheControl(t.cacheControl) };
}

export function encodeToolChoice(ir: IrRequest, hasTools: boolean, drops: Drops): Json | undefined {
  const c = ir.toolChoice;
  const noParallel = ir.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (!hasTools) {
    if (c && c.type !== "none" && c.type !== "auto") drops.add("request.tool_choice", "a tool choice without tools");
    return undefined;
  }
  if (!c) return ir.parallelToolCalls === false ? { type: "auto", ...noParallel } : undefined;
  switch (c.type) {
    case "auto":
      return { type: "auto", ...noParallel };
    case "required":
      return { type: "any", ...noParallel };
    case "tool":
      return { type: "tool", name: c.name, ...noParallel };
    case "none":
      return { type: "none" };
  }
}

/** The JSON answer tool's input schema: tool inputs are objects, so the root must be one. */
export function jsonSchemaForTool(schema: Record<string, unknown> | undefined, drops: Drops): Json {
  if (!schema) return { type: "object" };
  if (schema.type === "object") return schema;
  if (schema.type === undefined) return { type: "object", ...schema };
  drops.add("response_format.schema", "a tool input is a JSON object: a schema whose root is not an object was replaced by any object");
  return { type: "object" };
}

export interface Thinking {
  thinking?: Json;
  effort?: "low" | "medium" | "high";
  maxTokens: number;
}

export function encodeThinking(r: IrReasoningConfig | undefined, maxOutput: number | undefined, traits: ModelTraits, drops: Drops): Thinking {
  if (!r) return { maxTokens: maxOutput ?? DEFAULT_MAX_TOKENS };
  if (!r.enabled) {
    if (!traits.adaptiveOnly) return { thinking: { type: "disabled" }, maxTokens: maxOutput ?? DEFAULT_MAX_TOKENS };
    drops.add("reasoning.enabled", 'this model rejects thinking.type "disabled": thinking is left at the model\'s default');
    return { maxTokens: maxOutput ?? DEFAULT_MAX_TOKENS };
  }
  const display = r.includeThoughts === false ? { display: "omitted" } : r.includeThoughts === true && traits.adaptive ? { display: "summarized" } : {};

  if (traits.adaptive && (r.budgetTokens === undefined || traits.adaptiveOnly)) {
    let effort: Thinking["effort"];
    if (r.effort === "minimal") {
      drops.add("reasoning.effort", 'Anthropic has no "minimal" effort: sent as "low"');
      effort = "low";
    } else if (r.effort) effort = r.effort;
    else if (r.budgetTokens !== undefined) {
      effort = r.budgetTokens < 4096 ? "low" : r.budgetTokens < 16384 ? "medium" : "high";
      drops.add("reasoning.budget_tokens", `this model takes no thinking budget: carried as effort "${effort}"`);
    }
    const out: Thinking = { thinking: { type: "adaptive", ...display }, maxTokens: maxOutput ?? DEFAULT_MAX_TOKENS };
    if (effort) out.effort = effort;
    return out;
  }

  let budget = r.budgetTokens ?? EFFORT_BUDGET[r.effort ?? "medium"];
  if (budget < MIN_BUDGET) {
    drops.add("reasoning.budget_tokens", `raised to Anthropic's minimum of ${MIN_BUDGET}`);
    budget = MIN_BUDGET;
  }
  const maxTokens = maxOutput ?? (budget >= DEFAULT_MAX_TOKENS ? budget + DEFAULT_MAX_TOKENS : DEFAULT_MAX_TOKENS);
  if (budget >= maxTokens) {
    if (maxTokens - 1 < MIN_BUDGET) {
      drops.add("reasoning", `max_tokens ${maxTokens} leaves no room for Anthropic's minimum thinking budget: thinking was left off`);
      return { maxTokens };
    }
    drops.add("reasoning.budget_tokens", "lowered below max_tokens, as Anthropic requires");
    budget = maxTokens - 1;
  }
  return { thinking: { type: "enabled", budget_tokens: budget, ...display }, maxTokens };
}

export function encodeSampling(ir: IrRequest, traits: ModelTraits, thinking: boolean, drops: Drops): Json {
  let temperature = ir.temperature;
  let topP = ir.topP;
  let topK = ir.topK;
  const drop = (field: string, reason: string) => drops.add(`request.${field}`, reason);
  if (traits.rejectsSampling) {
    if (temperature !== undefined) drop("temperature", "this model rejects sampling parameters");
    if (topP !== undefined) drop("top_p", "this model rejects sampling parameters");
    if (topK !== undefined) drop("top_k", "this model rejects sampling parameters");
    return {};
  }
  if (thinking) {
    if (temperature !== undefined && temperature !== 1) {
      drop("temperature", "Anthropic thinking allows no temperature change");
      temperature = undefined;
    }
    if (topK !== undefined) {
      drop("top_k", "Anthropic thinking allows no top_k");
      topK = undefined;
    }
    if (topP !== undefined && (topP < 0.95 || topP > 1)) {
      drop("top_p", "with Anthropic thinking top_p must be between 0.95 and 1");
      topP = undefined;
    }
  }
  if (traits.singleSampling && temperature !== undefined && topP !== undefined) {
    drop("top_p", "this model takes temperature or top_p, not both: temperature was kept");
    topP = undefined;
  }
  const out: Json = {};
  if (temperature !== undefined) out.temperature = temperature;
  if (topP !== undefined) out.top_p = topP;
  if (topK !== undefined) out.top_k = topK;
  return out;
}

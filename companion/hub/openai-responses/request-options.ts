/**
 * The option fields of a Responses request, both ways: `tools`, `tool_choice`, `text.format`
 * and `reasoning`. Shapes: openai-node 7.x `FunctionTool`, `ToolChoiceOptions` /
 * `ToolChoiceFunction` / `ToolChoiceAllowed`, `ResponseTextConfig`, `Shared.Reasoning`.
 */
import type { IrReasoningConfig, IrResponseFormat, IrTool, IrToolChoice } from "../ir.ts";
import { arr, type Drops, isObj, Refusal, str, type Json } from "./wire.ts";

const HOSTED_TOOL_REASON = "a hosted or client-defined tool type the IR cannot express; other targets get function tools only";

export function decodeTools(value: unknown, drops: Drops): IrTool[] {
  if (value === undefined || value === null) return [];
  const list = arr(value);
  if (!list) throw new Refusal("bad_request", "`tools` must be an array");
  const tools: IrTool[] = [];
  for (const t of list) {
    if (!isObj(t)) throw new Refusal("bad_request", "every tool must be an object");
    if (t.type !== "function") {
      drops.add(`tool.${String(t.type)}`, t.type === "namespace" ? "the IR's tools are flat and answers carry no namespace, so a namespaced call could not reach the client" : HOSTED_TOOL_REASON);
      continue;
    }
    const name = str(t.name);
    if (!name) throw new Refusal("bad_request", "a function tool needs a name");
    // Function tools default to strict in the Responses API; the IR has no strict flag.
    if (t.strict === true) drops.add("tool.strict", "the IR has no strict flag; arguments are not schema-enforced by other targets");
    if (t.output_schema !== undefined && t.output_schema !== null) drops.add("tool.output_schema", "the IR has no tool output schema");
    if (t.defer_loading === true) drops.add("tool.defer_loading", "tool search is OpenAI's; the tool is offered directly");
    const tool: IrTool = { name, parameters: isObj(t.parameters) ? t.parameters : { type: "object", properties: {} } };
    const description = str(t.description);
    if (description) tool.description = description;
    tools.push(tool);
  }
  return tools;
}

export function decodeToolChoice(value: unknown, drops: Drops): IrToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === "auto" || value === "none" || value === "required") return { type: value };
  if (!isObj(value)) throw new Refusal("bad_request", "`tool_choice` must be auto, none, required or an object");
  if (value.type === "function") {
    const name = str(value.name);
    if (!name) throw new Refusal("bad_request", "`tool_choice` of type function needs a name");
    return { type: "tool", name };
  }
  if (value.type === "allowed_tools") {
    drops.add("tool_choice.allowed_tools", "the IR cannot narrow the tool set per request; all tools stay allowed");
    return { type: value.mode === "required" ? "required" : "auto" };
  }
  drops.add(`tool_choice.${String(value.type)}`, "forces a hosted tool, which is dropped");
  return { type: "auto" };
}

export function decodeTextFormat(value: unknown, drops: Drops): IrResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObj(value)) throw new Refusal("bad_request", "`text` must be an object");
  if (value.verbosity !== undefined && value.verbosity !== null) drops.add("text.verbosity", "the IR has no verbosity setting");
  const format = value.format;
  if (format === undefined || format === null) return undefined;
  if (!isObj(format)) throw new Refusal("bad_request", "`text.format` must be an object");
  switch (format.type) {
    case "text":
      return { type: "text" };
    case "json_object":
      return { type: "json" };
    case "json_schema": {
      if (!isObj(format.schema)) throw new Refusal("bad_request", "`text.format.schema` must be an object");
      if (format.description !== undefined) drops.add("text.format.description", "the IR's JSON schema format has no description");
      const out: IrResponseFormat = { type: "json_schema", schema: format.schema };
      const name = str(format.name);
      if (name) out.name = name;
      if (typeof format.strict === "boolean") out.strict = format.strict;
      return out;
    }
    default:
      throw new Refusal("bad_request", "`text.format.type` must be text, json_object or json_schema");
  }
}

const EFFORTS = ["minimal", "low", "medium", "high"] as const;

export function decodeReasoning(value: unknown, drops: Drops): IrReasoningConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObj(value)) throw new Refusal("bad_request", "`reasoning` must be an object");
  const out: IrReasoningConfig = { enabled: value.effort !== "none" };
  const effort = value.effort;
  if (typeof effort === "string" && effort !== "none") {
    if ((EFFORTS as readonly string[]).includes(effort)) out.effort = effort as IrReasoningConfig["effort"];
    else {
      drops.add("reasoning.effort", `effort "${effort}" has no IR level; sent as "high"`);
      out.effort = "high";
    }
  }
  const summary = value.summary ?? value.generate_summary;
  if (typeof summary === "string") {
    out.includeThoughts = true;
    if (summary !== "auto") drops.add("reasoning.summary", `summary style "${summary}" has no IR equivalent; reasoning text is returned as the target gives it`);
  }
  for (const key of ["mode", "context"]) if (value[key] !== undefined && value[key] !== null) drops.add(`reasoning.${key}`, "an OpenAI reasoning option the IR cannot express");
  return out;
}

/** IR tools → Responses function tools. `strict: false` because the API defaults to strict, which rejects most hand-written schemas. */
export function encodeTools(tools: IrTool[], drops: Drops): Json[] {
  return tools.map((t) => {
    if (t.cacheControl) drops.add("tool.cache_control", "OpenAI caches prompt prefixes automatically");
    return { type: "function", name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters, strict: false };
  });
}

export function encodeToolChoice(choice: IrToolChoice): unknown {
  return choice.type === "tool" ? { type: "function", name: choice.name } : choice.type;
}

export function encodeTextFormat(format: IrResponseFormat): Json {
  switch (format.type) {
    case "text":
      return { type: "text" };
    case "json":
      return { type: "json_object" };
    case "json_schema":
      // `name` is required by the API (ResponseFormatTextJSONSchemaConfig).
      return { type: "json_schema", name: format.name ?? "response", schema: format.schema, ...(format.strict !== undefined ? { strict: format.strict } : {}) };
  }
}

/** Token budgets become the nearest effort level (OpenAI reasoning takes no budget). */
export function encodeReasoning(r: IrReasoningConfig, drops: Drops): Json {
  if (!r.enabled) return { effort: "none" };
  const out: Json = {};
  if (r.effort) {
    out.effort = r.effort;
    if (r.budgetTokens !== undefined) drops.add("reasoning.budget_tokens", "OpenAI reasoning takes an effort level, not a budget; the effort is sent");
  } else if (r.budgetTokens !== undefined) {
    const effort = r.budgetTokens <= 2048 ? "low" : r.budgetTokens <= 8192 ? "medium" : "high";
    drops.add("reasoning.budget_tokens", `OpenAI reasoning takes an effort level, not a budget; ${r.budgetTokens} tokens sent as "${effort}"`);
    out.effort = effort;
  }
  if (r.includeThoughts) out.summary = "auto";
  return out;
}

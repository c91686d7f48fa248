/**
 * Chat Completions request → IR. Shapes: SDK `ChatCompletionCreateParamsBase` and the message
 * params in node_modules/openai/src/resources/chat/completions/completions.ts.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { HubError } from "../codec.ts";
import type { IrReasoningConfig, IrRequest, IrResponseFormat, IrTool, IrToolChoice } from "../ir.ts";
import { MessageDecoder } from "./messages-decode.ts";
import { BadRequest, Drops, fail, isFiniteNumber, isRecord, present, Unsupported } from "./wire.ts";

/** Parameters this decoder reads; any other one present is recorded as dropped. */
const HANDLED = new Set([
  "model", "messages", "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "response_format",
  "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty",
  "reasoning_effort", "n", "functions", "function_call",
]);

const DROP_REASONS: Record<string, string> = {
  logit_bias: "token biases are tokenizer-specific and have no equivalent across dialects",
  logprobs: "log probabilities are not carried across dialects",
  top_logprobs: "log probabilities are not carried across dialects",
  user: "end-user identifiers are not forwarded to another dialect",
  safety_identifier: "end-user identifiers are not forwarded to another dialect",
};

const EFFORTS = new Set(["minimal", "low", "medium", "high"]);

export function decodeRequest(body: unknown, opts: { model?: string; stream?: boolean }): Result<IrRequest, HubError> {
  try {
    return decode(body, opts);
  } catch (e) {
    if (e instanceof BadRequest) return err({ code: "bad_request", message: e.message });
    if (e instanceof Unsupported) return err({ code: "unsupported", message: e.message });
    return err({ code: "bad_request", message: `unreadable chat completion request: ${e instanceof Error ? e.message : String(e)}` });
  }
}

function decode(body: unknown, opts: { model?: string; stream?: boolean }): Result<IrRequest, HubError> {
  if (!isRecord(body)) fail("the request body must be a JSON object");
  const model = opts.model ?? body.model;
  if (typeof model !== "string" || model === "") fail("`model` must be a non-empty string");
  if (!Array.isArray(body.messages)) fail("`messages` must be an array");
  if (present(body.n) && body.n !== 1) {
    if (Number.isInteger(body.n) && (body.n as number) > 1) throw new Unsupported("`n` > 1 (several choices) cannot be translated: the other dialects return one answer");
    fail("`n` must be a positive integer");
  }

  const drops = new Drops();
  const ir: IrRequest = { model, system: [], messages: [], tools: [], stream: opts.stream ?? body.stream === true, dropped: drops.list };
  new MessageDecoder(ir, drops).decodeAll(body.messages);

  if (present(body.tools)) {
    if (!Array.isArray(body.tools)) fail("`tools` must be an array");
    for (const t of body.tools) decodeTool(t, ir.tools, drops);
  }
  if (present(body.functions)) {
    if (!Array.isArray(body.functions)) fail("`functions` must be an array");
    for (const f of body.functions) ir.tools.push(functionTool(f, drops));
  }
  const choice = present(body.tool_choice) ? decodeToolChoice(body.tool_choice, drops) : present(body.function_call) ? decodeFunctionCallChoice(body.function_call) : undefined;
  if (choice) ir.toolChoice = choice;
  if (present(body.parallel_tool_calls)) {
    if (typeof body.parallel_tool_calls !== "boolean") fail("`parallel_tool_calls` must be a boolean");
    ir.parallelToolCalls = body.parallel_tool_calls;
  }

  const max = present(body.max_completion_tokens) ? body.max_completion_tokens : body.max_tokens;
  if (present(max)) {
    if (!Number.isInteger(max) || (max as number) < 1) fail("`max_completion_tokens` / `max_tokens` must be a positive integer");
    ir.maxOutputTokens = max as number;
  }
  const num = (key: string): number | undefined => {
    const v = body[key];
    if (!present(v)) return undefined;
    if (!isFiniteNumber(v)) fail(`\`${key}\` must be a number`);
    return v;
  };
  const temperature = num("temperature");
  if (temperature !== undefined) ir.temperature = temperature;
  const topP = num("top_p");
  if (topP !== undefined) ir.topP = topP;
  const seed = num("seed");
  if (seed !== undefined) ir.seed = seed;
  const presence = num("presence_penalty");
  if (presence !== undefined) ir.presencePenalty = presence;
  const frequency = num("frequency_penalty");
  if (frequency !== undefined) ir.frequencyPenalty = frequency;

  if (present(body.stop)) {
    if (typeof body.stop === "string") ir.stopSequences = [body.stop];
    else if (Array.isArray(body.stop) && body.stop.every((s) => typeof s === "string")) ir.stopSequences = [...(body.stop as string[])];
    else fail("`stop` must be a string or an array of strings");
  }
  if (present(body.response_format)) {
    const format = decodeResponseFormat(body.response_format, drops);
    if (format) ir.responseFormat = format;
  }
  if (present(body.reasoning_effort)) ir.reasoning = decodeEffort(body.reasoning_effort, drops);
  if (isRecord(body.stream_options) && body.stream_options.include_usage === true) ir.streamUsage = true;

  for (const key of Object.keys(body)) {
    if (HANDLED.has(key) || !present(body[key])) continue;
    drops.add(`request.${key}`, DROP_REASONS[key] ?? "no equivalent in the hub's representation");
  }
  return ok(ir);
}

function decodeEffort(v: unknown, drops: Drops): IrReasoningConfig {
  if (v === "none") return { enabled: false };
  if (typeof v === "string" && EFFORTS.has(v)) return { enabled: true, effort: v as NonNullable<IrReasoningConfig["effort"]> };
  if (v === "xhigh" || v === "max") {
    drops.add("request.reasoning_effort", `"${v}" is above the hub's highest level and was sent as "high"`);
    return { enabled: true, effort: "high" };
  }
  return fail("`reasoning_effort` must be one of none, minimal, low, medium, high, xhigh, max");
}

function decodeResponseFormat(v: unknown, drops: Drops): IrResponseFormat | undefined {
  if (!isRecord(v)) fail("`response_format` must be an object");
  switch (v.type) {
    case "text":
      return { type: "text" };
    case "json_object":
      return { type: "json" };
    case "json_schema": {
      const js = v.json_schema;
      if (!isRecord(js)) fail("`response_format.json_schema` must be an object");
      const out: IrResponseFormat = { type: "json_schema", schema: isRecord(js.schema) ? js.schema : {} };
      if (typeof js.name === "string") out.name = js.name;
      if (typeof js.strict === "boolean") out.strict = js.strict;
      if (typeof js.description === "string") drops.add("response_format.json_schema.description", "the hub carries a schema's name and body, not its description");
      return out;
    }
    default:
      drops.add(`response_format.${String(v.type)}`, "this response format has no equivalent in the hub's representation");
      return undefined;
  }
}

function functionTool(f: unknown, drops: Drops): IrTool {
  if (!isRecord(f) || typeof f.name !== "string") fail("a function tool needs a `name`");
  const tool: IrTool = { name: f.name, parameters: isRecord(f.parameters) ? f.parameters : { type: "object", properties: {} } };
  if (typeof f.description === "string") tool.description = f.description;
  if (f.strict === true) drops.add("tools.function.strict", "strict schema adherence is OpenAI-specific; the schema itself is kept");
  return tool;
}

function decodeTool(t: unknown, into: IrTool[], drops: Drops): void {
  if (!isRecord(t)) fail("each tool must be an object");
  if (t.type === "function") {
    into.push(functionTool(t.function, drops));
    return;
  }
  drops.add(`tools.${String(t.type)}`, "only function tools can be translated to another dialect");
}

function decodeToolChoice(v: unknown, drops: Drops): IrToolChoice | undefined {
  if (v === "auto" || v === "none" || v === "required") return { type: v };
  if (isRecord(v)) {
    if (v.type === "function" && isRecord(v.function) && typeof v.function.name === "string") return { type: "tool", name: v.function.name };
    if (v.type === "allowed_tools" && isRecord(v.allowed_tools)) {
      drops.add("tool_choice.allowed_tools", "a subset of allowed tools cannot be expressed; every tool stays callable");
      return { type: v.allowed_tools.mode === "required" ? "required" : "auto" };
    }
    if (v.type === "custom") {
      drops.add("tool_choice.custom", "custom tools cannot be translated to another dialect");
      return undefined;
    }
  }
  return fail("`tool_choice` must be auto, none, required or {type: function, function: {name}}");
}

function decodeFunctionCallChoice(v: unknown): IrToolChoice {
  if (v === "auto" || v === "none") return { type: v };
  if (isRecord(v) && typeof v.name === "string") return { type: "tool", name: v.name };
  return fail("`function_call` must be auto, none or {name}");
}

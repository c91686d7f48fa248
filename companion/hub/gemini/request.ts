/**
 * GenerateContentRequest ↔ IrRequest (https://ai.google.dev/api/generate-content#request-body).
 * The model is not in the body: it comes from the path (`/v1beta/models/{model}:…`).
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { Encoded, HubError } from "../codec.ts";
import type { IrDrop, IrReasoningConfig, IrRequest, IrResponseFormat, IrTool, IrToolChoice } from "../ir.ts";
import { CallTracker, decodeParts, encodeParts } from "./parts.ts";
import { addDrop, CallIds, fail, isObj, type Json, optArr, optNum, optObj, optStr, toJsonSchema, WireError } from "./wire.ts";

const TOP_LEVEL = new Set(["contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings", "cachedContent", "model"]);
/** Server-side Gemini tools: the target cannot run them. */
const HOSTED_TOOLS = ["googleSearch", "googleSearchRetrieval", "codeExecution", "urlContext", "fileSearch", "googleMaps", "computerUse", "retrieval", "enterpriseWebSearch", "mcpServers"];
const LEVELS: Record<string, IrReasoningConfig["effort"]> = { MINIMAL: "minimal", LOW: "low", MEDIUM: "medium", HIGH: "high" };

/** A request that is valid Gemini but cannot be carried by the IR at all. */
class UnsupportedError extends Error {}

export function decodeRequest(body: unknown, opts: { model?: string; stream?: boolean }): Result<IrRequest, HubError> {
  try {
    return decode(body, opts);
  } catch (e) {
    if (e instanceof UnsupportedError) return err({ code: "unsupported", message: e.message });
    if (e instanceof WireError) return err({ code: "bad_request", message: e.message });
    return err({ code: "bad_request", message: `unreadable Gemini request: ${String(e)}` });
  }
}

function decode(body: unknown, opts: { model?: string; stream?: boolean }): Result<IrRequest, HubError> {
  if (!isObj(body)) fail("the request body must be a JSON object");
  const dropped: IrDrop[] = [];
  if (body.cachedContent !== undefined && body.cachedContent !== null) return err({ code: "unsupported", message: "cachedContent refers to a Gemini-side cache that other targets cannot read" });
  for (const key of Object.keys(body)) if (!TOP_LEVEL.has(key)) addDrop(dropped, `request.${key}`, `Gemini request field "${key}" has no IR equivalent`);
  if (body.safetySettings !== undefined) addDrop(dropped, "request.safetySettings", "safety thresholds have no equivalent on other targets");

  const bodyModel = typeof body.model === "string" ? body.model.replace(/^models\//, "") : "";
  const ir: IrRequest = { model: opts.model ?? bodyModel, system: [], messages: [], tools: [], stream: opts.stream ?? false, dropped };

  // systemInstruction is a Content (the SDK also takes a bare string and sends it as one).
  const si = body.systemInstruction;
  if (typeof si === "string") ir.system.push({ text: si });
  else if (isObj(si)) {
    for (const [i, part] of (optArr(si, "parts", "systemInstruction") ?? []).entries()) {
      if (isObj(part) && typeof part.text === "string") ir.system.push({ text: part.text });
      else addDrop(dropped, "request.systemInstruction.parts", `only text goes in the IR system prompt (part ${i} dropped)`);
    }
  } else if (si !== undefined && si !== null) fail("systemInstruction must be a Content object");

  const contents = body.contents;
  if (!Array.isArray(contents)) fail("contents must be an array");
  const ids = new CallIds("request");
  const tracker = new CallTracker();
  contents.forEach((content, turn) => {
    const path = `contents[${turn}]`;
    if (!isObj(content)) fail(`${path} must be an object`);
    const role = optStr(content, "role", path) ?? "user";
    // "function" is the role of function responses in older API versions.
    if (role !== "user" && role !== "model" && role !== "function") fail(`${path}.role must be "user" or "model"`);
    const irRole = role === "model" ? "assistant" : "user";
    const parts = decodeParts(content.parts ?? [], { role: irRole, drops: dropped, ids, tracker, turn, path });
    if (parts.length > 0) ir.messages.push({ role: irRole, content: parts });
  });

  decodeTools(body, ir);
  decodeGenerationConfig(optObj(body, "generationConfig", "request"), ir);
  return ok(ir);
}

function decodeTools(body: Json, ir: IrRequest): void {
  for (const [i, tool] of (optArr(body, "tools", "request") ?? []).entries()) {
    const path = `tools[${i}]`;
    if (!isObj(tool)) fail(`${path} must be an object`);
    for (const [j, fd] of (optArr(tool, "functionDeclarations", path) ?? []).entries()) {
      const fpath = `${path}.functionDeclarations[${j}]`;
      if (!isObj(fd)) fail(`${fpath} must be an object`);
      const name = optStr(fd, "name", fpath);
      if (name === undefined) fail(`${fpath}.name is required`);
      const schema = fd.parametersJsonSchema ?? fd.parameters;
      const parameters = isObj(schema) ? (toJsonSchema(schema) as Json) : { type: "object", properties: {} };
      const irTool: IrTool = { name, parameters };
      const description = optStr(fd, "description", fpath);
      if (description !== undefined) irTool.description = description;
      for (const key of ["response", "responseJsonSchema", "behavior"]) if (fd[key] !== undefined) addDrop(ir.dropped, `request.tools.functionDeclarations.${key}`, `function "${key}" has no IR equivalent`);
      ir.tools.push(irTool);
    }
    for (const key of Object.keys(tool)) {
      if (key === "functionDeclarations") continue;
      const hosted = HOSTED_TOOLS.includes(key);
      addDrop(ir.dropped, `request.tools.${key}`, hosted ? `the server-side Gemini tool "${key}" cannot run on another target` : `Gemini tool "${key}" has no IR equivalent`);
    }
  }

  const tc = optObj(body, "toolConfig", "request");
  if (!tc) return;
  for (const key of Object.keys(tc)) if (key !== "functionCallingConfig") addDrop(ir.dropped, `request.toolConfig.${key}`, `toolConfig "${key}" has no IR equivalent`);
  const fcc = optObj(tc, "functionCallingConfig", "toolConfig");
  if (!fcc) return;
  const mode = optStr(fcc, "mode", "toolConfig.functionCallingConfig");
  const allowed = (optArr(fcc, "allowedFunctionNames", "toolConfig.functionCallingConfig") ?? []).filter((n): n is string => typeof n === "string");
  let choice: IrToolChoice | undefined;
  switch (mode) {
    case "AUTO":
      choice = { type: "auto" };
      break;
    case "NONE":
      choice = { type: "none" };
      break;
    case "ANY":
      choice = allowed.length === 1 ? { type: "tool", name: allowed[0]! } : { type: "required" };
      if (allowed.length > 1) addDrop(ir.dropped, "request.toolConfig.functionCallingConfig.allowedFunctionNames", "the IR forces either any tool or exactly one; any tool was required");
      break;
    case "VALIDATED":
      choice = { type: "auto" };
      addDrop(ir.dropped, "request.toolConfig.functionCallingConfig.mode", "VALIDATED mode has no IR equivalent; AUTO was used");
      break;
    default:
      break;
  }
  if (mode !== "ANY" && allowed.length > 0) addDrop(ir.dropped, "request.toolConfig.functionCallingConfig.allowedFunctionNames", "allowed function names only apply to ANY mode");
  if (fcc.streamFunctionCallArguments === true) addDrop(ir.dropped, "request.toolConfig.functionCallingConfig.streamFunctionCallArguments", "Vertex-only partial arguments are not produced");
  if (choice) ir.toolChoice = choice;
}

const GENERATION_KNOWN = new Set(["temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "seed", "presencePenalty", "frequencyPenalty", "candidateCount", "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig", "responseModalities"]);

function decodeGenerationConfig(gc: Json | undefined, ir: IrRequest): void {
  if (!gc) return;
  const path = "generationConfig";
  const num = (k: string): number | undefined => optNum(gc, k, path);
  const set = <K extends "temperature" | "topP" | "topK" | "maxOutputTokens" | "seed" | "presencePenalty" | "frequencyPenalty">(key: K): void => {
    const v = num(key);
    if (v !== undefined) ir[key] = v;
  };
  set("temperature");
  set("topP");
  set("topK");
  set("maxOutputTokens");
  set("seed");
  set("presencePenalty");
  set("frequencyPenalty");
  const stops = optArr(gc, "stopSequences", path);
  if (stops) ir.stopSequences = stops.map((s, i) => (typeof s === "string" ? s : fail(`${path}.stopSequences[${i}] must be a string`)));
  const candidates = num("candidateCount");
  if (candidates !== undefined && candidates > 1) throw new UnsupportedError("candidateCount > 1: the IR carries one answer");
  for (const key of Object.keys(gc)) if (!GENERATION_KNOWN.has(key)) addDrop(ir.dropped, `request.generationConfig.${key}`, `generationConfig "${key}" has no IR equivalent`);
  const modalities = optArr(gc, "responseModalities", path);
  if (modalities?.some((m) => m !== "TEXT")) addDrop(ir.dropped, "request.generationConfig.responseModalities", "only text answers can be translated");

  const mime = optStr(gc, "responseMimeType", path);
  const schema = gc.responseJsonSchema ?? gc.responseSchema;
  let format: IrResponseFormat | undefined;
  if (isObj(schema) && (mime === undefined || mime === "application/json")) format = { type: "json_schema", schema: toJsonSchema(schema) as Json };
  else if (mime === "application/json") format = { type: "json" };
  else if (mime === "text/plain") format = { type: "text" };
  else if (mime !== undefined) addDrop(ir.dropped, "request.generationConfig.responseMimeType", `response type ${mime} has no IR equivalent`);
  if (format) ir.responseFormat = format;

  const tc = optObj(gc, "thinkingConfig", path);
  if (tc) {
    const budget = optNum(tc, "thinkingBudget", `${path}.thinkingConfig`);
    const level = optStr(tc, "thinkingLevel", `${path}.thinkingConfig`);
    const include = tc.includeThoughts;
    // thinkingBudget: 0 is off, -1 is "dynamic" (SDK ThinkingConfig docs).
    const reasoning: IrReasoningConfig = { enabled: budget !== 0 };
    if (budget !== undefined && budget > 0) reasoning.budgetTokens = budget;
    const effort = level === undefined ? undefined : LEVELS[level];
    if (effort) reasoning.effort = effort;
    if (typeof include === "boolean") reasoning.includeThoughts = include;
    if (budget !== undefined || effort !== undefined || typeof include === "boolean") ir.reasoning = reasoning;
  }
}

// ---- encode --------------------------------------------------------------------------------

/** Gemini 3's thought-signature validator can be skipped with this documented value for calls that came from elsewhere (https://ai.google.dev/gemini-api/docs/thought-signatures). */
export const SKIP_SIGNATURE = "skip_thought_signature_validator";
/** Thinking budgets standing in for effort levels on Gemini 2.x, which has no thinkingLevel. */
const EFFORT_BUDGET: Record<string, number> = { minimal: 512, low: 1024, medium: 8192, high: 24576 };

function geminiMajor(model: string): number | undefined {
  const m = /gemini-(\d+)/.exec(model);
  return m ? Number(m[1]) : undefined;
}

export function encodeRequest(ir: IrRequest, ctx: { model: string }): Result<Encoded, HubError> {
  const dropped: IrDrop[] = [];
  const major = geminiMajor(ctx.model);
  const toolNames = new Map<string, string>();
  for (const m of ir.messages) for (const p of m.content) if (p.type === "tool_call") toolNames.set(p.id, p.name);

  const contents: Json[] = [];
  for (const message of ir.messages) {
    const parts = encodeParts(message.content, message.role, { drops: dropped, toolNames });
    if (parts.length === 0) continue;
    if (message.role === "assistant" && major !== undefined && major >= 3) signFirstCall(parts);
    contents.push({ role: message.role === "assistant" ? "model" : "user", parts });
  }
  const body: Json = { contents };
  if (ir.system.length > 0) {
    body.systemInstruction = { parts: ir.system.map((s) => ({ text: s.text })) };
    if (ir.system.some((s) => s.cacheControl)) addDrop(dropped, "system.cacheControl", "Gemini has no per-part cache breakpoints (it caches implicitly)");
  }
  if (ir.tools.length > 0) {
    body.tools = [{ functionDeclarations: ir.tools.map((t) => (t.description === undefined ? { name: t.name, parametersJsonSchema: t.parameters } : { name: t.name, description: t.description, parametersJsonSchema: t.parameters })) }];
    if (ir.tools.some((t) => t.cacheControl)) addDrop(dropped, "tools.cacheControl", "Gemini has no per-part cache breakpoints (it caches implicitly)");
    if (ir.toolChoice) body.toolConfig = { functionCallingConfig: toolChoiceToWire(ir.toolChoice) };
  } else if (ir.toolChoice && ir.toolChoice.type !== "none" && ir.toolChoice.type !== "auto") {
    addDrop(dropped, "toolChoice", "a tool choice without tools cannot be sent to Gemini");
  }
  if (ir.parallelToolCalls === false) addDrop(dropped, "parallelToolCalls", "Gemini cannot be told to make one call at a time");

  const gc: Json = {};
  if (ir.maxOutputTokens !== undefined) gc.maxOutputTokens = ir.maxOutputTokens;
  if (ir.temperature !== undefined) gc.temperature = ir.temperature;
  if (ir.topP !== undefined) gc.topP = ir.topP;
  if (ir.topK !== undefined) gc.topK = ir.topK;
  if (ir.stopSequences !== undefined && ir.stopSequences.length > 0) gc.stopSequences = ir.stopSequences;
  if (ir.seed !== undefined) gc.seed = ir.seed;
  if (ir.presencePenalty !== undefined) gc.presencePenalty = ir.presencePenalty;
  if (ir.frequencyPenalty !== undefined) gc.frequencyPenalty = ir.frequencyPenalty;
  if (ir.responseFormat?.type === "json") gc.responseMimeType = "application/json";
  if (ir.responseFormat?.type === "json_schema") {
    gc.responseMimeType = "application/json";
    gc.responseJsonSchema = ir.responseFormat.schema;
  }
  if (ir.reasoning) gc.thinkingConfig = thinkingToWire(ir.reasoning, major, dropped);
  if (Object.keys(gc).length > 0) body.generationConfig = gc;
  return ok({ body, dropped });
}

/**
 * Gemini 3 rejects a model turn whose first functionCall has no thoughtSignature ("Function
 * call is missing a thought_signature"); calls made by other providers never have one.
 */
function signFirstCall(parts: Json[]): void {
  const first = parts.find((p) => p.functionCall !== undefined);
  if (first && first.thoughtSignature === undefined) first.thoughtSignature = SKIP_SIGNATURE;
}

function toolChoiceToWire(choice: IrToolChoice): Json {
  switch (choice.type) {
    case "auto":
      return { mode: "AUTO" };
    case "none":
      return { mode: "NONE" };
    case "required":
      return { mode: "ANY" };
    case "tool":
      return { mode: "ANY", allowedFunctionNames: [choice.name] };
  }
}

function thinkingToWire(r: IrReasoningConfig, major: number | undefined, dropped: IrDrop[]): Json {
  const tc: Json = {};
  if (!r.enabled) return { thinkingBudget: 0 };
  if (r.budgetTokens !== undefined) {
    tc.thinkingBudget = r.budgetTokens;
    if (r.effort !== undefined) addDrop(dropped, "reasoning.effort", "Gemini takes a thinking budget or a level, not both; the budget was sent");
  } else if (r.effort !== undefined) {
    // thinkingLevel is Gemini 3's knob; 2.x models only take a budget.
    if (major !== undefined && major < 3) tc.thinkingBudget = EFFORT_BUDGET[r.effort];
    else tc.thinkingLevel = r.effort.toUpperCase();
  }
  tc.includeThoughts = r.includeThoughts ?? true;
  return tc;
}


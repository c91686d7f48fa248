/**
 * An Ollama /api/chat request body (a client that speaks Ollama to the companion) → IR.
 * Sources: see ./wire.ts.
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { HubError } from "../codec.ts";
import type { IrDrop, IrMessage, IrPart, IrReasoningConfig, IrRequest, IrResponseFormat, IrTool } from "../ir.ts";
import { addDrop, argumentsJson, finiteNumber, isObject, parseDataUrl, sniffImageType, toolCallIds } from "./wire.ts";

const TOP_LEVEL = new Set(["model", "messages", "tools", "format", "options", "stream", "think", "keep_alive", "logprobs", "top_logprobs"]);
const OPTIONS = new Set(["temperature", "top_p", "top_k", "num_predict", "stop", "seed", "presence_penalty", "frequency_penalty"]);

class BadRequest extends Error {}

function bad(message: string): never {
  throw new BadRequest(message);
}

export function decodeRequest(body: unknown, opts: { model?: string; stream?: boolean }): Result<IrRequest, HubError> {
  try {
    return ok(decode(body, opts));
  } catch (error) {
    return err({ code: "bad_request", message: error instanceof BadRequest ? error.message : `unreadable Ollama chat request: ${String(error)}` });
  }
}

function decode(body: unknown, opts: { model?: string; stream?: boolean }): IrRequest {
  if (!isObject(body)) bad("request body must be a JSON object");
  const model = opts.model ?? body.model;
  if (typeof model !== "string" || model === "") bad("model is required");
  const dropped: IrDrop[] = [];
  // [O-CHAT] "stream boolean default:true".
  const stream = opts.stream ?? (body.stream === undefined || body.stream === null ? true : body.stream === true);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") bad("stream must be a boolean");

  const ir: IrRequest = { model, system: [], messages: [], tools: [], stream, dropped };
  if (body.messages !== undefined && body.messages !== null && !Array.isArray(body.messages)) bad("messages must be an array");
  decodeMessages(Array.isArray(body.messages) ? body.messages : [], ir);

  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) bad("tools must be an array");
    ir.tools = body.tools.flatMap((tool, i) => decodeTool(tool, i, dropped));
  }
  const format = decodeFormat(body.format);
  if (format) ir.responseFormat = format;
  const reasoning = decodeThink(body.think, dropped);
  if (reasoning) ir.reasoning = reasoning;
  if (body.options !== undefined && body.options !== null) decodeOptions(body.options, ir);

  if (body.keep_alive !== undefined && body.keep_alive !== null) {
    addDrop(dropped, "request.keep_alive", "how long a model stays loaded is the companion's decision, not the client's");
  }
  if (body.logprobs === true || body.top_logprobs !== undefined) addDrop(dropped, "request.logprobs", "the hub does not carry log probabilities");
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL.has(key)) addDrop(dropped, `request.${key}`, "not an /api/chat field the hub knows");
  }
  return ir;
}

// ───────────────────────────── messages ─────────────────────────────

function text(value: unknown, where: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") bad(`${where}: content must be a string`);
  return value;
}

function images(value: unknown, where: string): IrPart[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) bad(`${where}: images must be an array of base64 strings`);
  return value.map((image) => {
    if (typeof image !== "string") bad(`${where}: images must be an array of base64 strings`);
    const dataUrl = parseDataUrl(image);
    if (dataUrl) return { type: "image", source: { kind: "base64", mediaType: dataUrl.mediaType || sniffImageType(dataUrl.data), data: dataUrl.data } };
    return { type: "image", source: { kind: "base64", mediaType: sniffImageType(image), data: image } };
  });
}

interface PendingCall {
  id: string;
  name: string;
  answered: boolean;
}

/**
 * Ollama messages → IR system prompt and messages.
 * - `system` messages become IR system blocks (Ollama merges them too); one that comes after
 *   the conversation started loses its position, which is recorded.
 * - user images come before the user's text ([O-PROMPT] renders them first).
 * - `tool` messages become tool_result parts of one user message. Ollama names the tool
 *   (`tool_name`) where the IR needs the call's id: the id is `tool_call_id` when the client
 *   sent one, else that of the first unanswered call of that name in the previous assistant
 *   message, else of its first unanswered call, else a fresh one (recorded as a drop).
 * - assistant tool calls keep their `id` or get `call_<n>_<random>` ones.
 */
function decodeMessages(messages: unknown[], ir: IrRequest): void {
  const newId = toolCallIds();
  let pending: PendingCall[] = [];
  let toolTurn: IrMessage | null = null;
  let started = false;

  messages.forEach((raw, i) => {
    const where = `messages[${i}]`;
    if (!isObject(raw)) bad(`${where} must be an object`);
    // [O-TYPES] Message.UnmarshalJSON lower-cases the role.
    const role = typeof raw.role === "string" ? raw.role.toLowerCase() : bad(`${where}: role is required`);
    const content = text(raw.content, where);
    if (role !== "tool") toolTurn = null;
    switch (role) {
      case "system": {
        if (started) addDrop(ir.dropped, "message.system.position", "a system message inside the conversation is moved to the system prompt");
        if (raw.images !== undefined && raw.images !== null && (!Array.isArray(raw.images) || raw.images.length > 0)) {
          addDrop(ir.dropped, "message.system.images", "a system prompt holds text only");
        }
        if (content !== "") ir.system.push({ text: content });
        return;
      }
      case "user": {
        started = true;
        const parts = images(raw.images, where);
        if (content !== "") parts.push({ type: "text", text: content });
        ir.messages.push({ role: "user", content: parts });
        return;
      }
      case "assistant": {
        started = true;
        const parts: IrPart[] = [];
        const thinking = raw.thinking;
        if (thinking !== undefined && thinking !== null && typeof thinking !== "string") bad(`${where}: thinking must be a string`);
        if (typeof thinking === "string" && thinking !== "") parts.push({ type: "reasoning", text: thinking });
        if (content !== "") parts.push({ type: "text", text: content });
        if (images(raw.images, where).length) addDrop(ir.dropped, "message.assistant.images", "assistant messages carry no images in the IR");
        pending = [];
        if (raw.tool_calls !== undefined && raw.tool_calls !== null) {
          if (!Array.isArray(raw.tool_calls)) bad(`${where}: tool_calls must be an array`);
          raw.tool_calls.forEach((call, j) => {
            const fn = isObject(call) && isObject(call.function) ? call.function : bad(`${where}.tool_calls[${j}] needs a function`);
            if (typeof fn.name !== "string" || fn.name === "") bad(`${where}.tool_calls[${j}] needs function.name`);
            const args = fn.arguments;
            if (args !== undefined && args !== null && !isObject(args) && typeof args !== "string") bad(`${where}.tool_calls[${j}]: arguments must be an object`);
            const id = typeof call.id === "string" && call.id !== "" ? call.id : newId();
            pending.push({ id, name: fn.name, answered: false });
            parts.push({ type: "tool_call", id, name: fn.name, arguments: argumentsJson(args) });
          });
        }
        ir.messages.push({ role: "assistant", content: parts });
        return;
      }
      case "tool": {
        started = true;
        const name = typeof raw.tool_name === "string" && raw.tool_name !== "" ? raw.tool_name : undefined;
        const given = typeof raw.tool_call_id === "string" && raw.tool_call_id !== "" ? raw.tool_call_id : undefined;
        const call =
          (given ? pending.find((c) => c.id === given) : undefined) ??
          (given ? undefined : name ? pending.find((c) => !c.answered && c.name === name) : pending.find((c) => !c.answered));
        let id = given ?? call?.id;
        if (!id) {
          id = newId();
          addDrop(ir.dropped, "message.tool.call_id", "a tool result matched no call of the previous assistant message; it got a fresh id");
        }
        if (call) call.answered = true;
        const resultContent: Extract<IrPart, { type: "tool_result" }>["content"] = [];
        for (const image of images(raw.images, where)) if (image.type === "image") resultContent.push(image);
        if (content !== "") resultContent.push({ type: "text", text: content });
        const part: Extract<IrPart, { type: "tool_result" }> = { type: "tool_result", toolCallId: id, content: resultContent };
        const toolName = name ?? call?.name;
        if (toolName) part.name = toolName;
        if (!toolTurn) {
          toolTurn = { role: "user", content: [] };
          ir.messages.push(toolTurn);
        }
        toolTurn.content.push(part);
        return;
      }
      default:
        bad(`${where}: unknown role ${JSON.stringify(raw.role)}`);
    }
  });
}

// ───────────────────────────── tools, format, think, options ─────────────────────────────

function decodeTool(tool: unknown, i: number, dropped: IrDrop[]): IrTool[] {
  if (!isObject(tool)) bad(`tools[${i}] must be an object`);
  if (tool.type !== undefined && tool.type !== "function") {
    addDrop(dropped, `tool.${String(tool.type)}`, "Ollama tools are functions; other kinds have no IR form");
    return [];
  }
  const fn = isObject(tool.function) ? tool.function : bad(`tools[${i}] needs a function`);
  if (typeof fn.name !== "string" || fn.name === "") bad(`tools[${i}] needs function.name`);
  if (fn.parameters !== undefined && fn.parameters !== null && !isObject(fn.parameters)) bad(`tools[${i}]: parameters must be a JSON schema object`);
  const out: IrTool = { name: fn.name, parameters: isObject(fn.parameters) ? fn.parameters : { type: "object", properties: {} } };
  if (typeof fn.description === "string") out.description = fn.description;
  return [out];
}

/** [O-CHAT] "Format to return a response in. Can be json or a JSON schema". */
function decodeFormat(format: unknown): IrResponseFormat | undefined {
  if (format === undefined || format === null || format === "") return undefined;
  if (format === "json") return { type: "json" };
  if (isObject(format)) return { type: "json_schema", schema: format };
  return bad(`format must be "json" or a JSON schema object`);
}

/**
 * [O-CHAT] `think`: a boolean, or a level string ("high", "medium", "low"; the newest docs add
 * "max", folded onto the IR's highest level).
 */
function decodeThink(think: unknown, dropped: IrDrop[]): IrReasoningConfig | undefined {
  if (think === undefined || think === null) return undefined;
  if (typeof think === "boolean") return { enabled: think };
  if (think === "low" || think === "medium" || think === "high") return { enabled: true, effort: think };
  if (think === "max") {
    addDrop(dropped, "request.think", 'think "max" has no IR level; "high" is sent');
    return { enabled: true, effort: "high" };
  }
  return bad(`think must be a boolean or "low", "medium" or "high"`);
}

function optionNumber(options: Record<string, unknown>, key: string, integer: boolean): number | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  const n = finiteNumber(value);
  if (n === undefined || (integer && !Number.isInteger(n))) bad(`option "${key}" must be ${integer ? "an integer" : "a number"}`);
  return n;
}

/** [O-API] options: the Modelfile parameters; the ones the IR has are mapped, the rest recorded. */
function decodeOptions(options: unknown, ir: IrRequest): void {
  if (!isObject(options)) bad("options must be an object");
  const temperature = optionNumber(options, "temperature", false);
  if (temperature !== undefined) ir.temperature = temperature;
  const topP = optionNumber(options, "top_p", false);
  if (topP !== undefined) ir.topP = topP;
  const topK = optionNumber(options, "top_k", true);
  if (topK !== undefined) ir.topK = topK;
  const seed = optionNumber(options, "seed", true);
  if (seed !== undefined) ir.seed = seed;
  const presence = optionNumber(options, "presence_penalty", false);
  if (presence !== undefined) ir.presencePenalty = presence;
  const frequency = optionNumber(options, "frequency_penalty", false);
  if (frequency !== undefined) ir.frequencyPenalty = frequency;
  // num_predict: -1 is "no limit" (the IR's unset); -2 "fill the context" has no IR form.
  const numPredict = optionNumber(options, "num_predict", true);
  if (numPredict !== undefined && numPredict > 0) ir.maxOutputTokens = numPredict;
  else if (numPredict === -2) addDrop(ir.dropped, "options.num_predict", "-2 (fill the context) has no IR form; the target's default applies");
  const stop = options.stop;
  if (typeof stop === "string") ir.stopSequences = [stop];
  else if (Array.isArray(stop)) {
    if (!stop.every((s) => typeof s === "string")) bad('option "stop" must be an array of strings');
    if (stop.length) ir.stopSequences = [...stop];
  } else if (stop !== undefined && stop !== null) bad('option "stop" must be an array of strings');
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) addDrop(ir.dropped, `options.${key}`, "an Ollama model option with no IR equivalent; the target's default applies");
  }
}

/**
 * IR → an Ollama /api/chat request body (Ollama as the target). Sources: see ./wire.ts.
 *
 * - System blocks → `system` messages, one per non-empty block (Ollama merges consecutive ones).
 * - User parts keep their order: images go on a message before its text ([O-PROMPT]), so a
 *   run of images then texts is one message, and an image after text starts the next one (as
 *   Ollama's own OpenAI layer does, one message per part). Texts in one message are joined
 *   with a newline.
 * - Tool results → `role: "tool"` messages with `tool_name` (the call's name, from the part or
 *   from the earlier assistant call with that id) and `tool_call_id` ([O-TYPES]; older servers
 *   ignore it).
 * - Assistant reasoning → `thinking`; tool calls → `tool_calls` with the IR id and the
 *   arguments as an object ([O-API] "arguments": {...}).
 * - Sampling → `options`; max tokens → `num_predict`; stop sequences → `options.stop`.
 * - responseFormat json → `format: "json"`, json_schema → `format: <schema>` ([O-API]
 *   "Structured outputs").
 * - reasoning → `think`: false when off, the effort level when given ("minimal" folds to
 *   "low"), else true ([O-CHAT]).
 * - `stream` is always written; `keep_alive` never (the companion's business).
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { Encoded, HubError } from "../codec.ts";
import type { IrDrop, IrImageSource, IrMessage, IrPart, IrRequest } from "../ir.ts";
import { addDrop, argumentsObject, type OllamaChatRequest, type OllamaMessage, type OllamaOptions, type OllamaToolCall } from "./wire.ts";

class Unsendable extends Error {}

export function encodeRequest(ir: IrRequest, ctx: { model: string }): Result<Encoded, HubError> {
  try {
    const dropped: IrDrop[] = [];
    return ok({ body: encode(ir, ctx.model, dropped), dropped });
  } catch (error) {
    return err({ code: "bad_request", message: error instanceof Unsendable ? error.message : `cannot encode for Ollama: ${String(error)}` });
  }
}

function encode(ir: IrRequest, model: string, dropped: IrDrop[]): OllamaChatRequest {
  const messages: OllamaMessage[] = [];
  for (const block of ir.system) {
    if (block.cacheControl) addDrop(dropped, "system.cache_control", "Ollama has no prompt-cache control");
    if (block.text !== "") messages.push({ role: "system", content: block.text });
  }
  const callNames = new Map<string, string>();
  for (const message of ir.messages) {
    if (message.role === "assistant") messages.push(assistantMessage(message, callNames, dropped));
    else messages.push(...userMessages(message, callNames, dropped));
  }

  const body: OllamaChatRequest = { model, messages, stream: ir.stream };

  const choice = ir.toolChoice;
  if (ir.tools.length && choice?.type !== "none") {
    body.tools = ir.tools.map((tool) => {
      if (tool.cacheControl) addDrop(dropped, "tool.cache_control", "Ollama has no prompt-cache control");
      const fn: { name: string; description?: string; parameters: Record<string, unknown> } = { name: tool.name, parameters: tool.parameters };
      if (tool.description !== undefined) fn.description = tool.description;
      return { type: "function", function: fn };
    });
  }
  // Ollama has no tool_choice: "none" is met by sending no tools; a forced call cannot be.
  if (choice?.type === "required" || choice?.type === "tool") {
    addDrop(dropped, "request.tool_choice", "Ollama has no tool_choice: the model decides whether to call a tool");
  }
  if (ir.parallelToolCalls === false) addDrop(dropped, "request.parallel_tool_calls", "Ollama cannot be told to make one tool call at a time");

  const options: OllamaOptions = {};
  if (ir.temperature !== undefined) options.temperature = ir.temperature;
  if (ir.topP !== undefined) options.top_p = ir.topP;
  if (ir.topK !== undefined) options.top_k = ir.topK;
  if (ir.maxOutputTokens !== undefined) options.num_predict = ir.maxOutputTokens;
  if (ir.stopSequences?.length) options.stop = [...ir.stopSequences];
  if (ir.seed !== undefined) options.seed = ir.seed;
  if (ir.presencePenalty !== undefined) options.presence_penalty = ir.presencePenalty;
  if (ir.frequencyPenalty !== undefined) options.frequency_penalty = ir.frequencyPenalty;
  if (Object.keys(options).length) body.options = options;

  const format = ir.responseFormat;
  if (format?.type === "json") body.format = "json";
  else if (format?.type === "json_schema") body.format = format.schema;

  const reasoning = ir.reasoning;
  if (reasoning) {
    if (!reasoning.enabled) body.think = false;
    else if (reasoning.effort === "minimal") {
      body.think = "low";
      addDrop(dropped, "reasoning.effort", 'Ollama has no "minimal" thinking level; "low" is sent');
    } else if (reasoning.effort) body.think = reasoning.effort;
    else body.think = true;
    if (reasoning.enabled && reasoning.budgetTokens !== undefined) {
      addDrop(dropped, "reasoning.budget_tokens", "Ollama takes thinking on/off or a level, not a token budget");
    }
    if (reasoning.enabled && reasoning.includeThoughts === false) {
      addDrop(dropped, "reasoning.include_thoughts", "Ollama returns the thinking text whenever thinking is on");
    }
  }
  return body;
}

function imageData(source: IrImageSource, dropped: IrDrop[], feature: string): string | null {
  if (source.kind === "base64") return source.data;
  addDrop(dropped, feature, "Ollama takes images as base64 data only; an image given by URL cannot be sent");
  return null;
}

function userMessages(message: IrMessage, callNames: Map<string, string>, dropped: IrDrop[]): OllamaMessage[] {
  const out: OllamaMessage[] = [];
  let texts: string[] = [];
  let images: string[] = [];
  const flush = () => {
    if (!texts.length && !images.length) return;
    const m: OllamaMessage = { role: "user", content: texts.join("\n") };
    if (images.length) m.images = images;
    out.push(m);
    texts = [];
    images = [];
  };
  for (const part of message.content) {
    if ("cacheControl" in part && part.cacheControl) addDrop(dropped, "part.cache_control", "Ollama has no prompt-cache control");
    switch (part.type) {
      case "text":
        texts.push(part.text);
        break;
      case "image": {
        if (texts.length) flush();
        const data = imageData(part.source, dropped, "part.image.url");
        if (data !== null) images.push(data);
        break;
      }
      case "tool_result":
        flush();
        out.push(toolMessage(part, callNames, dropped));
        break;
      case "document":
        addDrop(dropped, "part.document", "Ollama takes text and images only, not documents");
        break;
      default:
        addDrop(dropped, `part.${part.type}`, `a ${part.type} part cannot be sent in a user message`);
    }
  }
  flush();
  return out;
}

function toolMessage(part: Extract<IrPart, { type: "tool_result" }>, callNames: Map<string, string>, dropped: IrDrop[]): OllamaMessage {
  const texts: string[] = [];
  const images: string[] = [];
  for (const item of part.content) {
    if (item.type === "text") texts.push(item.text);
    else {
      const data = imageData(item.source, dropped, "tool_result.image.url");
      if (data !== null) images.push(data);
    }
  }
  const m: OllamaMessage = { role: "tool", content: texts.join("\n") };
  if (images.length) m.images = images;
  const name = part.name ?? callNames.get(part.toolCallId);
  if (name !== undefined) m.tool_name = name;
  m.tool_call_id = part.toolCallId;
  if (part.isError) addDrop(dropped, "tool_result.is_error", "Ollama tool results have no error flag; the content alone tells the model");
  return m;
}

function assistantMessage(message: IrMessage, callNames: Map<string, string>, dropped: IrDrop[]): OllamaMessage {
  const texts: string[] = [];
  let thinking = "";
  const calls: OllamaToolCall[] = [];
  for (const part of message.content) {
    switch (part.type) {
      case "text":
        if (part.cacheControl) addDrop(dropped, "part.cache_control", "Ollama has no prompt-cache control");
        texts.push(part.text);
        break;
      case "reasoning":
        thinking += part.text;
        if (part.signature !== undefined || part.redactedData !== undefined || part.thoughtSignature !== undefined) {
          addDrop(dropped, "reasoning.signature", "Ollama has no reasoning signatures; the thinking text alone is sent");
        }
        break;
      case "tool_call": {
        const args = argumentsObject(part.arguments);
        if (!args) throw new Unsendable(`tool call ${part.name} (${part.id}): arguments must be a JSON object, got ${JSON.stringify(part.arguments.slice(0, 80))}`);
        if (part.thoughtSignature !== undefined) addDrop(dropped, "tool_call.thought_signature", "Ollama has no thought signatures");
        callNames.set(part.id, part.name);
        calls.push({ id: part.id, function: { name: part.name, arguments: args } });
        break;
      }
      default:
        addDrop(dropped, `part.${part.type}`, `a ${part.type} part cannot be sent in an assistant message`);
    }
  }
  // The model's own words, split into parts by the way they were streamed (a Gemini client keeps
  // one part per chunk): joined as they were said, without separators.
  const m: OllamaMessage = { role: "assistant", content: texts.join("") };
  if (thinking !== "") m.thinking = thinking;
  if (calls.length) m.tool_calls = calls;
  return m;
}

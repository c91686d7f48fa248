/**
 * OpenAI Chat Completions / Embeddings / Models ⇄ Ollama's native API (/api/chat, /api/embed,
 * /api/tags). Pure and web-standard: no I/O, no `node:` imports, so the dialect hub can lift
 * these functions as they are. The HTTP side is ./ollama.ts.
 *
 * Shapes verified against (quotes in the comments below):
 *  [O-API]    ollama/ollama docs/api.md, "Generate a chat completion", "List Local Models",
 *             "Generate Embeddings" (the version with `think`, `thinking`, `tool_name` and the
 *             "Chat request (Streaming with tools)" example).
 *  [O-CHAT]   docs.ollama.com/api/chat (request body / response field reference).
 *  [O-EMBED]  docs.ollama.com/api/embed (OpenAPI: EmbedRequest / EmbedResponse).
 *  [O-ERR]    docs.ollama.com/api/errors ("Errors that occur while streaming").
 *  [O-JS]     ollama/ollama-js src/interfaces.ts (Message, ToolCall, ChatRequest, ChatResponse,
 *             EmbedResponse, ModelResponse).
 *  [O-COMPAT] ollama/ollama openai/openai.go: Ollama's own OpenAI compatibility layer
 *             (FromChatRequest, ToChunk, ToChatCompletion, ToToolCalls, ToEmbeddingList).
 *  [OAI]      the `openai` npm package's types (node_modules/openai/resources/chat/completions/
 *             completions.d.ts, resources/completions.d.ts, lib/embeddings.mjs,
 *             core/streaming.mjs), generated from OpenAI's OpenAPI spec.
 *  [DS]       DeepSeek API guide "Reasoning Model (deepseek-reasoner)": the chain of thought is
 *             returned as `reasoning_content` beside `content`.
 */

// ───────────────────────────── Ollama native shapes ─────────────────────────────

/**
 * [O-API] "The `message` object has the following fields: `role` … either `system`, `user`,
 * `assistant`, or `tool`; `content`; `thinking`: (for thinking models) the model's thinking
 * process; `images` (optional): a list of images … (Base64, per "Chat request (with images)");
 * `tool_calls` (optional): a list of tools in JSON that the model wants to use; `tool_name`
 * (optional): add the name of the tool that was executed to inform the model of the result".
 */
export interface OllamaMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  thinking?: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
}

/**
 * [O-API] example: `"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city":
 * "Tokyo"}}}]` — arguments are a JSON object, not a string. Recent servers also send an `id`
 * and `function.index` ([O-COMPAT] ToToolCalls reads `tc.ID` and `tc.Function.Index`), which
 * the public docs omit; both are optional here.
 */
export interface OllamaToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> | string };
}

/** [O-API] "Chat request (Streaming with tools)": `{"type": "function", "function": {name, description, parameters}}`. */
export interface OllamaTool {
  type: "function";
  function: { name: string; description?: string; parameters?: unknown };
}

/**
 * [O-API] "Generate request (With options)" lists the Modelfile options, among them `seed`,
 * `num_predict`, `top_p`, `temperature`, `presence_penalty`, `frequency_penalty`, `stop`
 * (an array of strings).
 */
export interface OllamaOptions {
  temperature?: number;
  top_p?: number;
  num_predict?: number;
  stop?: string[];
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  [option: string]: unknown;
}

/**
 * [O-CHAT] body: `model` (required), `messages` (required), `tools`, `format` ("Can be json or a
 * JSON schema"), `options`, `stream` ("default: true"), `think` (boolean, or a string level such
 * as "high" | "medium" | "low"), `keep_alive` ("for example 5m or 0 to unload immediately";
 * [O-JS]: `string | number`).
 */
export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  tools?: OllamaTool[];
  format?: "json" | Record<string, unknown>;
  options?: OllamaOptions;
  /** Always sent: Ollama streams by default, OpenAI does not. */
  stream: boolean;
  keep_alive?: string | number;
  think?: boolean | "high" | "medium" | "low";
}

/**
 * One NDJSON line of a streamed /api/chat answer, or the whole non-streamed answer.
 * [O-API]: each line is `{model, created_at, message: {role, content}, done: false}`; "The final
 * response object will include statistics": `done: true`, `done_reason` (e.g. "stop"; "length"
 * when num_predict is hit; "load"/"unload" for empty-messages calls), `total_duration`,
 * `load_duration`, `prompt_eval_count` ("number of tokens in the prompt"),
 * `prompt_eval_duration`, `eval_count` ("number of tokens in the response"), `eval_duration`
 * (all durations in nanoseconds). In the streamed tools example the tool call arrives whole in a
 * `done: false` line and the final line has `done_reason: "stop"` — so "tool_calls" must be
 * inferred. The Go server marks the counters `omitempty` (api/types.go Metrics), so a fully
 * cached prompt can leave `prompt_eval_count` out.
 * [O-ERR]: "If an error occurs mid-stream, the error will be returned as an object in the
 * application/x-ndjson format with an `error` property. Since the response has already started,
 * the status code of the response will not be changed." That line has only `error`.
 */
export interface OllamaChatChunk {
  model?: string;
  created_at?: string;
  message?: { role?: string; content?: string; thinking?: string; images?: string[] | null; tool_calls?: OllamaToolCall[] };
  done?: boolean;
  done_reason?: string;
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
  error?: string;
}
export type OllamaChatResponse = OllamaChatChunk;

/**
 * [O-EMBED] / [O-API] "Generate Embeddings": `model`, `input` ("text or list of text"),
 * `truncate` (default true), `dimensions`, `options`, `keep_alive`.
 */
export interface OllamaEmbedRequest {
  model: string;
  input: string | string[];
  truncate?: boolean;
  dimensions?: number;
  keep_alive?: string | number;
  options?: OllamaOptions;
}

/** [O-API]: `{"model", "embeddings": [[…], […]], "total_duration", "load_duration", "prompt_eval_count"}` — one vector per input, in order. */
export interface OllamaEmbedResponse {
  model?: string;
  embeddings: number[][];
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
}

/** [O-API] "List Local Models" (GET /api/tags): `{"models": [{name, modified_at, size, digest, details: {format, family, families, parameter_size, quantization_level}}]}`; [O-JS] adds `model`. */
export interface OllamaTags {
  models: Array<{
    name: string;
    model?: string;
    modified_at?: string;
    size?: number;
    digest?: string;
    details?: { parent_model?: string; format?: string; family?: string; families?: string[] | null; parameter_size?: string; quantization_level?: string };
  }>;
}

// ───────────────────────────── OpenAI shapes (the parts read or written) ─────────────────────────────

export type OpenAIContentPart =
  | { type: "text"; text: string }
  | { type: "refusal"; refusal: string }
  | { type: "image_url"; image_url: { url: string; detail?: string } | string }
  | { type: string; [key: string]: unknown };

export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface OpenAIMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool" | "function";
  content?: string | OpenAIContentPart[] | null;
  name?: string;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
  /** DeepSeek-style reasoning echoed back by some clients ([DS]); Ollama takes it as `thinking`. */
  reasoning_content?: string;
}

/** [OAI] ChatCompletionCreateParams, the fields this spoke reads. */
export interface OpenAIChatRequest {
  model?: string;
  messages: OpenAIMessage[];
  tools?: Array<{ type: string; function?: { name: string; description?: string; parameters?: unknown; strict?: boolean | null } }>;
  tool_choice?: unknown;
  temperature?: number | null;
  top_p?: number | null;
  /** [OAI] "deprecated in favor of `max_completion_tokens`". */
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  response_format?: { type: "text" } | { type: "json_object" } | { type: "json_schema"; json_schema: { name?: string; schema?: Record<string, unknown>; strict?: boolean | null } };
  reasoning_effort?: string | null;
  n?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = "stop" | "length" | "tool_calls";

/** [OAI] ChatCompletion (non-streamed). `reasoning_content` is the DeepSeek extension ([DS]). */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string | null; reasoning_content?: string; tool_calls?: OpenAIToolCall[]; refusal: null };
    logprobs: null;
    finish_reason: FinishReason;
  }>;
  usage: OpenAIUsage;
}

export interface OpenAIEmbeddingsRequest {
  model?: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  /** [OAI] lib/embeddings.mjs: the Node SDK sends "base64" unless the caller chose a format. */
  encoding_format?: "float" | "base64";
  user?: string;
}

// ───────────────────────────── errors ─────────────────────────────

/** A request this spoke cannot express natively; `code` is a companion client-error code. */
export class OllamaTranslationError extends Error {
  readonly code: "bad_request" | "unsupported";
  constructor(code: "bad_request" | "unsupported", message: string) {
    super(message);
    this.name = "OllamaTranslationError";
    this.code = code;
  }
}

// ───────────────────────────── helpers ─────────────────────────────

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** `call_` + 24 random characters, the form OpenAI's tool call ids take. */
export function newToolCallId(): string {
  return `call_${randomToken(24)}`;
}

export function newChatCompletionId(): string {
  return `chatcmpl-${randomToken(24)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Text of a string or content-parts value; text (and refusal) parts only, others rejected unless `images` collects them. */
function contentText(content: OpenAIMessage["content"], role: string, images?: string[]): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw new OllamaTranslationError("bad_request", `${role} message content must be a string or an array of parts`);
  const texts: string[] = [];
  for (const part of content) {
    if (!isObject(part)) throw new OllamaTranslationError("bad_request", `${role} message has a content part that is not an object`);
    if (part.type === "text" && typeof part.text === "string") texts.push(part.text);
    else if (part.type === "refusal" && typeof part.refusal === "string") texts.push(part.refusal);
    else if (part.type === "image_url" && images) images.push(imageData(part.image_url));
    else throw new OllamaTranslationError("unsupported", `Ollama cannot take a ${String(part.type)} content part in a ${role} message`);
  }
  // Separate parts are separate blocks of text; a newline keeps their words apart.
  return texts.join("\n");
}

/**
 * OpenAI `image_url.url` ([OAI]: "Either a URL of the image or the base64 encoded image data") →
 * the bare base64 Ollama wants ([O-API]: "images should be provided as an array, with the
 * individual images encoded in Base64"). Only data: URLs: fetching remote images is not this
 * spoke's business. [O-COMPAT] accepts `data:image/{jpeg,jpg,png,webp};base64,` and the blank
 * `data:;base64,`; here any image/* type is passed on and Ollama decides.
 */
function imageData(imageUrl: unknown): string {
  const url = typeof imageUrl === "string" ? imageUrl : isObject(imageUrl) && typeof imageUrl.url === "string" ? imageUrl.url : undefined;
  if (url === undefined) throw new OllamaTranslationError("bad_request", "image_url part without a url");
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!match) throw new OllamaTranslationError("unsupported", "Ollama takes images as data: URLs only (base64), not remote URLs");
  const mime = match[1]!.trim().toLowerCase();
  const params = match[2]!.toLowerCase().split(";");
  if (!params.includes("base64")) throw new OllamaTranslationError("unsupported", "image data: URL must be base64-encoded");
  if (mime !== "" && !mime.startsWith("image/")) throw new OllamaTranslationError("unsupported", `Ollama cannot take a ${mime} data: URL as an image`);
  return match[3]!.replace(/\s+/g, "");
}

function parseArguments(args: unknown, name: string): Record<string, unknown> {
  if (isObject(args)) return args;
  if (args === undefined || args === null || args === "") return {};
  if (typeof args !== "string") throw new OllamaTranslationError("bad_request", `tool call ${name}: arguments must be a JSON string`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new OllamaTranslationError("bad_request", `tool call ${name}: arguments are not valid JSON`);
  }
  if (!isObject(parsed)) throw new OllamaTranslationError("bad_request", `tool call ${name}: arguments must be a JSON object`);
  return parsed;
}

/** Ollama gives arguments as an object ([O-API]); OpenAI wants a JSON string ([OAI] `function.arguments: string`). */
function argumentsString(args: OllamaToolCall["function"]["arguments"] | undefined): string {
  if (typeof args === "string") return args;
  return JSON.stringify(args ?? {});
}

/**
 * OpenAI `reasoning_effort` → Ollama `think`, as [O-COMPAT] FromChatRequest does: "none" turns
 * thinking off, a level is passed on ([O-CHAT]: "a string ("high", "medium", "low") for
 * supported models"). OpenAI's extra levels fold onto the nearest Ollama one.
 */
function thinkFrom(effort: unknown): OllamaChatRequest["think"] | undefined {
  switch (effort) {
    case "none":
      return false;
    case "minimal":
    case "low":
      return "low";
    case "medium":
      return "medium";
    case "high":
    case "xhigh":
      return "high";
    default:
      return undefined;
  }
}

// ───────────────────────────── chat request ─────────────────────────────

/**
 * OpenAI chat request → Ollama /api/chat body for `model`.
 * - system and developer → `system`; user text and image parts → `content` + `images`;
 *   assistant `tool_calls` (JSON-string arguments) → Ollama `tool_calls` (object arguments);
 *   tool results → `role: "tool"` with `tool_name` found from `tool_call_id` among the earlier
 *   assistant calls ([O-COMPAT] nameFromToolCallID does the same, last one wins).
 * - temperature, top_p, seed, frequency/presence penalties → `options` of the same name;
 *   `max_completion_tokens` (else `max_tokens`) → `options.num_predict`; `stop` → `options.stop`
 *   as an array ([O-COMPAT] maps these the same way). Unset values stay unset: the model's own
 *   defaults apply (Ollama's compat layer forces temperature 1 / top_p 1 instead).
 * - `response_format` json_object → `format: "json"`, json_schema → `format: <schema>`
 *   ([O-COMPAT]: `case "json_object": format = "json"`, `case "json_schema": format = schema`).
 * - `tool_choice: "none"` drops the tools (Ollama has no tool_choice); other choices cannot be
 *   enforced and are left to the model.
 * - `stream` is always written: Ollama's default is true ([O-CHAT] "stream boolean default:true"),
 *   OpenAI's is false.
 */
export function chatRequestToOllama(body: OpenAIChatRequest, model: string, opts: { keepAlive?: string | number } = {}): OllamaChatRequest {
  if (!isObject(body)) throw new OllamaTranslationError("bad_request", "request body must be a JSON object");
  if (!Array.isArray(body.messages)) throw new OllamaTranslationError("bad_request", "messages must be an array");
  if (typeof body.n === "number" && body.n > 1) throw new OllamaTranslationError("unsupported", "Ollama returns one choice; n > 1 is not supported");

  const callNames = new Map<string, string>();
  const messages: OllamaMessage[] = [];
  for (const message of body.messages) {
    if (!isObject(message)) throw new OllamaTranslationError("bad_request", "each message must be an object");
    switch (message.role) {
      case "system":
      case "developer":
        messages.push({ role: "system", content: contentText(message.content, message.role) });
        break;
      case "user": {
        const images: string[] = [];
        const out: OllamaMessage = { role: "user", content: contentText(message.content, "user", images) };
        if (images.length) out.images = images;
        messages.push(out);
        break;
      }
      case "assistant": {
        const out: OllamaMessage = { role: "assistant", content: contentText(message.content, "assistant") };
        if (typeof message.reasoning_content === "string" && message.reasoning_content) out.thinking = message.reasoning_content;
        if (Array.isArray(message.tool_calls) && message.tool_calls.length) {
          out.tool_calls = message.tool_calls.map((call) => {
            if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== "string") {
              throw new OllamaTranslationError("bad_request", "assistant tool_calls entries need function.name");
            }
            if (typeof call.id === "string") callNames.set(call.id, call.function.name);
            return { function: { name: call.function.name, arguments: parseArguments(call.function.arguments, call.function.name) } };
          });
        }
        messages.push(out);
        break;
      }
      case "tool": {
        const out: OllamaMessage = { role: "tool", content: contentText(message.content, "tool") };
        const name = (typeof message.tool_call_id === "string" ? callNames.get(message.tool_call_id) : undefined) ?? (typeof message.name === "string" ? message.name : undefined);
        if (name) out.tool_name = name;
        messages.push(out);
        break;
      }
      case "function": {
        // The deprecated function-calling form of a tool result.
        const out: OllamaMessage = { role: "tool", content: contentText(message.content, "function") };
        if (typeof message.name === "string") out.tool_name = message.name;
        messages.push(out);
        break;
      }
      default:
        throw new OllamaTranslationError("bad_request", `unknown message role ${JSON.stringify((message as { role?: unknown }).role)}`);
    }
  }

  const request: OllamaChatRequest = { model, messages, stream: body.stream === true };

  if (Array.isArray(body.tools) && body.tools.length && body.tool_choice !== "none") {
    request.tools = body.tools.map((tool) => {
      if (!isObject(tool) || tool.type !== "function" || !isObject(tool.function) || typeof tool.function.name !== "string") {
        throw new OllamaTranslationError("unsupported", `Ollama takes function tools only (got ${JSON.stringify(isObject(tool) ? tool.type : tool)})`);
      }
      const fn: OllamaTool["function"] = { name: tool.function.name };
      if (typeof tool.function.description === "string") fn.description = tool.function.description;
      if (tool.function.parameters !== undefined) fn.parameters = tool.function.parameters;
      return { type: "function", function: fn };
    });
  }

  const options: OllamaOptions = {};
  const temperature = num(body.temperature);
  if (temperature !== undefined) options.temperature = temperature;
  const topP = num(body.top_p);
  if (topP !== undefined) options.top_p = topP;
  const maxTokens = num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (maxTokens !== undefined) options.num_predict = maxTokens;
  if (typeof body.stop === "string") options.stop = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) {
    if (!body.stop.every((s) => typeof s === "string")) throw new OllamaTranslationError("bad_request", "stop must be a string or an array of strings");
    options.stop = [...body.stop];
  }
  const seed = num(body.seed);
  if (seed !== undefined) options.seed = seed;
  const frequency = num(body.frequency_penalty);
  if (frequency !== undefined) options.frequency_penalty = frequency;
  const presence = num(body.presence_penalty);
  if (presence !== undefined) options.presence_penalty = presence;
  if (Object.keys(options).length) request.options = options;

  const format = body.response_format;
  if (isObject(format)) {
    if (format.type === "json_object") request.format = "json";
    else if (format.type === "json_schema") {
      const schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
      request.format = isObject(schema) ? schema : "json";
    } else if (format.type !== "text") {
      throw new OllamaTranslationError("unsupported", `response_format ${JSON.stringify((format as { type?: unknown }).type)} is not supported by Ollama`);
    }
  }

  const think = thinkFrom(body.reasoning_effort);
  if (think !== undefined) request.think = think;
  if (opts.keepAlive !== undefined) request.keep_alive = opts.keepAlive;
  return request;
}

// ───────────────────────────── chat response ─────────────────────────────

/**
 * [OAI] finish_reason: "`stop` if the model hit a natural stop point or a provided stop
 * sequence, `length` if the maximum number of tokens specified in the request was reached …
 * `tool_calls` if the model called a tool". Ollama reports "stop" even after a tool call
 * ([O-API] tools examples), so tool calls win, as in [O-COMPAT] ToChunk/ToChatCompletion.
 * Anything else ("load", "unload", missing) reads as a natural stop.
 */
export function finishReasonOf(doneReason: string | undefined, sawToolCalls: boolean): FinishReason {
  if (sawToolCalls) return "tool_calls";
  return doneReason === "length" ? "length" : "stop";
}

/** [O-COMPAT] ToUsage: prompt_tokens = prompt_eval_count, completion_tokens = eval_count, total = their sum. */
export function usageOf(resp: Pick<OllamaChatChunk, "prompt_eval_count" | "eval_count">): OpenAIUsage {
  const prompt = num(resp.prompt_eval_count) ?? 0;
  const completion = num(resp.eval_count) ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function toolCallsToOpenAI(calls: OllamaToolCall[], newId: () => string): OpenAIToolCall[] {
  return calls.map((call) => ({
    id: typeof call.id === "string" && call.id ? call.id : newId(),
    type: "function",
    function: { name: call.function?.name ?? "", arguments: argumentsString(call.function?.arguments) },
  }));
}

function createdOf(createdAt: string | undefined): number {
  const ms = createdAt ? Date.parse(createdAt) : Number.NaN;
  return Math.floor((Number.isFinite(ms) ? ms : Date.now()) / 1000);
}

/**
 * A non-streamed Ollama chat answer → OpenAI ChatCompletion named `requestedModel`.
 * `content` is null when the answer is only tool calls, as OpenAI sends it; `message.thinking`
 * becomes `reasoning_content` ([DS]). Tool calls without an Ollama id get a fresh `call_…` id.
 */
export function ollamaChatToOpenAI(
  resp: OllamaChatResponse,
  requestedModel: string,
  opts: { id?: string; created?: number; toolCallId?: () => string } = {},
): ChatCompletion {
  const message = resp.message ?? {};
  const calls = Array.isArray(message.tool_calls) && message.tool_calls.length ? toolCallsToOpenAI(message.tool_calls, opts.toolCallId ?? newToolCallId) : undefined;
  const content = typeof message.content === "string" ? message.content : "";
  const out: ChatCompletion["choices"][number]["message"] = { role: "assistant", content: calls && content === "" ? null : content, refusal: null };
  if (typeof message.thinking === "string" && message.thinking) out.reasoning_content = message.thinking;
  if (calls) out.tool_calls = calls;
  return {
    id: opts.id ?? newChatCompletionId(),
    object: "chat.completion",
    created: opts.created ?? createdOf(resp.created_at),
    model: requestedModel,
    choices: [{ index: 0, message: out, logprobs: null, finish_reason: finishReasonOf(resp.done_reason, Boolean(calls)) }],
    usage: usageOf(resp),
  };
}

// ───────────────────────────── chat stream ─────────────────────────────

interface ChunkDelta {
  role?: "assistant";
  content?: string;
  reasoning_content?: string;
  tool_calls?: Array<{ index: number; id: string; type: "function"; function: { name: string; arguments: string } }>;
}

/**
 * Ollama NDJSON objects in, OpenAI SSE out, one Ollama line at a time.
 *
 * [OAI] ChatCompletionChunk: `{id, object: "chat.completion.chunk", created, model, choices:
 * [{index, delta, finish_reason}]}` — "Each chunk has the same ID" and "the same timestamp";
 * `finish_reason` is null until the last choice chunk. With `stream_options.include_usage`:
 * "an additional chunk will be streamed before the `data: [DONE]` message. The `usage` field on
 * this chunk shows the token usage statistics for the entire request, and the `choices` field
 * will always be an empty array. All other chunks will also include a `usage` field, but with a
 * null value." Streamed tool calls are `delta.tool_calls: [{index, id, type: "function",
 * function: {name, arguments}}]`; Ollama sends each call whole, so each goes out in one delta
 * with its complete JSON-string arguments.
 *
 * Per Ollama line: `message.thinking` → a `reasoning_content` delta ([DS]), `message.content` →
 * a `content` delta, `message.tool_calls` → a `tool_calls` delta, in that order, each emitted at
 * once. The first chunk carries `role: "assistant"` (with `content: ""` if the line had nothing).
 * `done: true` records done_reason and the counts; end() then writes the finish chunk, the usage
 * chunk (if asked) and `data: [DONE]`.
 *
 * An `{error}` line ([O-ERR]) becomes `data: {"error": {message, type, param, code}}` — the
 * shape the OpenAI SDK turns into an APIError ([OAI] core/streaming.mjs: `if (data && data.error)
 * throw new APIError(…)`) — and the stream ends: later lines are ignored and end() writes only
 * `data: [DONE]`. A stream that closes without `done` (or an error) ends the same way, with an
 * error chunk, so a cut-off answer never looks complete.
 */
export class OllamaToOpenAIStream {
  private readonly opts: { model: string; includeUsage: boolean; id: string; created: number; toolCallId: () => string };
  private started = false;
  private finished = false;
  private failed = false;
  private toolIndex = 0;
  private doneReason: string | undefined;
  private usage: OpenAIUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

  constructor(opts: { model: string; includeUsage: boolean; id: string; created: number; toolCallId?: () => string }) {
    this.opts = { ...opts, toolCallId: opts.toolCallId ?? newToolCallId };
  }

  /** SSE lines (`data: …\n\n`) to send now for one Ollama NDJSON object. */
  push(obj: OllamaChatChunk): string[] {
    if (this.finished || this.failed || !isObject(obj)) return [];
    if (typeof obj.error === "string" || (obj.error !== undefined && obj.error !== null)) {
      this.failed = true;
      return [this.errorLine(typeof obj.error === "string" ? obj.error : JSON.stringify(obj.error))];
    }
    const deltas: ChunkDelta[] = [];
    const message = isObject(obj.message) ? obj.message : {};
    if (typeof message.thinking === "string" && message.thinking) deltas.push({ reasoning_content: message.thinking });
    if (typeof message.content === "string" && message.content) deltas.push({ content: message.content });
    if (Array.isArray(message.tool_calls) && message.tool_calls.length) {
      const calls = toolCallsToOpenAI(message.tool_calls, this.opts.toolCallId);
      deltas.push({ tool_calls: calls.map((call) => ({ index: this.toolIndex++, ...call })) });
    }
    if (!this.started) {
      this.started = true;
      deltas[0] = { role: "assistant", ...(deltas[0] ?? { content: "" }) };
    }
    if (obj.done === true) {
      this.finished = true;
      this.doneReason = typeof obj.done_reason === "string" ? obj.done_reason : undefined;
      this.usage = usageOf(obj);
    }
    return deltas.map((delta) => this.chunkLine(delta, null));
  }

  /** The closing lines: finish chunk, usage chunk when asked, `data: [DONE]`. */
  end(): string[] {
    const done = "data: [DONE]\n\n";
    if (this.failed) return [done];
    if (!this.finished) {
      this.failed = true;
      return [this.errorLine("Ollama closed the stream before the answer was done"), done];
    }
    const lines = [this.chunkLine({}, finishReasonOf(this.doneReason, this.toolIndex > 0))];
    if (this.opts.includeUsage) {
      lines.push(sse({ id: this.opts.id, object: "chat.completion.chunk", created: this.opts.created, model: this.opts.model, choices: [], usage: this.usage }));
    }
    lines.push(done);
    this.failed = true; // a second end() writes only [DONE]
    return lines;
  }

  /** Usage read from the `done` line so far (zeros before it). */
  get usageSoFar(): OpenAIUsage {
    return { ...this.usage };
  }

  private chunkLine(delta: ChunkDelta, finishReason: FinishReason | null): string {
    const chunk: Record<string, unknown> = {
      id: this.opts.id,
      object: "chat.completion.chunk",
      created: this.opts.created,
      model: this.opts.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (this.opts.includeUsage) chunk.usage = null;
    return sse(chunk);
  }

  private errorLine(message: string): string {
    return sse({ error: { message, type: "ollama_error", param: null, code: null } });
  }
}

function sse(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

// ───────────────────────────── embeddings ─────────────────────────────

/**
 * OpenAI embeddings request → /api/embed body. `input` must be text (OpenAI also allows token
 * arrays, which Ollama cannot take); `dimensions` passes through ([O-EMBED] has `dimensions`).
 * `model` defaults to the request's own.
 */
export function embeddingsRequestToOllama(body: OpenAIEmbeddingsRequest, model?: string): OllamaEmbedRequest {
  if (!isObject(body)) throw new OllamaTranslationError("bad_request", "request body must be a JSON object");
  const target = model ?? body.model;
  if (typeof target !== "string" || !target) throw new OllamaTranslationError("bad_request", "model is required");
  const input = body.input;
  let text: string | string[];
  if (typeof input === "string") text = input;
  else if (Array.isArray(input) && input.every((item) => typeof item === "string")) text = [...(input as string[])];
  else throw new OllamaTranslationError("unsupported", "Ollama embeds text only: input must be a string or an array of strings");
  const out: OllamaEmbedRequest = { model: target, input: text };
  const dimensions = num(body.dimensions);
  if (dimensions !== undefined) out.dimensions = dimensions;
  return out;
}

/** Little-endian float32 bytes in base64, what OpenAI returns for `encoding_format: "base64"` ([O-COMPAT] floatsToBase64). */
export function floatsToBase64(values: number[]): string {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * /api/embed answer → OpenAI CreateEmbeddingResponse ([OAI]: `{object: "list", data:
 * [{object: "embedding", index, embedding}], model, usage: {prompt_tokens, total_tokens}}`),
 * as [O-COMPAT] ToEmbeddingList: index = position, usage from prompt_eval_count.
 */
export function ollamaEmbedToOpenAI(resp: OllamaEmbedResponse, model: string, opts: { encodingFormat?: "float" | "base64" } = {}) {
  const vectors = Array.isArray(resp?.embeddings) ? resp.embeddings : [];
  const tokens = num(resp?.prompt_eval_count) ?? 0;
  return {
    object: "list" as const,
    data: vectors.map((vector, index) => ({
      object: "embedding" as const,
      index,
      embedding: opts.encodingFormat === "base64" ? floatsToBase64(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

// ───────────────────────────── models ─────────────────────────────

/**
 * /api/tags → OpenAI model list (`{object: "list", data: [{id, object: "model", created,
 * owned_by}]}`), as [O-COMPAT] ToListCompletion: id = name, created = modified_at in seconds.
 * owned_by is "ollama" (the compat layer uses the name's namespace, e.g. "library").
 */
export function ollamaTagsToOpenAIModels(tags: OllamaTags) {
  const models = Array.isArray(tags?.models) ? tags.models : [];
  return {
    object: "list" as const,
    data: models
      .filter((m) => typeof m?.name === "string")
      .map((m) => {
        const ms = m.modified_at ? Date.parse(m.modified_at) : Number.NaN;
        return { id: m.name, object: "model" as const, created: Number.isFinite(ms) ? Math.floor(ms / 1000) : 0, owned_by: "ollama" };
      }),
  };
}
